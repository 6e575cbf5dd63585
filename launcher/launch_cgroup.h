// The guest's cgroup as the launcher uses it (docs/devices.md): created at
// prepare with the device ACL the domain needs, entered by the guest's
// process before it execs, removed when the guest is restored or recovered.
// The cgroup/ layer does the work; this file decides when, and keeps the
// store's record of the path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgroup/device_controller.h"
#include "cgroup/guest_cgroup.h"
#include "secdriver/manager.h"
#include "xml/domain.h"

namespace seclabel {

// `[cgroup] devices` resolved against the host, once per process (a
// command): auto without a controller warns once, required without one
// throws Error(Failed), off is nullopt without looking.
std::optional<DeviceController> guestDeviceController(CgroupDevices mode);

// What the guest uses, as guestDeviceRules() reads it: block-device disk
// sources (r for a readonly disk and every backing layer, rw otherwise),
// serial/console sources, and the network nodes its interfaces may open
// (/dev/net/tun for a tap seclabel creates, /dev/vhost-net unless the
// driver is qemu). Nodes that do not exist are skipped by the rules.
GuestDeviceUse guestDeviceUse(const Domain& live);

// At prepare (`seclabel prepare`, or exec/run preparing the guest): records
// <mount>/<parent>/<uuid> in the store (durably, before the directory
// exists, so recover finds it whatever happens next), then creates the
// cgroup and sets its ACL, each change audited. Nothing when no controller
// is selected. Throws Error; the caller restores the guest then (its
// release removes what exists).
void setUpGuestCgroup(SecurityManager& manager, const Domain& live);

// The cgroup recorded for the guest, opened (exec/run of a guest prepared
// before, or just now); nullopt when the store has none.
std::optional<GuestCgroup> openRecordedGuestCgroup(SecurityManager& manager,
                                                    const std::string& uuid);

// The controller whose mount holds `path` (a recorded cgroup path), v1 or
// v2 of this host, whatever `[cgroup] devices` says now. Throws Error.
DeviceController controllerHolding(const std::string& path);

// The manager's audit log, or one that discards records when it has none
// (the cgroup layer writes a record per ACL change and needs a log).
AuditLog& auditLogOrDiscard(SecurityManager& manager);

// SIGKILLs every process still in the cgroup (the guest's leftovers after
// it was reaped: its own children) and waits until it is empty, at most
// `timeoutMs`. Returns whether it is empty.
bool emptyGuestCgroup(const GuestCgroup& cgroup, int timeoutMs = 2000);

// Removes the guest's recorded cgroup and forgets the path; a cgroup that
// cannot be removed (processes still in it) stays recorded and becomes a
// warning.
void releaseGuestCgroup(Store& store, const std::string& uuid,
                        std::vector<std::string>& warnings);

}  // namespace seclabel
