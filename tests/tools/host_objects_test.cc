// `seclabel run` end to end with what a guest gets beyond its identity: its
// network devices (docs/network.md) and its cgroup with a device ACL
// (docs/devices.md). The built binary runs in a network namespace the test
// makes (never the host's links), with the host's cgroup v1 devices
// hierarchy mounted again inside (sysfs is remounted for the namespace, which
// hides the host's cgroup mounts) and a parent cgroup of the test's own.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cgroup/device_controller.h"
#include "core/error.h"
#include "fdpass/qmp_client.h"
#include "tests/cgroup/test_support.h"
#include "tests/net/netns.h"
#include "tests/net/qemu_net_harness.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

using namespace std::chrono_literals;
using seclabel::testing::linkExists;
using seclabel::testing::masterOf;
using seclabel::testing::runInFreshNetns;
using seclabel::testing::shell;
using seclabel::testing::shellOutput;
using seclabel::testing::sysNet;

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";
constexpr char kCgroupV1Mount[] = "/sys/fs/cgroup/devices";

struct InterfaceXml {
  std::string xml;  // the whole <interface> element
};

struct BlockDisk {
  std::string dev;
  std::string target;
  bool readonly = false;
};

void writeGuest(const std::string& path, const std::string& name, const std::string& uuid,
                const std::vector<std::string>& interfaces,
                const std::vector<BlockDisk>& disks = {}) {
  std::ofstream out(path);
  out << "<domain type='qemu'>\n  <name>" << name << "</name>\n  <uuid>" << uuid
      << "</uuid>\n  <memory unit='MiB'>64</memory>\n  <devices>\n";
  for (const BlockDisk& disk : disks)
    out << "    <disk type='block' device='disk'>\n      <source dev='" << disk.dev
        << "'/>\n      <target dev='" << disk.target << "' bus='virtio'/>\n"
        << (disk.readonly ? "      <readonly/>\n" : "") << "    </disk>\n";
  for (const std::string& interface : interfaces) out << "    " << interface << "\n";
  out << "  </devices>\n  <seclabel type='dynamic' model='dac' relabel='yes'/>\n</domain>\n";
}

