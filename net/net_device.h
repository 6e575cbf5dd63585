// One guest interface's devices, opened by the privileged launcher before it
// drops privileges, to be handed to QEMU as fds (docs/network.md):
//
//   bridge    a tap from /dev/net/tun, owned by the guest's uid:gid, host
//             MAC fe:.., the bridge's MTU, attached to the bridge, up;
//             the bridge must be allowed by the bridge ACL.
//   ethernet  the same tap without a bridge; or (managed='no') an existing
//             tap attached by name, refused when it belongs to another uid.
//   direct    a macvtap on a parent listed in [network] direct_devices, in
//             the requested mode, its /dev/tapN opened per queue, chowned
//             and labeled for the guest.
//   vhost     /dev/vhost-net per queue, when requested or present.
//
// Every fd is O_CLOEXEC; the caller makes the ones QEMU gets inheritable.
// Every open attempt is audited (resrc=net reason=open ... rdev= of the fd)
// when an audit log is given. A NetDevice deletes the link it created when
// it is destroyed uncommitted, so a failure anywhere leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "core/unique_fd.h"
#include "net/bridge_acl.h"
#include "net/interface_name.h"
#include "net/rtnetlink.h"
#include "net/vhost_net.h"

namespace seclabel {

class SelinuxHost;

// The most queues one interface may have (libvirt's and QEMU's limit).
inline constexpr unsigned kMaxNetQueues = 256;

// Where the devices come from, and who they are for. Everything referred to
// must outlive the NetDevices made with it.
struct NetContext {
  Rtnetlink* rtnetlink = nullptr;  // required
  // Labels a macvtap's device node with `imageLabel`; nullptr: no labels.
  SelinuxHost* selinux = nullptr;
  // The guest: its DAC identity and SELinux image label (nullopt when no
  // selinux driver labels it).
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<std::string> imageLabel;
  // Audit records of every open; nullptr: none written.
  AuditLog* audit = nullptr;
  AuditGuest auditGuest;
  // The host's nodes; tests may point them elsewhere.
  std::string tunPath = "/dev/net/tun";
  std::string vhostNetPath = "/dev/vhost-net";
  std::string devDir = "/dev";
  std::string sysClassNet = "/sys/class/net";
};

// What the domain says of the interface.
struct NetInterfaceSpec {
  MacAddress mac = MacAddress::parse("52:54:00:00:00:01");
  // <target dev>: the link's name. Absent: the kernel picks vnet%d / macvtap%d.
  // Required for an existing tap.
  std::optional<InterfaceName> name;
  unsigned queues = 1;  // 1..kMaxNetQueues
  VhostRequest vhost = VhostRequest::Auto;
  // IFLA_IFALIAS put on a link seclabel creates ("" for none): a tag such as
  // linkAliasFor(uuid, "net0") lets recover find links whose name it never
  // learned.
  std::string linkAlias;
};

// "seclabel:UUID:ALIAS", the tag recover looks for.
std::string linkAliasFor(const std::string& domainUuid, const std::string& interfaceAlias);

// What seclabel created, to record before stop/recover may delete it.
struct CreatedLink {
  int ifindex = 0;
  std::string name;
  std::string kind;   // "tun" or "macvtap"
  std::string alias;  // the tag, "" if none
  // A passthrough macvtap hands the guest's MAC to its parent (the kernel
  // sets the lower device's address); the parent's own address is put
  // back when the macvtap is deleted.
  std::optional<int> parentIndex;
  std::optional<MacAddress::Bytes> parentAddress;
};

enum class LinkOrigin {
  Created,   // seclabel made it and deletes it
  Existing,  // managed='no': seclabel only attached to it
};

class NetDevice {
 public:
  enum class Kind { BridgeTap, EthernetTap, ExistingTap, Macvtap };

