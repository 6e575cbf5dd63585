// Taps for type='bridge' and type='ethernet', created and attached for real
// in a network namespace of the test's own (tests/net/netns.h).
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/net_device.h"
#include "tests/net/net_test_support.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;

const MacAddress kMac = MacAddress::parse("52:54:00:12:34:56");

class Taps : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  static NetInterfaceSpec spec() {
    NetInterfaceSpec s;
    s.mac = kMac;
    s.vhost = VhostRequest::Off;
    return s;
  }
  static BridgeAcl allowAll() { return BridgeAcl::parse("allow all\n", "test ACL"); }
};

TEST_F(Taps, BridgeTapIsTheGuestsAndUpOnTheBridgeWithHostMacFe) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link set br0 up"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetDevice tap = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                               allowAll());
    const std::string name = tap.link().name;
    EXPECT_EQ(tap.kind(), NetDevice::Kind::BridgeTap);
    EXPECT_EQ(tap.origin(), LinkOrigin::Created);
    EXPECT_EQ(sysNet(name, "owner"), std::to_string(kGuestUid));
    EXPECT_EQ(sysNet(name, "group"), std::to_string(kGuestGid));
    EXPECT_EQ(masterOf(name), "br0");
    EXPECT_EQ(sysNet(name, "address"), "fe:54:00:12:34:56");
    EXPECT_TRUE(std::stoul(sysNet(name, "flags"), nullptr, 16) & IFF_UP);
    ASSERT_EQ(tap.queueFds().size(), 1u);
    TunAttachment attached = tunAttachment(tap.queueFds()[0].get());
    EXPECT_EQ(attached.name, name);
    EXPECT_EQ(attached.flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
              unsigned(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
    // Not persistent: the tap lives only as long as a queue fd.
    EXPECT_FALSE(attached.flags & IFF_PERSIST);
    EXPECT_TRUE(fcntl(tap.queueFds()[0].get(), F_GETFD) & FD_CLOEXEC);
  });
}

TEST_F(Taps, KernelNamesTheTapVnetNWhenTheDomainGivesNoName) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetDevice first = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                                 allowAll());
    NetDevice second = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                                  allowAll());
    EXPECT_TRUE(std::regex_match(first.link().name, std::regex("vnet[0-9]+")));
    EXPECT_TRUE(std::regex_match(second.link().name, std::regex("vnet[0-9]+")));
    EXPECT_NE(first.link().name, second.link().name);
  });
}

TEST_F(Taps, TapTakesTheBridgesMtu) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link set br0 mtu 1400"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetDevice tap = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                               allowAll());
    EXPECT_EQ(sysNet(tap.link().name, "mtu"), "1400");
    EXPECT_EQ(sysNet("br0", "mtu"), "1400");
  });
}

TEST_F(Taps, MultiQueueTapOpensOneFdPerQueueOnOneTap) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.queues = 4;
    NetDevice tap = NetDevice::createBridgeTap(context, s, InterfaceName::parse("br0"), allowAll());
    ASSERT_EQ(tap.queueFds().size(), 4u);
    for (const UniqueFd& fd : tap.queueFds()) {
      TunAttachment attached = tunAttachment(fd.get());
      EXPECT_EQ(attached.name, tap.link().name);
      EXPECT_TRUE(attached.flags & IFF_MULTI_QUEUE);
    }
    EXPECT_TRUE(tap.link().tunMultiQueue);
    EXPECT_NE(shellOutput("ip -d link show " + tap.link().name).find("numqueues 4"),
              std::string::npos)
        << shellOutput("ip -d link show " + tap.link().name);
  });
}

TEST_F(Taps, NamedTapTakesItsName) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("guest-tap0");
    NetDevice tap = NetDevice::createEthernetTap(context, s);
    EXPECT_EQ(tap.link().name, "guest-tap0");
    EXPECT_EQ(tap.kind(), NetDevice::Kind::EthernetTap);
    EXPECT_EQ(masterOf("guest-tap0"), "");
    EXPECT_EQ(sysNet("guest-tap0", "address"), "fe:54:00:12:34:56");
    EXPECT_EQ(sysNet("guest-tap0", "owner"), std::to_string(kGuestUid));
  });
}

TEST_F(Taps, CreatingATapUnderAnExistingNameFailsAndLeavesThatTapAlone) {
  runInFreshNetns([] {
    // Someone else's persistent tap: an attach to it would hand their
    // traffic to this guest, and a later stop would delete it.
    ASSERT_TRUE(shell("ip tuntap add tap7 mode tap user 4242"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    std::size_t fds = openFdCount();
    try {
      NetDevice::createEthernetTap(context, s);
      ADD_FAILURE() << "created a tap over an existing one";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Failed);
      EXPECT_EQ(e.errnum(), EBUSY);
      EXPECT_NE(std::string(e.what()).find("tap7"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(linkExists("tap7"));
    EXPECT_EQ(sysNet("tap7", "owner"), "4242");
    EXPECT_EQ(openFdCount(), fds);
  });
}

TEST_F(Taps, UncommittedDeviceDeletesItsTapWhenDropped) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::vector<std::string> before = linkNames();
    std::string name;
    {
      NetDevice tap = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                                 allowAll());
      name = tap.link().name;
      EXPECT_TRUE(linkExists(name));
    }
    EXPECT_FALSE(linkExists(name));
    EXPECT_EQ(linkNames(), before);
  });
}

