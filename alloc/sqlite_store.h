// The SQLite backend of Store (private to alloc/; use openSqliteStore).
//
// Its methods are spread over files by concern: sqlite_store.cc (opening,
// transactions, guests, fd-passed disks, intents), sqlite_identities.cc
// (allocation), sqlite_resources.cc (remembered originals),
// sqlite_host_objects.cc (cgroups, links and MAC addresses of guests).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "alloc/sqlite_db.h"
#include "alloc/store.h"
#include "core/error.h"
#include "core/trusted_path.h"

namespace seclabel {

class SqliteStore final : public Store {
 public:
  // STATE_DIR/state.db, which must exist (openSqliteStore makes it).
  explicit SqliteStore(std::shared_ptr<const TrustedDirectory> stateDir);

  std::unique_ptr<StoreTransaction> begin() override;

  uint64_t allocate(const AllocationSpace& space, const Owner& owner) override;
  void reserve(IdentityKind kind, uint64_t id, const Owner& owner) override;
  void release(IdentityKind kind, uint64_t id, const std::string& guestUuid) override;
  void releaseAllOf(const std::string& guestUuid) override;
  std::vector<Identity> identitiesOf(const std::string& guestUuid) override;
  std::optional<Owner> holderOf(IdentityKind kind, uint64_t id) override;
  uint64_t countInUse(const AllocationSpace& space) override;

  void putGuest(const GuestRecord& guest) override;
  void updateGuest(const GuestRecord& guest) override;
  std::optional<GuestRecord> findGuest(const std::string& nameOrUuid) override;
  std::vector<GuestRecord> listGuests() override;
  void forEachGuest(const std::function<void(const GuestRecord&)>& visit) override;
  std::vector<GuestRecord> runningGuests() override;
  void deleteGuest(const std::string& uuid) override;

  bool remember(const RememberedResource& original, const std::string& guestUuid,
                ResourceUse use) override;
  std::optional<RememberedResource> forget(uint64_t dev, uint64_t ino,
                                           const std::string& guestUuid) override;
  std::vector<HeldResource> resourcesOf(const std::string& guestUuid) override;
  std::vector<ResourceHolder> holdersOf(uint64_t dev, uint64_t ino) override;

  void addFdPassedDisk(const std::string& guestUuid, const FdPassedDisk& disk) override;
  std::vector<FdPassedDisk> fdPassedDisksOf(const std::string& guestUuid) override;
  void removeFdPassedDisks(const std::string& guestUuid) override;

  void setGuestCgroup(const std::string& guestUuid, const std::string& path) override;
  std::optional<std::string> guestCgroupOf(const std::string& guestUuid) override;
  void removeGuestCgroup(const std::string& guestUuid) override;
  void recordGuestLink(const std::string& guestUuid, const GuestLinkRecord& link) override;
  std::vector<GuestLinkRecord> guestLinksOf(const std::string& guestUuid) override;
  void removeGuestLink(const std::string& guestUuid, const std::string& tag) override;
  std::vector<std::string> forgottenGuestsWithHostObjects() override;
  void recordGuestMacs(const std::string& guestUuid, const std::vector<std::string>& macs) override;
  bool macAddressTaken(const std::string& mac, const std::string& exceptGuestUuid) override;

  int64_t recordIntent(const std::string& guestUuid, IntentKind kind,
                       const std::string& payloadJson) override;
  void completeIntent(int64_t id) override;
  std::vector<Intent> pendingIntents() override;
  std::vector<Intent> inFlightIntents() override;
  std::vector<Intent> pendingIntentsOf(const std::string& guestUuid) override;

 private:
  void setWalMode();
  friend class SqliteStoreTransaction;

  // Runs `work` atomically: in its own BEGIN IMMEDIATE transaction, or,
  // inside a caller's transaction, in a savepoint, so a failed call leaves
  // nothing half done there either.
  void atomically(const std::function<void()>& work);

  // used_runs bookkeeping (sqlite_identities.cc); callers hold a transaction.
  struct Run {
    uint64_t first;
    uint64_t last;
  };
  std::optional<Run> runContaining(IdentityKind kind, uint64_t id);
  void markUsed(IdentityKind kind, uint64_t id);
  void markFree(IdentityKind kind, uint64_t id);
  void insertIdentity(IdentityKind kind, uint64_t id, const Owner& owner, const char* how);
  uint64_t countUsedIn(IdentityKind kind, IdInterval interval);
  uint64_t takeNextFree(const AllocationSpace& space, const Owner& owner, uint64_t excludedSoFar);
  Error noFreeIdentity(const AllocationSpace& space, uint64_t excluded);

  // Declared before db_, so it outlives it: SQLite's names for state.db and
  // its WAL go through this directory's fd (TrustedDirectory::kernelPathOf).
  std::shared_ptr<const TrustedDirectory> stateDir_;
  SqliteDb db_;
  // Marks the open transaction as one that must be on disk when commit
  // returns (it records something about to change the host).
  void requireDurableCommit() { durableCommitPending_ = true; }
  // After a commit: syncs the WAL when the transaction asked for it.
  void finishCommit();

  bool transactionOpen_ = false;
  bool durableCommitPending_ = false;
  int callDepth_ = 0;  // nesting of atomically() calls
};

}  // namespace seclabel
