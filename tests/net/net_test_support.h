// What the net/ device tests share: the guest identity they hand out, an
// audit log that keeps its records, fd counting.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "audit/audit.h"
#include "net/net_device.h"

namespace seclabel::testing {

// Above the slices tests allocate guests from (tests/support/dac_slice.h):
// no other test's restore ends processes of these ids.
inline constexpr uid_t kGuestUid = 1879113700;
inline constexpr gid_t kGuestGid = 1879113701;
inline const AuditGuest kAuditGuest{"kvm", "net-test", "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"};

// An AuditLog that keeps every record it is given.
class RecordingAuditLog : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord& record) override { records.push_back(record); }
  // The records whose field `name` is `value`.
  std::vector<AuditRecord> with(const std::string& name, const std::string& value) const;
  std::vector<AuditRecord> records;
};

// A context for the guest above, on `rtnetlink`, auditing into `log`.
NetContext guestContext(Rtnetlink& rtnetlink, RecordingAuditLog* log);

// Open fds of this process.
std::size_t openFdCount();
// Names of this namespace's links, sorted.
std::vector<std::string> linkNames();

// TUNGETIFF on a queue fd: the tap's name and flags.
struct TunAttachment {
  std::string name;
  unsigned flags = 0;
};
TunAttachment tunAttachment(int fd);

}  // namespace seclabel::testing