TEST_F(Taps, CommittedTapLivesExactlyAsLongAsAQueueFd) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::string name;
    UniqueFd guestCopy;  // stands for the fd QEMU inherited
    {
      NetDevice tap = NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br0"),
                                                 allowAll());
      name = tap.link().name;
      guestCopy.reset(::dup(tap.queueFds()[0].get()));
      tap.commit();
    }
    EXPECT_TRUE(linkExists(name)) << "a committed tap is the guest's while it holds the fd";
    guestCopy.reset();
    EXPECT_FALSE(linkExists(name)) << "the kernel deletes a non-persistent tap with its last fd";
  });
}

TEST_F(Taps, TaggedLinkIsFoundAndDeletedOnlyWhileItIsStillOurs) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.linkAlias = linkAliasFor(kAuditGuest.uuid, "net0");
    NetDevice tap = NetDevice::createEthernetTap(context, s);
    tap.commit();
    CreatedLink created = *tap.createdLink();
    EXPECT_EQ(created.kind, "tun");
    EXPECT_EQ(created.alias, "seclabel:" + kAuditGuest.uuid + ":net0");
    EXPECT_EQ(sysNet(created.name, "ifalias"), created.alias);
    ASSERT_EQ(findLinksByAlias(rt, created.alias).size(), 1u);

    CreatedLink other = created;
    other.alias = linkAliasFor(kAuditGuest.uuid, "net1");
    EXPECT_EQ(deleteCreatedLink(rt, other), LinkRemoval::NotOurs);
    EXPECT_TRUE(linkExists(created.name));
    EXPECT_EQ(deleteCreatedLink(rt, created), LinkRemoval::Deleted);
    EXPECT_FALSE(linkExists(created.name));
    EXPECT_EQ(deleteCreatedLink(rt, created), LinkRemoval::AlreadyGone);
  });
}

TEST_F(Taps, EveryQueueOpenIsAuditedWithTheTunDeviceNumber) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetInterfaceSpec s = spec();
    s.queues = 2;
    NetDevice tap = NetDevice::createBridgeTap(context, s, InterfaceName::parse("br0"), allowAll());
    struct stat st;
    ASSERT_EQ(::stat("/dev/net/tun", &st), 0);
    char rdev[16];
    std::snprintf(rdev, sizeof rdev, "%02X:%02X", major(st.st_rdev), minor(st.st_rdev));
    ASSERT_EQ(log.records.size(), 2u);
    for (const AuditRecord& r : log.records) {
      EXPECT_EQ(r.outcome, AuditOutcome::Success);
      EXPECT_EQ(r.message(),
                "virt=kvm resrc=net reason=open vm=\"net-test\" uuid=" + kAuditGuest.uuid +
                    " net=52:54:00:12:34:56 path=\"/dev/net/tun\" rdev=" + rdev);
    }
  });
}

TEST_F(Taps, FailedTapCreationIsAuditedAsAFailedOpen) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add taken type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("taken");
    EXPECT_THROW(NetDevice::createEthernetTap(context, s), Error);
    ASSERT_EQ(log.records.size(), 1u);
    EXPECT_EQ(log.records[0].outcome, AuditOutcome::Failure);
    EXPECT_EQ(log.records[0].field("path")->value, "/dev/net/tun");
    EXPECT_EQ(log.records[0].field("rdev")->value, "0A:C8");
  });
}

// ---- the bridge ACL and hostile input: refused before anything is opened

TEST_F(Taps, AclRefusalIsExit4WithNothingOpenedCreatedOrAudited) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link add br1 type bridge"));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    BridgeAcl acl = BridgeAcl::parse("allow br0\n", "/etc/qemu/bridge.conf");
    std::vector<std::string> links = linkNames();
    std::size_t fds = openFdCount();
    try {
      NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("br1"), acl);
      ADD_FAILURE() << "br1 is not allowed";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 4);
      EXPECT_STREQ(e.what(), "bridge br1 is not allowed by /etc/qemu/bridge.conf (no allow rule)");
    }
    EXPECT_EQ(linkNames(), links);
    EXPECT_EQ(openFdCount(), fds);
    EXPECT_TRUE(log.records.empty());
  });
}

TEST_F(Taps, MissingBridgeIsAnErrorNamingItWithNothingLeft) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::vector<std::string> links = linkNames();
    try {
      NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("nobr0"), allowAll());
      ADD_FAILURE() << "no such bridge";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 1);
      EXPECT_STREQ(e.what(), "bridge nobr0 does not exist");
    }
    EXPECT_EQ(linkNames(), links);
  });
}

