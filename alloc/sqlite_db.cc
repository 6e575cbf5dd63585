#include "alloc/sqlite_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {

namespace {

std::function<void(const std::string&)>& statementTrace() {
  static std::function<void(const std::string&)> trace;
  return trace;
}

int traceStatement(unsigned /*event*/, void* /*context*/, void* /*statement*/, void* text) {
  const char* sql = static_cast<const char*>(text);
  if (statementTrace() && sql) statementTrace()(sql);
  return 0;
}

// SQLite's unix VFS canonicalises every database name before opening it: it
// lstat()s each component and replaces each symlink by its text. For
// "/proc/self/fd/N/state.db" that turns the magic link -- which the kernel
// resolves to the very directory inode the fd holds -- back into a path
// ("/var/lib/seclabel/state.db") that whoever owns a parent could re-point.
// This VFS is unix in every respect but one: names are taken as given.
// SQLite derives the -wal, -shm and -journal names from the main name and
// opens them (O_NOFOLLOW, in 3.40) through the same fd, so every file of the
// store is reached through the verified directory and no name is resolved
// twice.
int fullPathnameAsGiven(sqlite3_vfs* /*vfs*/, const char* name, int size, char* out) {
  std::size_t length = std::strlen(name);
  if (name[0] != '/' || length + 1 > std::size_t(size)) return SQLITE_CANTOPEN;
  std::memcpy(out, name, length + 1);
  return SQLITE_OK;
}

const char* directoryVfs() {
  static const char* name = [] {
    static sqlite3_vfs vfs = *sqlite3_vfs_find("unix");
    vfs.zName = "seclabel-directory-fd";
    vfs.pNext = nullptr;
    vfs.xFullPathname = fullPathnameAsGiven;
    sqlite3_vfs_register(&vfs, /*makeDefault=*/0);
    return vfs.zName;
  }();
  return name;
}

}  // namespace

void setStatementTraceForTesting(std::function<void(const std::string& sql)> trace) {
  statementTrace() = std::move(trace);
}

SqliteDb::SqliteDb(const std::string& openPath, std::string displayPath)
    : openPath_(openPath), path_(std::move(displayPath)) {
  int rc = sqlite3_open_v2(openPath.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
                               SQLITE_OPEN_NOMUTEX,
                           directoryVfs());
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ExitCode::Failed, "cannot open state store " + path_ + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  if (statementTrace()) sqlite3_trace_v2(db_, SQLITE_TRACE_STMT, traceStatement, nullptr);
}

SqliteDb::~SqliteDb() {
  statements_.clear();  // finalize before closing
  // close_v2 tolerates statements still alive elsewhere instead of leaking.
  sqlite3_close_v2(db_);
}

SqliteStatement& SqliteDb::cached(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end())
    it = statements_.emplace(sql, std::make_unique<SqliteStatement>(*this, sql)).first;
  return *it->second;
}

void SqliteDb::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw Error(ExitCode::Failed, "state store " + path_ + ": " + sql + ": " + text);
  }
}

// fdatasync of the WAL through a descriptor of our own rather than SQLite's
// xSync: on the first sync of each connection xSync also fsyncs the
// directory (the WAL might have just been created), a device cache flush
// that costs as much as the data sync itself. openSqliteStore makes the
// WAL's directory entry durable when it creates the file instead. The path
// names SQLite's very WAL file, through the same directory fd as SQLite's
// own name: it is never replaced while a connection (ours) is open, since
// only the last connection's close may delete it.
void SqliteDb::syncWal() {
  const std::string walPath = openPath_ + "-wal";
  UniqueFd wal(::open(walPath.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!wal) {
    if (errno == ENOENT) return;  // nothing written yet: nothing to sync
    throw Error::fromErrno("state store " + path_ + ": cannot open the WAL file", errno);
  }
  if (::fdatasync(wal.get()) != 0)
    throw Error::fromErrno("state store " + path_ + ": cannot sync the WAL file", errno);
}

void SqliteDb::fail(const std::string& what, int rc) const {
  std::string message = sqlite3_errmsg(db_);
  if (message.empty()) message = sqlite3_errstr(rc);
  throw Error(ExitCode::Failed, "state store " + path_ + ": " + what + ": " + message);
}

SqliteStatement::SqliteStatement(SqliteDb& db, std::string_view sql) : db_(&db) {
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), int(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
  if (rc != SQLITE_OK) db.fail("cannot prepare \"" + std::string(sql) + "\"", rc);
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), statement_(std::exchange(other.statement_, nullptr)) {}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(statement_); }

SqliteStatement& SqliteStatement::start() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
  return *this;
}

void SqliteStatement::reset() { sqlite3_reset(statement_); }

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(statement_, index, value);
  if (rc != SQLITE_OK) db_->fail("cannot bind parameter", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, uint64_t value) {
  if (value > uint64_t(std::numeric_limits<int64_t>::max()))
    throw Error(ExitCode::Failed, "state store " + db_->path() + ": value " +
                                      std::to_string(value) + " does not fit SQLite");
  return bind(index, int64_t(value));
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(statement_, index, value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail("cannot bind parameter", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index) {
  int rc = sqlite3_bind_null(statement_, index);
  if (rc != SQLITE_OK) db_->fail("cannot bind parameter", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bindBlob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail("cannot bind parameter", rc);
  return *this;
}

bool SqliteStatement::step() {
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(statement_);
  sqlite3_reset(statement_);
  db_->fail("\"" + sql + "\"", rc);
}

void SqliteStatement::run() {
  while (step()) {
  }
}

bool SqliteStatement::isNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

int64_t SqliteStatement::int64(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string SqliteStatement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(statement_, column);
  int size = sqlite3_column_bytes(statement_, column);
  return data ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
}

std::optional<int64_t> SqliteStatement::optionalInt64(int column) const {
  if (isNull(column)) return std::nullopt;
  return int64(column);
}

std::optional<std::string> SqliteStatement::optionalText(int column) const {
  if (isNull(column)) return std::nullopt;
  return text(column);
}

std::optional<std::string> SqliteStatement::optionalBlob(int column) const {
  if (isNull(column)) return std::nullopt;
  const void* data = sqlite3_column_blob(statement_, column);
  int size = sqlite3_column_bytes(statement_, column);
  return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(size))
              : std::string();
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) {
  // IMMEDIATE takes the write lock now (waiting through the busy timeout),
  // so a read-then-write such as "read the cursor, take the next id" cannot
  // interleave with another process's.
  db_.exec("BEGIN IMMEDIATE");
  active_ = true;
}

SqliteTransaction::~SqliteTransaction() {
  if (active_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
  db_.exec("COMMIT");
  active_ = false;
}

}  // namespace seclabel
