// Which device controller the host has, read from /proc/self/mountinfo
// (never guessed from paths): a cgroup v1 hierarchy with the `devices`
// controller, or a cgroup2 mount whose cgroups take BPF device programs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace seclabel {

enum class CgroupVersion {
  V1,  // devices.allow / devices.deny files
  V2,  // a BPF_PROG_TYPE_CGROUP_DEVICE program with a map of devices
};

struct DeviceController {
  CgroupVersion version;
  std::string mountPoint;  // "/sys/fs/cgroup/devices", "/sys/fs/cgroup"
  bool operator==(const DeviceController&) const = default;
};

// From the text of a mountinfo file: the first cgroup (v1) mount whose super
// options name the `devices` controller; when there is none, the first
// cgroup2 mount; nullopt when there is neither. A hybrid host (systemd's
// v1 controllers plus a v2 tree at /sys/fs/cgroup/unified) gets v1: the
// devices controller is bound there, and that is what the host's own tools
// set. Mount points are decoded (\040 is a space). Lines that do not parse
// are skipped.
std::optional<DeviceController> findDeviceController(std::string_view mountinfo);
// The first mount of one kind only: v1 = a hierarchy with the devices
// controller, v2 = a cgroup2 tree (on a hybrid host both exist).
std::optional<DeviceController> findDeviceController(std::string_view mountinfo,
                                                     CgroupVersion version);

// The host's, from /proc/self/mountinfo. For a cgroup2 mount it also asks
// the kernel whether it runs BPF device programs (BPF_PROG_QUERY on the
// mount, as libvirt does): a kernel without CONFIG_CGROUP_BPF has none.
// Throws Error when /proc/self/mountinfo cannot be read.
std::optional<DeviceController> detectDeviceController();
// The host's mount of one kind (tests and benchmarks use both kinds on a
// hybrid host), v2 only where the kernel runs BPF device programs.
std::optional<DeviceController> detectDeviceController(CgroupVersion version);

// Receives a warning without the "seclabel: warning: " prefix.
using CgroupWarning = std::function<void(const std::string& message)>;

// What `[cgroup] devices` asks for. Off: nullopt, without looking. Auto:
// the detected controller, or nullopt and one call of `warn` saying guests
// run without a device ACL. Required: the detected controller, or
// Error(Failed) "no usable cgroup device controller ...". Call it once per
// command (the warning is once per call).
std::optional<DeviceController> selectDeviceController(CgroupDevices mode,
                                                        const CgroupWarning& warn);

}  // namespace seclabel