TEST_F(Taps, ALinkThatIsNotABridgeIsRefused) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::vector<std::string> links = linkNames();
    try {
      NetDevice::createBridgeTap(context, spec(), InterfaceName::parse("veth0"), allowAll());
      ADD_FAILURE() << "veth0 is no bridge";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 2);
      EXPECT_STREQ(e.what(), "interface veth0 is not a bridge (kind 'veth')");
    }
    EXPECT_EQ(linkNames(), links);
  });
}

TEST_F(Taps, QueueCountsOutsideOneTo256AreInvalidInput) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::vector<std::string> links = linkNames();
    for (unsigned queues : {0u, 257u}) {
      NetInterfaceSpec s = spec();
      s.queues = queues;
      try {
        NetDevice::createEthernetTap(context, s);
        ADD_FAILURE() << queues << " queues accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.exitCode(), 2) << e.what();
      }
    }
    EXPECT_EQ(linkNames(), links);
  });
}

// ---- managed='no': an existing tap

TEST_F(Taps, ExistingTapOwnedByTheGuestIsAttachedAndLeftInPlace) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add tap7 mode tap user " + std::to_string(kGuestUid)));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    std::string address = sysNet("tap7", "address");
    {
      NetDevice tap = NetDevice::attachExistingTap(context, s);
      EXPECT_EQ(tap.origin(), LinkOrigin::Existing);
      EXPECT_FALSE(tap.createdLink().has_value());
      ASSERT_EQ(tap.queueFds().size(), 1u);
      EXPECT_EQ(tunAttachment(tap.queueFds()[0].get()).name, "tap7");
      EXPECT_EQ(sysNet("tap7", "address"), address) << "an existing tap's MAC is its owner's";
      EXPECT_EQ(log.records.size(), 1u);
    }
    EXPECT_TRUE(linkExists("tap7")) << "seclabel never deletes a tap it did not create";
  });
}

TEST_F(Taps, ExistingTapWithoutOwnerIsAttached) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add tap7 mode tap"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    NetDevice tap = NetDevice::attachExistingTap(context, s);
    EXPECT_EQ(tunAttachment(tap.queueFds()[0].get()).name, "tap7");
  });
}

TEST_F(Taps, ExistingTapOfAnotherUidIsRefusedWithExit4AndNothingOpened) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add tap8 mode tap user 4242"));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap8");
    std::size_t fds = openFdCount();
    try {
      NetDevice::attachExistingTap(context, s);
      ADD_FAILURE() << "attached to uid 4242's tap";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 4);
      EXPECT_STREQ(e.what(),
                   ("tap tap8 belongs to uid 4242, not to the guest's uid " +
                    std::to_string(kGuestUid))
                       .c_str());
    }
    EXPECT_EQ(openFdCount(), fds);
    EXPECT_TRUE(log.records.empty());
    EXPECT_TRUE(linkExists("tap8"));
  });
}

TEST_F(Taps, ExistingInterfaceThatIsNotATapIsRefused) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add tap9 type veth peer name tap9p && ip tuntap add tun1 mode tun"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    for (const char* name : {"tap9", "tun1"}) {
      NetInterfaceSpec s = spec();
      s.name = InterfaceName::parse(name);
      try {
        NetDevice::attachExistingTap(context, s);
        ADD_FAILURE() << name << " accepted as a tap";
      } catch (const Error& e) {
        EXPECT_EQ(e.exitCode(), 2);
        EXPECT_EQ(std::string(e.what()), "interface " + std::string(name) + " is not a tap device");
      }
    }
  });
}

TEST_F(Taps, ExistingTapThatIsMissingIsAnError) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    try {
      NetDevice::attachExistingTap(context, s);
      ADD_FAILURE() << "attached to nothing";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 1);
      EXPECT_STREQ(e.what(), "tap tap7 does not exist");
    }
  });
}

TEST_F(Taps, ExistingSingleQueueTapCannotServeSeveralQueues) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add tap7 mode tap"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    s.queues = 2;
    try {
      NetDevice::attachExistingTap(context, s);
      ADD_FAILURE() << "two queues on a single-queue tap";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 2);
    }
  });
}

TEST_F(Taps, ExistingMultiQueueTapGetsOneFdPerQueue) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip tuntap add tap7 mode tap multi_queue user " + std::to_string(kGuestUid)));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("tap7");
    s.queues = 3;
    NetDevice tap = NetDevice::attachExistingTap(context, s);
    ASSERT_EQ(tap.queueFds().size(), 3u);
    for (const UniqueFd& fd : tap.queueFds()) EXPECT_EQ(tunAttachment(fd.get()).name, "tap7");
  });
}

}  // namespace
}  // namespace seclabel