class HostObjects : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: taps, cgroups, uids";
    if (std::string why = seclabel::testing::netnsUnavailableReason(); !why.empty())
      GTEST_SKIP() << why;
    controller_ = detectDeviceController(CgroupVersion::V1);
    if (!controller_ || controller_->mountPoint != kCgroupV1Mount)
      GTEST_SKIP() << "no cgroup v1 devices controller at " << kCgroupV1Mount;
    parent_.emplace(*controller_);
    acl_ = dir_ / "bridge.conf";
    std::ofstream(acl_) << "allow br0\n";
    ::chmod(acl_.c_str(), 0644);
    audit_ = dir_ / "audit.log";
    writeConfigFile();
  }

  void writeConfigFile(const std::string& devices = "auto",
                       const std::string& deviceAcl = "") {
    std::ofstream out(config_);
    out << "security_driver = [\"dac\"]\nfdpass = \"never\"\n\n[dac]\nrange = \""
        << testDacRange() << "\"\n\n[audit]\nsink = \"file:" << audit_ << "\"\n\n"
        << "[network]\nbridge_acl = \"" << acl_ << "\"\ndirect_devices = [\"ve0\"]\n\n"
        << "[cgroup]\ndevices = \"" << devices << "\"\nparent = \"" << parent_->name() << "\"\n";
    if (!deviceAcl.empty()) out << "device_acl = " << deviceAcl << "\n";
  }

  // In the test's namespaces: the devices hierarchy where seclabel looks for
  // it (the same hierarchy as the host's, so the parent made above is there).
  static void mountCgroupDevices() {
    ASSERT_EQ(::mount("none", "/sys/fs/cgroup", "tmpfs", 0, "mode=0755"), 0) << strerror(errno);
    ASSERT_EQ(::mkdir(kCgroupV1Mount, 0755), 0);
    ASSERT_EQ(::mount("none", kCgroupV1Mount, "cgroup", 0, "devices"), 0) << strerror(errno);
  }

  Finished seclabel(const std::vector<std::string>& args) {
    return runSeclabel(config_, state_, args);
  }

  std::vector<nlohmann::json> auditRecords() const {
    std::vector<nlohmann::json> records;
    std::ifstream in(audit_);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) records.push_back(nlohmann::json::parse(line));
    return records;
  }
  // Records with resrc=R and reason=W.
  std::vector<nlohmann::json> audited(const std::string& resrc, const std::string& reason) const {
    std::vector<nlohmann::json> found;
    for (const auto& record : auditRecords())
      if (record.value("resrc", "") == resrc && record.value("reason", "") == reason)
        found.push_back(record);
    return found;
  }

  std::string cgroupPath(const std::string& uuid) const {
    return std::string(kCgroupV1Mount) + "/" + parent_->name() + "/" + uuid;
  }

  // The guest cgroups (directories) under the test's parent.
  std::vector<std::string> guestCgroups() const {
    std::vector<std::string> names;
    if (!std::filesystem::exists(parent_->path())) return names;  // seclabel makes it
    for (const auto& entry : std::filesystem::directory_iterator(parent_->path()))
      if (entry.is_directory()) names.push_back(entry.path().filename());
    return names;
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string acl_, audit_;
  std::optional<DeviceController> controller_;
  std::optional<seclabel::testing::TestParent> parent_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int lineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

// ---- network -------------------------------------------------------------

TEST_F(HostObjects, RunHandsQemuItsTapOnTheBridgeThroughNetdevPlaceholder) {
  if (std::string why = seclabel::testing::qemuUnavailableReason(); !why.empty())
    GTEST_SKIP() << why;
  const std::string uuid = freshUuid();
  const std::string mac = "52:54:00:3a:10:01";
  writeGuest(dir_ / "g.xml", "net-qemu", uuid,
             {"<interface type='bridge'><mac address='" + mac +
              "'/><source bridge='br0'/><model type='virtio'/></interface>"});
  const std::string sockets = dir_ / "sockets";
  ::mkdir(sockets.c_str(), 01777);
  ::chmod(sockets.c_str(), 01777);
  const std::string qmpPath = sockets + "/qmp";
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link set br0 up"));
    Child run(seclabelArgv(config_, state_,
                           {"run", dir_ / "g.xml", "--", kQemu, "-accel", "tcg", "-machine", "pc",
                            "-m", "64", "-nodefaults", "-no-user-config", "-display", "none",
                            "-serial", "none", "-netdev", "{netdev:net0}", "-device",
                            "virtio-net-pci,netdev=net0,mac={mac:net0}", "-qmp",
                            "unix:" + qmpPath + ",server=on,wait=off"}));
    ASSERT_TRUE(eventually([&] { return ::access(qmpPath.c_str(), F_OK) == 0; }, 30000))
        << "QEMU never opened its QMP socket";
    nlohmann::json guest = runningGuestWithPid(config_, state_, uuid);
    ASSERT_FALSE(guest.is_null());
    const pid_t qemu = guest["pid"].get<pid_t>();
    const auto [uid, gid] = dacIds(guest);

    // The tap: the kernel named it vnet0, the guest's uid owns it, it is a
    // port of br0, and it carries the host-side MAC fe:.. of the guest's.
    ASSERT_TRUE(linkExists("vnet0"));
    EXPECT_EQ(masterOf("vnet0"), "br0");
    EXPECT_EQ(sysNet("vnet0", "owner"), std::to_string(uid));
    EXPECT_EQ(sysNet("vnet0", "group"), std::to_string(gid));
    EXPECT_EQ(sysNet("vnet0", "address"), "fe:54:00:3a:10:01");
    // QEMU holds /dev/net/tun (the fd seclabel opened), and runs in the
    // guest's cgroup.
    const std::string fds = shellOutput("ls -l /proc/" + std::to_string(qemu) + "/fd");
    EXPECT_TRUE(contains(fds, "/dev/net/tun")) << fds;
    EXPECT_TRUE(contains(readFile("/proc/" + std::to_string(qemu) + "/cgroup"),
                         ":devices:/" + parent_->name() + "/" + uuid));

    // The fd carries the guest's traffic: announce-self frames with its MAC
    // come out of the tap.
    auto capture = seclabel::testing::PacketCapture::open("vnet0");
    QmpClient qmp = QmpClient::connect(qmpPath);
    qmp.execute("announce-self", {{"initial", 50}, {"max", 550}, {"rounds", 5}, {"step", 50}});
    EXPECT_GE(capture.countFrames(MacAddress::parse(mac), seclabel::testing::kEthertypeRarp, 1,
                                  30s),
              1);

    // Audit: the open with the fd's rdev (/dev/net/tun is 10:200), then start.
    auto opens = audited("net", "open");
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0]["path"], "/dev/net/tun");
    EXPECT_EQ(opens[0]["rdev"], "0A:C8");
    EXPECT_EQ(opens[0]["net"], mac);
    EXPECT_EQ(opens[0]["res"], "success");
    auto starts = audited("net", "start");
    ASSERT_EQ(starts.size(), 1u);
    EXPECT_EQ(starts[0]["new-net"], mac);

    qmp.execute("quit");
    Finished done = run.wait(30000);
    EXPECT_EQ(done.code(), 0) << done.err;
    EXPECT_FALSE(linkExists("vnet0")) << "the tap goes at stop";
    auto stops = audited("net", "stop");
    ASSERT_EQ(stops.size(), 1u);
    EXPECT_EQ(stops[0]["old-net"], mac);
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid))) << "the cgroup goes at stop";
    EXPECT_TRUE(listGuests(config_, state_).empty());
  });
}

