// Who may put a guest on which bridge: qemu-bridge-helper's ACL file, read
// the way the helper reads it, so an administrator keeps one file and one
// habit (docs/network.md, "Bridge ACL").
//
//   allow NAME | allow all | deny NAME | deny all | include /ABS/FILE
//   # comment lines, blank lines
//
// A bridge is allowed when some rule allows it and no rule denies it (deny
// wins, order does not matter); nothing is allowed without a file.
//
// Where the helper tolerates a malformed file in a way that can only widen
// access (an included file's error drops the rest of that file, a relative
// include follows the working directory, a too-deep include recursion runs
// until fds run out), this parser refuses the whole ACL instead
// (Error InvalidInput, exit 2, naming file and line): seclabel never allows
// a bridge the helper would refuse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/interface_name.h"

namespace seclabel {

enum class BridgeAclVerdict {
  Allowed,
  NotAllowed,  // no rule allows it
  Denied,      // a deny rule matches it
  NoAclFile,   // the ACL file does not exist: nothing is allowed
};

class BridgeAcl {
 public:
  // Include chains deeper than this are refused (the helper has no limit).
  static constexpr int kMaxIncludeDepth = 8;
  // The helper reads lines with a 4096-byte fgets buffer.
  static constexpr std::size_t kMaxLineLength = 4094;
  static constexpr std::size_t kMaxFileSize = 1 << 20;

  // Reads `path` (absolute) and what it includes. A missing file is an ACL
  // that allows nothing; an unsafe or malformed one throws
  // Error(InvalidInput) naming file:line.
  static BridgeAcl load(const std::string& path);
  // `text` as the content of the file `source`; includes are read from disk.
  static BridgeAcl parse(std::string_view text, const std::string& source);

  BridgeAclVerdict decide(const InterfaceName& bridge) const;
  // Throws Error(PermissionDenied, exit 4) unless `bridge` is allowed:
  // "bridge br1 is not allowed by /etc/qemu/bridge.conf (no allow rule)".
  void requireAllowed(const InterfaceName& bridge) const;

  const std::string& source() const { return source_; }

 private:
  enum class RuleKind { Allow, AllowAll, Deny, DenyAll };
  struct Rule {
    RuleKind kind;
    std::string name;
  };
  void parseFile(std::string_view text, const std::string& file,
                 std::vector<std::string>& includeChain);

  std::string source_;
  bool fileExists_ = false;
  std::vector<Rule> rules_;
};

// Macvtap parents an administrator lists in [network] direct_devices.
// Throws Error(PermissionDenied) naming the device when it is not listed.
void requireDirectDeviceAllowed(const std::vector<std::string>& directDevices,
                                const InterfaceName& parent);

}  // namespace seclabel
