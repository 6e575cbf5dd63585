// An independent check of a state database, written against the schema
// with plain SQL (not through the Store code it checks): integrity_check,
// and the invariants the allocator relies on.
#pragma once

#include <string>
#include <vector>

namespace seclabel::testing {

// Empty when everything holds; otherwise one line per problem.
std::vector<std::string> auditStateDatabase(const std::string& databasePath);

// Number of rows of a query's single integer result (e.g. count(*)).
long long queryInteger(const std::string& databasePath, const std::string& sql);

}  // namespace seclabel::testing
