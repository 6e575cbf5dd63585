// `seclabel broker add-fd --blockdev JSON`, end to end: the real broker
// (root), a real QEMU (TCG, running, not paused) started by `seclabel run` as
// the guest's uid, and `broker add-fd` run as the guest's uid with setpriv.
// QEMU before 9.1 drops the fds of a running guest that no block node uses
// when its last monitor disconnects; with --blockdev the node uses them on
// the same connection, so they survive.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "fdpass/qmp_client.h"
#include "tests/fdpass/e2e_fdpass_support.h"
#include "tests/fdpass/test_support.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";
constexpr char kHotBlockdev[] =
    R"({"driver":"raw","node-name":"hot","file":{"driver":"file","filename":"{fdset}"}})";

class BrokerAddFd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: broker, uids";
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed";
    makeImage(vda_);
    makeImage(vdb_);
    writeConfig(config_, ConfigOptions{});  // fdpass never, audit none
    fdpass_e2e::writeDomain(xml_, name_, uuid_, {{vda_, "vda"}, {vdb_, "vdb"}});
    Finished prepared = runSeclabel(config_, state_, {"prepare", xml_});
    ASSERT_EQ(prepared.code(), 0) << prepared.err;
    std::tie(uid_, gid_) = dacIds(findGuest(listGuests(config_, state_), uuid_));

    broker_.emplace(seclabelArgv(config_, state_, {"broker", "--socket", brokerSocket_}));
    ASSERT_TRUE(eventually([&] {
      return std::filesystem::exists(brokerSocket_) || !processExists(broker_->pid());
    })) << broker_->wait().err;
    ASSERT_TRUE(std::filesystem::exists(brokerSocket_)) << broker_->wait().err;

    ASSERT_EQ(::mkdir(sockDir_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(sockDir_.c_str(), 01777), 0);
    // Running (no -S): that is when QEMU 7.2 drops unused fds.
    qemu_.emplace(seclabelArgv(config_, state_,
                               {"run", xml_, "--", kQemu, "-accel", "tcg", "-machine", "none",
                                "-nodefaults", "-display", "none", "-qmp",
                                "unix:" + qmp_ + ",server=on,wait=off"}));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(qmp_) || !processExists(qemu_->pid()); },
                           30000));
    ASSERT_TRUE(std::filesystem::exists(qmp_)) << "QEMU did not come up: " << qemu_->wait().err;
    ASSERT_EQ(ownerOf(qmp_).uid, uid_) << "QEMU runs as the guest's uid";
  }

  void TearDown() override {
    if (qemu_) {
      ::kill(qemu_->pid(), SIGTERM);
      EXPECT_EQ(qemu_->wait().code(), 0);
    }
    if (broker_) {
      ::kill(broker_->pid(), SIGTERM);
      EXPECT_EQ(broker_->wait().code(), 0);
    }
    runSeclabel(config_, state_, {"restore", uuid_});
  }

  // seclabel broker add-fd ... as uid:gid with no groups.
  Finished addFdAs(uid_t uid, gid_t gid, const std::vector<std::string>& extra,
                   const std::string& disk) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(gid), "--clear-groups"};
    for (const auto& a : seclabelArgv(config_, state_,
                                      {"broker", "add-fd", "--socket", brokerSocket_, "--qmp", qmp_}))
      argv.push_back(a);
    for (const auto& a : extra) argv.push_back(a);
    argv.push_back(name_);
    argv.push_back(disk);
    return Child(argv).wait();
  }

  static const nlohmann::json* node(const nlohmann::json& nodes, const std::string& name) {
    for (const auto& n : nodes)
      if (n.value("node-name", "") == name) return &n;
    return nullptr;
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml", state_ = dir_ / "state";
  std::string vda_ = dir_ / "vda.qcow2", vdb_ = dir_ / "vdb.qcow2", xml_ = dir_ / "guest.xml";
  std::string brokerSocket_ = dir_ / "broker.sock";
  std::string sockDir_ = dir_ / "sock", qmp_ = sockDir_ + "/qmp.sock";
  std::string name_ = "hotplugged", uuid_ = freshUuid();
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::optional<Child> broker_, qemu_;
};

