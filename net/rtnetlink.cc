#include "net/rtnetlink.h"

#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace seclabel {
namespace {

std::uint32_t macvlanModeValue(MacvtapMode mode) {
  switch (mode) {
    case MacvtapMode::Bridge: return MACVLAN_MODE_BRIDGE;
    case MacvtapMode::Vepa: return MACVLAN_MODE_VEPA;
    case MacvtapMode::Private: return MACVLAN_MODE_PRIVATE;
    case MacvtapMode::Passthrough: return MACVLAN_MODE_PASSTHRU;
  }
  return MACVLAN_MODE_BRIDGE;
}

std::optional<MacvtapMode> macvtapModeFrom(std::uint32_t value) {
  switch (value) {
    case MACVLAN_MODE_BRIDGE: return MacvtapMode::Bridge;
    case MACVLAN_MODE_VEPA: return MacvtapMode::Vepa;
    case MACVLAN_MODE_PRIVATE: return MacvtapMode::Private;
    case MACVLAN_MODE_PASSTHRU: return MacvtapMode::Passthrough;
    default: return std::nullopt;
  }
}

// An RTM_NEWLINK that changes attributes of the existing link `ifindex`.
netlink::Request changeLink(int ifindex) {
  netlink::Request request(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  request.putHeader(info);
  return request;
}

}  // namespace

LinkInfo decodeLinkMessage(const netlink::Reply& message) {
  if (message.size() < NLMSG_HDRLEN + sizeof(ifinfomsg))
    throw Error(ExitCode::Failed, "short RTM_NEWLINK message from the kernel");
  nlmsghdr header;
  std::memcpy(&header, message.data(), sizeof header);
  if (header.nlmsg_type != RTM_NEWLINK)
    throw Error(ExitCode::Failed, "unexpected netlink message type " +
                                      std::to_string(header.nlmsg_type) + " for a link");
  ifinfomsg info;
  std::memcpy(&info, message.data() + NLMSG_HDRLEN, sizeof info);
  std::span<const std::uint8_t> rest(message);
  auto attributes =
      netlink::Attributes::parse(rest.subspan(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof info)));

  LinkInfo link;
  link.ifindex = info.ifi_index;
  link.flags = info.ifi_flags;
  link.name = attributes.string(IFLA_IFNAME).value_or("");
  link.mtu = attributes.u32(IFLA_MTU).value_or(0);
  link.alias = attributes.string(IFLA_IFALIAS).value_or("");
  if (auto master = attributes.u32(IFLA_MASTER)) link.masterIndex = static_cast<int>(*master);
  if (auto parent = attributes.u32(IFLA_LINK)) link.parentIndex = static_cast<int>(*parent);
  if (auto address = attributes.get(IFLA_ADDRESS); address && address->size() == 6) {
    MacAddress::Bytes bytes;
    std::memcpy(bytes.data(), address->data(), 6);
    link.address = bytes;
  }
  netlink::Attributes linkInfo = attributes.nested(IFLA_LINKINFO);
  link.kind = linkInfo.string(IFLA_INFO_KIND).value_or("");
  netlink::Attributes data = linkInfo.nested(IFLA_INFO_DATA);
  if (link.kind == "tun") {
    // The tun driver reports an owner or group only when one is set.
    if (auto owner = data.u32(IFLA_TUN_OWNER)) link.tunOwner = *owner;
    if (auto group = data.u32(IFLA_TUN_GROUP)) link.tunGroup = *group;
    link.tunIsTap = data.u8(IFLA_TUN_TYPE).value_or(0) == IFF_TAP;
    link.tunMultiQueue = data.u8(IFLA_TUN_MULTI_QUEUE).value_or(0) != 0;
    link.tunPersistent = data.u8(IFLA_TUN_PERSIST).value_or(0) != 0;
  } else if (link.kind == "macvtap" || link.kind == "macvlan") {
    if (auto mode = data.u32(IFLA_MACVLAN_MODE)) link.macvtapMode = macvtapModeFrom(*mode);
  }
  return link;
}

Rtnetlink Rtnetlink::open() { return Rtnetlink(netlink::Socket::openRoute()); }

