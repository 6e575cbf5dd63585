// `seclabel attach` / `detach` end to end: the seclabel binary, a real QEMU
// (TCG, q35, virtio-scsi), real files. What is checked is what QEMU answers
// (query-block, query-fdsets) and what the files look like, before, during
// and after.
#include <signal.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "alloc/store.h"
#include "fdpass/qmp_client.h"
#include "tests/fdpass/e2e_fdpass_support.h"
#include "tests/fdpass/test_support.h"
#include "tests/net/netns.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";

// What a file looks like to a guest: owner, group, mode, SELinux label.
struct Look {
  uid_t uid;
  gid_t gid;
  mode_t mode;
  std::optional<std::string> label;
  bool operator==(const Look&) const = default;
  friend void PrintTo(const Look& look, std::ostream* out) {
    *out << look.uid << ":" << look.gid << " mode " << std::oct << look.mode << std::dec
         << " label " << look.label.value_or("(none)");
  }
};

Look lookOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  Look look{st.st_uid, st.st_gid, st.st_mode & 07777, std::nullopt};
  char value[512];
  ssize_t n = ::getxattr(path.c_str(), "security.selinux", value, sizeof value);
  if (n >= 0) look.label = std::string(value, static_cast<std::size_t>(n));
  return look;
}

int lineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string diskXml(const std::string& path, const std::string& target = "sdb",
                    const std::string& bus = "scsi") {
  return "<disk type='file' device='disk'>\n  <driver name='qemu' type='qcow2'/>\n"
         "  <source file='" + path + "'/>\n  <target dev='" + target + "' bus='" + bus +
         "'/>\n</disk>\n";
}

class Attach : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: labels are chown and xattrs";
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed";
    config_ = dir_ / "seclabel.toml";
    state_ = dir_ / "state";
    writeConfig(config_, configOptions());
    image_ = dir_ / "data.qcow2";
    makeImage(image_);
    uuid_ = freshUuid();
    writeDomain(dir_ / "guest.xml", "hp", uuid_, {});
    ASSERT_EQ(run({"prepare", dir_ / "guest.xml"}).code(), 0);
    writeText(dir_ / "disk.xml", diskXml(image_));
  }
  virtual ConfigOptions configOptions() { return ConfigOptions{}; }

  void startQemu(std::vector<std::string> devices = {"-device", "virtio-scsi-pci,id=scsi0"}) {
    std::vector<std::string> args = {"-machine", "q35"};
    args.insert(args.end(), devices.begin(), devices.end());
    // A QMP socket serves one client at a time: seclabel's, and the test's.
    qemu_.emplace(testing::QemuProcess::Options{
        {qmp(), dir_ / "test-qmp.sock"}, args, std::nullopt, dir_ / "qemu.log"});
    monitor_.emplace(QmpClient::connect(dir_ / "test-qmp.sock"));
  }
  std::string qmp() const { return dir_ / "qmp.sock"; }
  // Where QEMU's fds point.
  std::multiset<std::string> qemuFds() const {
    std::multiset<std::string> targets;
    std::string fdDir = "/proc/" + std::to_string(qemu_->pid()) + "/fd";
    for (const auto& entry : std::filesystem::directory_iterator(fdDir)) {
      std::error_code error;
      auto target = std::filesystem::read_symlink(entry.path(), error);
      if (!error) targets.insert(target.string());
    }
    return targets;
  }

  Finished run(const std::vector<std::string>& args) { return runSeclabel(config_, state_, args); }

  // Runs `args` with the test seam that stops it at `step`, and SIGKILLs it
  // there: what a crash at that step leaves behind.
  ::testing::AssertionResult killedAt(const std::string& step,
                                      const std::vector<std::string>& args) {
    ::setenv("SECLABEL_TEST_HOTPLUG_STOP_AT", step.c_str(), 1);
    Child command(seclabelArgv(config_, state_, args));
    ::unsetenv("SECLABEL_TEST_HOTPLUG_STOP_AT");
    const bool stopped = command.waitForLine("stopped at " + step);
    ::kill(command.pid(), SIGKILL);
    command.wait();
    if (!stopped) return ::testing::AssertionFailure() << "never stopped at " << step;
    return ::testing::AssertionSuccess();
  }

  nlohmann::json guest() { return findGuest(listGuests(config_, state_), uuid_); }
  std::vector<std::string> disksInStore() {
    std::vector<std::string> targets;
    const nlohmann::json listed = guest();  // alive for the whole loop
    for (const auto& disk : listed.at("devices").at("disks"))
      targets.push_back(disk.at("target").get<std::string>());
    return targets;
  }
  // QEMU holds nothing of the disk: no device, no node, no fd set.
  void expectQemuHasNothing() {
    EXPECT_TRUE(monitor_->execute("query-block").empty());
    EXPECT_TRUE(monitor_->execute("query-named-block-nodes").empty());
    EXPECT_TRUE(monitor_->queryFdsets().empty());
  }

  TempDir dir_;
  std::string config_, state_, image_, uuid_;
  std::optional<testing::QemuProcess> qemu_;
  std::optional<QmpClient> monitor_;
};

