#include "launcher/launch_network.h"

#include <set>

#include "audit/audit.h"
#include "core/error.h"
#include "core/security_models.h"
#include "net/bridge_acl.h"
#include "net/macvtap_queues.h"
#include "net/qemu_netdev.h"
#include "xml/interfaces.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

enum class Placeholder { Netdev, Mac };

struct Found {
  Placeholder kind;
  std::size_t open;   // index of '{'
  std::size_t close;  // index of '}'
  std::string alias;
};

constexpr std::string_view kNetdevOpen = "{netdev:";
constexpr std::string_view kMacOpen = "{mac:";

// The next {netdev:..} or {mac:..} of `arg` at or after `pos`.
std::optional<Found> nextPlaceholder(const std::string& arg, std::size_t pos) {
  const std::size_t netdev = arg.find(kNetdevOpen, pos);
  const std::size_t mac = arg.find(kMacOpen, pos);
  if (netdev == std::string::npos && mac == std::string::npos) return std::nullopt;
  const bool isNetdev = netdev < mac;
  const std::size_t open = isNetdev ? netdev : mac;
  const std::size_t prefix = isNetdev ? kNetdevOpen.size() : kMacOpen.size();
  const char* what = isNetdev ? "{netdev:...}" : "{mac:...}";
  const std::size_t close = arg.find('}', open);
  if (close == std::string::npos)
    throw Error::invalidInput(std::string("unterminated ") + what + " in argument \"" + arg + "\"");
  std::string alias = arg.substr(open + prefix, close - open - prefix);
  if (alias.empty())
    throw Error::invalidInput(std::string("empty interface alias in ") + what +
                              " in argument \"" + arg + "\"");
  return Found{isNetdev ? Placeholder::Netdev : Placeholder::Mac, open, close, std::move(alias)};
}

// QEMU reads an option value starting with '{' as JSON; a -netdev value
// (tap,id=..,fd=..) cannot be spliced into one.
bool isJsonArgument(const std::string& arg) {
  return !arg.empty() && arg.front() == '{' && arg.compare(0, kNetdevOpen.size(), kNetdevOpen) != 0 &&
         arg.compare(0, kMacOpen.size(), kMacOpen) != 0 && arg.compare(0, 6, "{disk:") != 0;
}

template <typename Visit>
void forEachPlaceholder(const std::vector<std::string>& argv, Visit visit) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::size_t pos = 0;
    while (auto found = nextPlaceholder(argv[i], pos)) {
      if (found->kind == Placeholder::Netdev && isJsonArgument(argv[i]))
        throw Error::invalidInput("argument \"" + argv[i] +
                                  "\": {netdev:...} cannot be used inside a JSON argument "
                                  "(use -netdev {netdev:ALIAS})");
      visit(argv[i], *found);
      pos = found->close + 1;
    }
  }
}

Error unknownInterface(const std::string& arg, const std::string& alias) {
  return Error::invalidInput("argument \"" + arg + "\" names interface \"" + alias +
                             "\", which the domain does not have");
}

VhostRequest vhostRequestOf(const Interface& interface) {
  if (!interface.driver) return VhostRequest::Auto;
  return *interface.driver == NetDriverName::Vhost ? VhostRequest::Required : VhostRequest::Off;
}

const char* recordKind(const NetDevice& device) {
  switch (device.kind()) {
    case NetDevice::Kind::Macvtap: return "macvtap";
    case NetDevice::Kind::ExistingTap: return "existing";
    default: return "tun";
  }
}

std::vector<int> fdNumbers(std::span<const UniqueFd> fds) {
  std::vector<int> numbers;
  for (const UniqueFd& fd : fds) numbers.push_back(fd.get());
  return numbers;
}

}  // namespace

std::vector<std::string> netdevAliasesNamed(const std::vector<std::string>& argv) {
  std::vector<std::string> aliases;
  std::set<std::string> seen;
  forEachPlaceholder(argv, [&](const std::string&, const Found& found) {
    if (found.kind == Placeholder::Netdev && seen.insert(found.alias).second)
      aliases.push_back(found.alias);
  });
  return aliases;
}

