#include "net/bridge_acl.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "net/bounded_file.h"

namespace seclabel {
namespace {

// isspace() in the C locale, as the helper tests bytes.
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 80)) {
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > 80) out += "...";
  return out;
}

[[noreturn]] void badLine(const std::string& file, std::size_t line, const std::string& why) {
  throw Error::invalidInput("bridge ACL " + file + ":" + std::to_string(line) + ": " + why);
}

}  // namespace

BridgeAcl BridgeAcl::load(const std::string& path) {
  BridgeAcl acl;
  acl.source_ = path;
  std::optional<std::string> text = readAdminFile(path, kMaxFileSize);
  if (!text) return acl;  // no file: nothing allowed
  acl.fileExists_ = true;
  std::vector<std::string> chain{path};
  acl.parseFile(*text, path, chain);
  return acl;
}

BridgeAcl BridgeAcl::parse(std::string_view text, const std::string& source) {
  BridgeAcl acl;
  acl.source_ = source;
  acl.fileExists_ = true;
  std::vector<std::string> chain{source};
  acl.parseFile(text, source, chain);
  return acl;
}

void BridgeAcl::parseFile(std::string_view text, const std::string& file,
                          std::vector<std::string>& includeChain) {
  if (text.find('\0') != std::string_view::npos)
    throw Error::invalidInput("bridge ACL " + file + ": contains a NUL byte");
  std::size_t lineNumber = 0;
  while (!text.empty()) {
    ++lineNumber;
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    // The helper's fgets would split a longer line into two.
    if (line.size() > kMaxLineLength)
      badLine(file, lineNumber, "line longer than " + std::to_string(kMaxLineLength) + " bytes");

    std::size_t start = 0;
    while (start < line.size() && isSpace(line[start])) ++start;
    line.remove_prefix(start);
    if (line.empty() || line.front() == '#') continue;

    // The helper's split, byte for byte: the keyword ends at the first
    // space of the line, or, when there is none, at the first tab.
    std::size_t split = line.find(' ');
    if (split == std::string_view::npos) split = line.find('\t');
    if (split == std::string_view::npos)
      badLine(file, lineNumber, "'" + printable(line) + "' has no argument");
    std::string_view keyword = line.substr(0, split);
    std::string_view argument = line.substr(split + 1);
    while (!argument.empty() && isSpace(argument.front())) argument.remove_prefix(1);
    while (!argument.empty() && isSpace(argument.back())) argument.remove_suffix(1);

    if (keyword == "allow" || keyword == "deny") {
      bool allow = keyword == "allow";
      if (argument == "all") {
        rules_.push_back({allow ? RuleKind::AllowAll : RuleKind::DenyAll, {}});
        continue;
      }
      if (argument.size() > InterfaceName::kMaxLength)
        badLine(file, lineNumber, "name '" + printable(argument) + "' is longer than 15 bytes");
      // The helper keeps a rule for a name no interface can have (it never
      // matches); a "deny" that never matches is a silent hole, so refuse.
      if (!InterfaceName::isValid(argument))
        badLine(file, lineNumber, "'" + printable(argument) + "' is not an interface name");
      rules_.push_back({allow ? RuleKind::Allow : RuleKind::Deny, std::string(argument)});
    } else if (keyword == "include") {
      std::string path(argument);
      if (path.empty() || path.front() != '/')
        badLine(file, lineNumber, "include needs an absolute path, not '" + printable(path) + "'");
      if (static_cast<int>(includeChain.size()) > kMaxIncludeDepth)
        badLine(file, lineNumber, "includes nested deeper than " +
                                      std::to_string(kMaxIncludeDepth) + " files");
      if (std::find(includeChain.begin(), includeChain.end(), path) != includeChain.end())
        badLine(file, lineNumber, "include loop: " + printable(path) + " includes itself");
      std::optional<std::string> included;
      try {
        included = readAdminFile(path, kMaxFileSize);
      } catch (const Error& e) {
        badLine(file, lineNumber, e.what());
      }
      // As the helper: an include that does not exist is skipped.
      if (!included) continue;
      includeChain.push_back(path);
      parseFile(*included, path, includeChain);
      includeChain.pop_back();
    } else {
      badLine(file, lineNumber, "unknown keyword '" + printable(keyword) +
                                    "' (allow, deny, include)");
    }
  }
}

BridgeAclVerdict BridgeAcl::decide(const InterfaceName& bridge) const {
  if (!fileExists_) return BridgeAclVerdict::NoAclFile;
  bool allowed = false, denied = false;
  for (const Rule& rule : rules_) {
    switch (rule.kind) {
      case RuleKind::AllowAll: allowed = true; break;
      case RuleKind::Allow: allowed |= rule.name == bridge.str(); break;
      case RuleKind::DenyAll: denied = true; break;
      case RuleKind::Deny: denied |= rule.name == bridge.str(); break;
    }
  }
  if (denied) return BridgeAclVerdict::Denied;
  return allowed ? BridgeAclVerdict::Allowed : BridgeAclVerdict::NotAllowed;
}

void BridgeAcl::requireAllowed(const InterfaceName& bridge) const {
  switch (decide(bridge)) {
    case BridgeAclVerdict::Allowed: return;
    case BridgeAclVerdict::NotAllowed:
      throw Error(ExitCode::PermissionDenied,
                  "bridge " + bridge.str() + " is not allowed by " + source_ + " (no allow rule)");
    case BridgeAclVerdict::Denied:
      throw Error(ExitCode::PermissionDenied,
                  "bridge " + bridge.str() + " is denied by " + source_);
    case BridgeAclVerdict::NoAclFile:
      throw Error(ExitCode::PermissionDenied, "bridge " + bridge.str() + " is not allowed: " +
                                                  source_ + " does not exist");
  }
}

void requireDirectDeviceAllowed(const std::vector<std::string>& directDevices,
                                const InterfaceName& parent) {
  if (std::find(directDevices.begin(), directDevices.end(), parent.str()) != directDevices.end())
    return;
  throw Error(ExitCode::PermissionDenied,
              "direct device " + parent.str() +
                  " is not listed in [network] direct_devices of the configuration");
}

}  // namespace seclabel
