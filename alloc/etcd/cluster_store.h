// What a Store shared by the hosts of a cluster offers beyond alloc/store.h.
//
// The etcd backend (etcd_store.h) is such a store. Callers that need the
// cluster view (`seclabel list`, `restore` of another host's guest, `recover`
// and `recover --forget-host`) find it with dynamic_cast from the Store; the
// SQLite backend is not one, and those commands then act on the one host.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alloc/store.h"

namespace seclabel {

class ClusterStore {
 public:
  virtual ~ClusterStore() = default;

  // This host's name in the cluster ([store] host, or the kernel's).
  virtual const std::string& clusterHostName() const = 0;

  // Every guest of the cluster (or of `host` only), ordered by name.
  // Store::listGuests() lists this host's guests only: those are the ones
  // recover may act on.
  virtual std::vector<GuestRecord> listClusterGuests(const std::optional<std::string>& host) = 0;

  // Releases what this host holds in the cluster that no local record
  // explains: guests in this host's index that the local store does not
  // know (a prepare killed between the cluster commit and the local one, or
  // a transaction whose outcome was unknown and that committed later).
  // Never touches another host's keys. Returns one line per guest released.
  virtual std::vector<std::string> reconcileHost() = 0;

  // Releases every guest, name and identity of host `host` (an admin's
  // decision after fencing it: its guests must not run any more). Refuses
  // this host's own name (Error(InvalidInput)). Returns the guests released.
  virtual std::vector<GuestRecord> forgetHost(const std::string& host) = 0;
};

}  // namespace seclabel