TEST_F(HostObjects, RunGivesTheGuestAMacvtapOnAListedParentAndDeletesItAtStop) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-macvtap", uuid,
             {"<interface type='direct'><source dev='ve0' mode='bridge'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add ve0 type veth peer name ve1 && ip link set ve0 up"));
    Finished done = seclabel(
        {"run", dir_ / "g.xml", "--", "/bin/sh", "-c",
         "echo netdev={netdev:net0} mac={mac:net0}; ls -l /proc/self/fd; ip -o link show type macvtap"});
    ASSERT_EQ(done.code(), 0) << done.err;
    // The queue fd is the macvtap's /dev/tapN, inherited at the number named.
    std::smatch match;
    ASSERT_TRUE(std::regex_search(done.out, match,
                                  std::regex("netdev=tap,id=net0,fd=([0-9]+) mac=(52:54:00:[0-9a-f:]{8})")))
        << done.out;
    const std::string fd = match[1], mac = match[2];
    EXPECT_TRUE(std::regex_search(done.out, std::regex(" " + fd + " -> /dev/tap[0-9]+\n")))
        << done.out;
    EXPECT_TRUE(contains(done.out, "macvtap")) << "the macvtap exists while the guest runs";
    // Its node was allowed in the guest's cgroup, and opening it audited.
    auto opens = audited("net", "open");
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_TRUE(std::regex_match(opens[0]["path"].get<std::string>(), std::regex("/dev/tap[0-9]+")));
    EXPECT_EQ(opens[0]["net"], mac);
    bool allowed = false;
    for (const auto& record : audited("cgroup", "allow"))
      allowed |= record.value("path", "") == opens[0]["path"];
    EXPECT_TRUE(allowed) << "no cgroup allow for " << opens[0]["path"];
    EXPECT_EQ(shellOutput("ip -o link show type macvtap"), "") << "the macvtap is deleted at stop";
  });
}

// exec replaces itself with the guest: the interface is given before the
// execve, and the restore that follows the guest takes it back.
TEST_F(HostObjects, ExecGivesTheInterfaceBeforeExecveAndRestoreTakesItBack) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-exec", uuid,
             {"<interface type='direct'><source dev='ve0' mode='bridge'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add ve0 type veth peer name ve1 && ip link set ve0 up"));
    Finished done = seclabel({"exec", dir_ / "g.xml", "--", "/bin/sh", "-c",
                              "echo {netdev:net0}; grep :devices: /proc/self/cgroup"});
    ASSERT_EQ(done.code(), 0) << done.err;
    EXPECT_TRUE(contains(done.out, "tap,id=net0,fd=")) << done.out;
    EXPECT_TRUE(contains(done.out, ":devices:/" + parent_->name() + "/" + uuid + "\n"))
        << done.out;
    EXPECT_EQ(audited("net", "start").size(), 1u);
    // The guest is gone, its macvtap is not: it outlives its fds.
    EXPECT_NE(shellOutput("ip -o link show type macvtap"), "");
    Finished restored = seclabel({"restore", uuid});
    EXPECT_EQ(restored.code(), 0) << restored.err;
    EXPECT_EQ(shellOutput("ip -o link show type macvtap"), "");
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
    EXPECT_EQ(audited("net", "stop").size(), 1u);
  });
}

