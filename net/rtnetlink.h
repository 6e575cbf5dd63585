// The link operations net/ needs, over raw rtnetlink (netlink_socket.h):
// no `ip`, no libnl. Each call is one request, its acknowledgement checked.
//
// Errors name the interface and carry the kernel's errno; a link that does
// not exist is ENODEV (find* return nullopt for it instead).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/interface_name.h"
#include "net/netlink_socket.h"

namespace seclabel {

// macvtap/macvlan modes: xml/'s MacvtapMode (IFLA_MACVLAN_MODE values in
// rtnetlink.cc).

// What the kernel says about one link (RTM_GETLINK).
struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string kind;                    // IFLA_INFO_KIND: "tun", "macvtap", "bridge", "" for none
  std::optional<int> masterIndex;      // the bridge it is a port of
  std::optional<int> parentIndex;      // IFLA_LINK: a macvtap's lower device
  std::optional<MacAddress::Bytes> address;
  unsigned flags = 0;                  // IFF_UP, ...
  std::uint32_t mtu = 0;
  std::string alias;                   // IFLA_IFALIAS, "" when unset
  // kind "tun" (IFLA_TUN_*): owner and group when set, tap or tun, flags.
  std::optional<uid_t> tunOwner;
  std::optional<gid_t> tunGroup;
  bool tunIsTap = false;
  bool tunMultiQueue = false;
  bool tunPersistent = false;
  // kind "macvtap"/"macvlan": IFLA_MACVLAN_MODE.
  std::optional<MacvtapMode> macvtapMode;
};

// What createMacvtap asks for.
struct MacvtapSpec {
  // A name, or a template with one %d the kernel fills ("macvtap%d").
  std::string nameOrTemplate;
  int parentIndex = 0;
  MacvtapMode mode = MacvtapMode::Bridge;
  MacAddress address = MacAddress::parse("52:54:00:00:00:01");
  std::string alias;  // IFLA_IFALIAS ("" for none), set right after creation
};

class Rtnetlink {
 public:
  static Rtnetlink open();

  // The link, or nullopt when no link has that name / index.
  std::optional<LinkInfo> findLink(const InterfaceName& name);
  std::optional<LinkInfo> findLink(int ifindex);
  // Every link of this network namespace.
  std::vector<LinkInfo> listLinks();

  // Each throws Error naming the link ("cannot set up vnet0: ...").
  void setUp(const LinkInfo& link);
  void setAddress(const LinkInfo& link, const MacAddress& address);
  void setMtu(const LinkInfo& link, std::uint32_t mtu);
  void setMaster(const LinkInfo& link, const LinkInfo& bridge);
  void setAlias(const LinkInfo& link, const std::string& alias);

  // RTM_NEWLINK kind "macvtap" on the parent, in one request with its mode
  // and MAC address; the kernel's echo tells which link it made. The alias
  // follows in a second request (the kernel ignores IFLA_IFALIAS when it
  // creates a link); if that fails the link is deleted again.
  // Throws Error (EEXIST for a name in use, ...).
  LinkInfo createMacvtap(const MacvtapSpec& spec);

  // RTM_DELLINK of `ifindex`. False when it no longer exists (ENODEV).
  bool deleteLink(int ifindex, const std::string& nameForErrors);

 private:
  explicit Rtnetlink(netlink::Socket socket) : socket_(std::move(socket)) {}
  std::optional<LinkInfo> getLink(int ifindex, const std::string* name, const std::string& what);
  netlink::Socket socket_;
};

// Decodes one RTM_NEWLINK message (a reply to GETLINK or an echo).
LinkInfo decodeLinkMessage(const netlink::Reply& message);

}  // namespace seclabel
