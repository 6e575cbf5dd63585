// The -netdev value QEMU needs for fds it inherited.
#pragma once

#include <span>
#include <string>

namespace seclabel {

// One queue: "tap,id=ALIAS,fd=N[,vhost=on,vhostfd=M]".
// Several:   "tap,id=ALIAS,fds=N:N2[,vhost=on,vhostfds=M:M2]".
// The numbers are the fds as QEMU will see them. `alias` must be a QEMU id
// (letters, digits, '-', '.', '_', starting with a letter): Error
// InvalidInput otherwise, since a ',' would add options.
// tapFds must not be empty; vhostFds is empty or as long as tapFds.
std::string qemuNetdevValue(const std::string& alias, std::span<const int> tapFds,
                            std::span<const int> vhostFds);

}  // namespace seclabel