TEST_F(Attach, ALabeledDiskGetsTheGuestsLabelAndDetachRestoresItExactly) {
  startQemu();
  const Look before = lookOf(image_);
  Finished attached = run({"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()});
  ASSERT_EQ(attached.code(), 0) << attached.err;

  nlohmann::json blocks = monitor_->execute("query-block");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0]["inserted"]["image"]["filename"], image_);
  EXPECT_EQ(blocks[0]["qdev"], "disk-sdb");
  auto [uid, gid] = dacIds(guest());
  const Look during = lookOf(image_);
  EXPECT_EQ(during.uid, uid);
  EXPECT_EQ(during.gid, gid);
  ASSERT_TRUE(during.label);
  EXPECT_NE(during.label->find(":" + categories(guest())), std::string::npos) << *during.label;
  EXPECT_EQ(disksInStore(), std::vector<std::string>{"sdb"});

  Finished detached = run({"detach", "hp", "--target", "sdb", "--qmp", qmp()});
  ASSERT_EQ(detached.code(), 0) << detached.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image_), before);
  EXPECT_TRUE(disksInStore().empty());
  // The guest's own restore has nothing of the disk left to put back.
  EXPECT_EQ(run({"restore", "hp"}).code(), 0);
  EXPECT_EQ(lookOf(image_), before);
}

TEST_F(Attach, RefusalsLeaveEverythingAsItWas) {
  startQemu();
  const Look before = lookOf(image_);
  // Bad XML: exit 2, one line.
  writeText(dir_ / "bad.xml", "<disk><target dev='sdb'");
  Finished bad = run({"attach", "hp", dir_ / "bad.xml", "--qmp", qmp()});
  EXPECT_EQ(bad.code(), 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  writeText(dir_ / "graphics.xml", "<graphics type='vnc'/>");
  EXPECT_EQ(run({"attach", "hp", dir_ / "graphics.xml", "--qmp", qmp()}).code(), 2);
  // A stranger: exit 4.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(99);
    auto argv = seclabelArgv(config_, state_, {"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()});
    std::vector<char*> cargv;
    for (auto& arg : argv) cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(98);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) << status;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image_), before);
  EXPECT_TRUE(disksInStore().empty());
}

TEST_F(Attach, ADiskAnotherGuestHoldsPrivatelyIsRefusedWithExit3) {
  startQemu();
  std::string other = freshUuid();
  writeDomain(dir_ / "other.xml", "other", other, {{image_, "vda"}});
  ASSERT_EQ(run({"prepare", dir_ / "other.xml"}).code(), 0);
  const Look held = lookOf(image_);
  Finished refused = run({"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()});
  EXPECT_EQ(refused.code(), 3) << refused.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image_), held);
  EXPECT_TRUE(disksInStore().empty());
}

