// /dev/vhost-net: the in-kernel virtio-net data path, one fd per queue.
#pragma once

#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "net/open_observer.h"

namespace seclabel {

// What the domain asked for: <driver name='vhost'> (Required), <driver
// name='qemu'> (Off), or nothing (Auto: use it when the host has it).
enum class VhostRequest { Auto, Required, Off };

// Opens `path` `queues` times, O_RDWR|O_CLOEXEC, each checked to be a
// character device.
//  - Off: opens nothing.
//  - Auto and the node does not exist: opens nothing and reports nothing (no
//    attempt was made). Auto and an open fails otherwise: that attempt is
//    reported failed, the fds opened so far are closed, and the guest goes
//    without vhost (as libvirt does).
//  - Required and any open fails: reported failed, Error(Failed) naming the
//    path; nothing stays open.
std::vector<UniqueFd> openVhostNet(const std::string& path, unsigned queues, VhostRequest request,
                                   const DeviceOpenObserver& observer);

}  // namespace seclabel
