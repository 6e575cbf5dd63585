// QEMU guests fed network fds, and a packet capture to see their frames:
// the end-to-end proof that the fds net/ opened carry a guest's traffic.
// Used by qemu_traffic_test.cc; built to be reused by launcher-level tests
// (a guest started by `seclabel run` is watched the same way).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "fdpass/qmp_client.h"
#include "net/interface_name.h"

namespace seclabel::testing {

// Why QEMU network tests cannot run here, or "".
std::string qemuUnavailableReason();

// One virtio-net NIC of a guest: the queue fds (in this process) and the
// guest MAC; vhost fds optional.
struct QemuNic {
  std::string id;  // the -netdev id
  std::vector<int> tapFds;
  std::vector<int> vhostFds;
  MacAddress mac = MacAddress::parse("52:54:00:00:00:01");
};

// qemu-system-x86_64 -accel tcg (never -cpu host), no disk, no display, one
// virtio-net-pci per NIC on `-netdev tap,fd=...` (the fds are inherited at
// numbers from 10 up, nothing else is), QMP on a socket in `dir`.
class QemuGuest {
 public:
  static QemuGuest start(const std::string& dir, const std::string& name,
                         const std::vector<QemuNic>& nics);
  QemuGuest(QemuGuest&&) noexcept;
  ~QemuGuest();  // quits (SIGKILL after 10 s) and reaps

  pid_t pid() const { return pid_; }
  QmpClient& qmp() { return *qmp_; }
  // QMP announce-self: QEMU sends RARP frames from each NIC's MAC.
  void announceSelf();
  // The fd numbers the guest process has open (/proc/PID/fd).
  std::vector<int> openFds() const;

 private:
  QemuGuest() = default;
  pid_t pid_ = -1;
  std::unique_ptr<QmpClient> qmp_;
};

// An AF_PACKET socket on one interface: sees the frames the interface
// sends and receives.
class PacketCapture {
 public:
  static PacketCapture open(const std::string& interfaceName);
  // Counts frames with source `mac` and `ethertype` until `wanted` were seen
  // or `timeout` passed; returns how many were seen.
  int countFrames(const MacAddress& mac, unsigned ethertype, int wanted,
                  std::chrono::milliseconds timeout);

 private:
  explicit PacketCapture(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

inline constexpr unsigned kEthertypeRarp = 0x8035;

}  // namespace seclabel::testing
