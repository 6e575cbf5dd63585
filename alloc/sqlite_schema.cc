#include "alloc/sqlite_schema.h"

#include <string>
#include <vector>

#include "core/error.h"

namespace seclabel {

namespace {

// Schema step "resource identity and exact xattrs": a remembered file is
// found again by its file handle after a rename or a move, and restore puts
// back the exact bytes of every access-relevant xattr (docs/store.md).
constexpr const char* kResourceHandlesAndExactXattrs = R"sql(
ALTER TABLE resources ADD COLUMN handle_type INTEGER;  -- NULL: no handle
ALTER TABLE resources ADD COLUMN handle BLOB;
ALTER TABLE resources ADD COLUMN handle_fsid INTEGER;
-- 1: the four xattr_ columns hold the exact values (NULL = absent);
-- 0: an original remembered by schema 1, which had none of them.
ALTER TABLE resources ADD COLUMN exact_xattrs INTEGER NOT NULL DEFAULT 0
  CHECK (exact_xattrs IN (0, 1));
ALTER TABLE resources ADD COLUMN xattr_selinux BLOB;
ALTER TABLE resources ADD COLUMN xattr_acl_access BLOB;
ALTER TABLE resources ADD COLUMN xattr_acl_default BLOB;
ALTER TABLE resources ADD COLUMN xattr_capability BLOB;
)sql";

// Schema step "host objects of guests": the cgroup and the links a guest's
// launcher made (recorded before they are made, so restore and recover
// remove them), and the MAC addresses its interfaces use (generated ones
// are unique among the store's guests). Self-contained (new tables only),
// so it can take any place in the list of steps.
constexpr const char* kGuestHostObjects = R"sql(
-- forgotten = 1: the guest record was deleted while this stayed (it could
-- not be removed); recover finds those through the partial indexes.
CREATE TABLE guest_cgroups (
  guest_uuid TEXT PRIMARY KEY,
  path       TEXT NOT NULL,
  forgotten  INTEGER NOT NULL DEFAULT 0 CHECK (forgotten IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX guest_cgroups_forgotten ON guest_cgroups (forgotten) WHERE forgotten = 1;
CREATE TABLE guest_links (
  guest_uuid     TEXT    NOT NULL,
  tag            TEXT    NOT NULL,   -- IFLA_IFALIAS, seclabel:UUID:ALIAS
  mac            TEXT    NOT NULL,
  ifindex        INTEGER,            -- NULL until the kernel made it
  name           TEXT    NOT NULL,
  kind           TEXT    NOT NULL,
  parent_index   INTEGER,
  parent_address TEXT,
  forgotten      INTEGER NOT NULL DEFAULT 0 CHECK (forgotten IN (0, 1)),
  PRIMARY KEY (guest_uuid, tag)
) WITHOUT ROWID;
CREATE INDEX guest_links_forgotten ON guest_links (forgotten) WHERE forgotten = 1;
CREATE TABLE guest_macs (
  mac        TEXT NOT NULL,
  guest_uuid TEXT NOT NULL,
  PRIMARY KEY (mac, guest_uuid)
) WITHOUT ROWID;
CREATE INDEX guest_macs_by_guest ON guest_macs (guest_uuid);
)sql";

// Schema step "hot-path indexes": what the recover pass at the start of
// every mutating command, and the full `seclabel recover`, look for is found
// by an index SEARCH instead of a SCAN of every guest and every intent
// (docs/store.md, "What recover relies on"). Self-contained on purpose: it
// only adds indexes, so it can be renumbered freely when another step lands
// before it.
constexpr const char* kHotPathIndexes = R"sql(
-- The running guests (a partial index: prepared and failed guests, the
-- many, are not in it). Only the full recover and the settling of dead
-- guests read it, never a command's hot path.
CREATE INDEX guests_running ON guests (state) WHERE state = 'running';
-- The pending prepare and restore intents, which the recover pass of every
-- mutating command reads; partial, so the supervise intent every live `run`
-- keeps is neither read nor indexed (one page less to write per `run`).
CREATE INDEX intents_in_flight ON intents (kind) WHERE kind IN ('prepare', 'restore');
)sql";

// Schema step "guest generations": every guest instance gets a number no
// earlier instance had (one counter for the store), so a launcher that
// slept through its guest's restore and a new prepare of the same uuid can
// tell the new instance is not its own (docs/store.md).
constexpr const char* kGuestGenerations = R"sql(
ALTER TABLE guests ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE TABLE generation_counter (
  only INTEGER PRIMARY KEY CHECK (only = 0),
  last INTEGER NOT NULL
);
INSERT INTO generation_counter (only, last) VALUES (0, 0);
)sql";

// migrations[i] brings the schema from version i to i + 1. Never edit a
// step that has shipped: append a new one. docs/store.md describes the
// tables.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {
      // 0 -> 1: the first schema.
      R"sql(
