// seclabel.toml: the administrator's configuration (see seclabel.toml(5)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seclabel {

inline constexpr const char* kDefaultConfigPath = "/etc/seclabel/seclabel.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/seclabel";
// A config file larger than this is refused (checked while reading).
inline constexpr std::size_t kMaxConfigSize = 1u << 20;

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

struct Config {
  std::vector<std::string> securityDrivers;  // in stack order
  bool securityDriversExplicit = false;
  FdpassMode fdpass = FdpassMode::Auto;
  DacConfig dac;
  SelinuxConfig selinux;
  AuditConfig audit;
  ProcessConfig process;

  // Defaults for a host with or without SELinux enabled.
  static Config defaults(bool hostSelinuxEnabled);
  // Parses TOML text; `source` names it in errors. Unknown keys and bad values
  // are Error(InvalidInput): "<source>: <key>: <reason>".
  static Config parse(std::string_view text, const std::string& source,
                      bool hostSelinuxEnabled);
  // Loads `path`. A missing file is the defaults only when `mayBeMissing`
  // (the default path); a file named with --config must exist (else
  // InvalidInput). The file must be regular and at most kMaxConfigSize bytes
  // (InvalidInput), and only root or the caller may be able to change it or
  // any directory on the way (PermissionDenied, exit 4: see
  // core/trusted_path.h).
  static Config load(const std::string& path, bool mayBeMissing,
                     bool hostSelinuxEnabled);
};

}  // namespace seclabel
