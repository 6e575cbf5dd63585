#include "core/config.h"

#include <cerrno>
#include <cctype>
#include <charconv>
#include <climits>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/interface_name_rule.h"
#include "core/file_read.h"
#include "core/security_models.h"

namespace seclabel {
namespace {

// `value` as it can be quoted in a one-line message: control characters
// (a TOML string may hold a newline) as \xNN, and cut after 256 bytes.
std::string quotable(std::string_view value) {
  constexpr size_t kLimit = 256;
  std::string out = printableValue(value.substr(0, kLimit));
  if (value.size() > kLimit) out += "...";
  return out;
}

[[noreturn]] void badValue(std::string_view key, std::string_view value,
                           std::string_view why) {
  throw Error::invalidInput(std::string(key) + ": invalid value '" +
                            quotable(value) + "': " + std::string(why));
}

std::optional<uint32_t> parseU32(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > UINT32_MAX)
    return std::nullopt;
  return static_cast<uint32_t>(value);
}

std::string nodeText(const toml::node& node) {
  std::ostringstream out;
  if (auto s = node.as_string()) return s->get();
  node.visit([&](auto&& v) { out << v; });
  return out.str();
}

const std::string& requireString(const toml::node& node, const std::string& key) {
  if (auto s = node.as_string()) return s->get();
  badValue(key, nodeText(node), "expected a string");
}

bool requireBool(const toml::node& node, const std::string& key) {
  if (auto b = node.as_boolean()) return b->get();
  badValue(key, nodeText(node), "expected true or false");
}

std::vector<std::string> requireStringArray(const toml::node& node,
                                            const std::string& key) {
  auto array = node.as_array();
  if (!array) badValue(key, nodeText(node), "expected an array of strings");
  std::vector<std::string> result;
  for (auto& element : *array) result.push_back(requireString(element, key));
  return result;
}

void checkContext(const std::string& value, const std::string& key) {
  // Same shape rule as XML labels: user:role:type:level, nothing else.
  int colons = 0;
  for (char c : value) colons += (c == ':');
  if (colons < 3 || value.front() == ':' ||
      value.find("::") != std::string::npos)
    badValue(key, value, "expected an SELinux context user:role:type:level");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f || c == ' ')
      badValue(key, value, "contains a space or a control character");
}

