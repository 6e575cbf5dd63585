#include "fdpass/qemu_hotplug.h"

#include "core/error.h"

namespace seclabel {

int addDiskFdsToQemu(QmpClient& qmp, const BrokerDiskFds& disk) {
  if (disk.fds.empty()) throw Error::invalidInput("disk " + disk.disk + " has no fds to add");
  std::optional<int> fdsetId;
  try {
    for (const BrokerFd& fd : disk.fds) {
      QmpAddedFd added = qmp.addFd(fd.fd.get(), fdsetId, fd.opaque);
      fdsetId = added.fdsetId;
    }
  } catch (const Error& e) {
    if (fdsetId) {
      try {
        qmp.removeFd(*fdsetId);
      } catch (const Error&) {
        // The add-fd error is the one worth reporting.
      }
    }
    throw e.withContext("cannot add disk " + disk.disk + " of guest " + disk.guestName +
                        " to QEMU");
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
