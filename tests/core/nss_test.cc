#include "core/nss.h"

#include <gtest/gtest.h>

namespace seclabel {

TEST(Nss, NamesResolveToTheirIds) {
  EXPECT_EQ(userIdByName("root"), uid_t(0));
  EXPECT_EQ(groupIdByName("root"), gid_t(0));
  EXPECT_EQ(userIdByName("nobody"), uid_t(65534));
}

TEST(Nss, AnUnknownNameIsAnAnswerNotAnError) {
  EXPECT_EQ(userIdByName("no-such-user-seclabel"), std::nullopt);
  EXPECT_EQ(groupIdByName("no-such-group-seclabel"), std::nullopt);
}

TEST(Nss, IdsAreKnownOrNot) {
  EXPECT_TRUE(uidExists(0));
  EXPECT_TRUE(gidExists(0));
  EXPECT_TRUE(uidExists(65534));  // nobody
  EXPECT_FALSE(uidExists(1879113727));  // the last id of the default DAC range
  EXPECT_FALSE(gidExists(1879113727));
}

}  // namespace seclabel
