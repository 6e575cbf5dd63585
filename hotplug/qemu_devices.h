// The QMP half of a hot-plug: putting a disk or a NIC into a running QEMU
// and taking it out again, each attach undone in reverse when a later step
// fails, so a failed attach leaves QEMU with no new fd, fd set, block node,
// netdev or device.
//
//   disk attach  add-fd (SCM_RIGHTS, one new fd set) or the path itself
//                -> blockdev-add (format node over a file node on
//                /dev/fdset/N or the path) -> device_add
//   disk detach  device_del + DEVICE_DELETED -> blockdev-del -> remove-fd
//   NIC attach   getfd NAME per fd -> netdev_add type=tap fd=/fds=,
//                vhostfd=/vhostfds= -> device_add
//   NIC detach   device_del + DEVICE_DELETED -> netdev_del
//
// QEMU is the guest's: QmpClient bounds every command (one deadline, sizes,
// nesting, ids). The wait for DEVICE_DELETED shares device_del's deadline;
// a guest that never lets the device go fails the detach (ETIMEDOUT) before
// anything the device uses is taken away.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fdpass/qmp_client.h"

namespace seclabel {

// Called before each QMP step with its name ("add-fd", "blockdev-add",
// "device_add", "getfd", "netdev_add"): a test seam (a hook that throws
// makes that step fail; one that stops the process leaves it half done).
using HotplugStepHook = std::function<void(std::string_view step)>;

// One fd QEMU gets, with add-fd's opaque ("rdwr:/path").
struct QemuDiskFd {
  int fd;
  std::string opaque;
};

struct DiskForQemu {
  std::string deviceId;      // device_add id (the XML's alias)
  std::string nodeName;      // blockdev node-name of the format node
  std::string format = "raw";  // blockdev driver: raw, qcow2
  bool readonly = false;
  bool blockDevice = false;  // file node driver host_device instead of file
  std::string deviceDriver;  // scsi-hd, virtio-blk-pci, usb-storage...
  std::optional<std::string> bus;  // "scsi0.0"; unset: QEMU picks one
  // The image: `path` for QEMU to open, or (fds not empty) the fds of one
  // new fd set, QEMU opening /dev/fdset/N.
  std::string path;
  std::vector<QemuDiskFd> fds;
};

struct DiskInQemu {
  std::string deviceId;
  std::string nodeName;
  std::optional<int> fdsetId;
};

DiskInQemu attachDiskToQemu(QmpClient& qmp, const DiskForQemu& disk,
                            const HotplugStepHook& beforeStep = {});

// device_del and its DEVICE_DELETED, blockdev-del, then remove-fd of every
// fd set whose fds all carry an opaque "MODE:PATH" of `path` (the sets
// seclabel added for this image; `path` empty: none). Stops at the first
// failure (a device the guest still holds keeps its node and fds).
void detachDiskFromQemu(QmpClient& qmp, const std::string& deviceId, const std::string& nodeName,
                        const std::string& path);

struct NicForQemu {
  std::string deviceId;    // device_add id (the XML's alias)
  std::string netdevId;    // "host" + deviceId, as libvirt names it
  std::string mac;         // 52:54:00:..
  std::string deviceDriver;  // usb-net, virtio-net-pci, e1000...
  std::optional<std::string> bus;
  std::vector<int> tapFds;    // one per queue, not empty
  std::vector<int> vhostFds;  // empty or one per queue
};

void attachNicToQemu(QmpClient& qmp, const NicForQemu& nic,
                     const HotplugStepHook& beforeStep = {});

// device_del and its DEVICE_DELETED, then netdev_del (QEMU closes the tap
// and vhost fds with the netdev).
void detachNicFromQemu(QmpClient& qmp, const std::string& deviceId, const std::string& netdevId);

}  // namespace seclabel
