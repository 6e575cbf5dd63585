// `seclabel attach` / `detach` of a block device to a guest `seclabel run`
// started in its own cgroup with a device ACL (docs/hotplug.md, "The
// guest's cgroup"): the attach allows the device in the guest's cgroup
// before QEMU opens it, the detach denies it again, both audited. The
// run, its QEMU (TCG, q35, virtio-scsi) and the attach all happen in
// namespaces the test makes, with the host's cgroup v1 devices hierarchy
// mounted again inside and a parent cgroup of the test's own (removed
// again, as is the loop device).
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cgroup/device_controller.h"
#include "fdpass/qmp_client.h"
#include "tests/cgroup/test_support.h"
#include "tests/net/netns.h"
#include "tests/net/qemu_net_harness.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";
constexpr char kCgroupV1Mount[] = "/sys/fs/cgroup/devices";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string majMin(dev_t rdev) {
  return std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
}

class CgroupAttach : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: cgroups, loop devices, uids";
    if (std::string why = seclabel::testing::netnsUnavailableReason(); !why.empty())
      GTEST_SKIP() << why;
    if (std::string why = seclabel::testing::qemuUnavailableReason(); !why.empty())
      GTEST_SKIP() << why;
    controller_ = detectDeviceController(CgroupVersion::V1);
    if (!controller_ || controller_->mountPoint != kCgroupV1Mount)
      GTEST_SKIP() << "no cgroup v1 devices controller at " << kCgroupV1Mount;
    parent_.emplace(*controller_);
    std::ofstream(config_) << "security_driver = [\"dac\"]\nfdpass = \"never\"\n\n[dac]\n"
                           << "range = \"" << testDacRange() << "\"\n\n[audit]\nsink = \"file:"
                           << audit_ << "\"\n\n[cgroup]\ndevices = \"auto\"\nparent = \""
                           << parent_->name() << "\"\n";
  }

  // In the test's namespaces: the devices hierarchy where seclabel looks.
  static void mountCgroupDevices() {
    ASSERT_EQ(::mount("none", "/sys/fs/cgroup", "tmpfs", 0, "mode=0755"), 0) << strerror(errno);
    ASSERT_EQ(::mkdir(kCgroupV1Mount, 0755), 0);
    ASSERT_EQ(::mount("none", kCgroupV1Mount, "cgroup", 0, "devices"), 0) << strerror(errno);
  }

  std::vector<nlohmann::json> audited(const std::string& resrc, const std::string& reason) const {
    std::vector<nlohmann::json> found;
    std::ifstream in(audit_);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      nlohmann::json record = nlohmann::json::parse(line);
      if (record.value("resrc", "") == resrc && record.value("reason", "") == reason)
        found.push_back(record);
    }
    return found;
  }

  std::string cgroupPath(const std::string& uuid) const {
    return std::string(kCgroupV1Mount) + "/" + parent_->name() + "/" + uuid;
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string audit_ = dir_ / "audit.log";
  std::optional<DeviceController> controller_;
  std::optional<seclabel::testing::TestParent> parent_;
};

