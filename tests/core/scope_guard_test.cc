#include "core/scope_guard.h"

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace seclabel {
namespace {

TEST(UndoOnFailure, UndoesWhenTheScopeIsLeftByAnyException) {
  for (int kind = 0; kind < 3; ++kind) {
    int undone = 0;
    try {
      UndoOnFailure guard([&] { ++undone; });
      if (kind == 0) throw Error(ExitCode::Failed, "an Error");
      if (kind == 1) throw std::bad_alloc();
      throw 42;  // not even a std::exception
    } catch (...) {
    }
    EXPECT_EQ(undone, 1) << "exception kind " << kind;
  }
}

TEST(UndoOnFailure, DoesNothingWhenTheScopeEndsNormallyOrWasDismissed) {
  int undone = 0;
  { UndoOnFailure guard([&] { ++undone; }); }
  EXPECT_EQ(undone, 0);
  try {
    UndoOnFailure guard([&] { ++undone; });
    guard.dismiss();
    throw std::runtime_error("after the dismiss");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(undone, 0);
}

// A scope that is itself run while another exception unwinds (a destructor
// calling code with a guard) undoes only when its own scope fails.
TEST(UndoOnFailure, CountsOnlyExceptionsThrownAfterItWasMade) {
  int undone = 0;
  struct RunsDuringUnwinding {
    int& undone;
    ~RunsDuringUnwinding() {
      UndoOnFailure inner([&] { ++undone; });
    }
  };
  try {
    RunsDuringUnwinding outer{undone};
    throw std::runtime_error("unwinding");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(undone, 0);
}

TEST(UndoOnFailure, AnUndoThatThrowsIsReportedAndTheOriginalExceptionGoesOn) {
  std::vector<std::string> reported;
  try {
    UndoOnFailure guard([] { throw Error(ExitCode::Failed, "restore failed"); },
                        [&](const std::string& line) { reported.push_back(line); });
    throw Error(ExitCode::InvalidInput, "the original");
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "the original");
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
  }
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], "could not undo after a failure: restore failed");
}

}  // namespace
}  // namespace seclabel
