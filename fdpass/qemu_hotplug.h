// Hot-plugging a brokered disk into a running QEMU: the fds the broker hands
// the caller go into one QEMU fd set with QMP add-fd, so that blockdev-add
// (or device_add) can name /dev/fdset/N. The caller needs no right to open
// the image, only to talk to the broker and to QEMU's monitor.
#pragma once

#include <string>

#include "fdpass/broker_client.h"
#include "fdpass/qmp_client.h"

namespace seclabel {

// Adds every fd of `disk` to one new fd set (QEMU picks its id, the first
// add-fd's answer names it) with the broker's opaque strings; returns the
// fdset id. If any add-fd fails, what was added is removed again before the
// Error propagates. The fds stay open in the caller too (they are its).
// QEMU's answers are not trusted: a first answer naming a set that existed
// before (query-fdsets), or a later one naming another set than the first,
// is an Error, and only the set this call created is ever removed.
int addDiskFdsToQemu(QmpClient& qmp, const BrokerDiskFds& disk);

// requestDiskFds(brokerSocket, ...) + addDiskFdsToQemu(qmp, ...).
int addBrokeredDiskToQemu(QmpClient& qmp, const std::string& brokerSocket,
                          const std::string& guest, const std::string& disk,
                          DiskAccess access);

// Withdraws fd set `fdsetId` (every fd in it). QEMU closes an fd once no
// block node uses it any more. InvalidInput Error if QEMU has no such set.
void removeFdsetFromQemu(QmpClient& qmp, int fdsetId);

}  // namespace seclabel
