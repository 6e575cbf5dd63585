// What a launch makes outside the file system for its guest -- the cgroup
// with its device ACL (launch_cgroup.h) and the network devices
// (launch_network.h) -- tied into the launcher's steps, and taken back when
// the guest is restored or recovered (the manager's HostObjectRelease).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/guest_cgroup.h"
#include "core/unique_fd.h"
#include "launcher/launch_network.h"
#include "secdriver/manager.h"
#include "xml/domain.h"

namespace seclabel {

struct LaunchHostObjects {
  std::optional<GuestCgroup> cgroup;
  UniqueFd cgroupProcs;  // for the child's enterCgroup; -1 without a cgroup
  std::unique_ptr<GuestNetwork> network;
};

// Before anything is prepared: the {netdev:ALIAS} and {mac:ALIAS}
// placeholders of `argvTemplate` name interfaces of `domain`.
// Error(InvalidInput) otherwise.
void checkHostObjectInput(const Domain& domain, const std::vector<std::string>& argvTemplate);

// After the guest is prepared: its cgroup (created when `preparedHere`,
// else opened from the store's record), its network devices for the
// interfaces `argvTemplate` names, the macvtap nodes allowed in the cgroup,
// cgroup.procs opened for the child. `live` gets the names of the links
// made, and the store's live XML with it. Throws Error; what it made is
// undone by the object's destruction and the guest's restore.
std::unique_ptr<LaunchHostObjects> openLaunchHostObjects(
    SecurityManager& manager, GuestRecord& record, Domain& live, bool preparedHere,
    const std::vector<std::string>& argvTemplate);

// Removes a guest's links (a reason=stop record for each one it was
// given) and its cgroup, as recorded in `store`; what cannot be removed
// stays recorded, with a warning.
HostObjectRelease hostObjectRelease(Store& store, AuditLog* log);

}  // namespace seclabel
