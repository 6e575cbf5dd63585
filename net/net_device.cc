#include "net/net_device.h"

#include "core/error.h"
#include "net/macvtap_queues.h"
#include "net/tun_device.h"

namespace seclabel {
namespace {

void checkQueues(const NetInterfaceSpec& spec) {
  if (spec.queues == 0 || spec.queues > kMaxNetQueues)
    throw Error::invalidInput("interface " + spec.mac.format() + ": " +
                              std::to_string(spec.queues) + " queues (1 to " +
                              std::to_string(kMaxNetQueues) + " are possible)");
}

// Writes one reason=open record per attempt, when there is a log.
DeviceOpenObserver auditOpens(const NetContext& context, const MacAddress& mac,
                              std::string path) {
  if (!context.audit) return {};
  return [&context, mac, path = std::move(path)](int fd, bool success) {
    std::optional<dev_t> rdev;
    if (fd >= 0) rdev = auditRdevOf(fd);
    context.audit->write(audit::netDeviceOpen(context.auditGuest, mac.format(), path, rdev,
                                              success ? AuditOutcome::Success
                                                      : AuditOutcome::Failure));
  };
}

std::vector<UniqueFd> openVhost(const NetContext& context, const NetInterfaceSpec& spec) {
  return openVhostNet(context.vhostNetPath, spec.queues, spec.vhost,
                      auditOpens(context, spec.mac, context.vhostNetPath));
}

LinkInfo requireLink(Rtnetlink& rtnetlink, const InterfaceName& name, const std::string& role) {
  std::optional<LinkInfo> link = rtnetlink.findLink(name);
  if (!link) throw Error(ExitCode::Failed, role + " " + name.str() + " does not exist");
  return *link;
}

}  // namespace

std::string linkAliasFor(const std::string& domainUuid, const std::string& interfaceAlias) {
  return "seclabel:" + domainUuid + ":" + interfaceAlias;
}

NetDevice::NetDevice(NetDevice&& other) noexcept
    : kind_(other.kind_),
      origin_(other.origin_),
      rtnetlink_(other.rtnetlink_),
      mac_(other.mac_),
      link_(std::move(other.link_)),
      queueFds_(std::move(other.queueFds_)),
      vhostFds_(std::move(other.vhostFds_)),
      parentIndex_(other.parentIndex_),
      parentAddress_(other.parentAddress_),
      committed_(other.committed_) {
  // The moved-from object must not delete the link at its destruction.
  other.committed_ = true;
  other.queueFds_.clear();
  other.vhostFds_.clear();
}

NetDevice::~NetDevice() {
  // Delete first, while our fds keep the link (and its ifindex) ours; a tap
  // would vanish with its last fd anyway, a macvtap would not.
  if (origin_ == LinkOrigin::Created && !committed_ && link_.ifindex > 0 && rtnetlink_) {
    try {
      if (auto created = createdLink()) deleteCreatedLink(*rtnetlink_, *created);
    } catch (...) {
      // A destructor cannot report; recover deletes the tagged link later.
    }
  }
  closeFds();
}

void NetDevice::closeFds() noexcept {
  queueFds_.clear();
  vhostFds_.clear();
}

std::optional<CreatedLink> NetDevice::createdLink() const {
  if (origin_ != LinkOrigin::Created) return std::nullopt;
  return CreatedLink{link_.ifindex, link_.name,    link_.kind,
                     link_.alias,   parentIndex_, parentAddress_};
}

NetDevice NetDevice::createTapDevice(NetContext& context, const NetInterfaceSpec& spec, Kind kind,
                               const LinkInfo* bridge) {
  Rtnetlink& rtnetlink = *context.rtnetlink;
  NetDevice device(kind, LinkOrigin::Created, &rtnetlink, spec.mac);
  device.vhostFds_ = openVhost(context, spec);

  TunCreateSpec tun;
  tun.tunPath = context.tunPath;
  tun.nameOrTemplate = spec.name ? spec.name->str() : "vnet%d";
  tun.queues = spec.queues;
  tun.owner = context.uid;
  tun.group = context.gid;
  std::vector<TunQueue> queues = createTap(tun, auditOpens(context, spec.mac, context.tunPath));
  std::string name = queues.front().name;
  for (TunQueue& queue : queues) device.queueFds_.push_back(std::move(queue.fd));

  // From here the device is the tap's owner: any failure deletes it.
  std::optional<LinkInfo> link = rtnetlink.findLink(InterfaceName::parse(name, "tap"));
  if (!link || link->kind != "tun")
    throw Error(ExitCode::Failed, "tap " + name + " vanished right after its creation");
  device.link_ = *link;
  if (!spec.linkAlias.empty()) rtnetlink.setAlias(device.link_, spec.linkAlias);
  rtnetlink.setAddress(device.link_, tapHostSideAddress(spec.mac));
  if (bridge) {
    // As qemu-bridge-helper and libvirt: the port takes the bridge's MTU, so
    // the bridge's own MTU never drops when a guest joins.
    if (bridge->mtu != 0 && bridge->mtu != device.link_.mtu)
      rtnetlink.setMtu(device.link_, bridge->mtu);
    rtnetlink.setMaster(device.link_, *bridge);
  }
  rtnetlink.setUp(device.link_);
  if (auto updated = rtnetlink.findLink(device.link_.ifindex)) device.link_ = *updated;
  return device;
}

NetDevice NetDevice::createBridgeTap(NetContext& context, const NetInterfaceSpec& spec,
                                     const InterfaceName& bridge, const BridgeAcl& acl) {
  acl.requireAllowed(bridge);
  checkQueues(spec);
  LinkInfo bridgeLink = requireLink(*context.rtnetlink, bridge, "bridge");
  if (bridgeLink.kind != "bridge")
    throw Error::invalidInput("interface " + bridge.str() + " is not a bridge (kind '" +
                              bridgeLink.kind + "')");
  return createTapDevice(context, spec, Kind::BridgeTap, &bridgeLink);
}

NetDevice NetDevice::createEthernetTap(NetContext& context, const NetInterfaceSpec& spec) {
  checkQueues(spec);
  return createTapDevice(context, spec, Kind::EthernetTap, nullptr);
}

NetDevice NetDevice::attachExistingTap(NetContext& context, const NetInterfaceSpec& spec) {
  checkQueues(spec);
  if (!spec.name) throw Error::invalidInput("an existing tap (managed='no') needs <target dev>");
  Rtnetlink& rtnetlink = *context.rtnetlink;
  LinkInfo link = requireLink(rtnetlink, *spec.name, "tap");
  auto checkOwner = [&](const LinkInfo& current) {
    if (current.kind != "tun" || !current.tunIsTap)
      throw Error::invalidInput("interface " + spec.name->str() + " is not a tap device");
    // A tap whose owner is another uid was given to someone else; handing
    // it to this guest would let the two read each other's traffic.
    if (current.tunOwner && *current.tunOwner != context.uid)
      throw Error(ExitCode::PermissionDenied,
                  "tap " + spec.name->str() + " belongs to uid " +
                      std::to_string(*current.tunOwner) + ", not to the guest's uid " +
                      std::to_string(context.uid));
  };
  checkOwner(link);
  if (spec.queues > 1 && !link.tunMultiQueue)
    throw Error::invalidInput("tap " + spec.name->str() + " is not a multi-queue tap, " +
                              std::to_string(spec.queues) + " queues were asked for");

  NetDevice device(Kind::ExistingTap, LinkOrigin::Existing, &rtnetlink, spec.mac);
  device.vhostFds_ = openVhost(context, spec);
  std::vector<TunQueue> queues =
      attachTap(context.tunPath, *spec.name, spec.queues, link.tunMultiQueue,
                auditOpens(context, spec.mac, context.tunPath));
  for (TunQueue& queue : queues) device.queueFds_.push_back(std::move(queue.fd));
  // Checked again now that we hold it: the tap may have been replaced by
  // another of the same name between the check and the attach.
  std::optional<LinkInfo> now = rtnetlink.findLink(*spec.name);
  if (!now || now->ifindex != link.ifindex)
    throw Error(ExitCode::Failed, "tap " + spec.name->str() + " was replaced while attaching");
  checkOwner(*now);
  device.link_ = *now;
  return device;
}

NetDevice NetDevice::createMacvtap(NetContext& context, const NetInterfaceSpec& spec,
                                   const InterfaceName& parent, MacvtapMode mode,
                                   const std::vector<std::string>& directDevices) {
  requireDirectDeviceAllowed(directDevices, parent);
  checkQueues(spec);
  Rtnetlink& rtnetlink = *context.rtnetlink;
  LinkInfo parentLink = requireLink(rtnetlink, parent, "direct device");

  NetDevice device(Kind::Macvtap, LinkOrigin::Created, &rtnetlink, spec.mac);
  device.vhostFds_ = openVhost(context, spec);
  MacvtapSpec macvtap;
  macvtap.nameOrTemplate = spec.name ? spec.name->str() : "macvtap%d";
  macvtap.parentIndex = parentLink.ifindex;
  macvtap.mode = mode;
  macvtap.address = spec.mac;
  macvtap.alias = spec.linkAlias;
  if (mode == MacvtapMode::Passthrough && parentLink.address) {
    device.parentIndex_ = parentLink.ifindex;
    device.parentAddress_ = parentLink.address;
  }
  device.link_ = rtnetlink.createMacvtap(macvtap);
  // From here the device owns the link: any failure deletes it.
  if (mode == MacvtapMode::Passthrough) {
    // The kernel gives a passthrough macvtap its parent's address and
    // ignores the one asked for; setting it sets the parent's.
    rtnetlink.setAddress(device.link_, spec.mac);
  }
  rtnetlink.setUp(device.link_);

  MacvtapQueueSpec queues;
  queues.sysClassNet = context.sysClassNet;
  queues.devDir = context.devDir;
  queues.queues = spec.queues;
  queues.owner = context.uid;
  queues.group = context.gid;
  queues.imageLabel = context.imageLabel;
  device.queueFds_ =
      openMacvtapQueues(device.link_, queues, context.selinux,
                        auditOpens(context, spec.mac, macvtapDevicePath("/dev", device.link_)));
  if (auto updated = rtnetlink.findLink(device.link_.ifindex)) device.link_ = *updated;
  return device;
}

LinkRemoval deleteCreatedLink(Rtnetlink& rtnetlink, const CreatedLink& link) {
  std::optional<LinkInfo> current = rtnetlink.findLink(link.ifindex);
  if (current && (current->name != link.name || current->kind != link.kind ||
                  current->alias != link.alias))
    return LinkRemoval::NotOurs;
  bool deleted = current && rtnetlink.deleteLink(link.ifindex, link.name);
  if (link.parentIndex && link.parentAddress) {
    // The parent may have been given another address since; the one it
    // had before the macvtap is what it must end with.
    std::optional<LinkInfo> parent = rtnetlink.findLink(*link.parentIndex);
    if (parent && parent->address != link.parentAddress)
      rtnetlink.setAddress(*parent, MacAddress::fromBytes(*link.parentAddress));
  }
  return deleted ? LinkRemoval::Deleted : LinkRemoval::AlreadyGone;
}

std::vector<LinkInfo> findLinksByAlias(Rtnetlink& rtnetlink, const std::string& alias) {
  std::vector<LinkInfo> found;
  if (alias.empty()) return found;
  for (LinkInfo& link : rtnetlink.listLinks())
    if (link.alias == alias) found.push_back(std::move(link));
  return found;
}

}  // namespace seclabel
