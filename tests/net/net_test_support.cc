#include "tests/net/net_test_support.h"

#include <dirent.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

namespace seclabel::testing {

std::vector<AuditRecord> RecordingAuditLog::with(const std::string& name,
                                                 const std::string& value) const {
  std::vector<AuditRecord> found;
  for (const AuditRecord& record : records)
    if (const AuditField* field = record.field(name); field && field->value == value)
      found.push_back(record);
  return found;
}

NetContext guestContext(Rtnetlink& rtnetlink, RecordingAuditLog* log) {
  NetContext context;
  context.rtnetlink = &rtnetlink;
  context.uid = kGuestUid;
  context.gid = kGuestGid;
  context.audit = log;
  context.auditGuest = kAuditGuest;
  return context;
}

std::size_t openFdCount() {
  std::size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  while (dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count - 1;  // the directory's own fd
}

std::vector<std::string> linkNames() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/sys/class/net");
  if (!dir) return names;
  while (dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

TunAttachment tunAttachment(int fd) {
  ifreq request{};
  if (::ioctl(fd, TUNGETIFF, &request) != 0) return {};
  return {std::string(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ)),
          static_cast<unsigned short>(request.ifr_flags)};
}

}  // namespace seclabel::testing
