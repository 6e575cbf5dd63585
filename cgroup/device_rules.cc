#include "cgroup/device_rules.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "core/error.h"

namespace seclabel {

namespace {

// The kernel's device numbers: 12-bit major, 20-bit minor (MINORBITS).
constexpr uint32_t kMaxMajor = (1u << 12) - 1;
constexpr uint32_t kMaxMinor = (1u << 20) - 1;

bool sameDevice(const DeviceRule& a, const DeviceRule& b) {
  return a.type == b.type && a.major == b.major && a.minor == b.minor;
}

// Adds `rule`, or widens the access of the rule already there for the same
// device, so that each device is allowed (and audited) once.
void addRule(std::vector<DeviceRule>& rules, DeviceRule rule) {
  for (DeviceRule& existing : rules) {
    if (sameDevice(existing, rule)) {
      existing.access = existing.access | rule.access;
      return;
    }
  }
  rules.push_back(std::move(rule));
}

enum class Accept { Block, Char, Either };

void addNode(std::vector<DeviceRule>& rules, const std::string& path, DeviceAccess access,
             Accept accept, const NodeLookup& lookup) {
  std::optional<NodeInfo> node = lookup(path);
  if (!node) return;  // missing: nothing to allow
  const bool block = node->type == S_IFBLK, chr = node->type == S_IFCHR;
  if (block && accept != Accept::Char) {
    addRule(rules, DeviceRule::forNode(path, DeviceType::Block, node->rdev, access));
  } else if (chr && accept != Accept::Block) {
    addRule(rules, DeviceRule::forNode(path, DeviceType::Char, node->rdev, access));
  }
  // Anything else (a file, a socket, a device of the other kind) changes
  // nothing in the ACL.
}

}  // namespace

DeviceAccess DeviceAccess::parse(std::string_view text) {
  auto invalid = [&] {
    return Error::invalidInput("invalid device access '" + printableValue(text) +
                               "': expected r, w and/or m, each once");
  };
  uint8_t bits = 0;
  for (char c : text) {
    const uint8_t bit = c == 'r' ? kRead : c == 'w' ? kWrite : c == 'm' ? kMknod : 0;
    if (bit == 0 || (bits & bit) != 0) throw invalid();
    bits |= bit;
  }
  if (bits == 0) throw invalid();
  return DeviceAccess(bits);
}

std::string DeviceAccess::text() const {
  std::string text;
  if (mayRead()) text += 'r';
  if (mayWrite()) text += 'w';
  if (mayMknod()) text += 'm';
  return text;
}

DeviceRule DeviceRule::forNode(std::string path, DeviceType type, dev_t rdev,
                               DeviceAccess access) {
  // glibc's dev_t has room for 32-bit majors; the kernel's has 12 and 20.
  if (major(rdev) > kMaxMajor || minor(rdev) > kMaxMinor)
    throw Error::invalidInput("device number " + std::to_string(major(rdev)) + ":" +
                              std::to_string(minor(rdev)) + " of " + printableValue(path) +
                              " is outside the kernel's range");
  return DeviceRule{type, static_cast<uint32_t>(major(rdev)), static_cast<uint32_t>(minor(rdev)),
                    access, std::move(path), {}};
}

DeviceRule DeviceRule::forMajor(std::string category, DeviceType type, uint32_t major,
                                DeviceAccess access) {
  if (major > kMaxMajor)
    throw Error::invalidInput("device major " + std::to_string(major) +
                              " is outside the kernel's range (0-4095)");
  bool word = !category.empty() && category.size() <= 32;
  for (char c : category) word = word && c >= 'a' && c <= 'z';
  if (!word)
    throw Error::invalidInput("device category '" + printableValue(category) +
                              "' is not one lower-case word");
  return DeviceRule{type, major, kAnyMinor, access, {}, std::move(category)};
}

std::string DeviceRule::kernelLine() const {
  std::string line = type == DeviceType::Block ? "b " : "c ";
  line += std::to_string(major) + ":";
  line += anyMinor() ? std::string("*") : std::to_string(minor);
  line += " " + access.text();
  return line;
}

std::optional<NodeInfo> statNode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::nullopt;
    throw Error::fromErrno("cannot stat " + printableValue(path) + " for the device ACL", err);
  }
  return NodeInfo{st.st_mode & S_IFMT, st.st_rdev};
}

std::vector<DeviceRule> guestDeviceRules(const GuestDeviceUse& use,
                                         const std::vector<std::string>& defaultAcl,
                                         const NodeLookup& lookup) {
  std::vector<DeviceRule> rules;
  for (const GuestDeviceUse::Disk& disk : use.disks)
    addNode(rules, disk.path, disk.access, Accept::Block, lookup);
  addRule(rules, DeviceRule::forMajor("pty", DeviceType::Char, kPtyMajor, DeviceAccess::readWrite()));
  for (const std::string& path : defaultAcl)
    addNode(rules, path, DeviceAccess::readWrite(), Accept::Either, lookup);
  for (const std::string& path : use.chardevs)
    addNode(rules, path, DeviceAccess::readWrite(), Accept::Char, lookup);
  for (const std::string& path : use.netDevices)
    addNode(rules, path, DeviceAccess::readWrite(), Accept::Char, lookup);
  return rules;
}

}  // namespace seclabel
