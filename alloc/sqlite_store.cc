// SqliteStore: opening the state directory, transactions, guest records,
// fd-passed disks and the intent journal.
#include "alloc/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <optional>
#include <utility>

#include "alloc/sqlite_schema.h"
#include "core/error.h"
#include "xml/xml.h"
#include "core/trusted_path.h"
#include "core/unique_fd.h"

namespace seclabel {

namespace {

// How long a writer waits for another process's transaction before giving
// up with "database is locked". Transactions here last microseconds to
// milliseconds; 30 s only matters when a process is stuck.
constexpr int kBusyTimeoutMs = 30000;

int64_t nowUnix() { return int64_t(::time(nullptr)); }

// SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, far
// longer than a transaction here holds the lock (tens of microseconds), so
// eight waiting processes would idle most of the time. Retry every 50-150
// microseconds (jittered, so waiters do not wake in lockstep) until
// kBusyTimeoutMs has passed; then SQLite reports SQLITE_BUSY.
int retryBusySoon(void* /*context*/, int attempt) {
  static thread_local struct timespec firstTry;
  struct timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  if (attempt == 0) firstTry = now;
  int64_t waitedMs = (now.tv_sec - firstTry.tv_sec) * 1000 +
                     (now.tv_nsec - firstTry.tv_nsec) / 1000000;
  if (waitedMs >= kBusyTimeoutMs) return 0;
  ::usleep(50 + unsigned(now.tv_nsec / 1000 % 100));
  return 1;
}

// WAL frames (4 KiB pages) after which a commit checkpoints the WAL into
// state.db and truncates it. A guest lifecycle appends about 35 frames;
// every process that opens the store first reads the whole WAL to rebuild
// its index, so a small bound keeps that read short while checkpoints (three
// syncs each) stay rare: one in about seven lifecycles.
constexpr int kWalCheckpointPages = 256;

// Replaces SQLite's auto-checkpoint (sqlite3_wal_hook: called after each
// commit with the WAL's size). SQLite's own is PASSIVE, and a PASSIVE
// checkpoint never shortens the WAL across processes: each opening rebuilds
// the WAL index as if nothing had been copied back yet, so the next writer
// appends instead of starting over, and the WAL would grow without bound.
// TRUNCATE empties the file. It must not wait on other connections (the
// busy handler would stall this commit's caller for up to 30 s): without a
// handler it gives up at once and the next large commit tries again.
int checkpointWhenLarge(void* /*context*/, sqlite3* db, const char* schema, int frames) {
  if (frames < kWalCheckpointPages) return SQLITE_OK;
  sqlite3_busy_handler(db, nullptr, nullptr);
  sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_handler(db, retryBusySoon, nullptr);
  return SQLITE_OK;  // a failed checkpoint loses nothing: the WAL keeps it all
}

constexpr const char* kDatabaseName = "state.db";

// SQLite's page cache (KiB) for the point lookups of every command: a full
// MCS space is ~60 MB, and the default 2 MB cache would re-read B-tree
// interior pages on every allocation.
constexpr int kPageCacheKiB = 16384;
// The page cache while a scan streams every guest (forEachGuest): a scan
// reads each page once, so a large cache only makes `list` hold more of the
// store the larger the store is; 1 MiB keeps the upper B-tree levels the
// name-ordered walk returns to.
constexpr int kScanPageCacheKiB = 1024;

// The files SQLite keeps beside state.db. Nobody but root can put anything
// in the verified directory; still, one found there must be a plain file of
// ours with one link before SQLite (which opens them O_NOFOLLOW) gets it:
// a hard link would make the store write into some other file.
constexpr const char* kCompanionNames[] = {"state.db-wal", "state.db-shm", "state.db-journal"};

void checkCompanionFiles(const TrustedDirectory& dir) {
  for (const char* name : kCompanionNames) {
    struct stat st;
    if (::fstatat(dir.fd(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      throw Error::fromErrno("cannot stat " + dir.pathOf(name), errno);
    }
    try {
      dir.openPrivateFile(name, O_RDONLY, TrustedDirectory::Create::No);
    } catch (const Error& e) {
      throw e.withContext("state store");
    }
  }
}

// A new state.db is built under a temporary name and renamed into place
// only once SQLite has written its header and the schema: so a state.db of
// zero bytes is never a store being created (a crash leaves the temporary
// file, not an empty state.db), and openers can treat one as damage.
void createDatabase(const TrustedDirectory& dir) {
  const std::string temporary = std::string(kDatabaseName) + ".new." + std::to_string(::getpid());
  // A leftover of a process with our pid is dead: start afresh.
  ::unlinkat(dir.fd(), temporary.c_str(), 0);
  UniqueFd fd = dir.openPrivateFile(temporary, O_RDWR, TrustedDirectory::Create::IfMissing);
  try {
    {
      SqliteDb db(dir.kernelPathOf(temporary), dir.pathOf(temporary));
      db.exec("PRAGMA page_size = 1024");  // see SqliteStore::SqliteStore
      db.exec("PRAGMA journal_mode = WAL");
      migrateSqliteSchema(db);
    }  // the only connection: closing it checkpoints and removes -wal and -shm
    if (::fsync(fd.get()) != 0) throw Error::fromErrno("cannot sync " + dir.pathOf(temporary), errno);
    if (::renameat2(dir.fd(), temporary.c_str(), dir.fd(), kDatabaseName, RENAME_NOREPLACE) != 0) {
      int err = errno;
      if (err == EINVAL) {
        // A file system without RENAME_NOREPLACE: link(2) never replaces either.
        if (::linkat(dir.fd(), temporary.c_str(), dir.fd(), kDatabaseName, 0) != 0 && errno != EEXIST)
          throw Error::fromErrno("cannot create state store " + dir.pathOf(kDatabaseName), errno);
      } else if (err != EEXIST) {  // EEXIST: another process made it first
        throw Error::fromErrno("cannot create state store " + dir.pathOf(kDatabaseName), err);
      }
    }
  } catch (...) {
    ::unlinkat(dir.fd(), temporary.c_str(), 0);
    throw;
  }
  ::unlinkat(dir.fd(), temporary.c_str(), 0);
  if (::fsync(dir.fd()) != 0) throw Error::fromErrno("cannot sync state directory " + dir.path(), errno);
}

// state.db, created when absent: a regular file of ours with one link, mode
// 0600 whatever the umask, never reached through a symlink. SQLite gives
// the -wal and -shm files the database file's mode.
void prepareDatabaseFile(const TrustedDirectory& dir) {
  UniqueFd fd;
  auto openDatabase = [&] {
    try {
      return dir.openPrivateFile(kDatabaseName, O_RDWR, TrustedDirectory::Create::No);
    } catch (const Error& e) {
      throw e.withContext("state store");
    }
  };
  try {
    fd = openDatabase();
  } catch (const Error& e) {
    if (e.errnum() != ENOENT) throw;
    createDatabase(dir);
    fd = openDatabase();
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    throw Error::fromErrno("cannot stat state store " + dir.pathOf(kDatabaseName), errno);
  if (st.st_size == 0)
    throw Error(ExitCode::Failed,
                "state store " + dir.pathOf(kDatabaseName) +
                    " is empty (0 bytes): it is damaged, not a new store; restore it from a "
                    "backup (removing it forgets every guest and every original label)");
  if ((st.st_mode & 07777) != 0600 && ::fchmod(fd.get(), 0600) != 0)
    throw Error::fromErrno("cannot chmod 0600 state store " + dir.pathOf(kDatabaseName), errno);
  checkCompanionFiles(dir);
}

std::optional<std::pair<dev_t, ino_t>> fileIdentity(const TrustedDirectory& dir, const char* name) {
  struct stat st;
  if (::fstatat(dir.fd(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return std::pair(st.st_dev, st.st_ino);
}

std::string joinDrivers(const std::vector<std::string>& drivers) {
  std::string joined;
  for (const auto& model : drivers) {
    if (model.find(',') != std::string::npos)
      throw Error::invalidInput("security driver model '" + model + "' contains a comma");
    if (!joined.empty()) joined += ',';
    joined += model;
  }
  return joined;
}

std::vector<std::string> splitDrivers(const std::string& joined) {
  std::vector<std::string> drivers;
  std::size_t start = 0;
  while (start < joined.size()) {
    std::size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    drivers.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return drivers;
}

const char* kGuestColumns =
    "uuid, name, domain_type, state, pid, pid_start_time, live_xml, host, drivers, generation";

GuestRecord readGuest(SqliteStatement& row) {
  GuestRecord guest;
  guest.uuid = row.text(0);
  guest.name = row.text(1);
  guest.domainType = row.text(2);
  guest.state = parseGuestState(row.text(3));
  guest.pid = row.optionalInt64(4);
  if (auto start = row.optionalInt64(5)) guest.pidStartTime = uint64_t(*start);
  guest.liveXml = row.text(6);
  guest.host = row.text(7);
  guest.drivers = splitDrivers(row.text(8));
  guest.generation = uint64_t(row.int64(9));
  return guest;
}

const char* accessName(DiskAccess access) {
  return access == DiskAccess::ReadOnly ? "ro" : "rw";
}

Intent readIntent(SqliteStatement& row) {
  Intent intent;
  intent.id = row.int64(0);
  intent.guestUuid = row.text(1);
  intent.kind = parseIntentKind(row.text(2));
  intent.payloadJson = row.text(3);
  intent.createdAtUnix = row.int64(4);
  return intent;
}

}  // namespace

// ---- opening -----------------------------------------------------------------

SqliteStore::SqliteStore(std::shared_ptr<const TrustedDirectory> stateDir)
    : stateDir_(std::move(stateDir)),
      db_(stateDir_->kernelPathOf(kDatabaseName), stateDir_->pathOf(kDatabaseName)) {
  sqlite3_busy_handler(db_.handle(), retryBusySoon, nullptr);
  // 1 KiB pages, for a new store (an existing one keeps its size): the rows
  // are small, and a guest lifecycle rewrites a dozen pages of which each
  // opening then reads and checksums every one still in the WAL, and each
  // durable commit writes them out. 4 KiB pages made that four times the
  // bytes (docs/store.md, docs/performance.md "Launch").
  db_.exec("PRAGMA page_size = 1024");
  db_.exec("PRAGMA cache_size = -" + std::to_string(kPageCacheKiB));
  // WAL: readers never block the writer and a commit is one append.
  // synchronous=NORMAL: a commit survives the process being killed at any
  // instant, but only a WAL sync makes it survive a power loss. Only a
  // transaction that remembers an original is synced before commit returns
  // (requireDurableCommit): its caller changes a file right after. The WAL is
  // sequential, so that one sync also makes everything committed before it
  // durable (the guest record and prepare intent, the allocations). The
  // contract is spelled out in docs/store.md ("Durability").
  setWalMode();
  db_.exec("PRAGMA synchronous = NORMAL");
  // No checkpoint when the last connection closes. Every seclabel command is
  // a short process, usually the only one on the store: by default each
  // would create the WAL (a sync of the WAL header and one of the directory)
  // and, on exit, copy it into state.db and delete it (two more syncs) --
  // four of the seven fdatasyncs of a `run`. The WAL now stays between
  // processes; checkpointWhenLarge empties it once it holds
  // kWalCheckpointPages.
  if (sqlite3_db_config(db_.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr) != SQLITE_OK)
    db_.fail("cannot keep the WAL on close", SQLITE_ERROR);
  sqlite3_wal_hook(db_.handle(), checkpointWhenLarge, nullptr);
  db_.exec("PRAGMA foreign_keys = ON");
  migrateSqliteSchema(db_);
}

// Switching a fresh database to WAL needs an exclusive lock, and SQLite does
// not call the busy handler for it: several processes opening a new store at
// once would see "database is locked". Retry for a while instead (the mode is
// persistent, so this only ever waits on a store's very first opening).
void SqliteStore::setWalMode() {
  for (int attempt = 0;; ++attempt) {
    try {
      db_.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (const Error& e) {
      bool locked = std::string(e.what()).find("locked") != std::string::npos ||
                    std::string(e.what()).find("busy") != std::string::npos;
      if (!locked || attempt >= 2000) throw;
      ::usleep(5000);  // up to ~10 s in all
    }
  }
}

std::shared_ptr<const TrustedDirectory> openStateDirectory(const std::string& path) {
  return std::make_shared<const TrustedDirectory>(TrustedDirectory::openPrivate(
      path, TrustedDirectory::IfMissing::Create0700, "state directory"));
}

std::unique_ptr<Store> openSqliteStore(const std::string& stateDir) {
  return openSqliteStore(openStateDirectory(stateDir));
}

std::unique_ptr<Store> openSqliteStore(std::shared_ptr<const TrustedDirectory> stateDir) {
  const TrustedDirectory& dir = *stateDir;
  prepareDatabaseFile(dir);
  const char* walName = kCompanionNames[0];
  auto walBefore = fileIdentity(dir, walName);
  auto store = std::make_unique<SqliteStore>(stateDir);
  // SqliteDb::syncWal syncs the WAL's data only (SQLite's own sync would
  // also fsync the directory on every process's first sync). So a WAL file
  // created by this opening gets its directory entry made durable here,
  // once. Opening the store read the WAL, so SQLite has it open now, and no
  // one replaces it while we are connected.
  bool walCreated = true;
  auto walNow = fileIdentity(dir, walName);
  if (!walNow) {
    // SQLite finds an empty WAL normal.
    dir.openPrivateFile(walName, O_RDWR, TrustedDirectory::Create::IfMissing, 0600, &walCreated);
  } else {
    walCreated = walNow != walBefore;
  }
  if (walCreated && ::fsync(dir.fd()) != 0)
    throw Error::fromErrno("cannot sync state directory " + dir.path(), errno);
  return store;
}

std::string localHostName() {
  struct utsname names;
  if (::uname(&names) != 0) throw Error::fromErrno("uname", errno);
  return names.nodename;
}

// ---- transactions --------------------------------------------------------------

class SqliteStoreTransaction final : public StoreTransaction {
 public:
  explicit SqliteStoreTransaction(SqliteStore& store)
      : store_(store), transaction_(store.db_) {
    store_.transactionOpen_ = true;
    store_.durableCommitPending_ = false;
  }
  ~SqliteStoreTransaction() override {
    store_.transactionOpen_ = false;
    store_.durableCommitPending_ = false;
  }
  void commit() override {
    transaction_.commit();
    store_.finishCommit();
  }

 private:
  SqliteStore& store_;
  SqliteTransaction transaction_;
};

std::unique_ptr<StoreTransaction> SqliteStore::begin() {
  if (transactionOpen_)
    throw Error(ExitCode::Failed, "state store " + db_.path() +
                                      ": a transaction is already open on this connection");
  return std::make_unique<SqliteStoreTransaction>(*this);
}

void SqliteStore::atomically(const std::function<void()>& work) {
  if (!transactionOpen_ && callDepth_ == 0) {
    durableCommitPending_ = false;
    SqliteTransaction transaction(db_);
    ++callDepth_;
    try {
      work();
    } catch (...) {
      --callDepth_;
      throw;
    }
    --callDepth_;
    transaction.commit();
    finishCommit();
    return;
  }
  // Inside a caller's transaction (or another call of this store): a
  // savepoint undoes just this call if it fails.
  db_.exec("SAVEPOINT store_call");
  ++callDepth_;
  try {
    work();
  } catch (...) {
    --callDepth_;
    sqlite3_exec(db_.handle(), "ROLLBACK TO store_call; RELEASE store_call", nullptr,
                 nullptr, nullptr);
    throw;
  }
  --callDepth_;
  db_.exec("RELEASE store_call");
}

namespace {
std::function<void(const std::string&)>& durableCommitHook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}
}  // namespace

void setDurableCommitHookForTesting(std::function<void(const std::string&)> hook) {
  durableCommitHook() = std::move(hook);
}

void SqliteStore::finishCommit() {
  if (durableCommitPending_) {
    durableCommitPending_ = false;
    db_.syncWal();
    if (durableCommitHook()) durableCommitHook()(db_.path());
  }
}

// ---- guests --------------------------------------------------------------------

void SqliteStore::putGuest(const GuestRecord& guest) {
  atomically([&] {
    {
      auto existing = db_.query(std::string("SELECT name, uuid FROM guests WHERE uuid = ?1 "
                                            "OR name = ?2 LIMIT 1"));
      existing->bind(1, guest.uuid).bind(2, guest.name);
      if (existing->step())
        throw Error::conflict("guest " + existing->text(0) + " (" + existing->text(1) +
                              ") is already prepared");
    }
    // A number no earlier instance of any guest had (GuestRecord::generation).
    db_.query("UPDATE generation_counter SET last = last + 1 WHERE only = 0")->run();
    auto insert = db_.query(
        "INSERT INTO guests (uuid, name, domain_type, state, pid, pid_start_time, live_xml, "
        "host, drivers, created_at, updated_at, generation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
        "?7, ?8, ?9, ?10, ?10, (SELECT last FROM generation_counter WHERE only = 0))");
    insert->bind(1, guest.uuid).bind(2, guest.name).bind(3, guest.domainType);
    insert->bind(4, guestStateName(guest.state)).bind(5, guest.pid);
    insert->bind(6, guest.pidStartTime).bind(7, guest.liveXml).bind(8, guest.host);
    insert->bind(9, joinDrivers(guest.drivers)).bind(10, nowUnix());
    insert->run();
  });
}

void SqliteStore::updateGuest(const GuestRecord& guest) {
  atomically([&] {
    {
      auto clash = db_.query("SELECT uuid FROM guests WHERE name = ?1 AND uuid <> ?2");
      clash->bind(1, guest.name).bind(2, guest.uuid);
      if (clash->step())
        throw Error::conflict("guest name " + guest.name + " is already used by " +
                              clash->text(0));
    }
    auto update = db_.query(
        "UPDATE guests SET name = ?2, domain_type = ?3, state = ?4, pid = ?5, "
        "pid_start_time = ?6, live_xml = ?7, host = ?8, drivers = ?9, updated_at = ?10 "
        "WHERE uuid = ?1");
    update->bind(1, guest.uuid).bind(2, guest.name).bind(3, guest.domainType);
    update->bind(4, guestStateName(guest.state)).bind(5, guest.pid);
    update->bind(6, guest.pidStartTime).bind(7, guest.liveXml).bind(8, guest.host);
    update->bind(9, joinDrivers(guest.drivers)).bind(10, nowUnix());
    update->run();
    if (db_.changes() == 0) throw Error::invalidInput("no such guest: " + guest.uuid);
  });
}

std::optional<GuestRecord> SqliteStore::findGuest(const std::string& nameOrUuid) {
  // A uuid match wins over a name match (a guest could be named like
  // another guest's uuid).
  auto query = db_.query(std::string("SELECT ") + kGuestColumns +
                         " FROM guests WHERE uuid = ?1 OR name = ?1 "
                         "ORDER BY uuid = ?1 DESC LIMIT 1");
  query->bind(1, nameOrUuid);
  if (query->step()) return readGuest(*query);
  // An upper-case or dashless uuid names the guest whose canonical uuid it
  // is, as in the XML (every uuid is stored canonical).
  auto canonical = normalizeUuid(nameOrUuid);
  if (!canonical || *canonical == nameOrUuid) return std::nullopt;
  auto byUuid = db_.query(std::string("SELECT ") + kGuestColumns + " FROM guests WHERE uuid = ?1");
  byUuid->bind(1, *canonical);
  if (!byUuid->step()) return std::nullopt;
  return readGuest(*byUuid);
}

std::vector<GuestRecord> SqliteStore::listGuests() {
  std::vector<GuestRecord> guests;
  forEachGuest([&](const GuestRecord& guest) { guests.push_back(guest); });
  return guests;
}

void SqliteStore::forEachGuest(const std::function<void(const GuestRecord&)>& visit) {
  // One statement stepped row by row (name order comes from the UNIQUE
  // index on name): SQLite holds a page or two, never the table.
  db_.exec("PRAGMA cache_size = -" + std::to_string(kScanPageCacheKiB));
  struct RestoreCache {
    SqliteDb& db;
    ~RestoreCache() {
      try {
        db.exec("PRAGMA cache_size = -" + std::to_string(kPageCacheKiB));
      } catch (...) {
        // Only the cache's size: the store works either way.
      }
    }
  } restoreCache{db_};
  auto query = db_.query(std::string("SELECT ") + kGuestColumns + " FROM guests ORDER BY name");
  while (query->step()) visit(readGuest(*query));
}

std::vector<GuestRecord> SqliteStore::runningGuests() {
  // `state = 'running'` matches the partial index guests_running (schema
  // step "hot-path indexes"): a SEARCH over the running guests only.
  auto query = db_.query(
      "SELECT uuid, name, domain_type, state, pid, pid_start_time, '', host, drivers "
      "FROM guests WHERE state = 'running' ORDER BY uuid");
  std::vector<GuestRecord> guests;
  while (query->step()) guests.push_back(readGuest(*query));
  return guests;
}

void SqliteStore::deleteGuest(const std::string& uuid) {
  atomically([&] {
    db_.query("DELETE FROM fd_passed_disks WHERE guest_uuid = ?1")->bind(1, uuid).run();
    db_.query("DELETE FROM guest_macs WHERE guest_uuid = ?1")->bind(1, uuid).run();
    // What could not be removed stays, marked for recover.
    db_.query("UPDATE guest_cgroups SET forgotten = 1 WHERE guest_uuid = ?1")->bind(1, uuid).run();
    db_.query("UPDATE guest_links SET forgotten = 1 WHERE guest_uuid = ?1")->bind(1, uuid).run();
    db_.query("DELETE FROM guests WHERE uuid = ?1")->bind(1, uuid).run();
  });
}

// ---- fd-passed disks -----------------------------------------------------------------

void SqliteStore::addFdPassedDisk(const std::string& guestUuid, const FdPassedDisk& disk) {
  auto insert = db_.query(
      "INSERT OR REPLACE INTO fd_passed_disks (guest_uuid, target, path, access) "
      "VALUES (?1, ?2, ?3, ?4)");
  insert->bind(1, guestUuid).bind(2, disk.target).bind(3, disk.path);
  insert->bind(4, accessName(disk.access)).run();
}

std::vector<FdPassedDisk> SqliteStore::fdPassedDisksOf(const std::string& guestUuid) {
  auto query = db_.query(
      "SELECT target, path, access FROM fd_passed_disks WHERE guest_uuid = ?1 ORDER BY target");
  query->bind(1, guestUuid);
  std::vector<FdPassedDisk> disks;
  while (query->step()) {
    disks.push_back({query->text(0), query->text(1),
                     query->text(2) == "ro" ? DiskAccess::ReadOnly : DiskAccess::ReadWrite});
  }
  return disks;
}

void SqliteStore::removeFdPassedDisks(const std::string& guestUuid) {
  db_.query("DELETE FROM fd_passed_disks WHERE guest_uuid = ?1")->bind(1, guestUuid).run();
}

// ---- intents -------------------------------------------------------------------------

int64_t SqliteStore::recordIntent(const std::string& guestUuid, IntentKind kind,
                                  const std::string& payloadJson) {
  int64_t id = 0;
  atomically([&] {
    auto insert = db_.query(
        "INSERT INTO intents (guest_uuid, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)");
    insert->bind(1, guestUuid).bind(2, intentKindName(kind)).bind(3, payloadJson);
    insert->bind(4, nowUnix()).run();
    id = db_.lastInsertRowid();
    // Not synced on its own: against a killed process the commit is enough,
    // and a power loss before the next synced commit (the remembered
    // originals, written before any file changes) loses only work that had
    // not touched the host yet (docs/store.md, "Durability").
  });
  return id;
}

void SqliteStore::completeIntent(int64_t id) {
  db_.query("DELETE FROM intents WHERE id = ?1")->bind(1, id).run();
}

std::vector<Intent> SqliteStore::pendingIntents() {
  auto query = db_.query(
      "SELECT id, guest_uuid, kind, payload, created_at FROM intents ORDER BY id");
  std::vector<Intent> intents;
  while (query->step()) intents.push_back(readIntent(*query));
  return intents;
}

std::vector<Intent> SqliteStore::inFlightIntents() {
  // The WHERE term is the partial index intents_in_flight's own, literally:
  // SQLite uses a partial index only for a query whose terms imply its WHERE.
  auto query = db_.query(
      "SELECT id, guest_uuid, kind, payload, created_at FROM intents "
      "WHERE kind IN ('prepare', 'restore') ORDER BY id");
  std::vector<Intent> intents;
  while (query->step()) intents.push_back(readIntent(*query));
  return intents;
}

std::vector<Intent> SqliteStore::pendingIntentsOf(const std::string& guestUuid) {
  auto query = db_.query(
      "SELECT id, guest_uuid, kind, payload, created_at FROM intents WHERE guest_uuid = ?1 "
      "ORDER BY id");
  query->bind(1, guestUuid);
  std::vector<Intent> intents;
  while (query->step()) intents.push_back(readIntent(*query));
  return intents;
}

}  // namespace seclabel