std::optional<LinkInfo> Rtnetlink::getLink(int ifindex, const std::string* name,
                                           const std::string& what) {
  netlink::Request request(RTM_GETLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  request.putHeader(info);
  if (name) request.putString(IFLA_IFNAME, *name);
  std::vector<netlink::Reply> replies;
  try {
    replies = socket_.transact(request, what);
  } catch (const Error& e) {
    if (e.errnum() == ENODEV) return std::nullopt;
    throw;
  }
  if (replies.size() != 1)
    throw Error(ExitCode::Failed, what + ": expected one link in the kernel's reply, got " +
                                      std::to_string(replies.size()));
  return decodeLinkMessage(replies.front());
}

std::optional<LinkInfo> Rtnetlink::findLink(const InterfaceName& name) {
  return getLink(0, &name.str(), "cannot look up interface " + name.str());
}

std::optional<LinkInfo> Rtnetlink::findLink(int ifindex) {
  if (ifindex <= 0) return std::nullopt;
  return getLink(ifindex, nullptr, "cannot look up interface #" + std::to_string(ifindex));
}

std::vector<LinkInfo> Rtnetlink::listLinks() {
  netlink::Request request(RTM_GETLINK, NLM_F_DUMP);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  request.putHeader(info);
  std::vector<LinkInfo> links;
  for (const netlink::Reply& reply : socket_.transact(request, "cannot list interfaces"))
    links.push_back(decodeLinkMessage(reply));
  return links;
}

void Rtnetlink::setUp(const LinkInfo& link) {
  netlink::Request request(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = link.ifindex;
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  request.putHeader(info);
  socket_.transact(request, "cannot set " + link.name + " up");
}

void Rtnetlink::setAddress(const LinkInfo& link, const MacAddress& address) {
  netlink::Request request = changeLink(link.ifindex);
  request.putBytes(IFLA_ADDRESS, address.bytes());
  socket_.transact(request, "cannot set the MAC address of " + link.name + " to " +
                                address.format());
}

void Rtnetlink::setMtu(const LinkInfo& link, std::uint32_t mtu) {
  netlink::Request request = changeLink(link.ifindex);
  request.putU32(IFLA_MTU, mtu);
  socket_.transact(request, "cannot set the MTU of " + link.name + " to " + std::to_string(mtu));
}

void Rtnetlink::setMaster(const LinkInfo& link, const LinkInfo& bridge) {
  netlink::Request request = changeLink(link.ifindex);
  request.putU32(IFLA_MASTER, static_cast<std::uint32_t>(bridge.ifindex));
  socket_.transact(request, "cannot attach " + link.name + " to bridge " + bridge.name);
}

void Rtnetlink::setAlias(const LinkInfo& link, const std::string& alias) {
  netlink::Request request = changeLink(link.ifindex);
  request.putString(IFLA_IFALIAS, alias);
  socket_.transact(request, "cannot set the alias of " + link.name);
}

LinkInfo Rtnetlink::createMacvtap(const MacvtapSpec& spec) {
  netlink::Request request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  request.putHeader(info);
  request.putString(IFLA_IFNAME, spec.nameOrTemplate);
  request.putU32(IFLA_LINK, static_cast<std::uint32_t>(spec.parentIndex));
  request.putBytes(IFLA_ADDRESS, spec.address.bytes());
  std::size_t linkInfo = request.beginNested(IFLA_LINKINFO);
  request.putString(IFLA_INFO_KIND, "macvtap");
  std::size_t data = request.beginNested(IFLA_INFO_DATA);
  request.putU32(IFLA_MACVLAN_MODE, macvlanModeValue(spec.mode));
  request.endNested(data);
  request.endNested(linkInfo);
  std::string what = "cannot create macvtap " + spec.nameOrTemplate + " on interface #" +
                     std::to_string(spec.parentIndex) + " in mode " + toString(spec.mode);
  std::vector<netlink::Reply> replies = socket_.transact(request, what);
  // The echo (NLM_F_ECHO, honoured for new links since Linux 6.1) is the
  // only race-free way to learn which link a template made.
  std::optional<LinkInfo> created;
  for (const netlink::Reply& reply : replies) {
    nlmsghdr header;
    std::memcpy(&header, reply.data(), sizeof header);
    if (header.nlmsg_type == RTM_NEWLINK) created = decodeLinkMessage(reply);
  }
  if (!created)
    throw Error(ExitCode::Failed, what + ": the kernel did not echo the new link (Linux 6.1 or "
                                         "later is needed)");
  if (!spec.alias.empty()) {
    try {
      setAlias(*created, spec.alias);
      created->alias = spec.alias;
    } catch (...) {
      deleteLink(created->ifindex, created->name);
      throw;
    }
  }
  return *created;
}

bool Rtnetlink::deleteLink(int ifindex, const std::string& nameForErrors) {
  netlink::Request request(RTM_DELLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  request.putHeader(info);
  try {
    socket_.transact(request, "cannot delete interface " + nameForErrors);
  } catch (const Error& e) {
    if (e.errnum() == ENODEV) return false;
    throw;
  }
  return true;
}

}  // namespace seclabel
