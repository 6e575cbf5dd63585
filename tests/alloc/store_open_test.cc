// Opening the state directory: permissions, WAL, schema versions.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "alloc/sqlite_schema.h"
#include "alloc/store.h"
#include "core/error.h"
#include "core/trusted_path.h"
#include "tests/alloc/store_audit.h"
#include "tests/alloc/temp_state_dir.h"

namespace seclabel {
namespace {

using testing::TempStateDir;

mode_t modeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void execSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(StoreOpen, CreatesAPrivateDirectoryAndDatabaseWhateverTheUmask) {
  TempStateDir dir;
  mode_t old = ::umask(0);
  auto store = openSqliteStore(dir.stateDir());
  ::umask(old);
  EXPECT_EQ(modeOf(dir.stateDir()), 0700u);
  EXPECT_EQ(modeOf(dir.databasePath()), 0600u);
  struct stat st;
  ASSERT_EQ(::stat(dir.databasePath().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  // The WAL file exists once written, with the database's mode.
  store->recordIntent("u", IntentKind::Prepare, "{}");
  EXPECT_EQ(modeOf(dir.databasePath() + "-wal"), 0600u);
}

TEST(StoreOpen, UsesWalAndTheCurrentSchemaVersion) {
  TempStateDir dir;
  auto store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(testing::queryInteger(dir.databasePath(), "PRAGMA user_version"), kSqliteSchemaVersion);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.databasePath().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST(StoreOpen, KeepsDataAcrossReopening) {
  TempStateDir dir;
  AllocationSpace space = AllocationSpace::custom(IdentityKind::Dac, "t", {{100, 200}});
  uint64_t id = openSqliteStore(dir.stateDir())->allocate(space, {"u", "n", "h"});
  EXPECT_EQ(openSqliteStore(dir.stateDir())->holderOf(IdentityKind::Dac, id),
            (Owner{"u", "n", "h"}));
}

// Closing a store does not checkpoint the WAL (each short seclabel process
// would pay two syncs for it): the WAL stays, and every committed
// transaction is found by the next opening. Checkpoints at a bounded size
// keep the WAL, which each opening reads, small however many processes ran.
TEST(StoreOpen, KeepsTheWalBetweenOpeningsAndBoundsIt) {
  TempStateDir dir;
  AllocationSpace space = AllocationSpace::custom(IdentityKind::Dac, "t", {{100, 100000}});
  const std::string wal = dir.databasePath() + "-wal";
  std::vector<uint64_t> ids;
  for (int process = 0; process < 300; ++process) {
    auto store = openSqliteStore(dir.stateDir());
    ids.push_back(store->allocate(space, {"u" + std::to_string(process), "n", "h"}));
    store.reset();
    ASSERT_TRUE(std::filesystem::exists(wal)) << "the WAL is kept after close";
    // 256 pages of 1 KiB plus their frame headers, plus one transaction.
    EXPECT_LT(std::filesystem::file_size(wal), 300u * 1024) << "after " << process;
  }
  auto store = openSqliteStore(dir.stateDir());
  for (std::size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(store->holderOf(IdentityKind::Dac, ids[i]), (Owner{"u" + std::to_string(i), "n", "h"}));
}

// Small pages keep what a lifecycle writes to the WAL, and what each
// opening reads back from it, small (docs/store.md). The page size of an
// existing store is left as it is.
TEST(StoreOpen, ANewStoreUses1KiBPagesAndAnExistingOneKeepsItsSize) {
  TempStateDir fresh;
  openSqliteStore(fresh.stateDir());
  EXPECT_EQ(testing::queryInteger(fresh.databasePath(), "PRAGMA page_size"), 1024);

  TempStateDir older;
  ASSERT_EQ(::mkdir(older.stateDir().c_str(), 0700), 0);
  execSql(older.databasePath(), "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; "
                                "CREATE TABLE made_by_an_older_seclabel (x)");
  AllocationSpace space = AllocationSpace::custom(IdentityKind::Dac, "t", {{100, 200}});
  uint64_t id = openSqliteStore(older.stateDir())->allocate(space, {"u", "n", "h"});
  EXPECT_EQ(testing::queryInteger(older.databasePath(), "PRAGMA page_size"), 4096);
  EXPECT_EQ(openSqliteStore(older.stateDir())->holderOf(IdentityKind::Dac, id),
            (Owner{"u", "n", "h"}));
}

TEST(StoreOpen, AStoreOfSchemaOneIsMigratedAndItsOriginalsReadAsBefore) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  // Back to what schema 1 wrote: its columns only (no table or index of a
  // later step), one remembered file.
  execSql(dir.databasePath(),
          "DROP TABLE guest_cgroups; DROP TABLE guest_links; DROP TABLE guest_macs; "
          "DROP INDEX guests_running; DROP INDEX intents_in_flight; "
          "DROP TABLE generation_counter; "
          "ALTER TABLE guests DROP COLUMN generation; "
          "ALTER TABLE resources DROP COLUMN handle_type; "
          "ALTER TABLE resources DROP COLUMN handle; "
          "ALTER TABLE resources DROP COLUMN handle_fsid; "
          "ALTER TABLE resources DROP COLUMN exact_xattrs; "
          "ALTER TABLE resources DROP COLUMN xattr_selinux; "
          "ALTER TABLE resources DROP COLUMN xattr_acl_access; "
          "ALTER TABLE resources DROP COLUMN xattr_acl_default; "
          "ALTER TABLE resources DROP COLUMN xattr_capability; "
          "INSERT INTO resources (dev, ino, path, uid, gid, mode, selinux_label, "
          "selinux_xattr_supported, remembered_at) VALUES (2051, 77, '/img/a.qcow2', 107, 108, "
          "416, 'system_u:object_r:virt_image_t:s0', 1, 0); "
          "INSERT INTO resource_holders (dev, ino, guest_uuid, use, refs) "
          "VALUES (2051, 77, 'u', 'exclusive', 1); "
          "PRAGMA user_version = 1");
  auto store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(testing::queryInteger(dir.databasePath(), "PRAGMA user_version"),
            kSqliteSchemaVersion);
  auto held = store->resourcesOf("u");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].original.path, "/img/a.qcow2");
  EXPECT_EQ(held[0].original.mode, 0640u);
  EXPECT_EQ(held[0].original.selinuxLabel, "system_u:object_r:virt_image_t:s0");
  EXPECT_FALSE(held[0].original.xattrs.has_value()) << "schema 1 kept no exact xattrs";
  EXPECT_FALSE(held[0].original.handle.has_value());
  EXPECT_EQ(testing::queryInteger(dir.databasePath(),
                                  "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                  "name IN ('guests_running', 'intents_in_flight')"),
            2);
}

// Schema 3 numbers guest instances. A store of schema 2 with a guest in it
// is migrated: that guest reads as generation 0, every guest put from then
// on gets a number no earlier one had, even under a uuid seen before.
TEST(StoreOpen, AStoreOfSchemaFourIsMigratedAndGuestsGetGenerations) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  execSql(dir.databasePath(),
          "DROP TABLE generation_counter; "
          "ALTER TABLE guests DROP COLUMN generation; "
          "INSERT INTO guests (uuid, name, domain_type, state, live_xml, host, drivers, "
          "created_at, updated_at) VALUES ('old', 'old-guest', 'kvm', 'prepared', '', 'h', "
          "'dac', 0, 0); "
          "PRAGMA user_version = 4");
  auto store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(testing::queryInteger(dir.databasePath(), "PRAGMA user_version"), 5);
  ASSERT_TRUE(store->findGuest("old").has_value());
  EXPECT_EQ(store->findGuest("old")->generation, 0u);

  GuestRecord guest;
  guest.uuid = "u1";
  guest.name = "g1";
  guest.domainType = "kvm";
  guest.host = "h";
  guest.generation = 77;  // ignored: the store numbers instances
  store->putGuest(guest);
  const uint64_t first = store->findGuest("u1")->generation;
  EXPECT_EQ(first, 1u);
  store->updateGuest(*store->findGuest("u1"));
  EXPECT_EQ(store->findGuest("u1")->generation, first) << "an update is the same instance";
  store->deleteGuest("u1");
  store->putGuest(guest);
  EXPECT_EQ(store->findGuest("u1")->generation, first + 1) << "a new instance of the uuid";
}

TEST(StoreOpen, RefusesADatabaseFromANewerSeclabel) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  execSql(dir.databasePath(), "PRAGMA user_version = 99");
  try {
    openSqliteStore(dir.stateDir());
    FAIL() << "opened a newer schema";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 99, newer than this seclabel"),
              std::string::npos)
        << error.what();
  }
}

TEST(StoreOpen, RefusesAStateDirectoryOthersCanWrite) {
  TempStateDir dir;
  ASSERT_EQ(::mkdir(dir.stateDir().c_str(), 0777), 0);
  ASSERT_EQ(::chmod(dir.stateDir().c_str(), 0777), 0);
  try {
    openSqliteStore(dir.stateDir());
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  }
}

TEST(StoreOpen, RefusesADatabaseThatIsASymlink) {
  TempStateDir dir;
  ASSERT_EQ(::mkdir(dir.stateDir().c_str(), 0700), 0);
  std::filesystem::create_symlink("/etc/passwd", dir.databasePath());
  EXPECT_THROW(openSqliteStore(dir.stateDir()), Error);
}

// ---- the state directory is opened once, by fd, every ancestor checked ----

// The error openSqliteStore(path) throws, or a test failure.
Error openError(const std::string& stateDir) {
  try {
    openSqliteStore(stateDir);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "opened a store in " << stateDir;
  return Error(ExitCode::Ok, "");
}

// The documented exit code: a symlinked state directory is denied (4), not
// a failure (1).
TEST(StoreOpen, RefusesAStateDirectoryThatIsASymlinkWithExit4) {
  TempStateDir dir;
  TempStateDir forged;
  openSqliteStore(forged.stateDir());
  std::filesystem::create_symlink(forged.stateDir(), dir.stateDir());
  Error e = openError(dir.stateDir());
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("is a symbolic link"), std::string::npos) << e.what();
}

// The attack of the hardening issue: the owner of a parent directory points
// it at a store of their own, and root's recover "restores" a file to
// 1000:1000 mode 6777 from it.
TEST(StoreOpen, RefusesAStateDirectoryBehindASymlinkedAncestor) {
  TempStateDir dir;
  TempStateDir forged;
  openSqliteStore(forged.stateDir());
  const std::string parent = dir.stateDir() + "-parent";
  std::filesystem::create_symlink(std::filesystem::path(forged.stateDir()).parent_path(), parent);
  Error e = openError(parent + "/state");
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find(parent + " is a symbolic link"), std::string::npos)
      << e.what();
}

