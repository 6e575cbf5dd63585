// Opening the state directory: permissions, WAL, schema versions.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include "alloc/sqlite_schema.h"
#include "alloc/store.h"
#include "core/error.h"
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
  // Back to what schema 1 wrote: its columns only, one remembered file.
  execSql(dir.databasePath(),
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

}  // namespace
}  // namespace seclabel
