// The state store: everything seclabel must remember between processes.
//
// One Store holds, for every guest the host (or cluster) knows:
//   - the identities it holds (DAC uid, MCS category pair), unique per store;
//   - its guest record (name, uuid, live XML, state, pid + pid start time);
//   - the original owner/mode/security.selinux of every resource it changed,
//     keyed by (st_dev, st_ino) and reference counted across guests;
//   - the disks it is served by fd passing instead of by labeling;
//   - an intent journal, so a process killed at any instant (SIGKILL) leaves
//     enough behind for `seclabel recover` to undo a half-done prepare.
//
// The embedded backend is SQLite (openSqliteStore); the interface is what
// secdriver/ and tools/ program against, so an etcd backend can follow.
//
// Atomicity: every method is atomic on its own (one transaction). To make
// several calls one unit, open a StoreTransaction with begin(); until it is
// committed or destroyed, every method of this Store runs inside it, and
// destroying it without commit() rolls all of them back.
//
// Thread safety: a Store is one connection; use it from one thread at a time.
// Different processes (or Store objects) on the same state directory are safe
// against each other: that is what the store is for.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alloc/allocation_space.h"
#include "core/export.h"
#include "core/trusted_path.h"

namespace seclabel {

// Who holds an identity or a resource.
struct Owner {
  std::string guestUuid;
  std::string guestName;
  std::string host;  // the host name the guest was prepared on
  bool operator==(const Owner&) const = default;
};

// One identity held by a guest. `id` is a DAC uid (the gid follows from the
// space, see dacLabelForIdentity) or an encoded MCS pair (alloc/mcs_encoding.h).
struct Identity {
  IdentityKind kind = IdentityKind::Dac;
  uint64_t id = 0;
  Owner owner;
  bool operator==(const Identity&) const = default;
};

enum class GuestState { Prepared, Running, Failed };
// "prepared", "running", "failed" (what `seclabel list` prints).
SECLABEL_API const char* guestStateName(GuestState state);
// Throws Error(Failed) on anything else (a corrupt or newer store).
GuestState parseGuestState(const std::string& name);

struct GuestRecord {
  std::string uuid;
  std::string name;
  std::string domainType;  // kvm, qemu, ...
  GuestState state = GuestState::Prepared;
  std::optional<int64_t> pid;           // set once the guest runs
  std::optional<uint64_t> pidStartTime;  // /proc/PID/stat field 22: a recycled pid differs
  std::string liveXml;
  std::string host;
  std::vector<std::string> drivers;  // security driver models, stack order
  // Which instance of the guest this is: putGuest gives each new record a
  // number no earlier record in the store had (updateGuest keeps it; 0 for
  // guests prepared before schema 3). A launcher acts only on the instance
  // it prepared or started.
  uint64_t generation = 0;
  bool operator==(const GuestRecord&) const = default;
};

// How a guest uses a resource: a private writable image is Exclusive (no
// other guest may use it at the same time); read-only and shareable images
// are Shared.
enum class ResourceUse { Exclusive, Shared };

// name_to_handle_at(2) of a file: finds it again, by inode and generation,
// whatever it has been renamed or moved to on its file system.
struct FileHandle {
  int32_t type = 0;      // handle_type
  std::string bytes;     // f_handle, handle_bytes long
  uint64_t filesystemId = 0;  // statfs f_fsid: the file system the handle is for
  bool operator==(const FileHandle&) const = default;
};

// The exact bytes of the xattrs that decide who may use a file; nullopt:
// the file had none (restore removes one the guest added).
struct AccessXattrs {
  std::optional<std::string> selinux;     // security.selinux, trailing NUL or not
  std::optional<std::string> aclAccess;   // system.posix_acl_access
  std::optional<std::string> aclDefault;  // system.posix_acl_default
  std::optional<std::string> capability;  // security.capability
  bool operator==(const AccessXattrs&) const = default;
};

// What a file looked like before the first guest changed it; restore puts
// back exactly this. Captured by the caller from the O_PATH fd it acts on.
struct RememberedResource {
  uint64_t dev = 0;  // st_dev
  uint64_t ino = 0;  // st_ino
  std::string path;  // for messages and `recover` (the inode is the key)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;  // st_mode & 07777
  // security.selinux as found; nullopt means the file had no such xattr
  // (restore then removes it, it does not write a guessed default).
  std::optional<std::string> selinuxLabel;
  // False when the file system refused security.* xattrs (ENOTSUP) when the
  // original was read: restore then does not touch the label.
  bool selinuxXattrSupported = true;
  // Since store schema 2. nullopt for an original remembered before: restore
  // then puts back owner, mode and selinuxLabel only, as it did.
  std::optional<AccessXattrs> xattrs;
  // nullopt when the file system gives no handles (restore then finds the
  // file by its path only).
  std::optional<FileHandle> handle;
  bool operator==(const RememberedResource&) const = default;
};

struct ResourceHolder {
  std::string guestUuid;
  std::string guestName;  // from the guest record, empty if none yet
  ResourceUse use = ResourceUse::Shared;
  uint32_t references = 0;  // remember() calls by this guest not yet forgotten
};

// A resource some guest currently holds, with the original to restore.
struct HeldResource {
  RememberedResource original;
  ResourceUse use = ResourceUse::Shared;
  uint32_t references = 0;  // this guest's references
};

enum class DiskAccess { ReadOnly, ReadWrite };

// A disk served by fd passing (the file system refused to be relabeled, or
// fdpass = "always"); fdpass/ opens it for the guest.
struct FdPassedDisk {
  std::string target;  // <target dev=...>, e.g. "vda"
  std::string path;
  DiskAccess access = DiskAccess::ReadWrite;
  bool operator==(const FdPassedDisk&) const = default;
};

// Host objects seclabel makes for a running guest outside the file system
// (docs/network.md, docs/devices.md): recorded before they are made, so
// that restore and recover find and remove them.
//
// A link (tap, macvtap) the launcher creates. `tag` (IFLA_IFALIAS,
// "seclabel:UUID:ALIAS") is known before the link exists; the rest once the
// kernel made it (ifindex unset: recover looks the tag up instead).
struct GuestLinkRecord {
  std::string tag;
  std::string mac;  // the guest's MAC, for the stop record
  std::optional<int64_t> ifindex;
  std::string name;
  std::string kind;  // "tun" or "macvtap"
  std::optional<int64_t> parentIndex;      // passthrough macvtap only
  std::optional<std::string> parentAddress;  // its parent's own MAC, aa:bb:..
  bool operator==(const GuestLinkRecord&) const = default;
};

// Intents: recorded (and committed) before acting, completed after.
//   Prepare         a prepare of guestUuid has begun; recover undoes it unless
//                   completed (restore every remembered resource of the
//                   guest, release its identities, delete its record).
//   Restore         a restore has begun; recover finishes it.
//   LabelResource,
//   RestoreResource per-resource kinds the store can hold, but nothing
//                   records them: a resource is changed and put back under
//                   its guest's Prepare or Restore intent, which recover
//                   undoes or finishes as a whole. recover completes (drops)
//                   one it finds once its worker is gone, and acts on
//                   nothing else of it.
//   Supervise       a live launcher (`run`, spawnGuest) waits for the guest's
//                   process and restores it afterwards: recover leaves the
//                   guest alone while that launcher lives, even once the
//                   guest's own process is gone, and completes the intent
//                   once the launcher is gone.
//   Attach          a hot-plug of one device into a running guest has begun
//                   (payload: the device, the QMP socket): recover undoes
//                   it unless QEMU has the device, which it then records.
//   Detach          a hot-unplug has begun: recover finishes it once QEMU
//                   no longer has the device.
enum class IntentKind { Prepare, Restore, LabelResource, RestoreResource, Supervise, Attach,
                        Detach };
const char* intentKindName(IntentKind kind);
IntentKind parseIntentKind(const std::string& name);

struct Intent {
  int64_t id = 0;
  std::string guestUuid;
  IntentKind kind = IntentKind::Prepare;
  std::string payloadJson;  // opaque to the store
  int64_t createdAtUnix = 0;
};

// A unit of work on a Store: BEGIN IMMEDIATE (the write lock is taken at
// once, so two processes never both read a cursor and then race to write
// it). Rolls back on destruction unless commit() succeeded.
class SECLABEL_API StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;
  // Throws Error on failure; the transaction is then rolled back.
  virtual void commit() = 0;
};

