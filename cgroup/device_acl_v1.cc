// cgroup v1: the devices controller's files (Documentation/admin-guide/
// cgroup-v1/devices.rst). A new cgroup starts with a copy of its parent's
// list; "a" written to devices.deny (allowed only while the cgroup has no
// children) switches it to deny-by-default and drops every inherited
// exception. Each "TYPE MAJ:MIN ACCESS" written to devices.allow then adds
// an exception, which the kernel refuses (EPERM) when the parent does not
// allow that much itself; written to devices.deny it takes access away.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup/device_acl.h"
#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {

namespace {

UniqueFd openControlFile(int cgroupFd, const std::string& path, const char* name) {
  UniqueFd fd(::openat(cgroupFd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) throw Error::fromErrno("cannot open " + path + "/" + name, errno);
  return fd;
}

// One rule per write(2): the kernel parses each write as one line.
void writeRule(int fd, const std::string& path, const char* name, const std::string& line) {
  const ssize_t n = ::write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    const int err = n < 0 ? errno : EIO;
    throw Error::fromErrno("cannot write '" + line + "' to " + path + "/" + name, err);
  }
}

class V1DeviceAcl final : public DeviceAcl {
 public:
  V1DeviceAcl(int cgroupFd, const std::string& path)
      : path_(path),
        allow_(openControlFile(cgroupFd, path, "devices.allow")),
        deny_(openControlFile(cgroupFd, path, "devices.deny")) {}

  void denyAll() { writeRule(deny_.get(), path_, "devices.deny", "a"); }
  void allow(const DeviceRule& rule) override {
    writeRule(allow_.get(), path_, "devices.allow", rule.kernelLine());
  }
  void deny(const DeviceRule& rule) override {
    writeRule(deny_.get(), path_, "devices.deny", rule.kernelLine());
  }

 private:
  std::string path_;
  UniqueFd allow_;
  UniqueFd deny_;
};

}  // namespace

namespace v1 {

std::unique_ptr<DeviceAcl> denyAll(int cgroupFd, const std::string& path) {
  auto acl = std::make_unique<V1DeviceAcl>(cgroupFd, path);
  acl->denyAll();
  return acl;
}

std::unique_ptr<DeviceAcl> existing(int cgroupFd, const std::string& path) {
  return std::make_unique<V1DeviceAcl>(cgroupFd, path);
}

}  // namespace v1
}  // namespace seclabel
