#include "core/security_models.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/error.h"

namespace seclabel {
namespace {

TEST(SecurityModels, TheTableIsWhatTheConfigAccepts) {
  for (std::string_view model : kSecurityModels) {
    EXPECT_TRUE(isKnownSecurityModel(model)) << model;
    const std::string toml = "security_driver = [\"" + std::string(model) + "\"]\n";
    EXPECT_NO_THROW(Config::parse(toml, "test.toml", false)) << model;
  }
  for (const char* unknown : {"apparmor", "smack", "DAC", "", "selinux "}) {
    EXPECT_FALSE(isKnownSecurityModel(unknown)) << unknown;
    const std::string toml = "security_driver = [\"" + std::string(unknown) + "\"]\n";
    EXPECT_THROW(Config::parse(toml, "test.toml", false), Error) << unknown;
  }
}

TEST(SecurityModels, TheDefaultStackIsSelinuxThenDacAsLibvirtOrdersIt) {
  Config withSelinux = Config::parse("", "test.toml", true);
  ASSERT_EQ(withSelinux.securityDrivers.size(), 2u);
  EXPECT_EQ(withSelinux.securityDrivers[0], kSelinuxModel);
  EXPECT_EQ(withSelinux.securityDrivers[1], kDacModel);
  Config withoutSelinux = Config::parse("", "test.toml", false);
  ASSERT_EQ(withoutSelinux.securityDrivers.size(), 1u);
  EXPECT_EQ(withoutSelinux.securityDrivers[0], kDacModel);
}

}  // namespace
}  // namespace seclabel
