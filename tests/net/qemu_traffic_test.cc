// The end-to-end proof: two QEMU guests (TCG) on one bridge, each fed the
// tap fd net/ opened; QMP announce-self on A, and A's frames leave through
// B's tap. When QEMU exits, its tap goes with it.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <gtest/gtest.h>

#include "net/net_device.h"
#include "tests/net/net_test_support.h"
#include "tests/net/netns.h"
#include "tests/net/qemu_net_harness.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;
using namespace std::chrono_literals;

class QemuTraffic : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (reason.empty()) reason = qemuUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    char dir[] = "/tmp/seclabel-qemu-net-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    dir_ = dir;
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  std::string dir_;
};

QemuNic nicOf(const NetDevice& device) {
  QemuNic nic;
  nic.id = "net0";
  for (const UniqueFd& fd : device.queueFds()) nic.tapFds.push_back(fd.get());
  for (const UniqueFd& fd : device.vhostFds()) nic.vhostFds.push_back(fd.get());
  nic.mac = device.mac();
  return nic;
}

TEST_F(QemuTraffic, AnnounceSelfOnGuestAReachesGuestBsTapThroughTheBridge) {
  std::string dir = dir_;
  runInFreshNetns([dir] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link set br0 up"));
    Rtnetlink rt = Rtnetlink::open();
    NetContext context = guestContext(rt, nullptr);
    BridgeAcl acl = BridgeAcl::parse("allow br0\n", "test ACL");
    NetInterfaceSpec specA, specB;
    specA.mac = MacAddress::parse("52:54:00:00:0a:01");
    specB.mac = MacAddress::parse("52:54:00:00:0b:01");
    specA.vhost = specB.vhost = VhostRequest::Off;  // TCG: QEMU's own data path
    NetDevice tapA = NetDevice::createBridgeTap(context, specA, InterfaceName::parse("br0"), acl);
    NetDevice tapB = NetDevice::createBridgeTap(context, specB, InterfaceName::parse("br0"), acl);
    std::string nameA = tapA.link().name, nameB = tapB.link().name;
    PacketCapture atB = PacketCapture::open(nameB);

    QemuGuest guestA = QemuGuest::start(dir, "a", {nicOf(tapA)});
    QemuGuest guestB = QemuGuest::start(dir, "b", {nicOf(tapB)});
    // From here only the guests hold the taps, as after a launcher's exec.
    tapA.commit();
    tapB.commit();
    tapA.closeFds();
    tapB.closeFds();
    EXPECT_TRUE(linkExists(nameA) && linkExists(nameB));
    std::vector<int> fdsOfA = guestA.openFds();
    EXPECT_NE(std::find(fdsOfA.begin(), fdsOfA.end(), 10), fdsOfA.end()) << "tap fd 10 in guest A";

    guestA.announceSelf();
    int seen = atB.countFrames(specA.mac, kEthertypeRarp, 1, 60s);
    EXPECT_GE(seen, 1) << "no RARP frame from " << specA.mac.format() << " left through " << nameB;
    // And none from B, which announced nothing: the frames are A's.
    EXPECT_EQ(atB.countFrames(specB.mac, kEthertypeRarp, 1, 1s), 0);

    { QemuGuest gone = std::move(guestA); }
    EXPECT_FALSE(linkExists(nameA)) << "a tap goes with the QEMU that held its last fd";
    EXPECT_TRUE(linkExists(nameB));
  });
}

}  // namespace
}  // namespace seclabel
