// The rtnetlink module against the kernel, in the test's own namespace.
#include <net/if.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/rtnetlink.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;

class RtnetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
};

TEST_F(RtnetlinkTest, FindsLinksByNameAndIndexAndNotMissingOnes) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    auto bridge = rt.findLink(InterfaceName::parse("br0"));
    ASSERT_TRUE(bridge);
    EXPECT_EQ(bridge->kind, "bridge");
    EXPECT_EQ(std::to_string(bridge->ifindex), sysNet("br0", "ifindex"));
    auto byIndex = rt.findLink(bridge->ifindex);
    ASSERT_TRUE(byIndex);
    EXPECT_EQ(byIndex->name, "br0");
    EXPECT_FALSE(rt.findLink(InterfaceName::parse("nosuch0")));
    EXPECT_FALSE(rt.findLink(999999));
  });
}

TEST_F(RtnetlinkTest, ListsEveryLinkOfTheNamespace) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link add v0 type veth peer name v1"));
    Rtnetlink rt = Rtnetlink::open();
    std::vector<std::string> names;
    for (const LinkInfo& link : rt.listLinks()) names.push_back(link.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"br0", "lo", "v0", "v1"}));
  });
}

TEST_F(RtnetlinkTest, SetsAddressMtuMasterAliasAndUp) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link add v0 type veth peer name v1"));
    Rtnetlink rt = Rtnetlink::open();
    LinkInfo v0 = *rt.findLink(InterfaceName::parse("v0"));
    LinkInfo br0 = *rt.findLink(InterfaceName::parse("br0"));
    rt.setAddress(v0, MacAddress::parse("fe:54:00:00:00:07"));
    rt.setMtu(v0, 1300);
    rt.setMaster(v0, br0);
    rt.setAlias(v0, "seclabel:test");
    rt.setUp(v0);
    EXPECT_EQ(sysNet("v0", "address"), "fe:54:00:00:00:07");
    EXPECT_EQ(sysNet("v0", "mtu"), "1300");
    EXPECT_EQ(masterOf("v0"), "br0");
    EXPECT_EQ(sysNet("v0", "ifalias"), "seclabel:test");
    EXPECT_TRUE(std::stoul(sysNet("v0", "flags"), nullptr, 16) & IFF_UP);
    LinkInfo after = *rt.findLink(v0.ifindex);
    EXPECT_EQ(after.masterIndex, br0.ifindex);
    EXPECT_EQ(after.alias, "seclabel:test");
  });
}

TEST_F(RtnetlinkTest, KernelRefusalCarriesErrnoAndNamesTheLink) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add v0 type veth peer name v1"));
    Rtnetlink rt = Rtnetlink::open();
    LinkInfo v0 = *rt.findLink(InterfaceName::parse("v0"));
    LinkInfo v1 = *rt.findLink(InterfaceName::parse("v1"));
    try {
      rt.setMaster(v0, v1);  // a veth cannot be a master
      ADD_FAILURE() << "veth accepted as a master";
    } catch (const Error& e) {
      EXPECT_NE(e.errnum(), 0);
      EXPECT_EQ(std::string(e.what()).rfind("cannot attach v0 to bridge v1: ", 0), 0u) << e.what();
    }
  });
}

TEST_F(RtnetlinkTest, CreatesAMacvtapFromATemplateAndDeletesIt) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add v0 type veth peer name v1"));
    Rtnetlink rt = Rtnetlink::open();
    MacvtapSpec spec;
    spec.nameOrTemplate = "macvtap%d";
    spec.parentIndex = rt.findLink(InterfaceName::parse("v0"))->ifindex;
    spec.mode = MacvtapMode::Vepa;
    spec.address = MacAddress::parse("52:54:00:00:00:09");
    spec.alias = "seclabel:x:net0";
    LinkInfo created = rt.createMacvtap(spec);
    EXPECT_EQ(created.name, "macvtap0");
    EXPECT_EQ(created.kind, "macvtap");
    EXPECT_EQ(created.parentIndex, spec.parentIndex);
    EXPECT_EQ(created.macvtapMode, MacvtapMode::Vepa);
    EXPECT_EQ(sysNet("macvtap0", "address"), "52:54:00:00:00:09");
    EXPECT_EQ(sysNet("macvtap0", "ifalias"), "seclabel:x:net0");
    EXPECT_TRUE(rt.deleteLink(created.ifindex, created.name));
    EXPECT_FALSE(linkExists("macvtap0"));
    EXPECT_FALSE(rt.deleteLink(created.ifindex, created.name));
  });
}

TEST_F(RtnetlinkTest, DecodesATapsOwnerGroupAndFlags) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add t0 mode tap user 1234 group 5678 multi_queue"));
    Rtnetlink rt = Rtnetlink::open();
    LinkInfo tap = *rt.findLink(InterfaceName::parse("t0"));
    EXPECT_EQ(tap.kind, "tun");
    EXPECT_TRUE(tap.tunIsTap);
    EXPECT_EQ(tap.tunOwner, 1234u);
    EXPECT_EQ(tap.tunGroup, 5678u);
    EXPECT_TRUE(tap.tunMultiQueue);
    EXPECT_TRUE(tap.tunPersistent);
  });
}

}  // namespace
}  // namespace seclabel