TEST_F(HostObjects, PrepareKeepsGeneratedMacAndAliasInTheLiveXml) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-live", uuid,
             {"<interface type='bridge'><source bridge='br0'/></interface>",
              "<interface type='ethernet'/>"});
  Finished prepared = seclabel({"prepare", dir_ / "g.xml"});
  ASSERT_EQ(prepared.code(), 0) << prepared.err;
  EXPECT_TRUE(std::regex_search(prepared.out, std::regex("<mac address='52:54:00:[0-9a-f:]{8}'/>")))
      << prepared.out;
  EXPECT_TRUE(contains(prepared.out, "<alias name='net0'/>")) << prepared.out;
  EXPECT_TRUE(contains(prepared.out, "<alias name='net1'/>")) << prepared.out;
  EXPECT_EQ(seclabel({"restore", uuid}).code(), 0);
}

TEST_F(HostObjects, RefusesAnInterfaceTypeItCannotPrepareWithOneLine) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-network", uuid,
             {"<interface type='network'><source network='default'/></interface>"});
  Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/true"});
  EXPECT_EQ(done.code(), 2);
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_TRUE(contains(done.err, "interface type 'network' is not supported")) << done.err;
  EXPECT_TRUE(listGuests(config_, state_).empty());
  EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
}

TEST_F(HostObjects, RefusesBadNetPlaceholdersBeforeAnythingIsPrepared) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-hostile", uuid,
             {"<interface type='bridge'><source bridge='br0'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add br0 type bridge"));
    for (const std::string& bad :
         {std::string("{netdev:net7}"), std::string("{mac:eth0}"), std::string("{netdev:net0"),
          std::string("{netdev:}"), std::string("{mac:}"),
          std::string("{\"type\":\"tap\",\"x\":\"{netdev:net0}\"}")}) {
      Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/echo", bad});
      EXPECT_EQ(done.code(), 2) << bad << ": " << done.err;
      EXPECT_EQ(lineCount(done.err), 1) << bad << ": " << done.err;
      EXPECT_TRUE(listGuests(config_, state_).empty()) << bad;
      EXPECT_FALSE(linkExists("vnet0")) << bad;
      EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid))) << bad;
      EXPECT_TRUE(auditRecords().empty()) << bad;
    }
  });
}

TEST_F(HostObjects, BridgeRefusedByTheAclIsExitFourWithNothingOpened) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "net-refused", uuid,
             {"<interface type='bridge'><source bridge='br1'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add br1 type bridge"));
    Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/echo", "{netdev:net0}"});
    EXPECT_EQ(done.code(), 4) << done.err;
    EXPECT_EQ(lineCount(done.err), 1) << done.err;
    EXPECT_TRUE(contains(done.err, "bridge br1 is not allowed")) << done.err;
    EXPECT_EQ(shellOutput("ip -o link show type tun"), "");
    EXPECT_TRUE(audited("net", "open").empty());
    auto starts = audited("net", "start");
    ASSERT_EQ(starts.size(), 1u);
    EXPECT_EQ(starts[0]["res"], "failed");
    EXPECT_TRUE(listGuests(config_, state_).empty());
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
  });
}

// ---- cgroup --------------------------------------------------------------

TEST_F(HostObjects, GuestIsInItsCgroupBeforeExecAndReachesOnlyItsOwnBlockDevice) {
  std::string why;
  auto own = seclabel::testing::LoopDevice::attach(why);
  if (!own) GTEST_SKIP() << why;
  auto other = seclabel::testing::LoopDevice::attach(why);
  if (!other) GTEST_SKIP() << why;
  // DAC would let the guest open the other one: only the cgroup stops it.
  ::chmod(other->path().c_str(), 0666);
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-loop", uuid, {}, {{own->path(), "vda"}});
  runInFreshNetns([&] {
    mountCgroupDevices();
    Finished done = seclabel(
        {"run", dir_ / "g.xml", "--", "/bin/sh", "-c",
         "grep :devices: /proc/self/cgroup; "
         "dd if=" + own->path() + " of=/dev/null bs=512 count=1 2>/dev/null && echo own-read; "
         "dd if=/dev/zero of=" + own->path() + " bs=512 count=1 2>/dev/null && echo own-write; "
         "dd if=" + other->path() + " of=/dev/null bs=512 count=1 2>&1; "
         "head -c1 /dev/null && echo null-ok"});
    ASSERT_EQ(done.code(), 0) << done.err;
    EXPECT_TRUE(contains(done.out, ":devices:/" + parent_->name() + "/" + uuid + "\n"))
        << done.out;
    EXPECT_TRUE(contains(done.out, "own-read\n")) << done.out;
    EXPECT_TRUE(contains(done.out, "own-write\n")) << done.out;
    EXPECT_TRUE(contains(done.out, "failed to open '" + other->path() + "': Operation not permitted")) << done.out;
    EXPECT_TRUE(contains(done.out, "null-ok\n")) << done.out;
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid))) << "removed at stop";
    // The ACL changes were audited: deny all, then the loop device with rdev.
    auto denies = audited("cgroup", "deny");
    ASSERT_EQ(denies.size(), 1u);
    EXPECT_EQ(denies[0]["class"], "all");
    EXPECT_EQ(denies[0]["cgroup"], cgroupPath(uuid));
    bool loopAllowed = false;
    for (const auto& record : audited("cgroup", "allow"))
      loopAllowed |= record.value("path", "") == own->path() && record.value("acl", "") == "rw";
    EXPECT_TRUE(loopAllowed);
  });
  ::chmod(other->path().c_str(), 0660);
}

