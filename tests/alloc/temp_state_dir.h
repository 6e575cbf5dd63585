// A fresh state directory under /tmp for one test, removed afterwards.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace seclabel::testing {

class TempStateDir {
 public:
  TempStateDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "seclabel-alloc-XXXXXX");
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  ~TempStateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  TempStateDir(const TempStateDir&) = delete;
  TempStateDir& operator=(const TempStateDir&) = delete;

  // The state directory itself does not exist yet: openSqliteStore creates it.
  std::string stateDir() const { return root_ + "/state"; }
  std::string databasePath() const { return stateDir() + "/state.db"; }

 private:
  std::string root_;
};

}  // namespace seclabel::testing