class SECLABEL_API Store {
 public:
  virtual ~Store() = default;

  // One transaction at a time per Store: begin() while one is open throws.
  virtual std::unique_ptr<StoreTransaction> begin() = 0;

  // ---- identities ----------------------------------------------------

  // Hands out the next free id of `space` after the space's persistent
  // cursor (next fit: a released id is reused as late as possible), skipping
  // ids held by anyone (dynamic or reserved) and ids the space excludes (DAC:
  // present in the passwd or group database, checked at this moment).
  // Cost: O(log n) per step of the gap search, however full the space is.
  // The exclusion test runs after the id is taken, outside the write lock;
  // an excluded id is given back at once (so outside a caller's transaction
  // such an allocation is a few transactions, each leaving a valid state).
  // A full space throws Error(NoIdentity) at once, e.g.
  //   "no free dac identity in 1879048192-1879048255 (64 of 64 in use)".
  virtual uint64_t allocate(const AllocationSpace& space, const Owner& owner) = 0;

  // Records that `owner` holds `id` (a static label, or a label read back
  // from a running guest). Succeeds when the id is free or already held by
  // owner.guestUuid; otherwise Error(NoIdentity) naming the holder guest.
  // The id need not lie in any configured space.
  virtual void reserve(IdentityKind kind, uint64_t id, const Owner& owner) = 0;

