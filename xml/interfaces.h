// What prepare does with a domain's <interface>s before any device is
// opened: refuse the types seclabel cannot prepare, then fill in what libvirt
// fills in at start (an alias and a MAC address for each interface), so the
// live XML names every interface and says which address the guest uses.
//
// xml/ sits below the store, so uniqueness among the store's guests reaches
// in as a predicate; the caller runs these inside its prepare transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "xml/domain.h"

namespace seclabel {

// Throws Error(InvalidInput) for the first interface whose type seclabel
// cannot prepare (anything but bridge, direct and ethernet: network, user,
// vhostuser, hostdev, ... need a daemon or a device seclabel does not manage):
// "/domain/devices/interface[N]: interface type 'network' is not supported
// (seclabel prepares bridge, direct and ethernet interfaces)". Such an
// interface parses fine and stays in the document untouched; only prepare
// (and validate, which says what prepare would say) refuses it.
void requireSupportedInterfaces(const Domain& domain);

// Fills `out` with random bytes; throws Error on failure.
using RandomBytes = std::function<void(std::span<std::uint8_t> out)>;

// Whether a MAC address is already in use (by a guest in the store).
using MacAddressTaken = std::function<bool(const MacAddress& mac)>;

// getrandom(2): the kernel's CSPRNG, no fd to leak.
RandomBytes systemRandomBytes();

// Tries before generateMacAddress gives up. 2^24 addresses: with a million
// guests in the store a try still succeeds with probability > 0.94, so 32
// failures in a row mean a broken random source or an exhausted space.
inline constexpr int kMacAddressTries = 32;

// A random 52:54:00:xx:xx:xx (QEMU's prefix, libvirt's choice; locally
// administered, unicast) for which `taken` is false. Draws at most `tries`
// candidates, then throws Error(NoIdentity) "no free MAC address ...".
MacAddress generateMacAddress(const RandomBytes& random, const MacAddressTaken& taken,
                              int tries = kMacAddressTries);

// The live-form defaults, applied once at prepare (after
// requireSupportedInterfaces, before any device is opened):
// - every interface without <alias name> gets netN, N counting up from 0 in
//   document order and skipping the names other interfaces already use
//   (so net0, net1, ... when none has one);
// - every interface without <mac address> gets generateMacAddress(random,
//   p), where p(mac) is true for `takenElsewhere(mac)` and for every address
//   an interface of this domain already has, so no two interfaces share one.
// Explicit aliases and addresses are kept as written. formatDomainXml then
// writes both into the live XML (<alias name>, <mac address>), where a
// later exec/run/restore reads them back. Throws what generateMacAddress
// throws; on a throw `domain` may be partly filled and is to be discarded.
void assignInterfaceDefaults(Domain& domain, const RandomBytes& random,
                             const MacAddressTaken& takenElsewhere);

}  // namespace seclabel
