#include "cgroup/guest_cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "cgroup/device_acl.h"
#include "core/config.h"
#include "core/error.h"

namespace seclabel {

namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

UniqueFd openDirectoryAt(int at, const std::string& name, const std::string& path) {
  // O_NOFOLLOW: a symlink put in the way is refused (ELOOP), not followed.
  UniqueFd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Error::fromErrno("cannot open cgroup " + path, errno);
  return fd;
}

// The controller's mount, checked to be the cgroup file system of its
// version (a stale mountinfo or a directory mounted over it is refused).
UniqueFd openMount(const DeviceController& controller) {
  const std::string& mount = controller.mountPoint;
  UniqueFd fd(::open(mount.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Error::fromErrno("cannot open cgroup mount " + mount, errno);
  struct statfs fs;
  if (::fstatfs(fd.get(), &fs) != 0)
    throw Error::fromErrno("cannot read the file system type of " + mount, errno);
  const bool isV1 = controller.version == CgroupVersion::V1;
  if (fs.f_type != (isV1 ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC))
    throw Error(ExitCode::Failed, mount + " is not a " + (isV1 ? "cgroup v1" : "cgroup2") +
                                      " file system");
  return fd;
}

enum class MissingParent { Create, Report };

// The parent directory, one component at a time below the mount. With
// Report, a missing component returns an invalid fd.
UniqueFd openParent(const GuestCgroupLocation& location, MissingParent missing) {
  UniqueFd current = openMount(location.controller());
  std::string path = location.controller().mountPoint;
  const std::string& parent = location.parent();
  size_t start = 0;
  while (start < parent.size()) {
    size_t end = parent.find('/', start);
    if (end == std::string::npos) end = parent.size();
    const std::string component = parent.substr(start, end - start);
    path += "/" + component;
    UniqueFd next(::openat(current.get(), component.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next && errno == ENOENT) {
      if (missing == MissingParent::Report) return UniqueFd();
      // A concurrent prepare may create it first: EEXIST is fine.
      if (::mkdirat(current.get(), component.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error::fromErrno("cannot create cgroup " + path, errno);
      next = openDirectoryAt(current.get(), component, path);
    } else if (!next) {
      throw Error::fromErrno("cannot open cgroup " + path, errno);
    }
    current = std::move(next);
    start = end + 1;
  }
  return current;
}

std::vector<pid_t> readProcs(int directory, const std::string& path) {
  UniqueFd fd(::openat(directory, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) throw Error::fromErrno("cannot open " + path + "/cgroup.procs", errno);
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error::fromErrno("cannot read " + path + "/cgroup.procs", errno);
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  std::vector<pid_t> pids;
  pid_t pid = 0;
  bool inNumber = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      pid = pid * 10 + (c - '0');
      inNumber = true;
    } else {
      if (inNumber) pids.push_back(pid);
      pid = 0;
      inNumber = false;
    }
  }
  if (inNumber) pids.push_back(pid);
  return pids;
}

std::string pidList(const std::vector<pid_t>& pids) {
  std::string text;
  for (pid_t pid : pids) text += (text.empty() ? "" : " ") + std::to_string(pid);
  return text;
}

// Removes the new cgroup again unless the set-up went through.
class RemoveUnlessKept {
 public:
  RemoveUnlessKept(int parent, std::string name) : parent_(parent), name_(std::move(name)) {}
  RemoveUnlessKept(const RemoveUnlessKept&) = delete;
  RemoveUnlessKept& operator=(const RemoveUnlessKept&) = delete;
  ~RemoveUnlessKept() {
    // Nothing was moved into it yet, so it is empty and rmdir succeeds.
    if (!kept_) ::unlinkat(parent_, name_.c_str(), AT_REMOVEDIR);
  }
  void keep() { kept_ = true; }

 private:
  int parent_;
  std::string name_;
  bool kept_ = false;
};

// A new, empty directory for the guest. A leftover of a crashed launcher
// (empty) is removed first; one with processes belongs to a live guest.
void makeFreshDirectory(int parent, const std::string& name, const std::string& path) {
  if (::mkdirat(parent, name.c_str(), 0755) == 0) return;
  if (errno != EEXIST) throw Error::fromErrno("cannot create cgroup " + path, errno);
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) {
    const int err = errno;
    if (err == EBUSY)
      throw Error(ExitCode::NoIdentity,
                  "cgroup " + path + " already exists and is in use (is the guest running?)", err);
    throw Error::fromErrno("cannot replace the leftover cgroup " + path, err);
  }
  if (::mkdirat(parent, name.c_str(), 0755) != 0)
    throw Error::fromErrno("cannot create cgroup " + path, errno);
}

AuditRecord changeRecord(AuditCgroupChange change, const DeviceRule& rule,
                         const std::string& path, const AuditGuest& guest, AuditOutcome outcome) {
  const std::string acl = rule.access.text();
  if (rule.anyMinor())
    return audit::cgroupMajor(guest, change, path, rule.category, rule.major, acl, outcome);
  return audit::cgroupPath(guest, change, path, rule.path.empty() ? "?" : rule.path,
                           makedev(rule.major, rule.minor), acl, outcome);
}

}  // namespace

std::string cgroupNameForUuid(std::string_view uuid) {
  auto invalid = [&] {
    return Error::invalidInput("invalid guest uuid '" + printableValue(uuid.substr(0, 64)) +
                               "' for a cgroup name: expected 32 hex digits (8-4-4-4-12)");
  };
  std::string digits;
  if (uuid.size() == 36) {
    for (size_t i = 0; i < uuid.size(); ++i) {
      const bool dashPlace = i == 8 || i == 13 || i == 18 || i == 23;
      if (dashPlace ? uuid[i] != '-' : !isHex(uuid[i])) throw invalid();
      if (!dashPlace) digits += uuid[i];
    }
  } else if (uuid.size() == 32) {
    for (char c : uuid)
      if (!isHex(c)) throw invalid();
    digits = uuid;
  } else {
    throw invalid();
  }
  std::string name;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) name += '-';
    const char c = digits[i];
    name += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return name;
}

GuestCgroupLocation GuestCgroupLocation::at(DeviceController controller, std::string_view parent,
                                            std::string_view uuid) {
  checkCgroupParent(parent, "cgroup parent");
  if (controller.mountPoint.empty() || controller.mountPoint.front() != '/')
    throw Error::invalidInput("cgroup mount '" + printableValue(controller.mountPoint) +
                              "' is not an absolute path");
  GuestCgroupLocation location;
  location.name_ = cgroupNameForUuid(uuid);
  location.parent_ = std::string(parent);
  location.controller_ = std::move(controller);
  return location;
}

GuestCgroupLocation GuestCgroupLocation::fromPath(DeviceController controller,
                                                  std::string_view path, std::string_view uuid) {
  const std::string name = cgroupNameForUuid(uuid);
  std::string mount = controller.mountPoint;
  while (mount.size() > 1 && mount.back() == '/') mount.pop_back();
  const std::string prefix = (mount == "/" ? "" : mount) + "/";
  const std::string suffix = "/" + name;
  if (path.size() <= prefix.size() + suffix.size() || path.substr(0, prefix.size()) != prefix ||
      path.substr(path.size() - suffix.size()) != suffix)
    throw Error::invalidInput("cgroup path '" + printableValue(path) + "' is not " + prefix +
                              "PARENT" + suffix);
  const std::string_view parent =
      path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return at(std::move(controller), parent, name);
}

std::string GuestCgroupLocation::path() const {
  std::string mount = controller_.mountPoint;
  while (mount.size() > 1 && mount.back() == '/') mount.pop_back();
  return (mount == "/" ? "" : mount) + "/" + parent_ + "/" + name_;
}

GuestCgroup::GuestCgroup(GuestCgroupLocation location, UniqueFd directory)
    : location_(std::move(location)), directory_(std::move(directory)) {}
GuestCgroup::GuestCgroup(GuestCgroup&&) noexcept = default;
GuestCgroup& GuestCgroup::operator=(GuestCgroup&&) noexcept = default;
GuestCgroup::~GuestCgroup() = default;

GuestCgroup GuestCgroup::create(const GuestCgroupLocation& location,
                                const std::vector<DeviceRule>& rules, AuditLog& log,
                                const AuditGuest& guest) {
  const std::string path = location.path();
  UniqueFd parent = openParent(location, MissingParent::Create);
  makeFreshDirectory(parent.get(), location.name(), path);
  RemoveUnlessKept undo(parent.get(), location.name());
  GuestCgroup cgroup(location, openDirectoryAt(parent.get(), location.name(), path));

  const bool isV1 = location.controller().version == CgroupVersion::V1;
  try {
    cgroup.acl_ = isV1 ? v1::denyAll(cgroup.directory_.get(), path)
                       : v2::denyAll(cgroup.directory_.get(), path);
  } catch (const Error&) {
    log.write(audit::cgroupAll(guest, AuditCgroupChange::Deny, path, AuditOutcome::Failure));
    throw;
  }
  log.write(audit::cgroupAll(guest, AuditCgroupChange::Deny, path, AuditOutcome::Success));
  for (const DeviceRule& rule : rules) cgroup.allow(rule, log, guest);
  undo.keep();
  return cgroup;
}

GuestCgroup GuestCgroup::open(const GuestCgroupLocation& location) {
  const std::string path = location.path();
  UniqueFd parent = openParent(location, MissingParent::Report);
  if (!parent) throw Error(ExitCode::Failed, "no cgroup " + path, ENOENT);
  UniqueFd directory(::openat(parent.get(), location.name().c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!directory && errno == ENOENT) throw Error(ExitCode::Failed, "no cgroup " + path, ENOENT);
  if (!directory) throw Error::fromErrno("cannot open cgroup " + path, errno);
  return GuestCgroup(location, std::move(directory));
}

DeviceAcl& GuestCgroup::acl() {
  if (!acl_) {
    const std::string path = location_.path();
    acl_ = location_.controller().version == CgroupVersion::V1
               ? v1::existing(directory_.get(), path)
               : v2::existing(directory_.get(), path);
  }
  return *acl_;
}

void GuestCgroup::allow(const DeviceRule& rule, AuditLog& log, const AuditGuest& guest) {
  DeviceAcl& deviceAcl = acl();  // finding the ACL is no change: no record
  std::optional<Error> failure;
  try {
    deviceAcl.allow(rule);
  } catch (const Error& e) {
    failure = e;
  }
  log.write(changeRecord(AuditCgroupChange::Allow, rule, location_.path(), guest,
                         failure ? AuditOutcome::Failure : AuditOutcome::Success));
  if (failure) throw *failure;
}

void GuestCgroup::deny(const DeviceRule& rule, AuditLog& log, const AuditGuest& guest) {
  DeviceAcl& deviceAcl = acl();
  std::optional<Error> failure;
  try {
    deviceAcl.deny(rule);
  } catch (const Error& e) {
    failure = e;
  }
  log.write(changeRecord(AuditCgroupChange::Deny, rule, location_.path(), guest,
                         failure ? AuditOutcome::Failure : AuditOutcome::Success));
  if (failure) throw *failure;
}

UniqueFd GuestCgroup::openProcsForChild() const {
  UniqueFd fd(::openat(directory_.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) throw Error::fromErrno("cannot open " + location_.path() + "/cgroup.procs", errno);
  return fd;
}

std::vector<pid_t> GuestCgroup::processes() const {
  return readProcs(directory_.get(), location_.path());
}

CgroupRemoval removeGuestCgroup(const GuestCgroupLocation& location) {
  const std::string path = location.path();
  UniqueFd parent = openParent(location, MissingParent::Report);
  if (!parent) return CgroupRemoval::Absent;
  if (::unlinkat(parent.get(), location.name().c_str(), AT_REMOVEDIR) == 0)
    return CgroupRemoval::Removed;
  const int err = errno;
  if (err == ENOENT) return CgroupRemoval::Absent;
  if (err == EBUSY) {
    std::vector<pid_t> pids;
    UniqueFd directory(::openat(parent.get(), location.name().c_str(),
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (directory) pids = readProcs(directory.get(), path);
    throw Error(ExitCode::Failed,
                "cannot remove cgroup " + path + ": " +
                    (pids.empty() ? std::string("it has child cgroups")
                                  : "processes " + pidList(pids) + " are still in it"),
                err);
  }
  throw Error::fromErrno("cannot remove cgroup " + path, err);
}

}  // namespace seclabel
