// Names and MACs from the XML are hostile until checked.
#include <gtest/gtest.h>

#include "core/error.h"
#include "net/interface_name.h"

namespace seclabel {
namespace {

std::string refusal(std::string_view name) {
  try {
    InterfaceName::parse(name, "bridge");
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2);
    return e.what();
  }
  return "accepted";
}

// The rule itself is xml/'s InterfaceName (tests/xml cover it); net/ names
// the role in each refusal and never takes a template for a name.
TEST(InterfaceName, RefusalsNameTheRole) {
  EXPECT_EQ(refusal("a/b"), "bridge 'a/b' cannot contain '/'");
  EXPECT_EQ(refusal("eth0:1"), "bridge 'eth0:1' cannot contain ':'");
  EXPECT_EQ(refusal("br 0"), "bridge 'br 0' cannot contain whitespace");
  EXPECT_EQ(refusal("br0\nres=ok"), "bridge contains the control character 0x0a");
}

TEST(InterfaceName, ATemplateIsNotAName) {
  // The kernel would replace %d: the link made would not be the link named.
  EXPECT_NE(refusal("vnet%d"), "accepted");
  EXPECT_FALSE(InterfaceName::isValid("vnet%d"));
  EXPECT_TRUE(InterfaceName::isValid("vnet0"));
}

TEST(InterfaceName, AVeryLongHostileNameIsCutInTheMessage) {
  std::string message = refusal(std::string(10000, 'x'));
  EXPECT_LT(message.size(), 120u) << message;
}

TEST(InterfaceName, TemplatesNeedExactlyOnePercentD) {
  EXPECT_EQ(checkInterfaceNameTemplate("vnet%d"), "vnet%d");
  EXPECT_THROW(checkInterfaceNameTemplate("vnet"), Error);
  EXPECT_THROW(checkInterfaceNameTemplate("vnet%s"), Error);
  EXPECT_THROW(checkInterfaceNameTemplate("v%d%d"), Error);
  EXPECT_THROW(checkInterfaceNameTemplate("v/%d"), Error);
}

TEST(MacAddress, HostSideOfATapStartsWithFe) {
  EXPECT_EQ(tapHostSideAddress(MacAddress::parse("52:54:00:12:34:56")).format(), "fe:54:00:12:34:56");
}

}  // namespace
}  // namespace seclabel