CREATE TABLE identities (
  kind        INTEGER NOT NULL CHECK (kind IN (0, 1)),   -- 0 dac, 1 mcs
  id          INTEGER NOT NULL CHECK (id >= 0),          -- uid, or MCS pair code
  guest_uuid  TEXT    NOT NULL,
  guest_name  TEXT    NOT NULL,
  host        TEXT    NOT NULL,
  how         TEXT    NOT NULL CHECK (how IN ('allocated', 'reserved')),
  acquired_at INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX identities_by_guest ON identities (guest_uuid);

-- Maximal runs of consecutive held ids, kept in step with identities: the
-- gap search asks "which run contains x" (one B-tree probe) and jumps to its
-- end + 1, which is free because runs are maximal.
CREATE TABLE used_runs (
  kind  INTEGER NOT NULL,
  first INTEGER NOT NULL,
  last  INTEGER NOT NULL CHECK (last >= first),
  PRIMARY KEY (kind, first)
) WITHOUT ROWID;

-- Next-fit cursor per allocation space ("dac 1879048192-1879113727").
CREATE TABLE cursors (
  space   TEXT    PRIMARY KEY,
  next_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE guests (
  uuid           TEXT    PRIMARY KEY,
  name           TEXT    NOT NULL UNIQUE,
  domain_type    TEXT    NOT NULL,
  state          TEXT    NOT NULL CHECK (state IN ('prepared', 'running', 'failed')),
  pid            INTEGER,
  pid_start_time INTEGER,
  live_xml       TEXT    NOT NULL,
  host           TEXT    NOT NULL,
  drivers        TEXT    NOT NULL,   -- models in stack order, comma separated
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- The original of each resource some guest changed; dev and ino are the
-- 64-bit st_dev/st_ino stored as signed integers (bit for bit).
CREATE TABLE resources (
  dev                       INTEGER NOT NULL,
  ino                       INTEGER NOT NULL,
  path                      TEXT    NOT NULL,
  uid                       INTEGER NOT NULL,
  gid                       INTEGER NOT NULL,
  mode                      INTEGER NOT NULL,
  selinux_label             TEXT,             -- NULL: the file had no security.selinux
  selinux_xattr_supported   INTEGER NOT NULL CHECK (selinux_xattr_supported IN (0, 1)),
  remembered_at             INTEGER NOT NULL,
  PRIMARY KEY (dev, ino)
) WITHOUT ROWID;

CREATE TABLE resource_holders (
  dev        INTEGER NOT NULL,
  ino        INTEGER NOT NULL,
  guest_uuid TEXT    NOT NULL,
  use        TEXT    NOT NULL CHECK (use IN ('exclusive', 'shared')),
  refs       INTEGER NOT NULL CHECK (refs > 0),
  PRIMARY KEY (dev, ino, guest_uuid),
  FOREIGN KEY (dev, ino) REFERENCES resources (dev, ino)
) WITHOUT ROWID;
CREATE INDEX resource_holders_by_guest ON resource_holders (guest_uuid);

CREATE TABLE fd_passed_disks (
  guest_uuid TEXT NOT NULL,
  target     TEXT NOT NULL,
  path       TEXT NOT NULL,
  access     TEXT NOT NULL CHECK (access IN ('ro', 'rw')),
  PRIMARY KEY (guest_uuid, target)
) WITHOUT ROWID;

-- Pending intents only: completing one deletes it.
CREATE TABLE intents (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  guest_uuid TEXT    NOT NULL,
  kind       TEXT    NOT NULL,
  payload    TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX intents_by_guest ON intents (guest_uuid);
)sql",
      // 1 -> 2
      kResourceHandlesAndExactXattrs,
      // 2 -> 3
      kGuestHostObjects,
      // 3 -> 4
      kHotPathIndexes,
      // 4 -> 5
      kGuestGenerations,
  };
  return steps;
}

int userVersion(SqliteDb& db) {
  SqliteStatement statement(db, "PRAGMA user_version");
  statement.start();
  return statement.step() ? int(statement.int64(0)) : 0;
}

}  // namespace

void migrateSqliteSchema(SqliteDb& db) {
  static_assert(kSqliteSchemaVersion >= 1);
  if (int(migrations().size()) != kSqliteSchemaVersion)
    throw Error(ExitCode::Failed, "internal error: schema migrations do not match version");
  // Cheap check without the write lock: the common case is "up to date".
  if (userVersion(db) == kSqliteSchemaVersion) return;

  SqliteTransaction transaction(db);
  int version = userVersion(db);  // again, under the lock: another process may have migrated
  if (version > kSqliteSchemaVersion)
    throw Error(ExitCode::Failed, "state store " + db.path() + " has schema version " +
                                      std::to_string(version) + ", newer than this seclabel (" +
                                      std::to_string(kSqliteSchemaVersion) + ")");
  for (; version < kSqliteSchemaVersion; ++version) db.exec(migrations()[version]);
  db.exec("PRAGMA user_version = " + std::to_string(kSqliteSchemaVersion));
  transaction.commit();
}

}  // namespace seclabel