void checkNetPlaceholders(const Domain& domain, const std::vector<std::string>& argv) {
  bool any = false;
  for (std::size_t i = 1; i < argv.size() && !any; ++i)
    any = argv[i].find(kNetdevOpen) != std::string::npos ||
          argv[i].find(kMacOpen) != std::string::npos;
  if (!any) return;
  // The aliases prepare will give (assignInterfaceDefaults names them in
  // document order, whatever the MACs): a copy, with a fixed address source
  // so nothing random is drawn for a check.
  Domain named = domain;
  std::uint8_t counter = 0;
  assignInterfaceDefaults(
      named, [&](std::span<std::uint8_t> out) { for (auto& b : out) b = ++counter; },
      [](const MacAddress&) { return false; });
  forEachPlaceholder(argv, [&](const std::string& arg, const Found& found) {
    if (!named.interfaceByAlias(found.alias)) throw unknownInterface(arg, found.alias);
  });
}

std::vector<std::string> expandNetPlaceholders(
    const std::vector<std::string>& argv, const std::map<std::string, NetArgument>& interfaces) {
  std::vector<std::string> out{argv.empty() ? std::vector<std::string>{} : argv};
  for (std::size_t i = 1; i < out.size(); ++i) {
    const std::string arg = out[i];
    std::string expanded;
    std::size_t pos = 0;
    while (auto found = nextPlaceholder(arg, pos)) {
      auto it = interfaces.find(found->alias);
      if (it == interfaces.end()) throw unknownInterface(arg, found->alias);
      expanded.append(arg, pos, found->open - pos);
      if (found->kind == Placeholder::Mac) {
        expanded += it->second.mac;
      } else {
        if (isJsonArgument(arg))
          throw Error::invalidInput("argument \"" + arg +
                                    "\": {netdev:...} cannot be used inside a JSON argument");
        if (!it->second.netdev)
          throw Error::invalidInput("interface " + found->alias + " has no devices opened");
        expanded += *it->second.netdev;
      }
      pos = found->close + 1;
    }
    expanded.append(arg, pos);
    out[i] = std::move(expanded);
  }
  return out;
}

GuestNetwork::GuestNetwork(SecurityManager& manager, const Domain& live)
    : manager_(manager), guest_{live.type, live.name, live.uuid} {}