  // Idempotent: releasing an id that is free, or held by another guest, does
  // nothing (and never frees the other guest's id).
  virtual void release(IdentityKind kind, uint64_t id, const std::string& guestUuid) = 0;
  virtual void releaseAllOf(const std::string& guestUuid) = 0;
  virtual std::vector<Identity> identitiesOf(const std::string& guestUuid) = 0;
  virtual std::optional<Owner> holderOf(IdentityKind kind, uint64_t id) = 0;
  // How many identities of `space` are held right now.
  virtual uint64_t countInUse(const AllocationSpace& space) = 0;

  // ---- guests ----------------------------------------------------------

  // Inserts a new guest with the next generation (findGuest tells which;
  // guest.generation is ignored). A uuid or name already present throws
  // Error(NoIdentity, "guest NAME (UUID) is already prepared").
  virtual void putGuest(const GuestRecord& guest) = 0;
  // Replaces the record with guest.uuid; Error(InvalidInput,
  // "no such guest: UUID") when absent.
  virtual void updateGuest(const GuestRecord& guest) = 0;
  // By uuid first, then by name; then, for a uuid in another form the XML
  // accepts (upper case, no dashes), by its canonical form.
  virtual std::optional<GuestRecord> findGuest(const std::string& nameOrUuid) = 0;
  // findGuest among the guests this host holds: what recover may act on. A
  // store shared by a cluster answers from this host's own records, without
  // a round trip (a dead guest of another host is not this host's to settle).
  virtual std::optional<GuestRecord> findLocalGuest(const std::string& nameOrUuid) {
    return findGuest(nameOrUuid);
  }
  // Ordered by name. Holds every guest in memory: for many guests use
  // forEachGuest.
  virtual std::vector<GuestRecord> listGuests() = 0;
  // Calls `visit` with each guest in name order, one record in memory at a
  // time (`seclabel list` streams with it). `visit` may read this Store
  // (list asks for each guest's cgroup) but must not change it: the read is
  // still open. An exception from it ends the iteration and propagates.
  virtual void forEachGuest(const std::function<void(const GuestRecord&)>& visit) = 0;
  // The guests in state running, found through an index of running guests
  // only (not a scan of every guest), without their live XML (liveXml is
  // empty). What the full recover and the settling of dead guests check.
  virtual std::vector<GuestRecord> runningGuests() = 0;
  // Removes the record, its fd-passed disks and MAC addresses; a cgroup or
  // link still recorded is marked for forgottenGuestsWithHostObjects. Identities, remembered
  // resources and intents are not touched: release/forget them first.
  virtual void deleteGuest(const std::string& uuid) = 0;

  // ---- remembered original labels of resources ---------------------------

  // Adds one reference of `guestUuid` to the resource (dev, ino). Returns
  // true when this is the first reference of any guest: `original` is then
  // stored and the caller goes on to change the file. Otherwise the stored
  // original (from the first guest) is kept and `original` is ignored.
  // Throws Error(NoIdentity) naming both guests and the path when an
  // Exclusive use meets another guest's use (either way round).
  virtual bool remember(const RememberedResource& original,
                        const std::string& guestUuid, ResourceUse use) = 0;
  // Removes one reference of `guestUuid`. Returns the original when that was
  // the last reference of any guest (the caller restores it); nullopt when
  // others still hold it or the guest held nothing (idempotent).
  virtual std::optional<RememberedResource> forget(uint64_t dev, uint64_t ino,
                                                   const std::string& guestUuid) = 0;
  virtual std::vector<HeldResource> resourcesOf(const std::string& guestUuid) = 0;
  virtual std::vector<ResourceHolder> holdersOf(uint64_t dev, uint64_t ino) = 0;

  // ---- disks served by fd passing ---------------------------------------

  // Replaces any record for the same (guest, target).
  virtual void addFdPassedDisk(const std::string& guestUuid, const FdPassedDisk& disk) = 0;
  virtual std::vector<FdPassedDisk> fdPassedDisksOf(const std::string& guestUuid) = 0;
  virtual void removeFdPassedDisks(const std::string& guestUuid) = 0;
  // Forgets the fd-passed disk `target` of the guest (a detached disk),
  // keeping the others. Run it inside a transaction: the default rewrites
  // the guest's list.
  virtual void removeFdPassedDisk(const std::string& guestUuid, const std::string& target) {
    std::vector<FdPassedDisk> kept = fdPassedDisksOf(guestUuid);
    removeFdPassedDisks(guestUuid);
    for (const FdPassedDisk& disk : kept)
      if (disk.target != target) addFdPassedDisk(guestUuid, disk);
  }