// A <readonly/> disk is allowed `r`: the guest reads it, and opening it for
// write is refused by the cgroup (the node is 0666, so DAC would allow it).
TEST_F(HostObjects, AReadonlyBlockDiskIsReadableButTheCgroupRefusesOpeningItForWrite) {
  std::string why;
  auto disk = seclabel::testing::LoopDevice::attach(why);
  if (!disk) GTEST_SKIP() << why;
  ::chmod(disk->path().c_str(), 0666);
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-ro", uuid, {}, {{disk->path(), "vda", true}});
  runInFreshNetns([&] {
    mountCgroupDevices();
    Finished done = seclabel(
        {"run", dir_ / "g.xml", "--", "/bin/sh", "-c",
         "stat -c %a " + disk->path() + "; "
         "dd if=" + disk->path() + " of=/dev/null bs=512 count=1 2>/dev/null && echo ro-read; "
         "dd if=/dev/zero of=" + disk->path() + " bs=512 count=1 conv=notrunc 2>&1; "
         "dd if=/dev/zero of=" + disk->path() + " bs=512 count=1 conv=notrunc 2>/dev/null "
         "&& echo ro-written; true"});
    ASSERT_EQ(done.code(), 0) << done.err;
    EXPECT_TRUE(contains(done.out, "666\n")) << "DAC allows writing: " << done.out;
    EXPECT_TRUE(contains(done.out, "ro-read\n")) << done.out;
    EXPECT_TRUE(contains(done.out, "failed to open '" + disk->path() +
                                       "': Operation not permitted"))
        << done.out;
    EXPECT_FALSE(contains(done.out, "ro-written")) << done.out;
    bool allowedReadOnly = false;
    for (const auto& record : audited("cgroup", "allow")) {
      if (record.value("path", "") != disk->path()) continue;
      EXPECT_EQ(record.value("acl", ""), "r");
      allowedReadOnly = true;
    }
    EXPECT_TRUE(allowedReadOnly);
  });
  ::chmod(disk->path().c_str(), 0660);
}

// /dev/zero is in the default device_acl; a config that leaves it out gets
// EPERM on it while /dev/null (listed) still opens.
TEST_F(HostObjects, DevZeroIsReadableByDefaultAndRefusedWhenDeviceAclLeavesItOut) {
  const std::string probe =
      "head -c1 /dev/zero | wc -c; head -c1 /dev/zero 2>&1 >/dev/null; "
      "head -c1 /dev/null && echo null-ok";
  {
    const std::string uuid = freshUuid();
    writeGuest(dir_ / "g.xml", "cg-zero", uuid, {});
    runInFreshNetns([&] {
      mountCgroupDevices();
      Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/sh", "-c", probe});
      ASSERT_EQ(done.code(), 0) << done.err;
      EXPECT_EQ(done.out, "1\nnull-ok\n");
    });
  }
  writeConfigFile("auto", "[\"/dev/null\"]");
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-nozero", uuid, {});
  runInFreshNetns([&] {
    mountCgroupDevices();
    Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/sh", "-c", probe});
    ASSERT_EQ(done.code(), 0) << done.err;
    EXPECT_EQ(done.out.substr(0, 2), "0\n") << "nothing read: " << done.out;
    EXPECT_TRUE(contains(done.out, "/dev/zero' for reading: Operation not permitted")) << done.out;
    EXPECT_TRUE(contains(done.out, "null-ok\n")) << done.out;
    for (const auto& record : audited("cgroup", "allow")) {
      if (record.value("uuid", "") != uuid) continue;
      EXPECT_NE(record.value("path", ""), "/dev/zero") << record.dump();
    }
  });
}

