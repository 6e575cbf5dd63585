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

TEST(InterfaceName, KernelValidNamesAreAccepted) {
  for (const char* name : {"br0", "virbr0", "a", "exactly15bytes_", "vnet%d", "eth0.100", "br-lan"})
    EXPECT_EQ(InterfaceName::parse(name).str(), name);
}

TEST(InterfaceName, HostileNamesAreRefusedWithTheReason) {
  EXPECT_EQ(refusal(""), "bridge '' is empty");
  EXPECT_EQ(refusal("sixteen-bytes-xx"), "bridge 'sixteen-bytes-xx' is longer than 15 bytes");
  EXPECT_EQ(refusal("a/b"), "bridge 'a/b' contains '/'");
  EXPECT_EQ(refusal("../x"), "bridge '../x' contains '/'");
  EXPECT_EQ(refusal("eth0:1"), "bridge 'eth0:1' contains ':'");
  EXPECT_EQ(refusal("br 0"), "bridge 'br 0' contains whitespace");
  EXPECT_EQ(refusal("br\t0"), "bridge 'br\\x090' contains whitespace");
  EXPECT_EQ(refusal("br0\nres=ok"), "bridge 'br0\\x0ares=ok' contains whitespace");
  EXPECT_EQ(refusal(std::string_view("br\0x", 4)), "bridge 'br\\x00x' contains a control character");
  EXPECT_EQ(refusal("br\x1b[0m"), "bridge 'br\\x1b[0m' contains a control character");
  EXPECT_EQ(refusal("."), "bridge '.' is not a valid interface name");
  EXPECT_EQ(refusal(".."), "bridge '..' is not a valid interface name");
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

TEST(MacAddress, ParsesAndFormatsLowerCaseAsLibvirt) {
  MacAddress mac = MacAddress::parse("52:54:00:AB:cd:EF");
  EXPECT_EQ(mac.format(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(mac.bytes(), (MacAddress::Bytes{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}));
}

TEST(MacAddress, HostSideOfATapStartsWithFe) {
  EXPECT_EQ(MacAddress::parse("52:54:00:12:34:56").hostSideOfTap().format(), "fe:54:00:12:34:56");
}

TEST(MacAddress, MalformedAndMulticastAddressesAreInvalidInput) {
  for (const char* text : {"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56",
                           "52:54:00:12:34:5g", "5254:00:12:34:566", "52:54:00:12:34:56\n"}) {
    try {
      MacAddress::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 2);
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  try {
    MacAddress::parse("01:00:5e:00:00:01");
    ADD_FAILURE() << "multicast accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "MAC address 01:00:5e:00:00:01 is a multicast address (first byte odd)");
  }
}

}  // namespace
}  // namespace seclabel
