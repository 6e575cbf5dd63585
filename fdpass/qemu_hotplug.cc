#include "fdpass/qemu_hotplug.h"

#include <set>

#include "core/error.h"

namespace seclabel {

int addDiskFdsToQemu(QmpClient& qmp, const BrokerDiskFds& disk) {
  if (disk.fds.empty()) throw Error::invalidInput("disk " + disk.disk + " has no fds to add");
  const std::string context =
      "cannot add disk " + disk.disk + " of guest " + disk.guestName + " to QEMU";
  // The sets QEMU has before: the set our first add-fd lands in must be a
  // new one. QEMU is the guest's and may answer with the id of a set that
  // is not ours, which cleanup would then remove.
  std::set<int> existing;
  try {
    for (const QmpFdset& set : qmp.queryFdsets()) existing.insert(set.fdsetId);
  } catch (const Error& e) {
    throw e.withContext(context);
  }
  std::optional<int> fdsetId;  // only ever a set this call created
  try {
    for (const BrokerFd& fd : disk.fds) {
      QmpAddedFd added = qmp.addFd(fd.fd.get(), fdsetId, fd.opaque);
      if (!fdsetId && existing.count(added.fdsetId)) {
        throw Error(ExitCode::Failed, "QEMU answered add-fd with fd set " +
                                          std::to_string(added.fdsetId) +
                                          ", which existed before: not removing it");
      }
      fdsetId = added.fdsetId;  // addFd checked that later answers name the same set
    }
  } catch (const Error& e) {
    if (fdsetId) {
      try {
        qmp.removeFd(*fdsetId);
      } catch (const Error&) {
        // The add-fd error is the one worth reporting.
      }
    }
    throw e.withContext(context);
  }
  return *fdsetId;
}

int addBrokeredDiskToQemu(QmpClient& qmp, const std::string& brokerSocket,
                          const std::string& guest, const std::string& disk,
                          DiskAccess access) {
  BrokerDiskFds fds = requestDiskFds(brokerSocket, guest, disk, access);
  return addDiskFdsToQemu(qmp, fds);
}

void removeFdsetFromQemu(QmpClient& qmp, int fdsetId) {
  for (const QmpFdset& set : qmp.queryFdsets()) {
    if (set.fdsetId == fdsetId) {
      qmp.removeFd(fdsetId);
      return;
    }
  }
  throw Error::invalidInput("QEMU has no fd set " + std::to_string(fdsetId));
}

}  // namespace seclabel