TEST_F(CgroupAttach, ALoopDiskIsAllowedInTheGuestsCgroupAtAttachAndDeniedAtDetach) {
  std::string why;
  auto loop = seclabel::testing::LoopDevice::attach(why);
  if (!loop) GTEST_SKIP() << why;
  const std::string rule = "b " + majMin(loop->rdev()) + " rw";
  const std::string uuid = freshUuid();
  std::ofstream(dir_ / "g.xml")
      << "<domain type='qemu'>\n  <name>cg-hp</name>\n  <uuid>" << uuid
      << "</uuid>\n  <memory unit='MiB'>64</memory>\n  <devices/>\n"
      << "  <seclabel type='dynamic' model='dac' relabel='yes'/>\n</domain>\n";
  std::ofstream(dir_ / "disk.xml")
      << "<disk type='block' device='disk'>\n  <driver name='qemu' type='raw'/>\n"
      << "  <source dev='" << loop->path() << "'/>\n  <target dev='sdb' bus='scsi'/>\n"
      << "</disk>\n";
  const std::string sockets = dir_ / "sockets";
  ::mkdir(sockets.c_str(), 01777);
  ::chmod(sockets.c_str(), 01777);
  const std::string qmp = sockets + "/qmp", testQmp = sockets + "/test-qmp";
  seclabel::testing::runInFreshNetns([&] {
    mountCgroupDevices();
    Child run(seclabelArgv(config_, state_,
                           {"run", dir_ / "g.xml", "--", kQemu, "-accel", "tcg", "-machine",
                            "q35", "-m", "64", "-nodefaults", "-no-user-config", "-display",
                            "none", "-serial", "none", "-device", "virtio-scsi-pci,id=scsi0",
                            "-qmp", "unix:" + qmp + ",server=on,wait=off", "-qmp",
                            "unix:" + testQmp + ",server=on,wait=off"}));
    ASSERT_TRUE(eventually([&] { return ::access(testQmp.c_str(), F_OK) == 0; }, 30000))
        << "QEMU never opened its QMP socket";
    // A failing assertion must not leave QEMU running in the test's cgroup:
    // killed first, the launcher removes the cgroup as at any guest's end.
    const nlohmann::json running = runningGuestWithPid(config_, state_, uuid);
    ASSERT_FALSE(running.is_null());
    const pid_t qemuPid = running["pid"].get<pid_t>();
    ASSERT_GT(qemuPid, 0);
    struct KillQemu {
      pid_t pid;
      ~KillQemu() {
        if (pid > 0) ::kill(pid, SIGKILL);
      }
    } killQemu{qemuPid};
    QmpClient monitor = QmpClient::connect(testQmp);
    const std::string devicesList = cgroupPath(uuid) + "/devices.list";
    ASSERT_FALSE(contains(readFile(devicesList), rule)) << readFile(devicesList);

    // The proof the allow matters: with DAC out of the way (mode 0666), QEMU
    // still cannot open the loop device while its cgroup denies it.
    ::chmod(loop->path().c_str(), 0666);
    try {
      monitor.execute("blockdev-add", {{"driver", "host_device"},
                                       {"node-name", "probe"},
                                       {"filename", loop->path()}});
      ADD_FAILURE() << "QEMU opened " << loop->path() << " its cgroup denies";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "Operation not permitted")) << e.what();
    }
    ::chmod(loop->path().c_str(), 0660);

    Finished attached =
        runSeclabel(config_, state_, {"attach", "cg-hp", dir_ / "disk.xml", "--qmp", qmp});
    ASSERT_EQ(attached.code(), 0) << attached.err;
    EXPECT_TRUE(contains(readFile(devicesList), rule)) << readFile(devicesList);
    nlohmann::json blocks = monitor.execute("query-block");
    ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
    EXPECT_EQ(blocks[0]["inserted"]["image"]["filename"], loop->path());
    bool allowAudited = false;
    for (const auto& record : audited("cgroup", "allow"))
      allowAudited |= record.value("path", "") == loop->path() &&
                      record.value("acl", "") == "rw" &&
                      record.value("cgroup", "") == cgroupPath(uuid) &&
                      !record.value("rdev", "").empty();
    EXPECT_TRUE(allowAudited) << readFile(audit_);

    Finished detached =
        runSeclabel(config_, state_, {"detach", "cg-hp", "--target", "sdb", "--qmp", qmp});
    ASSERT_EQ(detached.code(), 0) << detached.err;
    EXPECT_TRUE(monitor.execute("query-block").empty());
    EXPECT_FALSE(contains(readFile(devicesList), rule)) << readFile(devicesList);
    bool denyAudited = false;
    for (const auto& record : audited("cgroup", "deny"))
      denyAudited |= record.value("path", "") == loop->path();
    EXPECT_TRUE(denyAudited) << readFile(audit_);

    monitor.execute("quit");
    Finished done = run.wait(30000);
    killQemu.pid = -1;  // gone: its pid may be another's soon
    EXPECT_EQ(done.code(), 0) << done.err;
    EXPECT_FALSE(std::filesystem::exists(cgroupPath(uuid))) << "the cgroup goes at stop";
  });
}

}  // namespace
}  // namespace seclabel::e2e