// QEMU refusing each step, and the image unreadable: afterwards QEMU has
// nothing new and the file is exactly as before.
TEST_F(Attach, AFailureAtEachStepUndoesEverything) {
  // No virtio-scsi controller: device_add is refused (after blockdev-add
  // succeeded, which is then taken back).
  startQemu({});
  const Look before = lookOf(image_);
  Finished refused = run({"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()});
  EXPECT_EQ(refused.code(), 1);
  EXPECT_NE(refused.err.find("device_add: "), std::string::npos) << refused.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image_), before);
  EXPECT_TRUE(disksInStore().empty());

  // An image QEMU cannot open as the format says: blockdev-add refused.
  std::string raw = dir_ / "raw.img";
  writeText(raw, std::string(4096, 'x'));
  const Look rawBefore = lookOf(raw);
  writeText(dir_ / "raw.xml", diskXml(raw));
  Finished notQcow2 = run({"attach", "hp", dir_ / "raw.xml", "--qmp", qmp()});
  EXPECT_EQ(notQcow2.code(), 1);
  EXPECT_NE(notQcow2.err.find("blockdev-add: "), std::string::npos) << notQcow2.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(raw), rawBefore);

  // A missing image: refused before anything is done.
  writeText(dir_ / "missing.xml", diskXml(dir_ / "missing.qcow2"));
  EXPECT_NE(run({"attach", "hp", dir_ / "missing.xml", "--qmp", qmp()}).code(), 0);
  expectQemuHasNothing();
  EXPECT_TRUE(disksInStore().empty());
  // No QEMU at the socket: nothing left either.
  Finished noQemu = run({"attach", "hp", dir_ / "disk.xml", "--qmp", dir_ / "nothing.sock"});
  EXPECT_EQ(noQemu.code(), 1);
  EXPECT_EQ(lookOf(image_), before);
  EXPECT_TRUE(disksInStore().empty());
}

