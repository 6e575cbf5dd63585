#include "core/config.h"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

#include "core/error.h"

namespace seclabel {
namespace {

[[noreturn]] void badValue(std::string_view key, std::string_view value,
                           std::string_view why) {
  // printableValue: the error stays one line whatever the file holds.
  throw Error::invalidInput(std::string(key) + ": invalid value '" + printableValue(value) +
                            "': " + std::string(why));
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

void applyProcess(const toml::table& table, ProcessConfig& process) {
  for (auto&& [k, node] : table) {
    std::string key = "process." + std::string(k.str());
    if (k == "no_new_privs") {
      process.noNewPrivs = requireBool(node, key);
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
  if (hostSelinuxEnabled) config.securityDrivers.push_back("selinux");
  config.securityDrivers.push_back("dac");
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
          if (d != "selinux" && d != "dac" && d != "none")
            badValue(key, d, "unknown security driver (known: selinux, dac, none)");
          if (!seen.insert(d).second) badValue(key, d, "listed twice");
        }
        if (drivers.empty()) badValue(key, "[]", "list at least one driver (\"none\" for none)");
        if (drivers.size() > 1 && seen.count("none"))
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
      } else if (key == "process") {
        applyProcess(requireTable(node, key), config.process);
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
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    struct stat st;
    if (mayBeMissing && ::stat(path.c_str(), &st) != 0 && errno == ENOENT)
      return defaults(hostSelinuxEnabled);
    throw Error::fromErrno("cannot read config " + path, err, ExitCode::InvalidInput);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20))
    throw Error::invalidInput(path + ": config file larger than 1 MiB");
  return parse(text.str(), path, hostSelinuxEnabled);
}

}  // namespace seclabel
