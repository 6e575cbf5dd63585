// The etcd store backend ([store] backend = "etcd"): identities and guest
// records shared by every host of a cluster, host-local records in SQLite.
//
// Key layout, transactions and failure rules: docs/store.md, "The etcd
// backend". In short: a prepare's first transaction is one etcd Txn that
// creates the guest, its name, its identities and its entry in this host's
// index, every key guarded by create_revision == 0; the local SQLite
// transaction (intents, remembered originals) is committed after it. A lost
// race is a StoreConflict (alloc/store_conflict.h); SecurityManager starts
// the prepare again.
#pragma once

#include <memory>
#include <string>

#include "alloc/store.h"
#include "core/config.h"

namespace seclabel {

// Opens the local SQLite store in `stateDir` and sets up the etcd client for
// `config` (no request yet). The returned Store is also a ClusterStore
// (cluster_store.h). Throws Error(InvalidInput) for bad endpoints or TLS
// files, Error(Failed) when the host name cannot be used.
std::unique_ptr<Store> openEtcdStore(const StoreConfig& config,
                                     std::shared_ptr<const TrustedDirectory> stateDir);

}  // namespace seclabel