// SIGKILL `seclabel attach` at each step, then `recover`: a disk QEMU does
// not have is undone (QEMU's half-added node and fd set removed, the file
// put back); one QEMU has is kept and recorded.
TEST_F(Attach, KilledAtEachStepRecoverLeavesNothingBehind) {
  startQemu();
  const Look before = lookOf(image_);
  for (std::string step : {"blockdev-add", "device_add", "commit"}) {
    SCOPED_TRACE(step);
    ASSERT_TRUE(killedAt(step, {"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()}));
    Finished recovered = run({"recover"});
    ASSERT_EQ(recovered.code(), 0) << recovered.err;
    if (step == "commit") {
      EXPECT_NE(recovered.out.find("kept the interrupted attach of disk sdb"), std::string::npos)
          << recovered.out;
      EXPECT_EQ(disksInStore(), std::vector<std::string>{"sdb"});
      EXPECT_EQ(monitor_->execute("query-block").size(), 1u);
      ASSERT_EQ(run({"detach", "hp", "--target", "sdb", "--qmp", qmp()}).code(), 0);
    } else {
      EXPECT_NE(recovered.out.find("undid the interrupted attach of disk sdb"), std::string::npos)
          << recovered.out;
      EXPECT_TRUE(disksInStore().empty());
    }
    expectQemuHasNothing();
    EXPECT_EQ(lookOf(image_), before);
  }
}

// Two attach/detach on one guest never interleave: while one is between
// its QMP steps, a second attach or a detach of the guest fails at once
// with exit 3 and one line, changing nothing; once the first is gone (here
// SIGKILLed, its intent settled by recover) the next one goes ahead. The
// guest's claim plays no part: the cgroup test attaches to a guest whose
// `seclabel run` holds it.
TEST_F(Attach, ASecondAttachOrDetachWhileOneIsInProgressIsExit3) {
  startQemu();
  makeImage(dir_ / "second.qcow2");
  writeText(dir_ / "second.xml", diskXml(dir_ / "second.qcow2", "sdc"));
  const Look secondBefore = lookOf(dir_ / "second.qcow2");
  ::setenv("SECLABEL_TEST_HOTPLUG_STOP_AT", "device_add", 1);
  {
    Child first(seclabelArgv(config_, state_, {"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()}));
    ::unsetenv("SECLABEL_TEST_HOTPLUG_STOP_AT");
    ASSERT_TRUE(first.waitForLine("stopped at device_add"));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"attach", "hp", dir_ / "second.xml", "--qmp", qmp()},
          std::vector<std::string>{"detach", "hp", "--target", "sdb", "--qmp", qmp()},
          std::vector<std::string>{"attach", uuid_, dir_ / "second.xml", "--qmp", qmp()}}) {
      SCOPED_TRACE(args[0] + " " + args[1]);
      Finished second = run(args);
      EXPECT_EQ(second.code(), 3) << second.err;
      EXPECT_EQ(second.err, "seclabel: guest hp: another attach or detach is in progress\n");
    }
    EXPECT_EQ(lookOf(dir_ / "second.qcow2"), secondBefore);
    EXPECT_TRUE(disksInStore().empty());
    ::kill(first.pid(), SIGKILL);
    first.wait();
  }
  ASSERT_EQ(run({"recover"}).code(), 0);
  expectQemuHasNothing();
  Finished next = run({"attach", "hp", dir_ / "second.xml", "--qmp", qmp()});
  ASSERT_EQ(next.code(), 0) << next.err;
  EXPECT_EQ(disksInStore(), std::vector<std::string>{"sdc"});
  ASSERT_EQ(run({"detach", "hp", "--target", "sdc", "--qmp", qmp()}).code(), 0);
  EXPECT_EQ(lookOf(dir_ / "second.qcow2"), secondBefore);
}

// SIGKILL `seclabel detach` before device_del (QEMU keeps the disk: recover
// leaves it with the guest, labeled) and after QEMU let go (recover finishes
// the detach: the file restored, the live XML without the disk).
TEST_F(Attach, KilledDuringADetachRecoverFinishesOrKeepsIt) {
  startQemu();
  const Look before = lookOf(image_);
  ASSERT_EQ(run({"attach", "hp", dir_ / "disk.xml", "--qmp", qmp()}).code(), 0);
  const Look labeled = lookOf(image_);
  for (std::string step : {"device_del", "restore"}) {
    SCOPED_TRACE(step);
    ASSERT_TRUE(killedAt(step, {"detach", "hp", "--target", "sdb", "--qmp", qmp()}));
    Finished recovered = run({"recover"});
    ASSERT_EQ(recovered.code(), 0) << recovered.err;
    if (step == "device_del") {
      EXPECT_NE(recovered.out.find("QEMU still has it"), std::string::npos) << recovered.out;
      EXPECT_EQ(monitor_->execute("query-block").size(), 1u);
      EXPECT_EQ(disksInStore(), std::vector<std::string>{"sdb"});
      EXPECT_EQ(lookOf(image_), labeled);
    } else {
      EXPECT_NE(recovered.out.find("finished the interrupted detach of disk sdb"),
                std::string::npos)
          << recovered.out;
      expectQemuHasNothing();
      EXPECT_TRUE(disksInStore().empty());
      EXPECT_EQ(lookOf(image_), before);
    }
  }
}

std::string infoNetwork(QmpClient& qmp) {
  return qmp.execute("human-monitor-command", {{"command-line", "info network"}})
      .get<std::string>();
}

// A NIC on a tap seclabel creates, in a network namespace of the test's own
// (the host's links are never touched); usb-net on qemu-xhci, which QEMU
// unplugs without a guest.
TEST_F(Attach, AnInterfaceGetsItsTapAndTheTapIsGoneAfterDetach) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  startQemu({"-device", "qemu-xhci,id=xhci0"});
  writeText(dir_ / "nic.xml",
            "<interface type='ethernet'>\n  <mac address='52:54:00:aa:bb:07'/>\n"
            "  <target dev='hpt0'/>\n  <model type='usb-net'/>\n"
            "  <alias name='ua-net1'/>\n</interface>\n");
  testing::runInFreshNetns([&] {
    Finished attached = run({"attach", "hp", dir_ / "nic.xml", "--qmp", qmp()});
    ASSERT_EQ(attached.code(), 0) << attached.err;
    std::string network = infoNetwork(*monitor_);
    EXPECT_NE(network.find("hostua-net1"), std::string::npos) << network;
    EXPECT_NE(network.find("52:54:00:aa:bb:07"), std::string::npos) << network;
    ASSERT_TRUE(testing::linkExists("hpt0"));
    auto [uid, gid] = dacIds(guest());
    EXPECT_EQ(testing::sysNet("hpt0", "owner"), std::to_string(uid));
    const nlohmann::json listed = guest();
    ASSERT_EQ(listed.at("devices").at("interfaces").size(), 1u) << listed.dump();
    EXPECT_EQ(listed.at("devices").at("interfaces")[0].at("alias"), "ua-net1");
    EXPECT_EQ(listed.at("devices").at("interfaces")[0].at("mac"), "52:54:00:aa:bb:07");

    Finished detached = run({"detach", "hp", "--alias", "ua-net1", "--qmp", qmp()});
    ASSERT_EQ(detached.code(), 0) << detached.err;
    EXPECT_EQ(infoNetwork(*monitor_).find("hostua-net1"), std::string::npos);
    EXPECT_FALSE(testing::linkExists("hpt0"));
    EXPECT_TRUE(guest().at("devices").at("interfaces").empty());
  });
}

// SIGKILL an interface attach at each step, then `recover` in the same
// namespace: no netdev, no named fd, no tap left; after device_add QEMU has
// the NIC and it is kept.
TEST_F(Attach, AnInterfaceAttachKilledAtEachStepLeavesNothingBehind) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  startQemu({"-device", "qemu-xhci,id=xhci0"});
  writeText(dir_ / "nic.xml",
            "<interface type='ethernet'>\n  <target dev='hpt0'/>\n"
            "  <model type='usb-net'/>\n  <alias name='ua-net1'/>\n</interface>\n");
  const std::string before = infoNetwork(*monitor_);
  testing::runInFreshNetns([&] {
    for (std::string step : {"getfd", "netdev_add", "device_add", "commit"}) {
      SCOPED_TRACE(step);
      ASSERT_TRUE(killedAt(step, {"attach", "hp", dir_ / "nic.xml", "--qmp", qmp()}));
      Finished recovered = run({"recover"});
      ASSERT_EQ(recovered.code(), 0) << recovered.err;
      if (step == "commit") {
        EXPECT_NE(recovered.out.find("kept the interrupted attach of interface ua-net1"),
                  std::string::npos)
            << recovered.out;
        ASSERT_EQ(guest().at("devices").at("interfaces").size(), 1u);
        EXPECT_TRUE(testing::linkExists("hpt0"));
        ASSERT_EQ(run({"detach", "hp", "--alias", "ua-net1", "--qmp", qmp()}).code(), 0);
      } else {
        EXPECT_NE(recovered.out.find("undid the interrupted attach of interface ua-net1"),
                  std::string::npos)
            << recovered.out;
        EXPECT_TRUE(guest().at("devices").at("interfaces").empty());
      }
      EXPECT_EQ(infoNetwork(*monitor_), before);
      EXPECT_FALSE(testing::linkExists("hpt0"));
      EXPECT_EQ(qemuFds().count("/dev/net/tun"), 0u);
    }
  });
}

// SIGKILL `seclabel detach` of an interface before device_del (QEMU keeps
// the NIC: recover leaves it with the guest, tap and all) and after QEMU let
// go (recover finishes the detach: no netdev, no tap fd in QEMU, no link, the
// store without the interface), in a network namespace of the test's own.
TEST_F(Attach, AnInterfaceDetachKilledAtEachStepRecoverLeavesNothingBehind) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  startQemu({"-device", "qemu-xhci,id=xhci0"});
  writeText(dir_ / "nic.xml",
            "<interface type='ethernet'>\n  <mac address='52:54:00:aa:bb:09'/>\n"
            "  <target dev='hpt0'/>\n  <model type='usb-net'/>\n"
            "  <alias name='ua-net1'/>\n</interface>\n");
  const std::string before = infoNetwork(*monitor_);
  testing::runInFreshNetns([&] {
    ASSERT_EQ(run({"attach", "hp", dir_ / "nic.xml", "--qmp", qmp()}).code(), 0);
    for (std::string step : {"device_del", "restore"}) {
      SCOPED_TRACE(step);
      ASSERT_TRUE(killedAt(step, {"detach", "hp", "--alias", "ua-net1", "--qmp", qmp()}));
      Finished recovered = run({"recover"});
      ASSERT_EQ(recovered.code(), 0) << recovered.err;
      if (step == "device_del") {
        EXPECT_NE(recovered.out.find("QEMU still has it"), std::string::npos) << recovered.out;
        EXPECT_NE(infoNetwork(*monitor_).find("hostua-net1"), std::string::npos);
        EXPECT_TRUE(testing::linkExists("hpt0"));
        EXPECT_EQ(qemuFds().count("/dev/net/tun"), 1u);
        EXPECT_TRUE(openSqliteStore(state_)->macAddressTaken("52:54:00:aa:bb:09", freshUuid()));
        ASSERT_EQ(guest().at("devices").at("interfaces").size(), 1u);
        EXPECT_EQ(guest().at("devices").at("interfaces")[0].at("alias"), "ua-net1");
      } else {
        EXPECT_NE(recovered.out.find("finished the interrupted detach of interface ua-net1"),
                  std::string::npos)
            << recovered.out;
        EXPECT_EQ(infoNetwork(*monitor_), before);
        EXPECT_FALSE(testing::linkExists("hpt0"));
        EXPECT_EQ(qemuFds().count("/dev/net/tun"), 0u);
        EXPECT_TRUE(guest().at("devices").at("interfaces").empty());
        // Its MAC is no longer the guest's: free for any other guest.
        EXPECT_FALSE(openSqliteStore(state_)->macAddressTaken("52:54:00:aa:bb:09",
                                                               freshUuid()));
      }
    }
    // Nothing is left pending: a second recover has nothing to do.
    Finished again = run({"recover"});
    ASSERT_EQ(again.code(), 0) << again.err;
    EXPECT_EQ(again.out.find("interrupted"), std::string::npos) << again.out;
  });
}

