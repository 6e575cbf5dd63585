// An image on NFS with root_squash, end to end: the `seclabel` binary, a
// real QEMU (TCG), a real FUSE mount. bindfs running as nobody stands in for
// the NFS server: root is squashed to nobody, so root can neither chown nor
// label the image, and the guest's uid may not open it. With fdpass = "auto"
// the prepare falls back to fd passing and QEMU runs on /dev/fdset/N; with
// "never" the prepare fails and leaves nothing behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

#include "alloc/store.h"
#include "core/error.h"
#include "fdpass/qmp_client.h"
#include "tests/fdpass/e2e_fdpass_support.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;
using namespace fdpass_e2e;

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";
constexpr uid_t kSomeGuestUid = 61234;

// security_driver = ["selinux", "dac"], [audit] sink = "none".
ConfigOptions configWith(const std::string& fdpass) {
  ConfigOptions options;
  options.drivers = {"selinux", "dac"};
  options.fdpass = fdpass;
  options.auditSink = "none";
  return options;
}

class RootSquash : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: FUSE as nobody, uids, chown";
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed";
    if (::access("/usr/bin/bindfs", X_OK) != 0) GTEST_SKIP() << "bindfs is not installed";
    ASSERT_EQ(::mkdir(backing_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(mountpoint_.c_str(), 0755), 0);
    // What root creates on a root_squash export belongs to nobody.
    makeImage(backing_ + "/vda.qcow2");
    ASSERT_EQ(::chown((backing_ + "/vda.qcow2").c_str(), kNobody, kNogroup), 0);
    ASSERT_EQ(::chmod((backing_ + "/vda.qcow2").c_str(), 0600), 0);
    original_ = fileBytes(backing_ + "/vda.qcow2");
    ASSERT_EQ(original_.substr(0, 4), "QFI\xfb");
    mount_.emplace(backing_, mountpoint_);
    ASSERT_TRUE(mount_->mounted()) << mount_->error();
    ASSERT_EQ(::mkdir(sockDir_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(sockDir_.c_str(), 01777), 0);  // the guest's uid creates its socket
  }

  // The emulation holds: what root_squash does to root and to others.
  void expectRootSquashed() {
    struct stat st {};
    ASSERT_EQ(::stat(image_.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, kNobody);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    errno = 0;
    EXPECT_EQ(::chown(image_.c_str(), 0, 0), -1);
    EXPECT_EQ(errno, EPERM);
    const char label[] = "system_u:object_r:svirt_image_t:s0:c1,c2";
    errno = 0;
    EXPECT_EQ(::setxattr(image_.c_str(), "security.selinux", label, sizeof label, 0), -1);
    EXPECT_TRUE(errno == ENOTSUP || errno == EOPNOTSUPP) << std::strerror(errno);
    // Root reads it: squashed to nobody, who owns it.
    int fd = ::open(image_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    char magic[4] = {};
    EXPECT_EQ(::pread(fd, magic, 4, 0), 4);
    EXPECT_EQ(std::string(magic, 4), "QFI\xfb");
    ::close(fd);
    EXPECT_EQ(openErrnoAs(kSomeGuestUid, kSomeGuestUid, image_, O_RDONLY), EACCES);
  }

  // The backing file is as it was: owner, mode, no label, same bytes.
  void expectImageUntouched() {
    const std::string backingImage = backing_ + "/vda.qcow2";
    e2e::Owner o = ownerOf(backingImage);
    EXPECT_EQ(o.uid, kNobody);
    EXPECT_EQ(o.gid, kNogroup);
    EXPECT_EQ(o.mode, 0600u);
    for (const auto& name : xattrNames(backingImage)) EXPECT_NE(name, "security.selinux");
    EXPECT_EQ(fileBytes(backingImage), original_);
  }

  std::vector<std::string> qemuCommand() const {
    return {kQemu, "-accel", "tcg", "-machine", "q35", "-nodefaults", "-display", "none", "-S",
            "-qmp", "unix:" + qmpSocket_ + ",server=on,wait=off",
            "-blockdev",
            R"({"driver":"qcow2","node-name":"d0","file":{"driver":"file","filename":"{disk:vda}"}})"};
  }

  std::vector<std::string> runArgs(const std::string& xml) const {
    std::vector<std::string> args = {"run", xml, "--"};
    for (const auto& a : qemuCommand()) args.push_back(a);
    return args;
  }

  TempDir dir_;  // first: destroyed after the mount is gone
  std::string backing_ = dir_ / "export";
  std::string mountpoint_ = dir_ / "nfs";
  std::string image_ = mountpoint_ + "/vda.qcow2";
  std::string sockDir_ = dir_ / "sock";
  std::string qmpSocket_ = sockDir_ + "/qmp.sock";
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string original_;
  std::optional<RootSquashMount> mount_;
};

TEST_F(RootSquash, AutoServesTheImageByFdPassingToQemuRunningAsTheGuestUid) {
  expectRootSquashed();
  writeConfig(config_, configWith("auto"));
  const std::string xml = dir_ / "guest.xml", uuid = freshUuid();
  e2e::writeDomain(xml, "squashed", uuid, {{image_, "vda"}});

  Child run(seclabelArgv(config_, state_, runArgs(xml)));
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(qmpSocket_) || !processExists(run.pid()); },
                         30000));
  ASSERT_TRUE(std::filesystem::exists(qmpSocket_)) << "QEMU did not come up: " << run.wait().err;
  nlohmann::json guest;
  ASSERT_TRUE(eventually([&] {
    guest = findGuest(listGuests(config_, state_), uuid);
    return !guest.is_null() && guest["state"] == "running";
  }));
  const pid_t qemuPid = guest["pid"].get<pid_t>();
  auto [uid, gid] = dacIds(guest);
  ASSERT_NE(uid, 0u);

  // The store: vda is served by fd passing, nothing was labeled.
  {
    auto store = openSqliteStore(state_);
    std::vector<FdPassedDisk> passed = store->fdPassedDisksOf(uuid);
    ASSERT_EQ(passed.size(), 1u);
    EXPECT_EQ(passed[0].target, "vda");
    EXPECT_EQ(passed[0].path, image_);
    EXPECT_EQ(passed[0].access, DiskAccess::ReadWrite);
    EXPECT_TRUE(store->resourcesOf(uuid).empty()) << "no original remembered: nothing labeled";
  }
  expectImageUntouched();

  // QEMU is the guest's uid, and that uid cannot open the image itself.
  std::string status = readFile("/proc/" + std::to_string(qemuPid) + "/status");
  const std::string u = std::to_string(uid), g = std::to_string(gid);
  EXPECT_EQ(statusField(status, "Uid"), u + " " + u + " " + u + " " + u);
  EXPECT_EQ(statusField(status, "Gid"), g + " " + g + " " + g + " " + g);
  EXPECT_EQ(openErrnoAs(uid, gid, image_, O_RDONLY), EACCES);

  QmpClient qmp = QmpClient::connect(qmpSocket_);
  // The qcow2 node d0 sits on a file node opened from /dev/fdset/N.
  std::optional<int> fdsetId;
  bool d0Found = false;
  nlohmann::json nodes = qmp.execute("query-named-block-nodes");
  for (const auto& node : nodes) {
    const std::string file = node.value("file", "");
    if (node.value("drv", "") == "file" && file.rfind("/dev/fdset/", 0) == 0)
      fdsetId = std::stoi(file.substr(11));
    if (node.value("node-name", "") == "d0") {
      d0Found = true;
      EXPECT_EQ(node.value("drv", ""), "qcow2");
      EXPECT_FALSE(node.value("ro", true));
      EXPECT_EQ(node.value("file", "").rfind("/dev/fdset/", 0), 0u) << node.dump();
    }
  }
  EXPECT_TRUE(d0Found) << nodes.dump();
  ASSERT_TRUE(fdsetId.has_value()) << "no file node on /dev/fdset/N: " << nodes.dump();

  std::vector<QmpFdset> sets = qmp.queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].fdsetId, *fdsetId);
  std::vector<std::string> opaques;
  for (const auto& fd : sets[0].fds) opaques.push_back(fd.opaque.value_or("(none)"));
  std::sort(opaques.begin(), opaques.end());
  EXPECT_EQ(opaques, (std::vector<std::string>{"rdonly:" + image_, "rdwr:" + image_}));

  // The negative control: by its path, QEMU (the guest's uid) may not open it.
  try {
    qmp.execute("blockdev-add",
                {{"driver", "file"}, {"node-name", "direct"}, {"filename", image_}});
    ADD_FAILURE() << "blockdev-add by path worked";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }

  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  Finished f = run.wait();
  EXPECT_EQ(f.code(), 0) << f.err;
  EXPECT_FALSE(processExists(qemuPid));
  EXPECT_TRUE(listGuests(config_, state_).empty());
  EXPECT_TRUE(openSqliteStore(state_)->fdPassedDisksOf(uuid).empty());
  expectImageUntouched();
}

TEST_F(RootSquash, NeverFailsThePrepareNamingThePathAndLeavesNothing) {
  expectRootSquashed();
  writeConfig(config_, configWith("never"));
  const std::string xml = dir_ / "guest.xml", uuid = freshUuid();
  e2e::writeDomain(xml, "squashed", uuid, {{image_, "vda"}});

  Finished f = runSeclabel(config_, state_, runArgs(xml));
  EXPECT_EQ(f.code(), 1) << f.err;
  EXPECT_NE(f.err.find(image_), std::string::npos) << f.err;
  // The selinux driver comes first and meets --xattr-none: ENOTSUP.
  EXPECT_NE(f.err.find("cannot label " + image_), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("Operation not supported"), std::string::npos) << f.err;
  EXPECT_FALSE(std::filesystem::exists(qmpSocket_)) << "QEMU must not have started";
  EXPECT_TRUE(listGuests(config_, state_).empty());
  auto store = openSqliteStore(state_);
  EXPECT_TRUE(store->fdPassedDisksOf(uuid).empty());
  EXPECT_TRUE(store->resourcesOf(uuid).empty());
  EXPECT_TRUE(store->identitiesOf(uuid).empty());
  expectImageUntouched();
}

}  // namespace
}  // namespace seclabel
