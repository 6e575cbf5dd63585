// The security driver table (after libvirt's virSecurityDriver): what one
// security model does for a guest. The stack (secdriver/manager.h) runs every
// configured driver for every guest, in config order.
//
// A driver decides *what* its model wants: which label the guest gets, what
// each resource should look like, which identity the process takes. *How* a
// file is changed safely (resolve once, O_PATH, remember, restore exactly) is
// done once for all drivers by secdriver/safe_file.h.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "alloc/store.h"
#include "core/config.h"
#include "xml/domain.h"
#include "xml/labels.h"

namespace seclabel {

class SelinuxHost;

// What a resource is to the guest; decides how each driver labels it.
enum class ResourceRole {
  PrivateImage,   // writable disk only this guest uses
  SharedImage,    // <shareable/> disk: several guests write it
  ReadOnlyImage,  // <readonly/> disk, or a lower layer of a backing chain
  BootFile,       // <os><kernel>/<initrd>: read-only content
  CharDevice,     // serial/console source path: private to the guest
};
const char* toString(ResourceRole role);
// Exclusive for private images and character devices, Shared otherwise.
ResourceUse resourceUseOf(ResourceRole role);

// The change one driver wants on one file.
struct ResourceChange {
  std::optional<DacLabel> owner;            // chown to this uid:gid
  std::optional<std::string> selinuxLabel;  // set security.selinux
  bool empty() const { return !owner && !selinuxLabel; }
};

// The identity a driver wants the guest process to run with.
struct ProcessLabels {
  std::optional<std::string> execContext;  // SELinux
  std::optional<DacLabel> dac;             // uid:gid
};

class SecurityDriver {
 public:
  virtual ~SecurityDriver() = default;

  virtual const char* model() const = 0;
  // Domain of interpretation, reported by dominfo ("0" for every model here).
  virtual const char* doi() const { return "0"; }
  // Can this driver work on this host? (selinux: always, with a warning
  // when SELinux is disabled; see docs/labels.md, "Labels".)
  virtual bool probe() const { return true; }

  // Dynamic: allocate a fresh identity from the store; static: reserve the
  // given one. Fills seclabel.label and seclabel.imagelabel.
  virtual void generateLabel(Seclabel& seclabel, Store& store, const Owner& owner) = 0;

  // The change this driver wants on a resource with `role`; `deviceLabel` is
  // a device-level <label> that replaces the image label for that source.
  // nullopt: leave the resource alone.
  virtual std::optional<ResourceChange> resourceChange(
      const Seclabel& seclabel, ResourceRole role,
      const std::optional<std::string>& deviceLabel) const = 0;

  // The process part, applied right before exec.
  virtual void processLabels(const Seclabel& seclabel, ProcessLabels& out) const = 0;

  // How the label is enforced right now: "enforcing", "permissive" or
  // "disabled" (dominfo's word after the label).
  virtual std::string enforcement() const { return "enforcing"; }
};

}  // namespace seclabel
