// Thin RAII over the SQLite C API, for the SQLite store only.
//
// SqliteDb owns a connection, SqliteStatement a prepared statement (reset
// and cleared on every use, finalized on destruction). Every SQLite failure
// becomes Error(Failed) naming the database and the statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace seclabel {

class SqliteDb;

class SqliteStatement {
 public:
  SqliteStatement(SqliteDb& db, std::string_view sql);
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  // Starts a new execution: resets the statement and clears old bindings.
  SqliteStatement& start();
  // Binds parameter `index` (1-based). uint64_t values must fit int64_t.
  SqliteStatement& bind(int index, int64_t value);
  SqliteStatement& bind(int index, uint64_t value);
  SqliteStatement& bind(int index, uint32_t value) { return bind(index, int64_t(value)); }
  SqliteStatement& bind(int index, int value) { return bind(index, int64_t(value)); }
  SqliteStatement& bind(int index, std::string_view value);
  SqliteStatement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  SqliteStatement& bind(int index, const char* value) {
    return bind(index, std::string_view(value));
  }
  SqliteStatement& bindNull(int index);
  // Bytes as a BLOB (kept exactly: embedded and trailing NULs included).
  SqliteStatement& bindBlob(int index, std::string_view bytes);
  SqliteStatement& bindBlob(int index, const std::optional<std::string>& bytes) {
    return bytes ? bindBlob(index, std::string_view(*bytes)) : bindNull(index);
  }
  template <typename T>
  SqliteStatement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bindNull(index);
  }

  // Ends the current execution (releases its read snapshot).
  void reset();
  // Advances to the next row; false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  bool isNull(int column) const;
  int64_t int64(int column) const;
  uint64_t uint64(int column) const { return uint64_t(int64(column)); }
  std::string text(int column) const;
  std::optional<int64_t> optionalInt64(int column) const;
  std::optional<std::string> optionalText(int column) const;
  // A BLOB (or any value) as its bytes; nullopt for NULL.
  std::optional<std::string> optionalBlob(int column) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* statement_ = nullptr;
};

// One use of a cached statement: started on creation, reset on
// destruction, so no statement keeps a read snapshot open after its use.
class SqliteQuery {
 public:
  explicit SqliteQuery(SqliteStatement& statement) : statement_(statement) {
    statement_.start();
  }
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;
  ~SqliteQuery() { statement_.reset(); }
  SqliteStatement* operator->() { return &statement_; }
  SqliteStatement& operator*() { return statement_; }

 private:
  SqliteStatement& statement_;
};

class SqliteDb {
 public:
  // Opens `openPath` read-write (the file must exist: the caller created it
  // with the right mode) with extended result codes. `displayPath` names the
  // database in messages. A path from TrustedDirectory::kernelPathOf
  // ("/proc/self/fd/N/NAME") is opened through that verified directory fd,
  // and so are the -wal, -shm and -journal files SQLite derives from it:
  // see sqlite_db.cc (directoryVfs).
  SqliteDb(const std::string& openPath, std::string displayPath);
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  sqlite3* handle() const { return db_; }
  // The database as messages name it (STATE_DIR/state.db).
  const std::string& path() const { return path_; }
  // A use of the prepared statement for `sql`, prepared once per connection
  // and reused. Do not nest two uses of the same SQL text.
  SqliteQuery query(const std::string& sql) { return SqliteQuery(cached(sql)); }
  SqliteStatement& cached(const std::string& sql);
  // Runs one or more statements without results.
  void exec(const std::string& sql);
  // Makes every committed transaction durable now: fsyncs the WAL file
  // (with synchronous=NORMAL a commit is written but not synced).
  void syncWal();
  int64_t lastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  // Throws Error(Failed): "state store PATH: WHAT: sqlite message".
  [[noreturn]] void fail(const std::string& what, int rc) const;

 private:
  std::string openPath_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db);
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();
  void commit();
  bool active() const { return active_; }

 private:
  SqliteDb& db_;
  bool active_ = false;
};

// Test seam (never set in production): every SqliteDb opened while a trace
// is set calls it with the text of each SQL statement as it starts to run
// (sqlite3_trace_v2, SQLITE_TRACE_STMT; parameters stay as ?N). The
// query-plan test (tests/alloc) collects what each command issues with it.
void setStatementTraceForTesting(std::function<void(const std::string& sql)> trace);

}  // namespace seclabel