TEST(StoreOpen, RefusesAStateDirectoryUnderAnAncestorAnotherUserOwns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: chown to another user";
  TempStateDir dir;
  const std::string parent = dir.stateDir() + "-parent";
  ASSERT_EQ(::mkdir(parent.c_str(), 0755), 0);
  ASSERT_EQ(::chown(parent.c_str(), 65534, 65534), 0);
  Error e = openError(parent + "/state");
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_FALSE(std::filesystem::exists(parent + "/state")) << "created under an untrusted parent";
}

TEST(StoreOpen, RefusesAStateDirectoryUnderAGroupWritableAncestor) {
  TempStateDir dir;
  const std::string parent = dir.stateDir() + "-parent";
  ASSERT_EQ(::mkdir(parent.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(parent.c_str(), 0775), 0);
  EXPECT_EQ(openError(parent + "/state").code(), ExitCode::PermissionDenied);
}

// A parent swapped for a symlink to a forged store between the check of one
// component and the opening of the next: the store opened is the genuine one,
// reached through the verified directory fd, and so is everything SQLite
// opens by name afterwards (its WAL).
TEST(StoreOpen, OpensTheVerifiedDirectoryWhenAParentIsSwappedMidWalk) {
  namespace fs = std::filesystem;
  AllocationSpace space = AllocationSpace::custom(IdentityKind::Dac, "t", {{100, 200}});
  TempStateDir dir;
  const std::string top = fs::path(dir.stateDir()).parent_path().string() + "/top";
  fs::create_directories(top + "/parent");
  openSqliteStore(top + "/parent/state")->allocate(space, {"genuine", "g", "h"});
  TempStateDir forged;
  const std::string forgedTop = fs::path(forged.stateDir()).parent_path().string() + "/top";
  fs::create_directories(forgedTop + "/parent");
  openSqliteStore(forgedTop + "/parent/state")->allocate(space, {"forged", "f", "h"});

  bool swapped = false;
  setTrustedWalkHookForTesting([&](const std::string& verified) {
    if (verified != top + "/parent" || swapped) return;
    fs::rename(top, top + ".moved");
    fs::create_symlink(forgedTop, top);
    swapped = true;
  });
  auto store = openSqliteStore(top + "/parent/state");
  setTrustedWalkHookForTesting({});
  ASSERT_TRUE(swapped);
  EXPECT_EQ(store->holderOf(IdentityKind::Dac, 100), (Owner{"genuine", "g", "h"}));
  store->allocate(space, {"second", "s", "h"});  // written through the WAL
  store.reset();
  EXPECT_EQ(openSqliteStore(top + ".moved/parent/state")->holderOf(IdentityKind::Dac, 101),
            (Owner{"second", "s", "h"}));
  EXPECT_FALSE(openSqliteStore(forgedTop + "/parent/state")->holderOf(IdentityKind::Dac, 101));
}

TEST(StoreOpen, RefusesAPlantedWalSymlinkAndLeavesItsTargetAlone) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  const std::string target = dir.stateDir() + "-target";
  { std::ofstream(target) << "precious"; }
  std::filesystem::remove(dir.databasePath() + "-wal");
  std::filesystem::create_symlink(target, dir.databasePath() + "-wal");
  Error e = openError(dir.stateDir());
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("state.db-wal"), std::string::npos) << e.what();
  EXPECT_EQ(std::filesystem::file_size(target), 8u);
  std::filesystem::remove(target);
}