// A MAC the attach generates is new to every guest of the store, as
// prepare's are, and is the guest's only while the interface is: the attach
// is made to draw the other guest's MAC first, then a detached one.
TEST_F(Attach, AGeneratedMacIsNewToEveryGuestAndFreeAgainAfterDetach) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  startQemu({"-device", "qemu-xhci,id=xhci0"});
  const std::string otherUuid = freshUuid();
  writeDomain(dir_ / "other.xml", "other", otherUuid, {});
  std::string otherXml = readFile(dir_ / "other.xml");
  otherXml.replace(otherXml.find("</devices>"), 0,
                   "<interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
                   "<target dev='ot0'/></interface>\n");
  writeText(dir_ / "other.xml", otherXml);
  ASSERT_EQ(run({"prepare", dir_ / "other.xml"}).code(), 0);
  // The other guest's own QEMU, for its attach.
  testing::QemuProcess otherQemu(testing::QemuProcess::Options{
      {dir_ / "other-qmp.sock"}, {"-machine", "q35", "-device", "qemu-xhci,id=xhci0"},
      std::nullopt, dir_ / "other-qemu.log"});
  auto nicXml = [&](const std::string& alias, const std::string& tap) {
    std::string path = dir_ / (alias + ".xml");
    writeText(path, "<interface type='ethernet'>\n  <target dev='" + tap +
                        "'/>\n  <model type='usb-net'/>\n  <alias name='" + alias +
                        "'/>\n</interface>\n");
    return path;
  };
  auto macOf = [&](const std::string& uuid, const std::string& alias) {
    const nlohmann::json listed = findGuest(listGuests(config_, state_), uuid);
    for (const auto& interface : listed.at("devices").at("interfaces"))
      if (interface.at("alias") == alias) return interface.at("mac").get<std::string>();
    return std::string("(none)");
  };
  auto attachDrawing = [&](const std::string& tails, const std::vector<std::string>& args) {
    ::setenv("SECLABEL_TEST_HOTPLUG_MAC_TAILS", tails.c_str(), 1);
    Finished attached = run(args);
    ::unsetenv("SECLABEL_TEST_HOTPLUG_MAC_TAILS");
    return attached;
  };
  testing::runInFreshNetns([&] {
    // 52:54:00:00:00:01 is the other guest's: this one gets the next draw.
    Finished attached = attachDrawing(
        "000001 000002", {"attach", "hp", nicXml("ua-net1", "hpt0"), "--qmp", qmp()});
    ASSERT_EQ(attached.code(), 0) << attached.err;
    EXPECT_EQ(macOf(uuid_, "ua-net1"), "52:54:00:00:00:02");
    // ...and :02 is now this guest's: the other guest's attach skips it.
    Finished other = attachDrawing("000002 000003", {"attach", "other", nicXml("ua-net2", "hpt1"),
                                                     "--qmp", dir_ / "other-qmp.sock"});
    ASSERT_EQ(other.code(), 0) << other.err;
    EXPECT_EQ(macOf(otherUuid, "ua-net2"), "52:54:00:00:00:03");
    // Detached, :02 is free for any guest again.
    ASSERT_EQ(run({"detach", "hp", "--alias", "ua-net1", "--qmp", qmp()}).code(), 0);
    Finished again = attachDrawing("000002", {"attach", "other", nicXml("ua-net3", "hpt2"),
                                              "--qmp", dir_ / "other-qmp.sock"});
    ASSERT_EQ(again.code(), 0) << again.err;
    EXPECT_EQ(macOf(otherUuid, "ua-net3"), "52:54:00:00:00:02");
    // Every draw taken: exit 3, one line, nothing attached.
    Finished refused = attachDrawing(
        "000001 000002 000003", {"attach", "hp", nicXml("ua-net4", "hpt3"), "--qmp", qmp()});
    EXPECT_EQ(refused.code(), 3) << refused.err;
    EXPECT_EQ(lineCount(refused.err), 1) << refused.err;
    EXPECT_TRUE(guest().at("devices").at("interfaces").empty());
    EXPECT_FALSE(testing::linkExists("hpt3"));
    for (const char* alias : {"ua-net2", "ua-net3"})
      EXPECT_EQ(run({"detach", "other", "--alias", alias, "--qmp", dir_ / "other-qmp.sock"})
                    .code(),
                0);
  });
  EXPECT_EQ(run({"restore", "other"}).code(), 0);
}

