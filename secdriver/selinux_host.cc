#include "secdriver/selinux_host.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <selinux/selinux.h>

#include "core/error.h"
#include "core/unique_fd.h"
#include "secdriver/file_xattrs.h"

namespace seclabel {

const char* toString(SelinuxMode mode) {
  switch (mode) {
    case SelinuxMode::Disabled: return "disabled";
    case SelinuxMode::Permissive: return "permissive";
    case SelinuxMode::Enforcing: return "enforcing";
  }
  return "disabled";
}

namespace {

constexpr const char* kXattrName = "security.selinux";

std::optional<std::string> firstLines(const char* path, int count, int index) {
  if (!path) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < count && std::getline(in, line); ++i)
    if (i == index) return line.empty() ? std::nullopt : std::optional(line);
  return std::nullopt;
}

class SystemSelinuxHost final : public SelinuxHost {
 public:
  SelinuxMode mode() const override {
    if (is_selinux_enabled() <= 0) return SelinuxMode::Disabled;
    return security_getenforce() == 1 ? SelinuxMode::Enforcing : SelinuxMode::Permissive;
  }

  std::optional<SelinuxPolicyContexts> policyContexts() const override {
    // libvirt's virSecuritySELinuxQEMUInitialize: the domain context is the
    // first line of virtual_domain_context; the image and content contexts
    // are the first two lines of virtual_image_context.
    auto domain = firstLines(selinux_virtual_domain_context_path(), 1, 0);
    auto image = firstLines(selinux_virtual_image_context_path(), 2, 0);
    auto content = firstLines(selinux_virtual_image_context_path(), 2, 1);
    if (!domain || !image || !content) return std::nullopt;
    return SelinuxPolicyContexts{*domain, *image, *content};
  }

  std::optional<std::string> getFileLabel(int fd) const override {
    auto value = readXattr(fd, kXattrName);
    if (!value) return std::nullopt;
    // The kernel stores the context with a trailing NUL; the label is the
    // text before it (the exact bytes are what RememberedResource keeps).
    while (!value->empty() && value->back() == '\0') value->pop_back();
    return value;
  }

  void setFileLabel(int fd, const std::string& label) override {
    // Written with the trailing NUL, as setfilecon(3) does.
    try {
      writeXattr(fd, kXattrName, std::string_view(label.c_str(), label.size() + 1));
    } catch (const Error& e) {
      throw Error::fromErrno("cannot set security.selinux to " + label, e.errnum());
    }
  }

  void removeFileLabel(int fd) override { removeXattr(fd, kXattrName); }

  int setExecContext(const char* context) noexcept override {
    // Written directly rather than through setexeccon(3): this runs between
    // fork and exec, where nothing may allocate.
    int fd = ::open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t length = std::strlen(context);
    ssize_t written = ::write(fd, context, length);
    int err = written == static_cast<ssize_t>(length) ? 0 : (written < 0 ? errno : EIO);
    ::close(fd);
    return err;
  }
};

}  // namespace

std::unique_ptr<SelinuxHost> makeSystemSelinuxHost() {
  return std::make_unique<SystemSelinuxHost>();
}

}  // namespace seclabel
