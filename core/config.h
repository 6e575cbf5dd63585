// seclabel.toml: the administrator's configuration (see seclabel.toml(5)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seclabel {

inline constexpr const char* kDefaultConfigPath = "/etc/seclabel/seclabel.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/seclabel";

// An inclusive range of ids, "first-last" (a single "N" is N-N).
struct IdRange {
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t size() const { return uint64_t(last) - first + 1; }
  bool contains(uint64_t id) const { return id >= first && id <= last; }
  // Throws Error(InvalidInput) naming `key` and the value.
  static IdRange parse(std::string_view text, std::string_view key);
  std::string format() const;
};

// MCS categories "cLO.cHI" (for example c0.c1023).
struct CategoryRange {
  uint32_t low = 0;
  uint32_t high = 1023;
  // Number of pairs cA,cB with low <= A < B <= high.
  uint64_t pairCount() const;
  static CategoryRange parse(std::string_view text, std::string_view key);
  std::string format() const;
};

enum class FdpassMode { Auto, Always, Never };
enum class AuditSink { Kernel, File, None };

struct DacConfig {
  IdRange range{1879048192u, 1879113727u};  // 0x70000000 + 65536 ids
  std::optional<IdRange> gidRange;           // unset: gid = uid
  std::vector<std::string> groups;           // supplementary groups (names)
};

struct SelinuxConfig {
  std::string domain = "system_u:system_r:svirt_t:s0";
  std::string image = "system_u:object_r:svirt_image_t:s0";
  std::string content = "system_u:object_r:virt_content_t:s0";
  CategoryRange categories;
  // True when a context key was set in the file: the host policy's
  // virtual_domain_context files are then not consulted.
  bool contextsFromConfig = false;
};

struct AuditConfig {
  AuditSink sink = AuditSink::Kernel;
  std::string path;  // for AuditSink::File
  bool required = false;
};

struct ProcessConfig {
  bool noNewPrivs = true;
};

// [cgroup] devices: whether each guest gets a cgroup with a device ACL.
enum class CgroupDevices {
  Auto,      // when the host has a device controller; warn once when not
  Required,  // a prepare fails (exit 1) when the host has none
  Off,       // never
};

// libvirt's cgroup_device_acl default: the nodes every QEMU opens.
std::vector<std::string> defaultCgroupDeviceAcl();

// [cgroup]: the per-guest cgroup and its device ACL (docs/devices.md).
struct CgroupConfig {
  CgroupDevices devices = CgroupDevices::Auto;
  // Relative to the device controller's mount: "seclabel" or "a/b".
  std::string parent = "seclabel";
  // Absolute paths of device nodes every guest may open (r and w).
  std::vector<std::string> deviceAcl = defaultCgroupDeviceAcl();
};

// Checks a cgroup parent path: relative, components of [A-Za-z0-9._@:+-]
// (systemd's slice names fit), never "." or "..", so that nothing but a
// directory below the controller's mount can be named. Throws
// Error(InvalidInput) "<key>: invalid value '<value>': <why>".
void checkCgroupParent(std::string_view value, std::string_view key);

struct Config {
  std::vector<std::string> securityDrivers;  // in stack order
  bool securityDriversExplicit = false;
  FdpassMode fdpass = FdpassMode::Auto;
  DacConfig dac;
  SelinuxConfig selinux;
  AuditConfig audit;
  ProcessConfig process;
  CgroupConfig cgroup;

  // Defaults for a host with or without SELinux enabled.
  static Config defaults(bool hostSelinuxEnabled);
  // Parses TOML text; `source` names it in errors. Unknown keys and bad values
  // are Error(InvalidInput): "<source>: <key>: <reason>".
  static Config parse(std::string_view text, const std::string& source,
                      bool hostSelinuxEnabled);
  // Loads `path`. A missing file is the defaults only when `mayBeMissing`
  // (the default path); a file named with --config must exist.
  static Config load(const std::string& path, bool mayBeMissing,
                     bool hostSelinuxEnabled);
};

}  // namespace seclabel
