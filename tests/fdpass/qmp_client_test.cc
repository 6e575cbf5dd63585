// The QMP client against a real QEMU (TCG, -machine none: no guest code).
#include "fdpass/qmp_client.h"

#include <fcntl.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/fdset.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::QemuProcess;
using testing::TempDir;

class QmpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qemu_ = std::make_unique<QemuProcess>(QemuProcess::Options{
        {qmpPath()}, {}, std::nullopt, dir_.file("qemu.log")});
  }
  std::string qmpPath() const { return dir_.file("qmp.sock"); }

  const QmpFdset* findSet(const std::vector<QmpFdset>& sets, int id) {
    for (const auto& set : sets) {
      if (set.fdsetId == id) return &set;
    }
    return nullptr;
  }

  TempDir dir_;
  std::unique_ptr<QemuProcess> qemu_;
};

TEST_F(QmpClientTest, GreetsAndNegotiatesCapabilities) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  EXPECT_GE(qmp.qemuVersion().major, 7);
  nlohmann::json status = qmp.execute("query-status");
  EXPECT_TRUE(status.contains("status")) << status.dump();
}

TEST_F(QmpClientTest, ErrorReplyCarriesQemusDesc) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  try {
    qmp.execute("no-such-command");
    FAIL() << "QEMU accepted a command that does not exist";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no-such-command: The command no-such-command has not been found");
  }
}

TEST_F(QmpClientTest, CommandWithArgumentsGetsItsReturn) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  nlohmann::json schema = qmp.execute("qom-list", {{"path", "/machine"}});
  ASSERT_TRUE(schema.is_array());
  EXPECT_FALSE(schema.empty());
}

TEST_F(QmpClientTest, SkipsAsynchronousEvents) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  // stop and cont each emit an event (STOP, RESUME) around their replies.
  qmp.execute("stop");
  qmp.execute("cont");
  qmp.execute("stop");
  EXPECT_EQ(qmp.execute("query-status")["status"], "paused");
}

TEST_F(QmpClientTest, AddFdShowsInQueryFdsetsWithItsOpaque) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  std::string image = testing::makeImage(dir_.file("disk.raw"), "raw");
  OpenedImage opened = openImage(image, FdMode::ReadOnly);

  QmpAddedFd added = qmp.addFd(opened.fd.get(), std::nullopt, "rdonly:" + image);
  EXPECT_GE(added.fd, 0);

  auto sets = qmp.queryFdsets();
  const QmpFdset* set = findSet(sets, added.fdsetId);
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->fds.size(), 1u);
  EXPECT_EQ(set->fds[0].fd, added.fd);
  EXPECT_EQ(set->fds[0].opaque, "rdonly:" + image);
}

TEST_F(QmpClientTest, AddFdIntoAChosenSet) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  std::string image = testing::makeImage(dir_.file("disk.raw"), "raw");
  OpenedImage rw = openImage(image, FdMode::ReadWrite);
  OpenedImage ro = openImage(image, FdMode::ReadOnly);
  QmpAddedFd first = qmp.addFd(rw.fd.get(), 7, fdsetOpaque(FdMode::ReadWrite, image));
  QmpAddedFd second = qmp.addFd(ro.fd.get(), 7, fdsetOpaque(FdMode::ReadOnly, image));
  EXPECT_EQ(first.fdsetId, 7);
  EXPECT_EQ(second.fdsetId, 7);
  auto sets = qmp.queryFdsets();
  const QmpFdset* set = findSet(sets, 7);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->fds.size(), 2u);
}

TEST_F(QmpClientTest, BlockdevAddOpensQcow2ThroughFdset) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  std::string image = testing::makeImage(dir_.file("disk.qcow2"), "qcow2");
  std::vector<OpenedImage> images = openDiskImages(image, DiskAccess::ReadWrite);
  std::optional<int> setId;
  for (const auto& opened : images) {
    setId = qmp.addFd(opened.fd.get(), setId, fdsetOpaque(opened.mode, image)).fdsetId;
  }
  qmp.execute("blockdev-add",
              {{"node-name", "disk0"},
               {"driver", "qcow2"},
               {"file", {{"driver", "file"}, {"filename", fdsetPath(*setId)}}}});

  bool found = false;
  for (const auto& node : qmp.execute("query-named-block-nodes")) {
    if (node["node-name"] == "disk0") {
      found = true;
      EXPECT_EQ(node["image"]["format"], "qcow2");
      EXPECT_FALSE(node["ro"].get<bool>());
    }
    if (node["drv"] == "file") {
      EXPECT_EQ(node["file"], fdsetPath(*setId));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(QmpClientTest, BlockdevAddOfAnUnknownFdsetFails) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  EXPECT_THROW(qmp.execute("blockdev-add", {{"node-name", "nothing"},
                                            {"driver", "file"},
                                            {"filename", "/dev/fdset/4242"}}),
               Error);
}

TEST_F(QmpClientTest, RemoveFdWithdrawsAnUnusedFd) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  std::string image = testing::makeImage(dir_.file("disk.raw"), "raw");
  OpenedImage opened = openImage(image, FdMode::ReadOnly);
  QmpAddedFd added = qmp.addFd(opened.fd.get(), std::nullopt, "rdonly:" + image);
  qmp.removeFd(added.fdsetId, added.fd);
  EXPECT_EQ(findSet(qmp.queryFdsets(), added.fdsetId), nullptr);
  // And it is gone for good: QEMU cannot open through it any more.
  EXPECT_THROW(qmp.execute("blockdev-add", {{"node-name", "late"},
                                            {"driver", "file"},
                                            {"filename", fdsetPath(added.fdsetId)},
                                            {"read-only", true}}),
               Error);
}

TEST_F(QmpClientTest, RemoveFdOfAnUnknownSetCarriesQemusDesc) {
  QmpClient qmp = QmpClient::connect(qmpPath());
  try {
    qmp.removeFd(4242);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("remove-fd: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4242"), std::string::npos) << e.what();
  }
}

TEST(QmpClient, ConnectingToNothingNamesTheSocket) {
  try {
    QmpClient::connect("/nonexistent/qmp.sock");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/qmp.sock"), std::string::npos);
  }
}

}  // namespace
}  // namespace seclabel