TEST(StoreOpen, RefusesAPlantedShmSymlink) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  std::filesystem::remove(dir.databasePath() + "-shm");
  std::filesystem::create_symlink("/dev/null", dir.databasePath() + "-shm");
  EXPECT_EQ(openError(dir.stateDir()).code(), ExitCode::PermissionDenied);
}

// A second name for state.db (or a state.db that is a second name for some
// other file) would let the store write through it.
TEST(StoreOpen, RefusesADatabaseWithASecondHardLink) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  const std::string second = dir.stateDir() + "-second-name";
  ASSERT_EQ(::link(dir.databasePath().c_str(), second.c_str()), 0);
  Error e = openError(dir.stateDir());
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("hard links"), std::string::npos) << e.what();
  std::filesystem::remove(second);
}

// An empty state.db is a store that lost everything, not a new one: opening
// it as new would forget every guest's identities and original labels.
TEST(StoreOpen, AZeroByteDatabaseIsDamageNotAnEmptyStore) {
  TempStateDir dir;
  ASSERT_EQ(::mkdir(dir.stateDir().c_str(), 0700), 0);
  { std::ofstream create(dir.databasePath()); }
  ::chmod(dir.databasePath().c_str(), 0600);
  Error e = openError(dir.stateDir());
  EXPECT_EQ(e.code(), ExitCode::Failed) << e.what();
  EXPECT_NE(std::string(e.what()).find("is empty (0 bytes)"), std::string::npos) << e.what();
  EXPECT_EQ(std::filesystem::file_size(dir.databasePath()), 0u) << "left as found";
}

// A new store appears complete: built under a temporary name, renamed into
// place, nothing else left behind.
TEST(StoreOpen, ANewStoreIsCompleteWhenItAppears) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  EXPECT_GT(std::filesystem::file_size(dir.databasePath()), 0u);
  EXPECT_EQ(testing::queryInteger(dir.databasePath(), "PRAGMA user_version"), kSqliteSchemaVersion)
      << "a new store is created at the current schema, not migrated into it";
  for (const auto& entry : std::filesystem::directory_iterator(dir.stateDir()))
    EXPECT_EQ(entry.path().filename().string().rfind("state.db", 0), 0u) << entry.path();
  for (const auto& entry : std::filesystem::directory_iterator(dir.stateDir()))
    EXPECT_EQ(entry.path().filename().string().find(".new."), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace seclabel