  // type='bridge'. The ACL is checked first: refused (Error
  // PermissionDenied, exit 4) before anything is opened or created.
  // The bridge must exist and be a bridge.
  static NetDevice createBridgeTap(NetContext& context, const NetInterfaceSpec& spec,
                                   const InterfaceName& bridge, const BridgeAcl& acl);
  // type='ethernet' with a tap seclabel creates (no bridge).
  static NetDevice createEthernetTap(NetContext& context, const NetInterfaceSpec& spec);
  // type='ethernet' managed='no': `spec.name` must be an existing tap whose
  // owner, if set, is the guest's uid (else PermissionDenied, exit 4). Its
  // address, state and bridge are left as they are; it is never deleted.
  static NetDevice attachExistingTap(NetContext& context, const NetInterfaceSpec& spec);
  // type='direct'. `parent` must be listed in `directDevices` (else
  // PermissionDenied, exit 4, nothing created). The macvtap takes the
  // guest's MAC (its frames leave through the parent with it); in
  // passthrough mode that is the parent's MAC, as libvirt sets it, and the
  // parent's own MAC comes back when the macvtap is deleted.
  static NetDevice createMacvtap(NetContext& context, const NetInterfaceSpec& spec,
                                 const InterfaceName& parent, MacvtapMode mode,
                                 const std::vector<std::string>& directDevices);

  NetDevice(NetDevice&&) noexcept;
  NetDevice& operator=(NetDevice&&) = delete;
  NetDevice(const NetDevice&) = delete;
  // Closes the fds still held; deletes the link if seclabel created it and
  // it was not committed. Never throws.
  ~NetDevice();

  Kind kind() const { return kind_; }
  LinkOrigin origin() const { return origin_; }
  // The link as the kernel described it once set up.
  const LinkInfo& link() const { return link_; }
  const MacAddress& mac() const { return mac_; }
  // One fd per queue: the tap or macvtap queues, and vhost-net (empty when
  // vhost is not used).
  std::span<const UniqueFd> queueFds() const { return queueFds_; }
  std::span<const UniqueFd> vhostFds() const { return vhostFds_; }
  std::optional<CreatedLink> createdLink() const;

  // The guest has the devices now (QEMU was exec'd or spawned with the fds):
  // the destructor no longer deletes the link. The caller deletes it at stop
  // (deleteCreatedLink).
  void commit() noexcept { committed_ = true; }
  // Closes this process's copies of the fds (after QEMU inherited them; a
  // tap lives while any queue fd is open anywhere).
  void closeFds() noexcept;

 private:
  NetDevice(Kind kind, LinkOrigin origin, Rtnetlink* rtnetlink, MacAddress mac)
      : kind_(kind), origin_(origin), rtnetlink_(rtnetlink), mac_(mac) {}
  static NetDevice createTapDevice(NetContext& context, const NetInterfaceSpec& spec, Kind kind,
                                   const LinkInfo* bridge);

  Kind kind_;
  LinkOrigin origin_;
  Rtnetlink* rtnetlink_;
  MacAddress mac_;
  LinkInfo link_;
  std::vector<UniqueFd> queueFds_;
  std::vector<UniqueFd> vhostFds_;
  std::optional<int> parentIndex_;                  // passthrough only
  std::optional<MacAddress::Bytes> parentAddress_;  // passthrough only
  bool committed_ = false;
};

enum class LinkRemoval {
  Deleted,
  AlreadyGone,  // no link with that index (a tap goes with QEMU's last fd)
  NotOurs,      // the index is now another link (different name, kind or tag): left alone
};

// Deletes `link` when the link at its ifindex still has its name, kind and
// tag, then puts back a passthrough parent's address. Throws Error when the
// kernel refuses.
LinkRemoval deleteCreatedLink(Rtnetlink& rtnetlink, const CreatedLink& link);

// Links carrying the tag `alias` (for recover, when the intent holds only
// the tag).
std::vector<LinkInfo> findLinksByAlias(Rtnetlink& rtnetlink, const std::string& alias);

}  // namespace seclabel