std::unique_ptr<GuestNetwork> GuestNetwork::open(SecurityManager& manager, Domain& live,
                                                 const std::vector<std::string>& argvTemplate) {
  std::unique_ptr<GuestNetwork> network(new GuestNetwork(manager, live));
  for (const Interface& interface : live.interfaces)
    if (interface.alias && interface.mac)
      network->arguments_[*interface.alias] = {std::nullopt, interface.mac->format()};
  const std::vector<std::string> named = netdevAliasesNamed(argvTemplate);
  if (named.empty()) return network;

  // Who the devices are for: the guest's DAC identity and image label.
  ProcessLabels labels = manager.processLabels(live);
  NetContext& context = network->context_;
  context.uid = labels.dac ? labels.dac->uid : 0;
  context.gid = labels.dac ? labels.dac->gid : 0;
  if (const Seclabel* selinux = live.seclabelFor(kSelinuxModel);
      selinux && selinux->type != SeclabelType::None && manager.selinuxHost().enabled())
    context.imageLabel = selinux->imagelabel;
  context.selinux = &manager.selinuxHost();
  context.audit = manager.auditLog();
  context.auditGuest = network->guest_;
  network->rtnetlink_.emplace(Rtnetlink::open());
  context.rtnetlink = &*network->rtnetlink_;

  std::optional<BridgeAcl> acl;
  const NetworkConfig& config = manager.config().network;
  Store& store = manager.store();
  for (const std::string& alias : named) {
    Interface* interface = nullptr;
    for (Interface& candidate : live.interfaces)
      if (candidate.alias == alias) interface = &candidate;
    if (!interface) throw Error::invalidInput("the domain has no interface " + alias);
    NetInterfaceSpec spec;
    spec.mac = *interface->mac;
    spec.name = interface->target;
    spec.queues = interface->queueCount();
    spec.vhost = vhostRequestOf(*interface);
    const std::string tag = linkAliasFor(live.uuid, alias);
    const bool existing = interface->type == InterfaceType::Ethernet &&
                          interface->tapManagement == TapManagement::Unmanaged;
    if (!existing) spec.linkAlias = tag;
    // The intent: on disk before the link exists, so recover can find it by
    // its tag even if this process dies before it learns the ifindex.
    GuestLinkRecord record{tag, spec.mac.format(), std::nullopt,
                           spec.name ? spec.name->str() : "",
                           interface->type == InterfaceType::Direct ? "macvtap"
                           : existing                              ? "existing"
                                                                   : "tun",
                           std::nullopt, std::nullopt};
    store.recordGuestLink(live.uuid, record);
    std::optional<NetDevice> device;
    try {
      switch (interface->type) {
        case InterfaceType::Bridge:
          if (!acl) acl = BridgeAcl::load(config.bridgeAcl);
          device.emplace(NetDevice::createBridgeTap(context, spec, *interface->bridge, *acl));
          break;
        case InterfaceType::Direct:
          device.emplace(NetDevice::createMacvtap(context, spec, *interface->sourceDev,
                                                  interface->macvtapMode, config.directDevices));
          break;
        case InterfaceType::Ethernet:
          device.emplace(existing ? NetDevice::attachExistingTap(context, spec)
                                  : NetDevice::createEthernetTap(context, spec));
          break;
        default:  // prepare refused it (requireSupportedInterfaces)
          throw Error::invalidInput("interface " + alias + " cannot be prepared");
      }
    } catch (const Error&) {
      store.removeGuestLink(live.uuid, tag);  // nothing was made (NetDevice cleans up)
      if (context.audit)
        context.audit->write(audit::netInterface(network->guest_, AuditNetChange::Start,
                                                 spec.mac.format(), AuditOutcome::Failure));
      throw;
    }
    record.kind = recordKind(*device);
    record.ifindex = device->link().ifindex;
    record.name = device->link().name;
    if (auto created = device->createdLink()) {
      if (created->parentIndex) record.parentIndex = *created->parentIndex;
      if (created->parentAddress)
        record.parentAddress = MacAddress::fromBytes(*created->parentAddress).format();
    }
    network->devices_.push_back({tag, std::move(*device)});
    store.recordGuestLink(live.uuid, record);
    interface->target = InterfaceName::parse(record.name, "link");
    NetDevice& opened = network->devices_.back().device;
    network->arguments_[alias].netdev = qemuNetdevValue(alias, fdNumbers(opened.queueFds()),
                                                        fdNumbers(opened.vhostFds()));
  }
  return network;
}

GuestNetwork::~GuestNetwork() {
  if (started_) return;
  // Uncommitted: each NetDevice deletes the link it made as it goes; then
  // the records have nothing left to name.
  std::vector<std::string> tags;
  for (const Opened& opened : devices_) tags.push_back(opened.tag);
  devices_.clear();
  for (const std::string& tag : tags) {
    try {
      manager_.store().removeGuestLink(guest_.uuid, tag);
    } catch (...) {
      // A destructor cannot report; restore or recover finds the record and
      // finds the link gone.
    }
  }
}

std::vector<std::string> GuestNetwork::expand(const std::vector<std::string>& argv) const {
  return expandNetPlaceholders(argv, arguments_);
}

std::vector<int> GuestNetwork::guestFds() const {
  std::vector<int> fds;
  for (const Opened& opened : devices_) {
    for (const UniqueFd& fd : opened.device.queueFds()) fds.push_back(fd.get());
    for (const UniqueFd& fd : opened.device.vhostFds()) fds.push_back(fd.get());
  }
  return fds;
}

std::vector<std::string> GuestNetwork::macvtapNodes() const {
  std::vector<std::string> nodes;
  for (const Opened& opened : devices_)
    if (opened.device.kind() == NetDevice::Kind::Macvtap)
      nodes.push_back(macvtapDevicePath("/dev", opened.device.link()));
  return nodes;
}

void GuestNetwork::started() {
  started_ = true;
  for (Opened& opened : devices_) {
    opened.device.commit();
    if (AuditLog* log = manager_.auditLog())
      log->write(audit::netInterface(guest_, AuditNetChange::Start, opened.device.mac().format(),
                                     AuditOutcome::Success));
  }
}

void GuestNetwork::closeFds() {
  for (Opened& opened : devices_) opened.device.closeFds();
}

}  // namespace seclabel
