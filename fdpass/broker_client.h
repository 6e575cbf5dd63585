// Asking the broker for a disk's fds, as whoever the calling process is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "fdpass/broker_protocol.h"

namespace seclabel {

struct BrokerFd {
  FdMode mode;
  std::string opaque;  // "rdwr:/path", ready for QEMU's add-fd
  UniqueFd fd;         // close-on-exec
};

struct BrokerDiskFds {
  std::string guestName;
  std::string guestUuid;
  std::string disk;
  std::string path;
  DiskAccess access;
  std::vector<BrokerFd> fds;  // one per mode, read-write first
};

// One connection, any number of requests (the benchmark and a launcher with
// several disks reuse it).
class BrokerConnection {
 public:
  static BrokerConnection connect(const std::string& socketPath,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // The broker's refusal becomes an Error with its code (denied -> exit 4,
  // invalid -> 2, failed -> 1) and "broker: <reason>". A reply whose fds do
  // not match what it describes (count, access mode) is a Failed Error.
  BrokerDiskFds openDisk(const std::string& guest, const std::string& disk,
                         DiskAccess access);

 private:
  explicit BrokerConnection(UniqueFd socket) : socket_(std::move(socket)) {}
  // After the broker closed the connection: the refusal it left, if any.
  std::optional<BrokerReply> pendingRefusal();
  UniqueFd socket_;
};

// connect + openDisk.
BrokerDiskFds requestDiskFds(const std::string& socketPath, const std::string& guest,
                             const std::string& disk, DiskAccess access);

}  // namespace seclabel
