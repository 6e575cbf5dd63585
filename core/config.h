// seclabel.toml: the administrator's configuration (see seclabel.toml(5)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/export.h"

namespace seclabel {

inline constexpr const char* kDefaultConfigPath = "/etc/seclabel/seclabel.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/seclabel";
// A config file larger than this is refused (checked while reading).
inline constexpr std::size_t kMaxConfigSize = 1u << 20;

// An inclusive range of ids, "first-last" (a single "N" is N-N).
struct SECLABEL_API IdRange {
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t size() const { return uint64_t(last) - first + 1; }
  bool contains(uint64_t id) const { return id >= first && id <= last; }
  // Throws Error(InvalidInput) naming `key` and the value.
  static IdRange parse(std::string_view text, std::string_view key);
  std::string format() const;
};

// MCS categories "cLO.cHI" (for example c0.c1023).
struct SECLABEL_API CategoryRange {
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

// [broker]: how the fd-passing broker rations its connections and its
// refusal audit records (see seclabel.toml(5), docs/fdpass.md).
struct BrokerConfig {
  uint32_t maxConnectionsPerUid = 64;
  uint32_t maxConnections = 4096;      // all non-root uids together
  uint32_t idleTimeoutSeconds = 10;
  double refusalAuditRate = 1.0;       // records per second per uid
  uint32_t refusalAuditBurst = 20;
};

struct ProcessConfig {
  bool noNewPrivs = true;
  // [process] env: "NAME=VALUE" entries the guest gets on top of the minimal
  // environment (core/environment.h), each checked by checkEnvironmentEntry.
  std::vector<std::string> env;
};

enum class StoreBackend { Sqlite, Etcd };

// Bounds of store.timeout_ms: 1 ms to 10 minutes.
inline constexpr uint32_t kMaxStoreTimeoutMs = 600000;

// [store]: where identities and guest records live (docs/store.md). The
// etcd keys are read and checked whatever the backend, so a config can be
// prepared before a host switches to etcd.
struct SECLABEL_API StoreConfig {
  StoreBackend backend = StoreBackend::Sqlite;
  std::vector<std::string> endpoints{"http://127.0.0.1:2379"};  // every member
  std::string prefix = "/seclabel/";  // every etcd key starts with it
  std::string host;                   // empty (or ""): the kernel's host name
  uint32_t timeoutMs = 5000;          // per store call, across all endpoints
  std::string caCert;                 // TLS for https endpoints; empty: unset
  std::string cert;
  std::string key;

  // This host's name in the cluster: `host`, or the kernel's host name when
  // `host` is unset. Throws Error(Failed) when the kernel's name cannot name a
  // host in store keys (see checkClusterHostName): set store.host then.
  std::string hostName() const;
};

// Throws Error(InvalidInput) naming `key` and the value unless `url` is
// http://HOST[:PORT] or https://HOST[:PORT] (an optional final '/'; HOST a
// name, an IPv4 address or a bracketed IPv6 address; no user, path, query).
void checkEtcdEndpoint(std::string_view url, std::string_view key);

// Throws Error(InvalidInput) naming `key` unless `name` can name a host in
// store keys: 1 to 253 letters, digits, '.', '-', '_', starting with a letter
// or digit (no '/', which would reach into another host's keys).
void checkClusterHostName(std::string_view name, std::string_view key);

// [network]: who may use which bridge and which macvtap parent.
struct NetworkConfig {
  // qemu-bridge-helper's ACL file (allow/deny/include); absent file: no
  // bridge is allowed.
  std::string bridgeAcl = "/etc/qemu/bridge.conf";
  // Interfaces a guest may put a macvtap (type='direct') on. None by default.
  std::vector<std::string> directDevices;
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

struct SECLABEL_API Config {
  std::vector<std::string> securityDrivers;  // in stack order
  bool securityDriversExplicit = false;
  FdpassMode fdpass = FdpassMode::Auto;
  DacConfig dac;
  SelinuxConfig selinux;
  AuditConfig audit;
  BrokerConfig broker;
  ProcessConfig process;
  StoreConfig store;
  NetworkConfig network;
  CgroupConfig cgroup;

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
