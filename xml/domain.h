// The domain model: what seclabel reads from libvirt domain XML.
//
// Only the parts that matter for security labels are modelled; the rest of
// the document is kept verbatim in Domain::document so that formatting writes
// it back untouched (see xml/format.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seclabel {

enum class SeclabelType { Dynamic, Static, None };

// "dynamic" | "static" | "none"
const char* toString(SeclabelType type);

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

struct Domain {
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

  const Seclabel* seclabelFor(const std::string& model) const;
  Seclabel* seclabelFor(const std::string& model);
  const Disk* diskByTarget(const std::string& target) const;

  // The parsed document, kept so formatting preserves everything we do not
  // model. Opaque here so that only xml/ includes pugixml.
  struct Document;
  std::unique_ptr<Document> document;
};

}  // namespace seclabel
