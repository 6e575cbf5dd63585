// The one narrow interface between seclabel and the host's SELinux.
//
// Everything the selinux driver and the process step ask of the kernel goes
// through here, so a test can replace exactly the step this kernel cannot
// serve (an exec context while SELinux is off) and nothing else.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/export.h"

namespace seclabel {

enum class SelinuxMode { Disabled, Permissive, Enforcing };

// "disabled" | "permissive" | "enforcing" (dominfo's words).
const char* toString(SelinuxMode mode);

// Default contexts of the host policy (libselinux's virtual_domain_context
// and virtual_image_context files), as libvirt reads them.
struct SelinuxPolicyContexts {
  std::string domain;   // e.g. system_u:system_r:svirt_t:s0
  std::string image;    // e.g. system_u:object_r:svirt_image_t:s0
  std::string content;  // e.g. system_u:object_r:virt_content_t:s0
};

class SECLABEL_API SelinuxHost {
 public:
  virtual ~SelinuxHost() = default;

  virtual SelinuxMode mode() const = 0;
  bool enabled() const { return mode() != SelinuxMode::Disabled; }

  // The installed policy's virt contexts, when a policy is installed.
  virtual std::optional<SelinuxPolicyContexts> policyContexts() const = 0;

  // security.selinux of the object `fd` refers to (an O_PATH fd is fine):
  // nullopt when the object has none (ENODATA). Throws Error on other errors
  // (errnum() keeps errno, e.g. ENOTSUP on a filesystem without xattrs).
  virtual std::optional<std::string> getFileLabel(int fd) const = 0;
  // Sets / removes security.selinux through the fd. Throws Error with errno.
  virtual void setFileLabel(int fd, const std::string& label) = 0;
  virtual void removeFileLabel(int fd) = 0;

  // The context the next execve() of this thread runs in. Called between
  // fork() and execve(): must not allocate, lock or throw. Returns 0 or an
  // errno value.
  virtual int setExecContext(const char* context) noexcept = 0;
};

// The real host: libselinux for policy queries, xattrs through
// /proc/self/fd/N for labels, /proc/thread-self/attr/exec for the exec context.
SECLABEL_API std::unique_ptr<SelinuxHost> makeSystemSelinuxHost();

}  // namespace seclabel