TEST_F(Attach, AnInterfaceQemuRefusesLeavesNoTap) {
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  startQemu({});  // no USB controller: usb-net's device_add is refused
  writeText(dir_ / "nic.xml",
            "<interface type='ethernet'>\n  <target dev='hpt0'/>\n"
            "  <model type='usb-net'/>\n</interface>\n");
  const std::string before = infoNetwork(*monitor_);
  testing::runInFreshNetns([&] {
    Finished refused = run({"attach", "hp", dir_ / "nic.xml", "--qmp", qmp()});
    EXPECT_EQ(refused.code(), 1);
    EXPECT_NE(refused.err.find("device_add: "), std::string::npos) << refused.err;
    EXPECT_FALSE(testing::linkExists("hpt0"));
    EXPECT_EQ(infoNetwork(*monitor_), before);
    EXPECT_TRUE(guest().at("devices").at("interfaces").empty());
    // A bridge the ACL does not allow: exit 4, nothing created.
    writeText(dir_ / "bridge.xml",
              "<interface type='bridge'>\n  <source bridge='br-nope'/>\n"
              "  <target dev='hpt1'/>\n  <model type='usb-net'/>\n</interface>\n");
    Finished denied = run({"attach", "hp", dir_ / "bridge.xml", "--qmp", qmp()});
    EXPECT_EQ(denied.code(), 4) << denied.err;
    EXPECT_FALSE(testing::linkExists("hpt1"));
  });
}

