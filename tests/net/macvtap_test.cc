// type='direct': macvtaps over a veth parent in the test's namespace, their
// queue devices opened by device number, chowned and labeled.
#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/device_node.h"
#include "net/net_device.h"
#include "secdriver/selinux_host.h"
#include "tests/net/net_test_support.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;

const std::vector<std::string> kDirect{"veth0"};
const char* kImageLabel = "system_u:object_r:svirt_image_t:s0:c41,c264";

class Macvtaps : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  static NetInterfaceSpec spec() {
    NetInterfaceSpec s;
    s.mac = MacAddress::parse("52:54:00:ab:cd:01");
    s.vhost = VhostRequest::Off;
    return s;
  }
  static dev_t sysfsRdev(const LinkInfo& link) {
    std::ifstream in("/sys/class/net/" + link.name + "/macvtap/tap" +
                     std::to_string(link.ifindex) + "/dev");
    std::string text;
    std::getline(in, text);
    return parseSysfsDeviceNumber(text, "sysfs");
  }
};

TEST_F(Macvtaps, EachModeMakesAMacvtapWhoseQueueFdIsItsDeviceAndTheGuests) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1 && ip link set veth0 up"));
    Rtnetlink rt = Rtnetlink::open();
    std::unique_ptr<SelinuxHost> selinux = makeSystemSelinuxHost();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    context.selinux = selinux.get();
    context.imageLabel = kImageLabel;
    const std::string parentAddress = sysNet("veth0", "address");
    for (MacvtapMode mode : {MacvtapMode::Bridge, MacvtapMode::Vepa, MacvtapMode::Private,
                             MacvtapMode::Passthrough}) {
      SCOPED_TRACE(toString(mode));
      log.records.clear();
      EXPECT_EQ(sysNet("veth0", "address"), parentAddress);
      NetDevice macvtap =
          NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"), mode, kDirect);
      const LinkInfo& link = macvtap.link();
      EXPECT_EQ(macvtap.kind(), NetDevice::Kind::Macvtap);
      EXPECT_EQ(link.kind, "macvtap");
      EXPECT_EQ(link.macvtapMode, mode);
      EXPECT_EQ(link.parentIndex, rt.findLink(InterfaceName::parse("veth0"))->ifindex);
      EXPECT_EQ(sysNet(link.name, "address"), "52:54:00:ab:cd:01");
      EXPECT_TRUE(std::stoul(sysNet(link.name, "flags"), nullptr, 16) & IFF_UP);
      EXPECT_NE(shellOutput("ip -d link show " + link.name).find(
                    std::string("macvtap mode ") +
                    (mode == MacvtapMode::Passthrough ? "passthru" : toString(mode))),
                std::string::npos);

      ASSERT_EQ(macvtap.queueFds().size(), 1u);
      struct stat st;
      ASSERT_EQ(::fstat(macvtap.queueFds()[0].get(), &st), 0);
      EXPECT_TRUE(S_ISCHR(st.st_mode));
      EXPECT_EQ(st.st_rdev, sysfsRdev(link));
      EXPECT_EQ(st.st_uid, kGuestUid);
      EXPECT_EQ(st.st_gid, kGuestGid);
      EXPECT_EQ(selinux->getFileLabel(macvtap.queueFds()[0].get()), kImageLabel);
      EXPECT_TRUE(fcntl(macvtap.queueFds()[0].get(), F_GETFD) & FD_CLOEXEC);

      ASSERT_EQ(log.records.size(), 1u);
      char rdev[16];
      std::snprintf(rdev, sizeof rdev, "%02X:%02X", major(st.st_rdev), minor(st.st_rdev));
      EXPECT_EQ(log.records[0].field("path")->value, "/dev/tap" + std::to_string(link.ifindex));
      EXPECT_EQ(log.records[0].field("rdev")->value, rdev);
      EXPECT_EQ(log.records[0].field("net")->value, "52:54:00:ab:cd:01");
      // Passthrough: the parent itself takes the guest's MAC, as libvirt sets it.
      if (mode == MacvtapMode::Passthrough) {
        EXPECT_EQ(sysNet("veth0", "address"), "52:54:00:ab:cd:01");
      }
    }
    EXPECT_EQ(sysNet("veth0", "address"), parentAddress)
        << "deleting a passthrough macvtap gives the parent its own MAC back";
  });
}

TEST_F(Macvtaps, StopOfAPassthroughMacvtapPutsTheParentsMacBack) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    const std::string parentAddress = sysNet("veth0", "address");
    CreatedLink created;
    {
      NetDevice macvtap = NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"),
                                                   MacvtapMode::Passthrough, kDirect);
      macvtap.commit();
      created = *macvtap.createdLink();
    }
    EXPECT_EQ(sysNet("veth0", "address"), "52:54:00:ab:cd:01");
    ASSERT_TRUE(created.parentAddress);
    EXPECT_EQ(MacAddress::fromBytes(*created.parentAddress).format(), parentAddress);
    EXPECT_EQ(deleteCreatedLink(rt, created), LinkRemoval::Deleted);
    EXPECT_EQ(sysNet("veth0", "address"), parentAddress);
  });
}

