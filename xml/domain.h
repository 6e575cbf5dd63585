// The domain model: what seclabel reads from libvirt domain XML.
//
// Only the parts that matter for security labels are modelled; the rest of
// the document is kept verbatim in Domain::document so that formatting writes
// it back untouched (see xml/format.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/export.h"
#include "xml/net_types.h"

namespace seclabel {

enum class SeclabelType { Dynamic, Static, None };

// "dynamic" | "static" | "none"
SECLABEL_API const char* toString(SeclabelType type);

// A domain-level <seclabel>.
struct Seclabel {
  std::string model;        // "selinux", "dac", "none"; empty until resolved
  bool modelImplicit = false;  // no model attribute: takes the first driver's
  SeclabelType type = SeclabelType::Dynamic;
  bool relabel = true;
  std::optional<std::string> label;       // <label>
  std::optional<std::string> imagelabel;  // <imagelabel>
  std::optional<std::string> baselabel;   // <baselabel> (dynamic selinux)
  bool operator==(const Seclabel&) const = default;
};

// A device-level <source><seclabel> override.
struct DeviceSeclabel {
  std::string model;                // empty: applies to every model
  std::optional<bool> relabel;      // unset: inherit the domain's
  std::optional<std::string> label; // replaces the image label for the source
  bool labelskip = false;        // live XML only, as in libvirt
  bool operator==(const DeviceSeclabel&) const = default;
};

// The device-level override for `model` among `seclabels`: a
// model-specific one wins over one that applies to every model; null when
// none applies.
const DeviceSeclabel* findDeviceSeclabel(const std::vector<DeviceSeclabel>& seclabels,
                                         const std::string& model);

enum class DiskSourceKind { File, Block };

// One storage source: the top image of a disk or one layer of its backing chain.
struct DiskSource {
  DiskSourceKind kind = DiskSourceKind::File;
  std::string path;                      // <source file=...> or <source dev=...>
  std::optional<std::string> format;     // <driver type=...> / <format type=...>
  std::vector<DeviceSeclabel> seclabels; // <source><seclabel>

  // The override for `model`, if any (model-specific wins over model-less).
  const DeviceSeclabel* seclabelFor(const std::string& model) const;
  bool operator==(const DiskSource&) const = default;
};

struct Disk {
  std::string device = "disk";  // disk | cdrom | floppy | lun
  std::string target;           // <target dev=...>
  bool readonly = false;
  bool shareable = false;
  std::optional<DiskSource> source;  // absent for an empty cdrom
  // <backingStore> chain, top-most lower layer first. Lower layers are only
  // ever read by the guest.
  std::vector<DiskSource> backingChain;
  bool operator==(const Disk&) const = default;
};

// <os><kernel>, <os><initrd>, and serial/console <source path=...>.
struct PathResource {
  std::string path;
  std::vector<DeviceSeclabel> seclabels;
  // serial/console only: the <serial type=...> (file, dev, pipe, unix).
  std::string chardevType;
  const DeviceSeclabel* seclabelFor(const std::string& model) const;
  bool operator==(const PathResource&) const = default;
};

// One <devices><interface> (libvirt's "Network interfaces"). Every interface
// of the document is here, in document order, whatever its type; the values
// below are read for every type, the source only for bridge and direct. What
// is not modelled stays in the document untouched.
struct Interface {
  InterfaceType type = InterfaceType::User;  // libvirt's default without type=
  std::optional<InterfaceName> bridge;       // type bridge: <source bridge>
  std::optional<InterfaceName> sourceDev;    // type direct: <source dev>, the macvtap's parent
  MacvtapMode macvtapMode = MacvtapMode::Vepa;  // type direct: <source mode>, libvirt's default
  // <target dev>: the tap or macvtap link. Unset: a name is chosen when the
  // device is created (vnet%d, macvtap%d). An inactive definition's vnet*,
  // macvtap* or macvlan* name counts as unset, as in libvirt: such names are
  // generated and belong to whichever guest runs first.
  std::optional<InterfaceName> target;
  TapManagement tapManagement = TapManagement::Managed;  // <target managed='no'>: Unmanaged
  std::optional<MacAddress> mac;       // <mac address>; assignInterfaceDefaults fills it in
  std::optional<std::string> model;    // <model type>, e.g. "virtio"
  // <driver name> and <driver queues>; read, as libvirt does, only for a
  // virtio model, and also when no model is given (seclabel does not choose
  // the guest's NIC: the command line does).
  std::optional<NetDriverName> driver;
  std::optional<unsigned> queues;      // 1..kMaxTapQueues
  std::optional<std::string> alias;    // <alias name>; assignInterfaceDefaults fills it in

  // The number of tap queues to open: <driver queues>, else 1.
  unsigned queueCount() const { return queues.value_or(1); }
  bool operator==(const Interface&) const = default;
};

struct SECLABEL_API Domain {
  Domain();
  ~Domain();
  Domain(Domain&&) noexcept;
  Domain& operator=(Domain&&) noexcept;
  Domain(const Domain&);
  Domain& operator=(const Domain&);

  std::string type;  // <domain type=...>: kvm, qemu, ...
  std::string name;
  std::string uuid;  // canonical lower-case 8-4-4-4-12
  bool uuidGenerated = false;
  std::vector<Seclabel> seclabels;
  std::vector<Disk> disks;
  std::optional<PathResource> kernel;
  std::optional<PathResource> initrd;
  std::vector<PathResource> chardevs;  // serial/console with a source path
  // Every <devices><interface>, in document order: interfaces[i] is the
  // i-th <interface> element, which is how formatDomainXml finds it.
  std::vector<Interface> interfaces;

  const Seclabel* seclabelFor(const std::string& model) const;
  Seclabel* seclabelFor(const std::string& model);
  const Disk* diskByTarget(const std::string& target) const;
  // The interface whose <alias name> is `alias`, or nullptr.
  const Interface* interfaceByAlias(std::string_view alias) const;

  // The parsed document, kept so formatting preserves everything we do not
  // model. Opaque here so that only xml/ includes pugixml.
  struct Document;
  std::unique_ptr<Document> document;
};

}  // namespace seclabel
