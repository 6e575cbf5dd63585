// A guest's device ACL as data: which device nodes, by type and number, the
// processes of a guest's cgroup may open and how (docs/devices.md).
//
// The kernel's device controller knows numbers, not names: a rule is
// (type, major, minor or every minor, access). A path only says where the
// rule came from, for the audit record. guestDeviceRules() turns what a
// guest uses (paths, as the domain names them) and the configured default
// list into rules; guest_cgroup.h applies them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seclabel {

enum class DeviceType : uint8_t {
  Block,  // "b" in devices.allow, BPF_DEVCG_DEV_BLOCK
  Char,   // "c", BPF_DEVCG_DEV_CHAR
};

// A subset of read, write and mknod: the kernel's "r", "w", "m". Built by
// the named factories or parse(); never empty.
class DeviceAccess {
 public:
  static constexpr DeviceAccess read() { return DeviceAccess(kRead); }
  static constexpr DeviceAccess readWrite() { return DeviceAccess(kRead | kWrite); }
  static constexpr DeviceAccess readWriteMknod() { return DeviceAccess(kRead | kWrite | kMknod); }
  // "r", "w", "m" in any order, each at most once, at least one (the access
  // syntax of devices.allow). Throws Error(InvalidInput) otherwise.
  static DeviceAccess parse(std::string_view text);

  bool mayRead() const { return (bits_ & kRead) != 0; }
  bool mayWrite() const { return (bits_ & kWrite) != 0; }
  bool mayMknod() const { return (bits_ & kMknod) != 0; }
  // "r", "rw", "rwm": always in that order.
  std::string text() const;
  DeviceAccess operator|(DeviceAccess other) const { return DeviceAccess(bits_ | other.bits_); }
  bool operator==(const DeviceAccess&) const = default;

 private:
  static constexpr uint8_t kRead = 1, kWrite = 2, kMknod = 4;
  constexpr explicit DeviceAccess(uint8_t bits) : bits_(bits) {}
  uint8_t bits_;
};

// Every minor of a major (the "*" of "c 136:* rw"). Never a real minor: the
// kernel's minors have 20 bits.
inline constexpr uint32_t kAnyMinor = UINT32_MAX;
// Unix98 pty slaves, /dev/pts/N: QEMU's pty chardevs open them.
inline constexpr uint32_t kPtyMajor = 136;

// One allowed device (or every minor of a major), built by the factories:
// numbers within the kernel's 12-bit major and 20-bit minor.
struct DeviceRule {
  DeviceType type;
  uint32_t major;
  uint32_t minor;  // kAnyMinor: every minor
  DeviceAccess access;
  // What the audit record names: the node the rule was made from
  // (class=path path=...), or the category of a major (class=major
  // category=pty); the other one is empty.
  std::string path;
  std::string category;

  // The node at `path`, whose stat(2) showed `type` and `rdev`.
  static DeviceRule forNode(std::string path, DeviceType type, dev_t rdev, DeviceAccess access);
  // Every minor of `major`; `category` is one lower-case word ("pty").
  // Throws Error(InvalidInput) for a major above 4095 or a bad category.
  static DeviceRule forMajor(std::string category, DeviceType type, uint32_t major,
                             DeviceAccess access);

  bool anyMinor() const { return minor == kAnyMinor; }
  // "b 7:3 rw", "c 136:* rw": the line devices.allow and devices.deny take.
  std::string kernelLine() const;
};

// What a guest uses, as the launcher reads it from the domain.
struct GuestDeviceUse {
  struct Disk {
    std::string path;
    // read() for a readonly disk and every backing-chain layer, readWrite()
    // otherwise.
    DeviceAccess access;
  };
  std::vector<Disk> disks;               // <disk> sources and backing layers
  std::vector<std::string> chardevs;     // serial/console <source path=...>
  std::vector<std::string> netDevices;   // /dev/net/tun, /dev/vhost-net, /dev/tapN
};

// What stat(2) says of a path: its file type bits and, for a device, st_rdev.
struct NodeInfo {
  mode_t type;  // st_mode & S_IFMT
  dev_t rdev;
};
// stat(2) (following symlinks: /dev/disk/by-id/... names a node through
// one, and the rule is by number anyway). nullopt when the path does not
// exist (ENOENT, ENOTDIR); Error(Failed) naming the path for any other
// failure.
std::optional<NodeInfo> statNode(const std::string& path);
using NodeLookup = std::function<std::optional<NodeInfo>(const std::string& path)>;

// The guest's rules, in libvirt's order: disks, the pty major (c 136:* rw),
// the default list (config [cgroup] device_acl, rw), chardevs, network
// devices. Kinds are kept apart: a disk gets a rule only for a block device,
// a chardev or network path only for a character device, a default entry
// for either. Paths that do not exist or are not such a device are skipped
// without a trace (no rule, so no audit record). A device named twice
// gets one rule, at its first place, with the union of the accesses.
// Reads the file system through `lookup` only; changes nothing.
std::vector<DeviceRule> guestDeviceRules(const GuestDeviceUse& use,
                                         const std::vector<std::string>& defaultAcl,
                                         const NodeLookup& lookup = statNode);

}  // namespace seclabel