// A name is never a path: one with '/' (so any "../") is refused before
// anything is made, and one that is only dots still gets a cgroup named from
// its uuid, inside the parent.
TEST_F(HostObjects, AGuestNameNeverReachesACgroupPath) {
  runInFreshNetns([&] {
    mountCgroupDevices();
    for (const std::string& name :
         std::vector<std::string>{"../../escape", "a/b", "../" + parent_->name()}) {
      const std::string uuid = freshUuid();
      writeGuest(dir_ / "g.xml", name, uuid, {});
      Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/true"});
      EXPECT_EQ(done.code(), int(ExitCode::InvalidInput)) << name;
      EXPECT_EQ(lineCount(done.err), 1) << done.err;
      EXPECT_TRUE(contains(done.err, "cannot contain '/'")) << done.err;
      EXPECT_EQ(guestCgroups(), std::vector<std::string>{}) << name;
      EXPECT_TRUE(audited("cgroup", "deny").empty()) << name;
    }
    EXPECT_FALSE(std::filesystem::exists(std::string(kCgroupV1Mount) + "/escape"));
    const std::string uuid = freshUuid();
    writeGuest(dir_ / "g.xml", "..", uuid, {});
    Finished done = seclabel(
        {"run", dir_ / "g.xml", "--", "/bin/sh", "-c", "grep :devices: /proc/self/cgroup"});
    ASSERT_EQ(done.code(), 0) << done.err;
    EXPECT_TRUE(std::regex_match(done.out, std::regex("[0-9]+:devices:/" + parent_->name() + "/" +
                                                      uuid + "\n")))
        << done.out;
    EXPECT_EQ(guestCgroups(), std::vector<std::string>{}) << "removed at stop";
    auto denies = audited("cgroup", "deny");
    ASSERT_EQ(denies.size(), 1u);
    EXPECT_EQ(denies[0]["cgroup"], cgroupPath(uuid));
    EXPECT_EQ(denies[0]["vm"], "..");
  });
}

// Two guests run at once, each under its own `seclabel run`: each reaches its
// own loop device and gets EPERM on the other's (both nodes 0666, so only
// the cgroups refuse). Each probes only once both are in their cgroups.
TEST_F(HostObjects, TwoGuestsAtOnceEachReachOnlyTheirOwnLoopDevice) {
  std::string why;
  auto diskA = seclabel::testing::LoopDevice::attach(why);
  if (!diskA) GTEST_SKIP() << why;
  auto diskB = seclabel::testing::LoopDevice::attach(why);
  if (!diskB) GTEST_SKIP() << why;
  ::chmod(diskA->path().c_str(), 0666);
  ::chmod(diskB->path().c_str(), 0666);
  const std::string uuidA = freshUuid(), uuidB = freshUuid();
  writeGuest(dir_ / "a.xml", "cg-two-a", uuidA, {}, {{diskA->path(), "vda"}});
  writeGuest(dir_ / "b.xml", "cg-two-b", uuidB, {}, {{diskB->path(), "vda"}});
  const std::string barrier = dir_ / "barrier";
  ::mkdir(barrier.c_str(), 0777);
  auto script = [&](const std::string& self, const std::string& peer, const std::string& own,
                    const std::string& other) {
    return "touch " + barrier + "/" + self + "; n=0; while [ ! -e " + barrier + "/" + peer +
           " ] && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done; "
           "grep :devices: /proc/self/cgroup; "
           "dd if=" + own + " of=/dev/null bs=512 count=1 2>/dev/null && echo own-read; "
           "dd if=/dev/zero of=" + own + " bs=512 count=1 conv=notrunc 2>/dev/null && echo own-write; "
           "dd if=" + other + " of=/dev/null bs=512 count=1 2>&1; "
           "dd if=/dev/zero of=" + other + " bs=512 count=1 conv=notrunc 2>&1; "
           "echo done; exec sleep 600";
  };
  runInFreshNetns([&] {
    mountCgroupDevices();
    // The guests' uids must be able to leave their marks.
    ASSERT_EQ(::chmod(barrier.c_str(), 0777), 0);
    Child a(seclabelArgv(config_, state_, {"run", dir_ / "a.xml", "--", "/bin/sh", "-c",
                                           script("a", "b", diskA->path(), diskB->path())}));
    Child b(seclabelArgv(config_, state_, {"run", dir_ / "b.xml", "--", "/bin/sh", "-c",
                                           script("b", "a", diskB->path(), diskA->path())}));
    ASSERT_TRUE(a.waitForLine("done", 30000));
    ASSERT_TRUE(b.waitForLine("done", 30000));
    // Both are live at once, each in its own cgroup.
    ASSERT_FALSE(runningGuestWithPid(config_, state_, uuidA).is_null());
    ASSERT_FALSE(runningGuestWithPid(config_, state_, uuidB).is_null());
    auto guests = listGuests(config_, state_);
    EXPECT_TRUE(std::filesystem::is_directory(cgroupPath(uuidA)));
    EXPECT_TRUE(std::filesystem::is_directory(cgroupPath(uuidB)));
    for (const auto& [guestUuid, sleeper] :
         {std::pair{uuidA, findGuest(guests, uuidA)["pid"].get<pid_t>()},
          std::pair{uuidB, findGuest(guests, uuidB)["pid"].get<pid_t>()}}) {
      std::ifstream procs(cgroupPath(guestUuid) + "/cgroup.procs");
      std::string pids((std::istreambuf_iterator<char>(procs)), {});
      EXPECT_TRUE(contains("\n" + pids, "\n" + std::to_string(sleeper) + "\n")) << pids;
      ::kill(sleeper, SIGTERM);
    }
    Finished doneA = a.wait(), doneB = b.wait();
    for (const auto& [done, uuid, own, other] :
         {std::tuple{&doneA, uuidA, diskA->path(), diskB->path()},
          std::tuple{&doneB, uuidB, diskB->path(), diskA->path()}}) {
      const std::string& out = done->out;
      EXPECT_TRUE(contains(out, ":devices:/" + parent_->name() + "/" + uuid + "\n")) << out;
      EXPECT_TRUE(contains(out, "own-read\n")) << out;
      EXPECT_TRUE(contains(out, "own-write\n")) << out;
      EXPECT_TRUE(contains(out, "failed to open '" + other + "': Operation not permitted"))
          << out;
      EXPECT_EQ(out.find("failed to open '" + own + "'"), std::string::npos) << out;
    }
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuidA)));
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuidB)));
    EXPECT_TRUE(listGuests(config_, state_).empty());
  });
  ::chmod(diskA->path().c_str(), 0660);
  ::chmod(diskB->path().c_str(), 0660);
}

