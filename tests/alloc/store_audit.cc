#include "tests/alloc/store_audit.h"

#include <sqlite3.h>

#include <stdexcept>

namespace seclabel::testing {

namespace {

class Connection {
 public:
  explicit Connection(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path);
    sqlite3_busy_timeout(db_, 30000);
  }
  ~Connection() { sqlite3_close_v2(db_); }

  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    std::vector<std::vector<std::string>> result;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        const unsigned char* text = sqlite3_column_text(statement, i);
        row.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
      }
      result.push_back(row);
    }
    std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
    if (!error.empty()) throw std::runtime_error(sql + ": " + error);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::vector<std::string> auditStateDatabase(const std::string& databasePath) {
  Connection db(databasePath);
  std::vector<std::string> problems;
  auto expectNoRows = [&](const std::string& what, const std::string& sql) {
    for (const auto& row : db.rows(sql)) {
      std::string line = what + ":";
      for (const auto& value : row) line += " " + value;
      problems.push_back(line);
    }
  };

  for (const auto& row : db.rows("PRAGMA integrity_check"))
    if (row.at(0) != "ok") problems.push_back("integrity_check: " + row.at(0));
  for (const auto& row : db.rows("PRAGMA foreign_key_check"))
    problems.push_back("foreign_key_check: " + row.at(0));

  // No identity held twice: (kind, id) appears once.
  expectNoRows("identity held twice",
               "SELECT kind, id, count(*) FROM identities GROUP BY kind, id HAVING count(*) > 1");
  // No half row: every identity names its guest and host.
  expectNoRows("identity without owner",
               "SELECT kind, id FROM identities WHERE guest_uuid = '' OR host = '' "
               "OR how NOT IN ('allocated', 'reserved')");
  // used_runs describes exactly the held ids: each identity lies in a run...
  expectNoRows("identity outside used_runs",
               "SELECT i.kind, i.id FROM identities i WHERE NOT EXISTS (SELECT 1 FROM used_runs r "
               "WHERE r.kind = i.kind AND i.id BETWEEN r.first AND r.last)");
  // ...each run holds only identities (its length equals the ids inside)...
  expectNoRows("used run with free ids",
               "SELECT r.kind, r.first, r.last FROM used_runs r WHERE r.last - r.first + 1 <> "
               "(SELECT count(*) FROM identities i WHERE i.kind = r.kind AND i.id BETWEEN r.first "
               "AND r.last)");
  // ...and runs are disjoint and maximal (never overlapping or touching).
  expectNoRows("used runs overlap or touch",
               "SELECT a.kind, a.first, a.last, b.first FROM used_runs a JOIN used_runs b "
               "ON a.kind = b.kind AND b.first > a.first AND b.first <= a.last + 1");
  // Reference counts are positive and every holder has its original.
  expectNoRows("resource holder without original",
               "SELECT h.dev, h.ino, h.guest_uuid FROM resource_holders h LEFT JOIN resources r "
               "ON r.dev = h.dev AND r.ino = h.ino WHERE r.dev IS NULL OR h.refs <= 0");
  return problems;
}

long long queryInteger(const std::string& databasePath, const std::string& sql) {
  Connection db(databasePath);
  auto rows = db.rows(sql);
  if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error(sql + ": not one value");
  return std::stoll(rows[0][0]);
}

}  // namespace seclabel::testing
