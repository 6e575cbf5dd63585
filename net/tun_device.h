// Taps from /dev/net/tun: created for a guest, or an existing one attached.
//
// One open of /dev/net/tun is one queue. A multi-queue tap is opened once
// per queue with IFF_MULTI_QUEUE and the same name. The tap is not made
// persistent: it lives exactly as long as one of its queue fds is open, in
// the launcher until exec and in QEMU after, so when QEMU exits (or a
// launcher dies before exec) the kernel deletes it by itself.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "net/interface_name.h"
#include "net/open_observer.h"

namespace seclabel {

// What TUNGETFEATURES offers (IFF_VNET_HDR, IFF_MULTI_QUEUE, ...).
unsigned tunFeatures(int tunFd);

// The kernel's answer for one queue fd: which tap it is attached to.
struct TunQueue {
  UniqueFd fd;
  std::string name;
};

struct TunCreateSpec {
  std::string tunPath = "/dev/net/tun";
  // A name the tap must take, or a template with one %d ("vnet%d").
  std::string nameOrTemplate;
  unsigned queues = 1;
  uid_t owner = 0;
  gid_t group = 0;
};

// Creates a new tap (IFF_TAP|IFF_NO_PI, +IFF_VNET_HDR when offered,
// +IFF_MULTI_QUEUE with queues > 1) owned by owner:group and returns one fd
// per queue, O_CLOEXEC. IFF_TUN_EXCL on the first queue: a name that already
// exists is EBUSY, never an attach to someone else's tap. `observer` hears
// of each open. Throws Error naming the tap; nothing stays open then, and
// the tap (not persistent) is gone with its last fd.
std::vector<TunQueue> createTap(const TunCreateSpec& spec, const DeviceOpenObserver& observer);

// Attaches `queues` fds to the existing tap `name` (no IFF_TUN_EXCL, the
// multi-queue flag as the tap has it). Throws Error naming the tap.
std::vector<TunQueue> attachTap(const std::string& tunPath, const InterfaceName& name,
                                unsigned queues, bool multiQueue,
                                const DeviceOpenObserver& observer);

}  // namespace seclabel