TEST_F(HostObjects, DominfoAndListJsonShowTheCgroupPathAndRestoreRemovesIt) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-info", uuid, {});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_EQ(seclabel({"prepare", dir_ / "g.xml"}).code(), 0);
    EXPECT_TRUE(std::filesystem::is_directory(cgroupPath(uuid)));
    Finished info = seclabel({"dominfo", "--json", uuid});
    ASSERT_EQ(info.code(), 0) << info.err;
    EXPECT_EQ(nlohmann::json::parse(info.out)["cgroup"], cgroupPath(uuid));
    EXPECT_EQ(findGuest(listGuests(config_, state_), uuid)["cgroup"], cgroupPath(uuid));
    Finished text = seclabel({"dominfo", uuid});
    EXPECT_FALSE(contains(text.out, "cgroup")) << "virsh's dominfo layout stays exact";
    ASSERT_EQ(seclabel({"restore", uuid}).code(), 0);
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
  });
}

TEST_F(HostObjects, DevicesOffMakesNoCgroup) {
  writeConfigFile("off");
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-off", uuid, {});
  Finished done = seclabel({"run", dir_ / "g.xml", "--", "/bin/cat", "/proc/self/cgroup"});
  ASSERT_EQ(done.code(), 0) << done.err;
  EXPECT_FALSE(contains(done.out, "/" + parent_->name() + "/")) << done.out;
  EXPECT_TRUE(audited("cgroup", "deny").empty());
}

TEST_F(HostObjects, ACgroupStillInUseAtRestoreIsRemovedByALaterRecover) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "cg-busy", uuid, {});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_EQ(seclabel({"prepare", dir_ / "g.xml"}).code(), 0);
    // Something the guest started outlives it, in its cgroup.
    Child straggler({"/bin/sleep", "600"});
    std::ofstream(cgroupPath(uuid) + "/cgroup.procs") << straggler.pid() << "\n";
    Finished restored = seclabel({"restore", uuid});
    EXPECT_EQ(restored.code(), 0) << restored.err;
    EXPECT_TRUE(contains(restored.err, "still in it")) << restored.err;
    EXPECT_TRUE(listGuests(config_, state_).empty()) << "the guest is restored";
    EXPECT_TRUE(std::filesystem::is_directory(cgroupPath(uuid))) << "its cgroup is busy";

    ::kill(straggler.pid(), SIGKILL);
    straggler.wait();
    Finished recovered = seclabel({"recover"});
    EXPECT_EQ(recovered.code(), 0) << recovered.err;
    EXPECT_TRUE(contains(recovered.out, "removed what guest " + uuid + " left on the host"))
        << recovered.out;
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
    EXPECT_EQ(seclabel({"recover"}).out, "nothing to recover\n");
  });
}