// NFS with root_squash (bindfs as nobody): root can neither chown nor label
// the image, so with fdpass = "auto" the attach serves it by fd passing.
class AttachRootSquash : public Attach {
 protected:
  ConfigOptions configOptions() override {
    ConfigOptions options;
    options.fdpass = "auto";
    return options;
  }
};

TEST_F(AttachRootSquash, ThroughFdPassing) {
  if (::access("/usr/bin/bindfs", X_OK) != 0) GTEST_SKIP() << "bindfs is not installed";
  std::string backing = dir_ / "export", mountpoint = dir_ / "nfs";
  ASSERT_EQ(::mkdir(backing.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(mountpoint.c_str(), 0755), 0);
  makeImage(backing + "/data.qcow2");
  ASSERT_EQ(::chown((backing + "/data.qcow2").c_str(), fdpass_e2e::kNobody,
                    fdpass_e2e::kNogroup),
            0);
  fdpass_e2e::RootSquashMount mount(backing, mountpoint);
  ASSERT_TRUE(mount.mounted()) << mount.error();
  std::string image = mountpoint + "/data.qcow2";
  writeText(dir_ / "nfs.xml", diskXml(image));
  startQemu();
  const Look before = lookOf(image);

  Finished attached = run({"attach", "hp", dir_ / "nfs.xml", "--qmp", qmp()});
  ASSERT_EQ(attached.code(), 0) << attached.err;
  nlohmann::json blocks = monitor_->execute("query-block");
  ASSERT_EQ(blocks.size(), 1u);
  std::string filename = blocks[0]["inserted"]["image"]["filename"];
  EXPECT_TRUE(filename.starts_with("/dev/fdset/")) << filename;
  auto sets = monitor_->queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  ASSERT_EQ(sets[0].fds.size(), 2u);
  EXPECT_EQ(sets[0].fds[0].opaque, "rdwr:" + image);
  EXPECT_EQ(sets[0].fds[1].opaque, "rdonly:" + image);
  EXPECT_EQ(lookOf(image), before);  // nothing labeled

  Finished detached = run({"detach", "hp", dir_ / "nfs.xml", "--qmp", qmp()});
  ASSERT_EQ(detached.code(), 0) << detached.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image), before);
  EXPECT_TRUE(disksInStore().empty());
  monitor_.reset();
  qemu_.reset();  // its fds on the mount go before the unmount
}