void applyDac(const toml::table& table, DacConfig& dac) {
  for (auto&& [k, node] : table) {
    std::string key = "dac." + std::string(k.str());
    if (k == "range") {
      dac.range = IdRange::parse(requireString(node, key), key);
    } else if (k == "gid_range") {
      dac.gidRange = IdRange::parse(requireString(node, key), key);
    } else if (k == "groups") {
      dac.groups = requireStringArray(node, key);
      for (auto& g : dac.groups)
        if (g.empty()) badValue(key, g, "empty group name");
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
  if (dac.range.first == 0)
    badValue("dac.range", dac.range.format(), "must not include uid 0");
  if (dac.gidRange) {
    if (dac.gidRange->first == 0)
      badValue("dac.gid_range", dac.gidRange->format(), "must not include gid 0");
    if (dac.gidRange->size() != dac.range.size())
      badValue("dac.gid_range", dac.gidRange->format(),
               "must hold as many ids as dac.range");
  }
}

void applySelinux(const toml::table& table, SelinuxConfig& selinux) {
  for (auto&& [k, node] : table) {
    std::string key = "selinux." + std::string(k.str());
    if (k == "domain" || k == "image" || k == "content") {
      std::string value = requireString(node, key);
      checkContext(value, key);
      (k == "domain" ? selinux.domain : k == "image" ? selinux.image : selinux.content) = value;
      selinux.contextsFromConfig = true;
    } else if (k == "categories") {
      selinux.categories = CategoryRange::parse(requireString(node, key), key);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

void applyAudit(const toml::table& table, AuditConfig& audit) {
  for (auto&& [k, node] : table) {
    std::string key = "audit." + std::string(k.str());
    if (k == "sink") {
      std::string value = requireString(node, key);
      if (value == "kernel") {
        audit.sink = AuditSink::Kernel;
      } else if (value == "none") {
        audit.sink = AuditSink::None;
      } else if (value.rfind("file:", 0) == 0 && value.size() > 6 && value[5] == '/') {
        audit.sink = AuditSink::File;
        audit.path = value.substr(5);
      } else {
        badValue(key, value, "expected \"kernel\", \"none\" or \"file:/absolute/path\"");
      }
    } else if (k == "required") {
      audit.required = requireBool(node, key);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

uint32_t requireCount(const toml::node& node, const std::string& key, int64_t least,
                      int64_t most) {
  auto value = node.as_integer();
  if (!value) badValue(key, nodeText(node), "expected a whole number");
  if (value->get() < least || value->get() > most)
    badValue(key, nodeText(node),
             "expected " + std::to_string(least) + " to " + std::to_string(most));
  return static_cast<uint32_t>(value->get());
}

void applyBroker(const toml::table& table, BrokerConfig& broker) {
  for (auto&& [k, node] : table) {
    std::string key = "broker." + std::string(k.str());
    if (k == "max_connections_per_uid") {
      broker.maxConnectionsPerUid = requireCount(node, key, 1, 65536);
    } else if (k == "max_connections") {
      broker.maxConnections = requireCount(node, key, 1, 1 << 20);
    } else if (k == "idle_timeout") {
      broker.idleTimeoutSeconds = requireCount(node, key, 1, 86400);
    } else if (k == "refusal_audit_rate") {
      std::optional<double> rate;
      if (auto f = node.as_floating_point()) rate = f->get();
      if (auto i = node.as_integer()) rate = static_cast<double>(i->get());
      if (!rate || !(*rate > 0) || *rate > 1e6)
        badValue(key, nodeText(node), "expected records per second, above 0");
      broker.refusalAuditRate = *rate;
    } else if (k == "refusal_audit_burst") {
      broker.refusalAuditBurst = requireCount(node, key, 1, 1000000);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

void applyProcess(const toml::table& table, ProcessConfig& process) {
  for (auto&& [k, node] : table) {
    std::string key = "process." + std::string(k.str());
    if (k == "no_new_privs") {
      process.noNewPrivs = requireBool(node, key);
    } else if (k == "env") {
      process.env = requireStringArray(node, key);
      for (const std::string& entry : process.env) checkEnvironmentEntry(entry, key);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

uint32_t requireTimeoutMs(const toml::node& node, const std::string& key) {
  auto integer = node.as_integer();
  if (!integer) badValue(key, nodeText(node), "expected an integer number of milliseconds");
  int64_t value = integer->get();
  if (value < 1 || value > kMaxStoreTimeoutMs)
    badValue(key, nodeText(node),
             "must be between 1 and " + std::to_string(kMaxStoreTimeoutMs) + " (10 minutes)");
  return static_cast<uint32_t>(value);
}

std::string requireTlsFile(const toml::node& node, const std::string& key) {
  std::string path = requireString(node, key);
  if (path.empty() || path.front() != '/') badValue(key, path, "expected an absolute path");
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) badValue(key, path, "contains a control character");
  return path;
}

void checkStorePrefix(const std::string& prefix, const std::string& key) {
  if (prefix.empty() || prefix.front() != '/') badValue(key, prefix, "must start with '/'");
  // "/a" would also be a prefix of "/ab/...": another installation's keys.
  if (prefix.back() != '/') badValue(key, prefix, "must end with '/'");
  if (prefix.size() > 256) badValue(key, prefix, "longer than 256 bytes");
  for (unsigned char c : prefix)
    if (c <= 0x20 || c >= 0x7f) badValue(key, prefix, "only printable ASCII without spaces");
}

void applyStore(const toml::table& table, StoreConfig& store) {
  for (auto&& [k, node] : table) {
    std::string key = "store." + std::string(k.str());
    if (k == "backend") {
      std::string value = requireString(node, key);
      if (value == "sqlite") store.backend = StoreBackend::Sqlite;
      else if (value == "etcd") store.backend = StoreBackend::Etcd;
      else badValue(key, value, "expected \"sqlite\" or \"etcd\"");
    } else if (k == "endpoints") {
      auto endpoints = requireStringArray(node, key);
      if (endpoints.empty()) badValue(key, "[]", "list at least one etcd member");
      if (endpoints.size() > 32) badValue(key, nodeText(node), "more than 32 endpoints");
      std::set<std::string> seen;
      for (auto& url : endpoints) {
        checkEtcdEndpoint(url, key);
        if (!seen.insert(url).second) badValue(key, url, "listed twice");
      }
      store.endpoints = endpoints;
    } else if (k == "prefix") {
      store.prefix = requireString(node, key);
      checkStorePrefix(store.prefix, key);
    } else if (k == "host") {
      store.host = requireString(node, key);
      if (!store.host.empty()) checkClusterHostName(store.host, key);  // "": the host name
    } else if (k == "timeout_ms") {
      store.timeoutMs = requireTimeoutMs(node, key);
    } else if (k == "cacert") {
      store.caCert = requireTlsFile(node, key);
    } else if (k == "cert") {
      store.cert = requireTlsFile(node, key);
    } else if (k == "key") {
      store.key = requireTlsFile(node, key);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
  if (store.cert.empty() != store.key.empty())
    badValue(store.cert.empty() ? "store.key" : "store.cert",
             store.cert.empty() ? store.key : store.cert,
             "store.cert and store.key go together (a client certificate and its key)");
}

void applyNetwork(const toml::table& table, NetworkConfig& network) {
  for (auto&& [k, node] : table) {
    std::string key = "network." + std::string(k.str());
    if (k == "bridge_acl") {
      std::string value = requireString(node, key);
      for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f)
          badValue(key, value, "contains a control character");
      if (value.empty() || value.front() != '/')
        badValue(key, value, "expected an absolute path");
      network.bridgeAcl = value;
    } else if (k == "direct_devices") {
      std::vector<std::string> devices = requireStringArray(node, key);
      std::set<std::string> seen;
      for (const std::string& device : devices) {
        if (const char* problem = interfaceNameProblem(device))
          badValue(key, device, std::string("interface name ") + problem);
        if (!seen.insert(device).second) badValue(key, device, "listed twice");
      }
      network.directDevices = devices;
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

// An absolute path without control characters, "." or ".." components or
// empty ones: the device_acl entries are looked up as written, so one entry
// names one node.
void checkDevicePath(const std::string& value, const std::string& key) {
  if (value.empty() || value.front() != '/')
    badValue(key, value, "expected an absolute path such as /dev/null");
  if (value.size() > 4095) badValue(key, value.substr(0, 64) + "...", "longer than 4095 bytes");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) badValue(key, value, "contains a control character");
  size_t start = 1;
  while (start <= value.size()) {
    size_t end = value.find('/', start);
    if (end == std::string::npos) end = value.size();
    std::string_view part(value.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      badValue(key, value, "empty, \".\" or \"..\" path component");
    start = end + 1;
  }
}

void applyCgroup(const toml::table& table, CgroupConfig& cgroup) {
  for (auto&& [k, node] : table) {
    std::string key = "cgroup." + std::string(k.str());
    if (k == "devices") {
      std::string value = requireString(node, key);
      if (value == "auto") cgroup.devices = CgroupDevices::Auto;
      else if (value == "required") cgroup.devices = CgroupDevices::Required;
      else if (value == "off") cgroup.devices = CgroupDevices::Off;
      else badValue(key, value, "expected \"auto\", \"required\" or \"off\"");
    } else if (k == "parent") {
      std::string value = requireString(node, key);
      checkCgroupParent(value, key);
      cgroup.parent = value;
    } else if (k == "device_acl") {
      std::vector<std::string> paths = requireStringArray(node, key);
      if (paths.size() > 1024) badValue(key, "[...]", "more than 1024 entries");
      for (const std::string& path : paths) checkDevicePath(path, key);
      cgroup.deviceAcl = std::move(paths);
    } else {
      throw Error::invalidInput(key + ": unknown key");
    }
  }
}

const toml::table& requireTable(const toml::node& node, const std::string& key) {
  if (auto t = node.as_table()) return *t;
  badValue(key, nodeText(node), "expected a table [" + key + "]");
}

}  // namespace

void checkEtcdEndpoint(std::string_view url, std::string_view key) {
  const char* const shape = "expected http://HOST[:PORT] or https://HOST[:PORT]";
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) rest = url.substr(7);
  else if (url.rfind("https://", 0) == 0) rest = url.substr(8);
  else badValue(key, url, "the scheme must be http or https");
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]
    auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) badValue(key, url, shape);
    for (char c : rest.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        badValue(key, url, shape);
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') badValue(key, url, shape);
      port = rest.substr(close + 2);
      if (port.empty()) badValue(key, url, shape);
    }
  } else {
    auto colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) badValue(key, url, shape);
    }
    if (host.empty()) badValue(key, url, shape);
    for (char c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
        badValue(key, url, shape);
  }
  if (!port.empty()) {
    for (char c : port)
      if (c < '0' || c > '9') badValue(key, url, shape);
    auto number = parseU32(port);
    if (!number || *number == 0 || *number > 65535)
      badValue(key, url, "the port must be 1 to 65535");
  }
}

void checkClusterHostName(std::string_view name, std::string_view key) {
  if (name.empty() || name.size() > 253)
    badValue(key, name, "a host name has 1 to 253 characters");
  if (!std::isalnum(static_cast<unsigned char>(name.front())))
    badValue(key, name, "a host name starts with a letter or a digit");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
      badValue(key, name, "a host name has only letters, digits, '.', '-' and '_'");
}

std::string StoreConfig::hostName() const {
  if (!host.empty()) return host;
  char name[HOST_NAME_MAX + 1] = "";
  if (::gethostname(name, sizeof name) != 0)
    throw Error::fromErrno("cannot read this host's name", errno);
  name[HOST_NAME_MAX] = '\0';
  try {
    checkClusterHostName(name, "host name");
  } catch (const Error& e) {
    throw Error(ExitCode::Failed, std::string(e.what()) + " (set store.host)");
  }
  return name;
}

std::vector<std::string> defaultCgroupDeviceAcl() {
  return {"/dev/null",    "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom",
          "/dev/ptmx",    "/dev/kvm",  "/dev/userfaultfd"};
}

void checkCgroupParent(std::string_view value, std::string_view key) {
  if (value.empty()) badValue(key, value, "empty");
  if (value.size() > 1024) badValue(key, value.substr(0, 64), "longer than 1024 bytes");
  if (value.front() == '/')
    badValue(key, value, "must be relative to the controller's mount (no leading /)");
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('/', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view part = value.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      badValue(key, value, "empty, \".\" or \"..\" path component");
    if (part.size() > 255) badValue(key, value, "a component is longer than 255 bytes");
    for (unsigned char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '@' || c == ':' || c == '+' || c == '-';
      if (!ok) badValue(key, value, "components may hold only letters, digits and ._@:+-");
    }
    start = end + 1;
  }
}

IdRange IdRange::parse(std::string_view text, std::string_view key) {
  auto dash = text.find('-');
  std::string_view firstText = text.substr(0, dash);
  std::string_view lastText = dash == std::string_view::npos ? text : text.substr(dash + 1);
  auto first = parseU32(firstText);
  auto last = parseU32(lastText);
  if (!first || !last)
    badValue(key, text, "expected FIRST-LAST with decimal ids");
  if (*first > *last) badValue(key, text, "FIRST is greater than LAST");
  if (*last == UINT32_MAX) badValue(key, text, "4294967295 is not a valid id");
  return IdRange{*first, *last};
}

std::string IdRange::format() const {
  return std::to_string(first) + "-" + std::to_string(last);
}

uint64_t CategoryRange::pairCount() const {
  uint64_t n = uint64_t(high) - low + 1;
  return n * (n - 1) / 2;
}

CategoryRange CategoryRange::parse(std::string_view text, std::string_view key) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() < 5 || text[0] != 'c' ||
      text[dot + 1] != 'c')
    badValue(key, text, "expected cLOW.cHIGH, for example c0.c1023");
  auto low = parseU32(text.substr(1, dot - 1));
  auto high = parseU32(text.substr(dot + 2));
  if (!low || !high) badValue(key, text, "expected cLOW.cHIGH, for example c0.c1023");
  if (*low >= *high) badValue(key, text, "needs at least two categories, LOW < HIGH");
  if (*high > 1023) badValue(key, text, "categories go up to c1023");
  return CategoryRange{*low, *high};
}

std::string CategoryRange::format() const {
  return "c" + std::to_string(low) + ".c" + std::to_string(high);
}

Config Config::defaults(bool hostSelinuxEnabled) {
  Config config;
  if (hostSelinuxEnabled) config.securityDrivers.push_back(kSelinuxModel);
  config.securityDrivers.push_back(kDacModel);
  return config;
}

Config Config::parse(std::string_view text, const std::string& source,
                     bool hostSelinuxEnabled) {
  Config config = defaults(hostSelinuxEnabled);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw Error::invalidInput(source + ": line " + std::to_string(begin.line) + ": " +
                              std::string(e.description()));
  }
  try {
    for (auto&& [k, node] : root) {
      std::string key(k.str());
      if (key == "security_driver") {
        auto drivers = requireStringArray(node, key);
        std::set<std::string> seen;
        for (auto& d : drivers) {
          if (!isKnownSecurityModel(d))
            badValue(key, d, "unknown security driver (known: selinux, dac, none)");
          if (!seen.insert(d).second) badValue(key, d, "listed twice");
        }
        if (drivers.empty()) badValue(key, "[]", "list at least one driver (\"none\" for none)");
        if (drivers.size() > 1 && seen.count(kNoneModel))
          badValue(key, "none", "\"none\" cannot be stacked with other drivers");
        config.securityDrivers = drivers;
        config.securityDriversExplicit = true;
      } else if (key == "fdpass") {
        std::string value = requireString(node, key);
        if (value == "auto") config.fdpass = FdpassMode::Auto;
        else if (value == "always") config.fdpass = FdpassMode::Always;
        else if (value == "never") config.fdpass = FdpassMode::Never;
        else badValue(key, value, "expected \"auto\", \"always\" or \"never\"");
      } else if (key == "dac") {
        applyDac(requireTable(node, key), config.dac);
      } else if (key == "selinux") {
        applySelinux(requireTable(node, key), config.selinux);
      } else if (key == "audit") {
        applyAudit(requireTable(node, key), config.audit);
      } else if (key == "broker") {
        applyBroker(requireTable(node, key), config.broker);
      } else if (key == "process") {
        applyProcess(requireTable(node, key), config.process);
      } else if (key == "store") {
        applyStore(requireTable(node, key), config.store);
      } else if (key == "network") {
        applyNetwork(requireTable(node, key), config.network);
      } else if (key == "cgroup") {
        applyCgroup(requireTable(node, key), config.cgroup);
      } else {
        throw Error::invalidInput(key + ": unknown key");
      }
    }
  } catch (const Error& e) {
    throw e.withContext(source);
  }
  return config;
}

Config Config::load(const std::string& path, bool mayBeMissing,
                    bool hostSelinuxEnabled) {
  // The config decides which groups a guest gets and where audit records
  // go: only root (or the caller) may be able to change it, as sudo and sshd
  // require of theirs. Read through the bounded reader: a FIFO or /dev/zero
  // named as the config is refused, not read forever.
  std::string text;
  try {
    text = readRegularFile(path, {"config", kMaxConfigSize, FileTrust::RootOrCaller});
  } catch (const Error& e) {
    if (mayBeMissing && e.errnum() == ENOENT) return defaults(hostSelinuxEnabled);
    throw;
  }
  return parse(text, path, hostSelinuxEnabled);
}

}  // namespace seclabel