// ---- crash ---------------------------------------------------------------

TEST_F(HostObjects, RecoverRemovesTheCgroupAndLinksOfASigkilledLauncher) {
  const std::string uuid = freshUuid();
  writeGuest(dir_ / "g.xml", "crash", uuid,
             {"<interface type='bridge'><source bridge='br0'/></interface>",
              "<interface type='direct'><source dev='ve0' mode='bridge'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link set br0 up && "
                      "ip link add ve0 type veth peer name ve1 && ip link set ve0 up"));
    Child run(seclabelArgv(config_, state_,
                           {"run", dir_ / "g.xml", "--", "/bin/sh", "-c",
                            "echo {netdev:net0} {netdev:net1}; echo ready; exec sleep 600"}));
    ASSERT_TRUE(run.waitForLine("ready", 20000));
    nlohmann::json guest = runningGuestWithPid(config_, state_, uuid);
    ASSERT_FALSE(guest.is_null());
    const pid_t sleeper = guest["pid"].get<pid_t>();
    ASSERT_TRUE(linkExists("vnet0"));
    ASSERT_NE(shellOutput("ip -o link show type macvtap"), "");

    ::kill(run.pid(), SIGKILL);
    run.wait();
    ::kill(sleeper, SIGKILL);
    ASSERT_TRUE(eventually([&] { return !processExists(sleeper); }));
    // The macvtap outlives its fds; the tap went with the sleeper's.
    EXPECT_NE(shellOutput("ip -o link show type macvtap"), "");
    EXPECT_TRUE(std::filesystem::is_directory(cgroupPath(uuid)));

    Finished recovered = seclabel({"recover"});
    EXPECT_EQ(recovered.code(), 0) << recovered.err;
    EXPECT_EQ(shellOutput("ip -o link show type macvtap"), "");
    EXPECT_FALSE(linkExists("vnet0"));
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid)));
    EXPECT_TRUE(listGuests(config_, state_).empty());
    EXPECT_EQ(audited("net", "stop").size(), 2u);
  });
}

// A launcher killed after it recorded a link's intent and before it learned
// what the kernel made leaves a record without an ifindex (its guest stays
// prepared): the guest's restore finds the link by its tag.
TEST_F(HostObjects, RestoreFindsALinkByItsTagWhenItsRecordHasNoIfindex) {
  if (::access("/usr/bin/sqlite3", X_OK) != 0) GTEST_SKIP() << "no sqlite3 command";
  const std::string uuid = freshUuid();
  const std::string tag = "seclabel:" + uuid + ":net0";
  writeGuest(dir_ / "g.xml", "net-tag", uuid,
             {"<interface type='direct'><source dev='ve0' mode='bridge'/></interface>"});
  runInFreshNetns([&] {
    mountCgroupDevices();
    ASSERT_TRUE(shell("ip link add ve0 type veth peer name ve1 && "
                      "ip link add link ve0 name mvt0 type macvtap mode bridge && "
                      "ip link set mvt0 alias " + tag + " && "
                      "ip link add link ve0 name mvt1 type macvtap mode bridge"));
    ASSERT_EQ(seclabel({"prepare", dir_ / "g.xml"}).code(), 0);
    // What the killed launcher committed before creating its macvtap.
    ASSERT_TRUE(shell("sqlite3 " + state_ + "/state.db \"INSERT INTO guest_links "
                      "(guest_uuid, tag, mac, ifindex, name, kind) VALUES ('" + uuid + "', '" +
                      tag + "', '52:54:00:00:00:01', NULL, '', 'macvtap')\""));
    Finished restored = seclabel({"restore", uuid});
    EXPECT_EQ(restored.code(), 0) << restored.err;
    EXPECT_FALSE(linkExists("mvt0")) << "the tagged link is deleted";
    EXPECT_TRUE(linkExists("mvt1")) << "an untagged one is not seclabel's";
    EXPECT_TRUE(audited("net", "stop").empty()) << "it was never given to a guest";
    EXPECT_EQ(seclabel({"recover"}).out, "nothing to recover\n");
  });
}

}  // namespace
}  // namespace seclabel::e2e
