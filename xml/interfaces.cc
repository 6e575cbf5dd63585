#include "xml/interfaces.h"

#include <sys/random.h>

#include <cerrno>
#include <set>
#include <string>
#include <unordered_set>

#include "core/error.h"

namespace seclabel {

void requireSupportedInterfaces(const Domain& domain) {
  for (std::size_t i = 0; i < domain.interfaces.size(); ++i) {
    InterfaceType type = domain.interfaces[i].type;
    if (type == InterfaceType::Bridge || type == InterfaceType::Direct ||
        type == InterfaceType::Ethernet) {
      continue;
    }
    throw Error::invalidInput("/domain/devices/interface[" + std::to_string(i + 1) +
                              "]: interface type '" + toString(type) +
                              "' is not supported (seclabel prepares bridge, direct and "
                              "ethernet interfaces)");
  }
}

RandomBytes systemRandomBytes() {
  return [](std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error::fromErrno("cannot read random bytes (getrandom)", errno);
      done += static_cast<std::size_t>(n);
    }
  };
}

MacAddress generateMacAddress(const RandomBytes& random, const MacAddressTaken& taken, int tries) {
  for (int i = 0; i < tries; ++i) {
    std::array<std::uint8_t, 3> tail{};
    random(tail);
    auto mac = MacAddress::fromBytes({0x52, 0x54, 0x00, tail[0], tail[1], tail[2]});
    if (!taken(mac)) return mac;
  }
  throw Error::conflict("no free MAC address in 52:54:00:00:00:00-52:54:00:ff:ff:ff: " +
                        std::to_string(tries) + " random addresses were all in use");
}

void assignInterfaceDefaults(Domain& domain, const RandomBytes& random,
                             const MacAddressTaken& takenElsewhere) {
  std::unordered_set<std::string> aliases;
  std::set<MacAddress> macs;
  for (const auto& interface : domain.interfaces) {
    if (interface.alias) aliases.insert(*interface.alias);
    if (interface.mac) macs.insert(*interface.mac);
  }
  unsigned next = 0;
  for (auto& interface : domain.interfaces) {
    if (interface.alias) continue;
    std::string alias;
    do {
      alias = "net" + std::to_string(next++);
    } while (aliases.count(alias));
    aliases.insert(alias);
    interface.alias = std::move(alias);
  }
  auto taken = [&](const MacAddress& mac) { return macs.count(mac) > 0 || takenElsewhere(mac); };
  for (auto& interface : domain.interfaces) {
    if (interface.mac) continue;
    interface.mac = generateMacAddress(random, taken);
    macs.insert(*interface.mac);
  }
}

}  // namespace seclabel
