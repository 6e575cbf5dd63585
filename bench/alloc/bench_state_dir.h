// A throwaway state directory for one benchmark, removed afterwards.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace seclabel::bench {

class BenchStateDir {
 public:
  BenchStateDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "seclabel-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  ~BenchStateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  BenchStateDir(const BenchStateDir&) = delete;
  BenchStateDir& operator=(const BenchStateDir&) = delete;
  std::string stateDir() const { return root_ + "/state"; }

 private:
  std::string root_;
};

}  // namespace seclabel::bench