TEST_F(Macvtaps, MultiQueueMacvtapOpensItsDeviceOncePerQueue) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.queues = 3;
    NetDevice macvtap = NetDevice::createMacvtap(context, s, InterfaceName::parse("veth0"),
                                                 MacvtapMode::Bridge, kDirect);
    ASSERT_EQ(macvtap.queueFds().size(), 3u);
    for (const UniqueFd& fd : macvtap.queueFds()) {
      struct stat st;
      ASSERT_EQ(::fstat(fd.get(), &st), 0);
      EXPECT_EQ(st.st_rdev, sysfsRdev(macvtap.link()));
    }
  });
}

TEST_F(Macvtaps, NamedMacvtapTakesItsName) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    NetInterfaceSpec s = spec();
    s.name = InterfaceName::parse("guest-mvt0");
    NetDevice macvtap = NetDevice::createMacvtap(context, s, InterfaceName::parse("veth0"),
                                                 MacvtapMode::Vepa, kDirect);
    EXPECT_EQ(macvtap.link().name, "guest-mvt0");
  });
}

TEST_F(Macvtaps, AParentNotListedInDirectDevicesIsExit4WithNothingCreated) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    std::vector<std::string> links = linkNames();
    std::size_t fds = openFdCount();
    try {
      NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth1"), MacvtapMode::Bridge,
                               kDirect);
      ADD_FAILURE() << "veth1 is not a direct device";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 4);
    }
    EXPECT_EQ(linkNames(), links);
    EXPECT_EQ(openFdCount(), fds);
    EXPECT_TRUE(log.records.empty());
  });
}

TEST_F(Macvtaps, UncommittedMacvtapIsDeletedWhenDroppedCommittedOneStays) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    std::vector<std::string> links = linkNames();
    std::string name;
    {
      NetDevice macvtap = NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"),
                                                   MacvtapMode::Bridge, kDirect);
      name = macvtap.link().name;
    }
    EXPECT_FALSE(linkExists(name));
    EXPECT_EQ(linkNames(), links);

    CreatedLink created;
    {
      NetDevice macvtap = NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"),
                                                   MacvtapMode::Bridge, kDirect);
      macvtap.commit();
      created = *macvtap.createdLink();
    }
    // Unlike a tap, a macvtap outlives its fds: stop must delete it.
    EXPECT_TRUE(linkExists(created.name));
    EXPECT_EQ(deleteCreatedLink(rt, created), LinkRemoval::Deleted);
    EXPECT_EQ(linkNames(), links);
  });
}

TEST_F(Macvtaps, AFailureAfterCreationDeletesTheMacvtap) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add veth0 type veth peer name veth1"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    // A sysfs without the macvtap's device: opening its queue fails.
    context.sysClassNet = "/nonexistent-seclabel-test";
    std::vector<std::string> links = linkNames();
    EXPECT_THROW(NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"),
                                          MacvtapMode::Bridge, kDirect),
                 Error);
    EXPECT_EQ(linkNames(), links);
  });
}

TEST_F(Macvtaps, MissingParentIsAnErrorNamingIt) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    try {
      NetDevice::createMacvtap(context, spec(), InterfaceName::parse("veth0"), MacvtapMode::Bridge,
                               kDirect);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 1);
      EXPECT_STREQ(e.what(), "direct device veth0 does not exist");
    }
  });
}

// ---- the device node: by number, never by trusting /dev/tapN

class DeviceNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "making device nodes needs root";
    char dir[] = "/dev/seclabel-test-XXXXXX";  // /dev: other mounts may be nodev
    ASSERT_TRUE(::mkdtemp(dir));
    dir_ = dir;
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  std::string dir_;
};

TEST_F(DeviceNodes, ANodeOfTheRightNumberIsOpenedInPlace) {
  ASSERT_EQ(::mknod((dir_ + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  UniqueFd fd = openCharDevice(dir_ + "/null", makedev(1, 3), dir_);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
}

TEST_F(DeviceNodes, ANodeOfAnotherDeviceUnderTheNameIsNotOpened) {
  // /dev/tapN of another namespace's macvtap, or a planted node: the device
  // opened is still the one sysfs named.
  ASSERT_EQ(::mknod((dir_ + "/tap5").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);  // /dev/zero
  UniqueFd fd = openCharDevice(dir_ + "/tap5", makedev(1, 3), dir_);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(std::system(("test $(ls -A " + dir_ + " | wc -l) -eq 1").c_str()), 0)
      << "the private node and its directory are removed";
}

TEST_F(DeviceNodes, ASymlinkUnderTheNameIsNotFollowed) {
  ASSERT_EQ(::symlink("/dev/null", (dir_ + "/tap6").c_str()), 0);
  UniqueFd fd = openCharDevice(dir_ + "/tap6", makedev(1, 3), dir_);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  struct stat link;
  ASSERT_EQ(::lstat((dir_ + "/tap6").c_str(), &link), 0);
  EXPECT_TRUE(S_ISLNK(link.st_mode));
}

TEST_F(DeviceNodes, AMissingNodeIsMadePrivatelyAndRemoved) {
  UniqueFd fd = openCharDevice(dir_ + "/tap7", makedev(1, 3), dir_);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + dir_ + ")\"").c_str()), 0);
}

TEST(SysfsDeviceNumber, ParsesMajorMinorAndRefusesAnythingElse) {
  EXPECT_EQ(parseSysfsDeviceNumber("246:1\n", "x"), makedev(246, 1));
  for (const char* text : {"", "246", ":1", "246:", "246:1x", "a:b", "246:1:2"})
    EXPECT_THROW(parseSysfsDeviceNumber(text, "x"), Error) << text;
}

}  // namespace
}  // namespace seclabel