// An image on the root_squash export that nobody (root, squashed) may read:
// the fd-passing open fails, and nothing is left in QEMU or in the store.
TEST_F(AttachRootSquash, AnUnreadableImageLeavesNothing) {
  if (::access("/usr/bin/bindfs", X_OK) != 0) GTEST_SKIP() << "bindfs is not installed";
  std::string backing = dir_ / "export", mountpoint = dir_ / "nfs";
  ASSERT_EQ(::mkdir(backing.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(mountpoint.c_str(), 0755), 0);
  makeImage(backing + "/data.qcow2");  // root's, 0600: nobody may not open it
  fdpass_e2e::RootSquashMount mount(backing, mountpoint);
  ASSERT_TRUE(mount.mounted()) << mount.error();
  std::string image = mountpoint + "/data.qcow2";
  writeText(dir_ / "nfs.xml", diskXml(image));
  startQemu();
  const Look before = lookOf(image);
  Finished refused = run({"attach", "hp", dir_ / "nfs.xml", "--qmp", qmp()});
  // The open failed (exit 1), as the broker's failed opens do.
  EXPECT_EQ(refused.code(), 1) << refused.err;
  EXPECT_NE(refused.err.find("cannot open " + image + ": Permission denied"), std::string::npos)
      << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  expectQemuHasNothing();
  EXPECT_EQ(lookOf(image), before);
  EXPECT_TRUE(disksInStore().empty());
  // Nothing of it is left for the guest's restore either.
  EXPECT_EQ(run({"restore", "hp"}).code(), 0);
  monitor_.reset();
  qemu_.reset();
}

}  // namespace
}  // namespace seclabel
