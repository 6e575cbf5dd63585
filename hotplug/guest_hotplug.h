// Attaching a device to a running guest and detaching it, whole: labels
// (SecurityManager), fds (fdpass/, net/), QMP (qemu_devices.h), the live XML,
// the intent journal and the audit trail, in the order docs/hotplug.md
// gives, each step undone in reverse when a later one fails.
#pragma once

#include <chrono>
#include <string>

#include "hotplug/qemu_devices.h"
#include "secdriver/manager.h"
#include "xml/device.h"

namespace seclabel {

class AuditLog;

struct HotplugOptions {
  std::string qmpSocket;
  // The deadline of each QMP command (device_del and its DEVICE_DELETED
  // share one).
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Test seam: called before each QMP step (see qemu_devices.h).
  HotplugStepHook beforeStep;
};

// Gives `device` to the running guest. Exit codes: 2 for a device seclabel
// cannot attach (an empty cdrom, an unknown bus, a target in use); 3 for a
// file another guest holds privately; 4 for a path the rules refuse; 1 when
// QEMU refuses (everything done is undone first).
void attachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options);

// Takes it back. `device` as the live XML has it (deviceFromLiveXml). When
// QEMU does not let go within the deadline nothing is restored and the
// error says so (exit 1).
void detachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options);

// The device of the guest's live XML with disk target `target` or alias
// `alias` (one of them non-empty).
DeviceElement deviceFromLiveXml(const GuestRecord& record, const std::string& target,
                                const std::string& alias);

// For recover (SecurityManager::setHotplugSettle): whether the QEMU named in
// an Attach/Detach intent has the device; when it does not, removes the
// block node and fd sets (or netdev) a half-done attach left. Throws when
// QEMU cannot be asked (then recover leaves the intent); a QEMU that is
// gone has nothing.
bool settleHotplugIntent(const Intent& intent);

}  // namespace seclabel
