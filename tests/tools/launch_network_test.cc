// {netdev:ALIAS} and {mac:ALIAS} on a guest command line: which interfaces
// a command names, the check made before anything is prepared, and the
// expansion once the devices are open (launcher/launch_network.h).
#include "launcher/launch_network.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

Domain twoInterfaces() {
  return parseDomainXml(
      "<domain type='qemu'><name>n</name><uuid>6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c</uuid>"
      "<devices><interface type='bridge'><source bridge='br0'/></interface>"
      "<interface type='ethernet'><alias name='uplink'/></interface></devices></domain>",
      XmlForm::Inactive);
}

std::string invalidInputOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), int(ExitCode::InvalidInput)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

const std::map<std::string, NetArgument> kOpened = {
    {"net0", {"tap,id=net0,fd=9", "52:54:00:00:00:0a"}},
    {"uplink", {std::nullopt, "52:54:00:00:00:0b"}},
};

TEST(NetPlaceholders, ExpandToTheNetdevValueAndTheMacWhereverTheyStand) {
  auto argv = expandNetPlaceholders(
      {"qemu", "-netdev", "{netdev:net0}", "-device", "virtio-net-pci,netdev=net0,mac={mac:net0}",
       "{\"driver\":\"e1000\",\"mac\":\"{mac:uplink}\"}"},
      kOpened);
  EXPECT_EQ(argv, (std::vector<std::string>{
                      "qemu", "-netdev", "tap,id=net0,fd=9", "-device",
                      "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:0a",
                      "{\"driver\":\"e1000\",\"mac\":\"52:54:00:00:00:0b\"}"}));
}

TEST(NetPlaceholders, TheProgramItselfIsNeverExpanded) {
  EXPECT_EQ(expandNetPlaceholders({"{netdev:net0}"}, kOpened),
            std::vector<std::string>{"{netdev:net0}"});
}

TEST(NetPlaceholders, AnUnknownAliasIsOneLineNamingIt) {
  EXPECT_EQ(invalidInputOf([] { expandNetPlaceholders({"q", "-netdev", "{netdev:net7}"}, kOpened); }),
            "argument \"{netdev:net7}\" names interface \"net7\", which the domain does not have");
}

TEST(NetPlaceholders, MalformedPlaceholdersAreRefused) {
  EXPECT_EQ(invalidInputOf([] { netdevAliasesNamed({"q", "x{netdev:net0"}); }),
            "unterminated {netdev:...} in argument \"x{netdev:net0\"");
  EXPECT_EQ(invalidInputOf([] { netdevAliasesNamed({"q", "{mac:}"}); }),
            "empty interface alias in {mac:...} in argument \"{mac:}\"");
  EXPECT_NE(invalidInputOf([] { netdevAliasesNamed({"q", "{\"id\":\"{netdev:net0}\"}"}); })
                .find("cannot be used inside a JSON argument"),
            std::string::npos);
}

TEST(NetPlaceholders, OnlyTheInterfacesNamedByNetdevGetDevicesOnceEach) {
  EXPECT_EQ(netdevAliasesNamed({"q", "{netdev:uplink}", "{mac:net0}", "{netdev:uplink},x=1",
                                "{netdev:net0}"}),
            (std::vector<std::string>{"uplink", "net0"}));
}

TEST(NetPlaceholders, TheCheckKnowsTheAliasesPrepareWillGive) {
  const Domain domain = twoInterfaces();
  EXPECT_NO_THROW(checkNetPlaceholders(domain, {"q", "{netdev:net0}", "{mac:uplink}"}));
  EXPECT_EQ(invalidInputOf([&] { checkNetPlaceholders(domain, {"q", "{mac:net1}"}); }),
            "argument \"{mac:net1}\" names interface \"net1\", which the domain does not have");
}

TEST(NetPlaceholders, AnInterfaceWithoutDevicesCannotBeANetdev) {
  EXPECT_EQ(invalidInputOf([] { expandNetPlaceholders({"q", "{netdev:uplink}"}, kOpened); }),
            "interface uplink has no devices opened");
}

}  // namespace
}  // namespace seclabel