  // ---- host objects of a guest (cgroup, links, MAC addresses) -------------
  // Kept apart from the guest record: they outlive it when they could not
  // be removed, so a later recover still finds them.

  // The guest's cgroup directory; recorded (durably) before it is created.
  virtual void setGuestCgroup(const std::string& guestUuid, const std::string& path) = 0;
  virtual std::optional<std::string> guestCgroupOf(const std::string& guestUuid) = 0;
  virtual void removeGuestCgroup(const std::string& guestUuid) = 0;
  // Inserts or replaces the record with (guestUuid, link.tag); durable.
  virtual void recordGuestLink(const std::string& guestUuid, const GuestLinkRecord& link) = 0;
  virtual std::vector<GuestLinkRecord> guestLinksOf(const std::string& guestUuid) = 0;
  virtual void removeGuestLink(const std::string& guestUuid, const std::string& tag) = 0;
  // Guests whose record was deleted (deleteGuest) while a cgroup or link of
  // theirs stayed recorded because it could not be removed: recover tries
  // again. Reads only those rows, however many guests the store has.
  virtual std::vector<std::string> forgottenGuestsWithHostObjects() = 0;
  // MAC addresses given to a guest's interfaces (its live XML's), so that a
  // generated address is unique among the store's guests. deleteGuest
  // forgets them.
  virtual void recordGuestMacs(const std::string& guestUuid,
                               const std::vector<std::string>& macs) = 0;
  // Whether a guest other than `exceptGuestUuid` has `mac` ("52:54:00:..").
  virtual bool macAddressTaken(const std::string& mac, const std::string& exceptGuestUuid) = 0;

  // ---- intent journal -----------------------------------------------------

  // Returns the intent's id. Commit it (outside a transaction: at once)
  // before acting on what it announces.
  virtual int64_t recordIntent(const std::string& guestUuid, IntentKind kind,
                               const std::string& payloadJson) = 0;
  // Idempotent.
  virtual void completeIntent(int64_t id) = 0;
  // Oldest first. Every pending intent, including the supervise intent of
  // every live `run`: linear in the guests that run.
  virtual std::vector<Intent> pendingIntents() = 0;
  // The pending Prepare and Restore intents, oldest first, found through an
  // index of those only: the cost follows the prepares and restores in
  // flight, not the supervise intents of the guests that run.
  virtual std::vector<Intent> inFlightIntents() = 0;
  virtual std::vector<Intent> pendingIntentsOf(const std::string& guestUuid) = 0;
};

// The state directory, opened once and verified (core/trusted_path.h): no
// symbolic link anywhere on its path, every ancestor owned by root (or the
// caller) and writable by nobody else (a root-owned sticky one such as /tmp
// excepted), the directory itself the caller's and writable by nobody else;
// created 0700 relative to its verified parent when absent. Any refusal is
// Error(PermissionDenied), exit 4. Everything in it is opened relative to
// the returned fd: the store, and anything else kept there (use
// TrustedDirectory::openPrivateFile, e.g. a lock file).
std::shared_ptr<const TrustedDirectory> openStateDirectory(const std::string& path);

// Opens (creating when absent) state.db in `stateDir`: the file 0600 (owned
// by the caller, root in production); WAL mode, a busy timeout so concurrent
// writers wait instead of failing, and the schema migrated to the current
// version (PRAGMA user_version). A database from a newer seclabel (higher
// user_version) is refused. state.db, state.db-wal and state.db-shm must be
// regular files of the caller's with one link (else PermissionDenied); a
// state.db of zero bytes is damage, not an empty store (Error(Failed)): a new
// store is built under a temporary name and renamed into place complete.
// The store keeps `stateDir` (its fd) open as long as it lives.
std::unique_ptr<Store> openSqliteStore(std::shared_ptr<const TrustedDirectory> stateDir);
// openSqliteStore(openStateDirectory(stateDir)).
std::unique_ptr<Store> openSqliteStore(const std::string& stateDir);

// Test seam (never set in production): called in this process after every
// durable commit of an SQLite store -- the WAL was synced, so the commit
// survives a power loss -- with the database path. Tests use it to check
// which commits are durable and what the host looked like at that moment.
void setDurableCommitHookForTesting(std::function<void(const std::string& databasePath)> hook);

// The local host name (uname nodename), for Owner::host.
std::string localHostName();

}  // namespace seclabel
