// The SQLite store's schema and its migrations (PRAGMA user_version).
#pragma once

#include "alloc/sqlite_db.h"

namespace seclabel {

// The schema version this build writes.
inline constexpr int kSqliteSchemaVersion = 5;

// Brings the database to kSqliteSchemaVersion in one transaction, each
// migration step in order. Refuses a database newer than this build.
void migrateSqliteSchema(SqliteDb& db);

}  // namespace seclabel
