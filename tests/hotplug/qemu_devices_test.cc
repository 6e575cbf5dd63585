// The QMP half of hot-plug against a real QEMU (TCG, q35, no guest OS):
// scsi-hd on virtio-scsi and usb-net on qemu-xhci, which QEMU unplugs
// without a guest's help. Each attach is checked in QEMU's own answers
// (query-block, query-fdsets, qom-list, the fds QEMU holds), and every
// failed step must leave QEMU exactly as before.
#include "hotplug/qemu_devices.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/fdset.h"
#include "net/net_device.h"
#include "net/rtnetlink.h"
#include "tests/fdpass/test_support.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using testing::QemuProcess;
using testing::TempDir;

class HotplugQemu {
 public:
  explicit HotplugQemu(const TempDir& dir)
      : socket_(dir.file("qmp.sock")),
        qemu_(QemuProcess::Options{{socket_},
                                   {"-machine", "q35", "-device", "virtio-scsi-pci,id=scsi0",
                                    "-device", "qemu-xhci,id=xhci0", "-device",
                                    "pcie-root-port,id=rp1,bus=pcie.0,chassis=1"},
                                   std::nullopt,
                                   dir.file("qemu.log")}) {}
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return qemu_.pid(); }

  // Where each fd of QEMU points ("/dev/net/tun", "/tmp/x/disk.raw", ...),
  // but for anonymous inodes: QEMU makes event notifiers (its I/O thread
  // pool) on first use and keeps them, whatever was plugged.
  std::multiset<std::string> fdTargets() const {
    std::multiset<std::string> targets;
    std::string dir = "/proc/" + std::to_string(qemu_.pid()) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return targets;
    while (dirent* entry = ::readdir(d)) {
      if (entry->d_name[0] == '.') continue;
      char target[4096];
      ssize_t n = ::readlink((dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
      std::string shown(target, n > 0 ? static_cast<std::size_t>(n) : 0);
      if (n > 0 && !shown.starts_with("anon_inode:")) targets.insert(shown);
    }
    ::closedir(d);
    return targets;
  }

 private:
  std::string socket_;
  QemuProcess qemu_;
};

std::vector<std::string> peripherals(QmpClient& qmp) {
  std::vector<std::string> names;
  for (const auto& child : qmp.execute("qom-list", {{"path", "/machine/peripheral"}}))
    if (child["type"].get<std::string>().starts_with("child<"))
      names.push_back(child["name"].get<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> nodeNames(QmpClient& qmp) {
  std::vector<std::string> names;
  for (const auto& node : qmp.execute("query-named-block-nodes"))
    names.push_back(node["node-name"].get<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

std::string infoNetwork(QmpClient& qmp) {
  return qmp.execute("human-monitor-command", {{"command-line", "info network"}})
      .get<std::string>();
}

// What a failed attach must leave as it found it.
struct QemuState {
  std::vector<std::string> peripherals, nodes;
  std::size_t fdsets;
  std::string network;
  std::multiset<std::string> fds;
  bool operator==(const QemuState&) const = default;
  friend void PrintTo(const QemuState& state, std::ostream* out) {
    *out << "devices:";
    for (const auto& name : state.peripherals) *out << " " << name;
    *out << "; nodes:";
    for (const auto& name : state.nodes) *out << " " << name;
    *out << "; fd sets: " << state.fdsets << "; fds:";
    for (const auto& fd : state.fds) *out << " " << fd;
    *out << "; network: " << state.network;
  }
};

QemuState stateOf(QmpClient& qmp, const HotplugQemu& qemu) {
  return {peripherals(qmp), nodeNames(qmp), qmp.queryFdsets().size(), infoNetwork(qmp),
          qemu.fdTargets()};
}

const std::vector<std::string> kControllers = {"rp1", "scsi0", "xhci0"};

DiskForQemu scsiDisk(const std::string& path) {
  DiskForQemu disk;
  disk.deviceId = "ua-sdb";
  disk.nodeName = "seclabel-sdb";
  disk.format = "qcow2";
  disk.deviceDriver = "scsi-hd";
  disk.bus = "scsi0.0";
  disk.path = path;
  return disk;
}

TEST(HotplugQemuDisk, ThroughAnFdSetAttachesAndDetaches) {
  TempDir dir;
  HotplugQemu qemu(dir);
  QmpClient qmp = QmpClient::connect(qemu.socket());
  std::string image = testing::makeImage(dir.file("data.qcow2"), "qcow2");
  std::vector<OpenedImage> opened = openDiskImages(image, DiskAccess::ReadWrite);
  DiskForQemu disk = scsiDisk(image);
  for (const OpenedImage& one : opened)
    disk.fds.push_back({one.fd.get(), fdsetOpaque(one.mode, image)});

  DiskInQemu plugged = attachDiskToQemu(qmp, disk);
  ASSERT_TRUE(plugged.fdsetId);
  nlohmann::json blocks = qmp.execute("query-block");
  ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
  EXPECT_EQ(blocks[0]["inserted"]["image"]["filename"], fdsetPath(*plugged.fdsetId));
  EXPECT_EQ(blocks[0]["inserted"]["node-name"], "seclabel-sdb");
  EXPECT_EQ(blocks[0]["qdev"], "ua-sdb");
  auto sets = qmp.queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].fds.size(), 2u);
  // The two fds of the set, and the node's dup of the read-write one
  // (QEMU dups a set's fd when it opens /dev/fdset/N).
  EXPECT_EQ(qemu.fdTargets().count(image), 3u);

  detachDiskFromQemu(qmp, plugged.deviceId, plugged.nodeName, image);
  EXPECT_TRUE(qmp.execute("query-block").empty());
  EXPECT_TRUE(nodeNames(qmp).empty());
  EXPECT_TRUE(qmp.queryFdsets().empty());
  EXPECT_EQ(peripherals(qmp), kControllers);
  EXPECT_EQ(qemu.fdTargets().count(image), 0u);
}

TEST(HotplugQemuDisk, ByPathAttachesAndDetaches) {
  TempDir dir;
  HotplugQemu qemu(dir);
  QmpClient qmp = QmpClient::connect(qemu.socket());
  std::string image = testing::makeImage(dir.file("data.qcow2"), "qcow2");
  DiskInQemu plugged = attachDiskToQemu(qmp, scsiDisk(image));
  EXPECT_FALSE(plugged.fdsetId);
  nlohmann::json blocks = qmp.execute("query-block");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0]["inserted"]["image"]["filename"], image);
  EXPECT_TRUE(qmp.queryFdsets().empty());
  detachDiskFromQemu(qmp, plugged.deviceId, plugged.nodeName, image);
  EXPECT_TRUE(qmp.execute("query-block").empty());
  EXPECT_EQ(qemu.fdTargets().count(image), 0u);
}

TEST(HotplugQemuDisk, AFailureAtEachStepLeavesQemuAsBefore) {
  TempDir dir;
  HotplugQemu qemu(dir);
  QmpClient qmp = QmpClient::connect(qemu.socket());
  std::string image = testing::makeImage(dir.file("data.qcow2"), "qcow2");
  std::vector<OpenedImage> opened = openDiskImages(image, DiskAccess::ReadWrite);
  const QemuState before = stateOf(qmp, qemu);
  for (std::string failing : {"add-fd", "blockdev-add", "device_add"}) {
    SCOPED_TRACE(failing);
    DiskForQemu disk = scsiDisk(image);
    for (const OpenedImage& one : opened)
      disk.fds.push_back({one.fd.get(), fdsetOpaque(one.mode, image)});
    auto hook = [&](std::string_view step) {
      if (step == failing) throw Error(ExitCode::Failed, "injected failure before " + failing);
    };
    EXPECT_THROW(attachDiskToQemu(qmp, disk, hook), Error);
    EXPECT_EQ(stateOf(qmp, qemu), before);
  }
  // QEMU itself refusing each step: a device_add onto a bus that does not
  // exist, a blockdev-add of a format the image is not.
  DiskForQemu badBus = scsiDisk(image);
  for (const OpenedImage& one : opened)
    badBus.fds.push_back({one.fd.get(), fdsetOpaque(one.mode, image)});
  badBus.bus = "nosuch.0";
  try {
    attachDiskToQemu(qmp, badBus);
    ADD_FAILURE() << "QEMU took a disk on a bus it does not have";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device_add: "), std::string::npos) << e.what();
  }
  EXPECT_EQ(stateOf(qmp, qemu), before);
  DiskForQemu badFormat = scsiDisk(dir.file("missing.qcow2"));
  EXPECT_THROW(attachDiskToQemu(qmp, badFormat), Error);
  EXPECT_EQ(stateOf(qmp, qemu), before);
}

TEST(HotplugQemuDisk, AGuestThatNeverLetsGoIsReportedAndKeepsItsNode) {
  TempDir dir;
  HotplugQemu qemu(dir);
  // A PCI device behind a root port waits for the guest's ACPI handshake,
  // which a machine without a guest OS never gives.
  QmpClient qmp = QmpClient::connect(qemu.socket(), std::chrono::seconds(2));
  std::string image = testing::makeImage(dir.file("data.qcow2"), "qcow2");
  DiskForQemu disk = scsiDisk(image);
  disk.deviceDriver = "virtio-blk-pci";
  disk.bus = "rp1";
  DiskInQemu plugged = attachDiskToQemu(qmp, disk);
  try {
    detachDiskFromQemu(qmp, plugged.deviceId, plugged.nodeName, image);
    ADD_FAILURE() << "the detach did not wait for the device to go";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
    EXPECT_NE(std::string(e.what()).find("delete device ua-sdb"), std::string::npos) << e.what();
  }
  // Nothing the device uses was taken away.
  EXPECT_EQ(nodeNames(qmp).size(), 2u);  // the format node and its file node
  EXPECT_EQ(qemu.fdTargets().count(image), 1u);
}

// ---- NICs, in a network namespace of the test's own ----------------------

NicForQemu usbNic(const NetDevice& device) {
  NicForQemu nic;
  nic.deviceId = "ua-net1";
  nic.netdevId = "hostua-net1";
  nic.mac = "52:54:00:aa:bb:01";
  nic.deviceDriver = "usb-net";
  for (const UniqueFd& fd : device.queueFds()) nic.tapFds.push_back(fd.get());
  for (const UniqueFd& fd : device.vhostFds()) nic.vhostFds.push_back(fd.get());
  return nic;
}

NetDevice makeTap(Rtnetlink& rtnetlink, NetContext& context) {
  context.rtnetlink = &rtnetlink;
  NetInterfaceSpec spec;
  spec.mac = MacAddress::parse("52:54:00:aa:bb:01");
  spec.name = InterfaceName::parse("hp0");
  spec.vhost = VhostRequest::Off;
  return NetDevice::createEthernetTap(context, spec);
}

TEST(HotplugQemuNic, AttachesAndDetachesAndTheTapGoesWithIt) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  testing::runInFreshNetns([] {
    TempDir dir;
    HotplugQemu qemu(dir);
    QmpClient qmp = QmpClient::connect(qemu.socket());
    Rtnetlink rtnetlink = Rtnetlink::open();
    NetContext context;
    {
      NetDevice tap = makeTap(rtnetlink, context);
      attachNicToQemu(qmp, usbNic(tap));
      tap.commit();
      tap.closeFds();  // QEMU holds the only fd now
    }
    EXPECT_TRUE(testing::linkExists("hp0"));
    EXPECT_EQ(peripherals(qmp), (std::vector<std::string>{"rp1", "scsi0", "ua-net1", "xhci0"}));
    std::string network = infoNetwork(qmp);
    EXPECT_NE(network.find("hostua-net1"), std::string::npos) << network;
    EXPECT_NE(network.find("52:54:00:aa:bb:01"), std::string::npos) << network;
    EXPECT_EQ(qemu.fdTargets().count("/dev/net/tun"), 1u);
    // No named fd left behind in QEMU: netdev_add took it.
    EXPECT_THROW(qmp.closeFd("hostua-net1-fd0"), Error);

    detachNicFromQemu(qmp, "ua-net1", "hostua-net1");
    EXPECT_EQ(peripherals(qmp), kControllers);
    EXPECT_EQ(infoNetwork(qmp).find("hostua-net1"), std::string::npos);
    EXPECT_EQ(qemu.fdTargets().count("/dev/net/tun"), 0u);
    EXPECT_FALSE(testing::linkExists("hp0"));
  });
}

TEST(HotplugQemuNic, AFailureAtEachStepLeavesQemuAndTheHostAsBefore) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  testing::runInFreshNetns([] {
    TempDir dir;
    HotplugQemu qemu(dir);
    QmpClient qmp = QmpClient::connect(qemu.socket());
    Rtnetlink rtnetlink = Rtnetlink::open();
    const QemuState before = stateOf(qmp, qemu);
    for (std::string failing : {"getfd", "netdev_add", "device_add", "refused"}) {
      SCOPED_TRACE(failing);
      NetContext context;
      {
        NetDevice tap = makeTap(rtnetlink, context);
        NicForQemu nic = usbNic(tap);
        if (failing == "refused") nic.deviceDriver = "no-such-nic";
        auto hook = [&](std::string_view step) {
          if (step == failing) throw Error(ExitCode::Failed, "injected failure");
        };
        EXPECT_THROW(attachNicToQemu(qmp, nic, hook), Error);
        EXPECT_EQ(stateOf(qmp, qemu), before);
      }  // not committed: the tap seclabel created is deleted
      EXPECT_FALSE(testing::linkExists("hp0"));
    }
  });
}

}  // namespace
}  // namespace seclabel
