#include "core/error.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace seclabel {

TEST(Error, FromErrnoAppendsTheSystemReasonAndKeepsErrno) {
  Error e = Error::fromErrno("cannot chown /img", EPERM);
  EXPECT_STREQ(e.what(), "cannot chown /img: Operation not permitted");
  EXPECT_EQ(e.errnum(), EPERM);
  EXPECT_EQ(e.exitCode(), 1);
}

TEST(Error, WithContextPrefixesAndKeepsCodeAndErrno) {
  Error e = Error(ExitCode::NoIdentity, "no free dac identity", 0).withContext("guest a");
  EXPECT_STREQ(e.what(), "guest a: no free dac identity");
  EXPECT_EQ(e.code(), ExitCode::NoIdentity);
}

TEST(Error, ExitCodesAreTheDocumentedNumbers) {
  EXPECT_EQ(static_cast<int>(ExitCode::Ok), 0);
  EXPECT_EQ(static_cast<int>(ExitCode::Failed), 1);
  EXPECT_EQ(static_cast<int>(ExitCode::InvalidInput), 2);
  EXPECT_EQ(static_cast<int>(ExitCode::NoIdentity), 3);
  EXPECT_EQ(static_cast<int>(ExitCode::PermissionDenied), 4);
}

}  // namespace seclabel