TEST_F(BrokerAddFd, BlockdevOnTheSameConnectionKeepsTheFdsAfterTheMonitorLeaves) {
  // The caveat first: without --blockdev, the fds outlive the monitor only
  // on QEMU 9.1 and later.
  Finished bare = addFdAs(uid_, gid_, {}, "vda");
  ASSERT_EQ(bare.code(), 0) << bare.err;
  const int bareSet = std::stoi(bare.out);
  {
    QmpClient qmp = QmpClient::connect(qmp_);
    QmpClient::Version v = qmp.qemuVersion();
    auto sets = qmp.queryFdsets();
    if (v.major < 9 || (v.major == 9 && v.minor < 1)) {
      EXPECT_TRUE(sets.empty()) << "QEMU " << v.major << "." << v.minor
                                << " dropped the unused fds when add-fd's monitor left";
    } else {
      ASSERT_EQ(sets.size(), 1u);
      qmp.removeFd(bareSet);
    }
  }

  Finished added = addFdAs(uid_, gid_, {"--blockdev", kHotBlockdev}, "vdb");
  ASSERT_EQ(added.code(), 0) << added.err;
  const int fdsetId = std::stoi(added.out);
  EXPECT_EQ(added.out, std::to_string(fdsetId) + "\n");

  // A fresh monitor: the node is there, on the fd set, which kept its fds.
  QmpClient qmp = QmpClient::connect(qmp_);
  nlohmann::json nodes = qmp.execute("query-named-block-nodes");
  const nlohmann::json* hot = node(nodes, "hot");
  ASSERT_NE(hot, nullptr) << nodes.dump();
  EXPECT_EQ(hot->value("drv", ""), "raw");
  EXPECT_EQ(hot->value("file", ""), "/dev/fdset/" + std::to_string(fdsetId));
  EXPECT_FALSE(hot->value("ro", true));
  std::vector<QmpFdset> sets = qmp.queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].fdsetId, fdsetId);
  std::vector<std::string> opaques;
  for (const auto& fd : sets[0].fds) opaques.push_back(fd.opaque.value_or("(none)"));
  EXPECT_EQ(opaques, (std::vector<std::string>{"rdwr:" + vdb_, "rdonly:" + vdb_}));
}

TEST_F(BrokerAddFd, StrangerGetsExit4WithTheBrokersReasonAndQemuGetsNothing) {
  ASSERT_EQ(::chmod(qmp_.c_str(), 0666), 0);  // the monitor is not what stops it
  Finished stranger = addFdAs(testing::kStrangerUid, testing::kStrangerUid,
                              {"--blockdev", kHotBlockdev}, "vdb");
  EXPECT_EQ(stranger.code(), 4) << stranger.err;
  EXPECT_NE(stranger.err.find("broker: uid " + std::to_string(testing::kStrangerUid) +
                              " may not open disks of guest " + name_),
            std::string::npos)
      << stranger.err;
  EXPECT_EQ(stranger.out, "");
  QmpClient qmp = QmpClient::connect(qmp_);
  EXPECT_TRUE(qmp.queryFdsets().empty());
  EXPECT_EQ(node(qmp.execute("query-named-block-nodes"), "hot"), nullptr);
}

TEST_F(BrokerAddFd, BadBlockdevIsRefusedBeforeAndAFailedOneWithdrawsTheFds) {
  Finished notJson = addFdAs(uid_, gid_, {"--blockdev", "{\"driver\":"}, "vdb");
  EXPECT_EQ(notJson.code(), 2) << notJson.err;
  Finished noPlaceholder =
      addFdAs(uid_, gid_, {"--blockdev", R"({"driver":"file","filename":"/dev/null"})"}, "vdb");
  EXPECT_EQ(noPlaceholder.code(), 2) << noPlaceholder.err;
  EXPECT_NE(noPlaceholder.err.find("{fdset}"), std::string::npos) << noPlaceholder.err;

  // QEMU refuses the node (the image is a qcow2, not a VMDK) after opening
  // the fd set: the set added for it is removed again, nothing is printed.
  Finished refused = addFdAs(
      uid_, gid_,
      {"--blockdev",
       R"({"driver":"vmdk","node-name":"bad","file":{"driver":"file","filename":"{fdset}"}})"},
      "vdb");
  EXPECT_EQ(refused.code(), 1) << refused.err;
  EXPECT_NE(refused.err.find("blockdev-add: "), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "");
  QmpClient qmp = QmpClient::connect(qmp_);
  EXPECT_TRUE(qmp.queryFdsets().empty());
  EXPECT_EQ(node(qmp.execute("query-named-block-nodes"), "bad"), nullptr);
}

}  // namespace
}  // namespace seclabel
