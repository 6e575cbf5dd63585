// The broker as its clients meet it: a real SOCK_SEQPACKET socket, a server
// thread, clients forked as the guest's uid or a stranger's, real image files
// only root may open. The guest directory is the one injected interface (the
// store stands behind it in seclabel); here it is an in-memory table.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/broker_client.h"
#include "fdpass/broker_server.h"
#include "fdpass/qemu_hotplug.h"
#include "fdpass/scm_rights.h"
#include "tests/fdpass/broker_fakes.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::countOpenFds;
using testing::RecordingAuditor;
using testing::TableDirectory;
using testing::kGuestUid;
using testing::kStrangerUid;
using testing::runAsUid;
using testing::TempDir;

// Exit codes a forked client reports with.
constexpr int kGranted = 0;
constexpr int kWrongFds = 10;

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::runningAsRoot()) GTEST_SKIP() << "needs root: clients run as other uids";
    images_ = dir_.file("images");
    ASSERT_EQ(::mkdir(images_.c_str(), 0755), 0);
    webDisk_ = testing::makeImage(images_ + "/web.qcow2");
    webCdrom_ = testing::makeImage(images_ + "/web-seed.raw", "raw");
    dbDisk_ = testing::makeImage(images_ + "/db.qcow2");
    for (const auto& path : {webDisk_, webCdrom_, dbDisk_}) {
      ASSERT_EQ(::chmod(path.c_str(), 0600), 0);  // root:root, like root_squash'd NFS
    }
    directory_.guests = {
        {"11111111-1111-1111-1111-111111111111",
         "web",
         kGuestUid,
         {{"vda", {webDisk_, DiskAccess::ReadWrite}},
          {"vdb", {webCdrom_, DiskAccess::ReadOnly}}}},
        {"22222222-2222-2222-2222-222222222222",
         "db",
         kGuestUid + 100,
         {{"vda", {dbDisk_, DiskAccess::ReadWrite}}}},
    };
    socket_ = dir_.file("broker.sock");
    server_ = std::make_unique<BrokerServer>(listenOnBrokerSocket(socket_), directory_,
                                             auditor_);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
      thread_.join();
    }
  }

  // As `uid`: ask for a disk; the exit code says what happened (the Error's
  // exit code when refused, kWrongFds when the fds are not what was asked).
  int askAs(uid_t uid, const std::string& guest, const std::string& disk,
            DiskAccess access, std::size_t expectedFds) {
    return runAsUid(uid, [&] {
      try {
        BrokerDiskFds fds = requestDiskFds(socket_, guest, disk, access);
        if (fds.fds.size() != expectedFds) return kWrongFds;
        // The image is root's 0600: reading it proves the fd is what let us in.
        char magic[4] = {};
        if (::pread(fds.fds.back().fd.get(), magic, 4, 0) != 4) return kWrongFds;
        if (::open(fds.path.c_str(), O_RDONLY) >= 0) return kWrongFds;  // must not work
        return kGranted;
      } catch (const Error& e) {
        return e.exitCode();
      }
    });
  }

  // Waits (2 s at most) until our fd count is back to `expected`; the broker
  // closes a departed client's socket on its next loop round.
  int settleFdCount(int expected) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int now = countOpenFds();
    while (now != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      now = countOpenFds();
    }
    return now;
  }

  UniqueFd rawConnection() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, socket_.c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  BrokerReply rawExchange(int fd, const std::string& payload, std::vector<int> fds = {}) {
    sendWithFds(fd, payload, fds);
    auto message = receiveRecordWithFds(fd, kMaxBrokerReplyBytes, 2);
    EXPECT_TRUE(message.has_value());
    return message ? parseBrokerReply(message->payload) : BrokerReply{};
  }

  TempDir dir_;
  std::string images_, webDisk_, webCdrom_, dbDisk_, socket_;
  TableDirectory directory_;
  RecordingAuditor auditor_;
  std::unique_ptr<BrokerServer> server_;
  std::thread thread_;
};

TEST_F(BrokerTest, GuestUidGetsItsOwnWritableDiskAsReadWriteAndReadOnlyFds) {
  EXPECT_EQ(askAs(kGuestUid, "web", "vda", DiskAccess::ReadWrite, 2), kGranted);
  auto records = auditor_.awaitRecords(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "fd");
  EXPECT_EQ(records[0].pathOrReason, webDisk_);
  EXPECT_TRUE(records[0].success);
  EXPECT_EQ(records[0].uid, kGuestUid);
  EXPECT_FALSE(records[0].blockDevice.has_value());
}

TEST_F(BrokerTest, GuestUidCanNameItsGuestByUuid) {
  EXPECT_EQ(askAs(kGuestUid, "11111111-1111-1111-1111-111111111111", "vdb",
                  DiskAccess::ReadOnly, 1),
            kGranted);
}

TEST_F(BrokerTest, RootGetsAnyGuestsDiskWithModesInOrder) {
  BrokerDiskFds fds = requestDiskFds(socket_, "db", "vda", DiskAccess::ReadWrite);
  ASSERT_EQ(fds.fds.size(), 2u);
  EXPECT_EQ(fds.fds[0].mode, FdMode::ReadWrite);
  EXPECT_EQ(fds.fds[0].opaque, "rdwr:" + dbDisk_);
  EXPECT_EQ(fds.fds[1].mode, FdMode::ReadOnly);
  EXPECT_EQ(fds.fds[1].opaque, "rdonly:" + dbDisk_);
  EXPECT_EQ(fds.guestUuid, "22222222-2222-2222-2222-222222222222");
  EXPECT_TRUE(::fcntl(fds.fds[0].fd.get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(BrokerTest, AnotherUidIsDenied) {
  EXPECT_EQ(askAs(kStrangerUid, "web", "vda", DiskAccess::ReadOnly, 1),
            static_cast<int>(ExitCode::PermissionDenied));
  auto records = auditor_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "denied");
  EXPECT_EQ(records[0].uid, kStrangerUid);
}

TEST_F(BrokerTest, StrangerCannotTellAnUnknownGuestFromSomeoneElses) {
  int stranger = runAsUid(kStrangerUid, [&] {
    std::string known, unknown;
    try {
      requestDiskFds(socket_, "web", "vda", DiskAccess::ReadOnly);
    } catch (const Error& e) {
      known = e.what();
    }
    try {
      requestDiskFds(socket_, "nosuchguest", "vda", DiskAccess::ReadOnly);
    } catch (const Error& e) {
      unknown = e.what();
    }
    return known.find("may not open disks of guest web") != std::string::npos &&
                   unknown.find("may not open disks of guest nosuchguest") != std::string::npos
               ? 0
               : 1;
  });
  EXPECT_EQ(stranger, 0);
}

TEST_F(BrokerTest, UnknownGuestIsInvalidInputForRoot) {
  try {
    requestDiskFds(socket_, "nosuchguest", "vda", DiskAccess::ReadOnly);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_STREQ(e.what(), "broker: no guest nosuchguest");
  }
}

TEST_F(BrokerTest, AnotherGuestsDiskIsDenied) {
  EXPECT_EQ(askAs(kGuestUid, "db", "vda", DiskAccess::ReadOnly, 1),
            static_cast<int>(ExitCode::PermissionDenied));
}

TEST_F(BrokerTest, DiskNotRecordedForTheGuestIsDenied) {
  EXPECT_EQ(askAs(kGuestUid, "web", "vdz", DiskAccess::ReadOnly, 1),
            static_cast<int>(ExitCode::PermissionDenied));
}

TEST_F(BrokerTest, ReadWriteOnAReadOnlyDiskIsDenied) {
  EXPECT_EQ(askAs(kGuestUid, "web", "vdb", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
  EXPECT_EQ(askAs(kGuestUid, "web", "vdb", DiskAccess::ReadOnly, 1), kGranted);
}

TEST_F(BrokerTest, ReadOnlyOnAWritableDiskGetsOnlyAReadOnlyFd) {
  BrokerDiskFds fds = requestDiskFds(socket_, "web", "vda", DiskAccess::ReadOnly);
  ASSERT_EQ(fds.fds.size(), 1u);
  EXPECT_EQ(::fcntl(fds.fds[0].fd.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
}

TEST_F(BrokerTest, SymlinkSwappedInForTheImageIsRefused) {
  // Planted by someone who is not root (the image directory's owner, say):
  // it may lead only to what they own, and the secret is root's.
  std::string secret = testing::makeImage(dir_.file("secret.raw"), "raw");
  ASSERT_EQ(::unlink(webDisk_.c_str()), 0);
  ASSERT_EQ(::symlink(secret.c_str(), webDisk_.c_str()), 0);
  ASSERT_EQ(::lchown(webDisk_.c_str(), kGuestUid, kGuestUid), 0);
  EXPECT_EQ(askAs(kGuestUid, "web", "vda", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
  auto records = auditor_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "fd");
  EXPECT_FALSE(records[0].success);
}

TEST_F(BrokerTest, ASymlinkAStrangerPlantedInAStickyWorldWritableDirectoryIsRefused) {
  std::string ww = dir_.file("ww");
  ASSERT_EQ(::mkdir(ww.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(ww.c_str(), 01777), 0);
  ASSERT_EQ(::symlink(dbDisk_.c_str(), (ww + "/web.qcow2").c_str()), 0);
  ASSERT_EQ(::lchown((ww + "/web.qcow2").c_str(), kStrangerUid, kStrangerUid), 0);
  directory_.guests[0].disks["vdc"] = {ww + "/web.qcow2", DiskAccess::ReadWrite};
  EXPECT_EQ(askAs(kGuestUid, "web", "vdc", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
}

TEST_F(BrokerTest, AHardLinkOfAnotherGuestsImageIsRefused) {
  std::string link = images_ + "/web-extra.qcow2";
  ASSERT_EQ(::link(dbDisk_.c_str(), link.c_str()), 0);
  directory_.guests[0].disks["vdc"] = {link, DiskAccess::ReadWrite};
  EXPECT_EQ(askAs(kGuestUid, "web", "vdc", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
  try {
    requestDiskFds(socket_, "web", "vdc", DiskAccess::ReadOnly);
    FAIL() << "root got an fd of a hard-linked image";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 hard links"), std::string::npos) << e.what();
  }
}

TEST_F(BrokerTest, KernelInterfaceFilesAreNeverHandedOut) {
  // A disk on /proc or /sys that a prepare once served by fd passing: the
  // guest would get an O_RDWR fd of a kernel knob opened by root.
  directory_.guests[0].disks["vdc"] = {"/proc/sys/kernel/hostname", DiskAccess::ReadWrite};
  directory_.guests[0].disks["vdd"] = {"/proc/sys/kernel/core_pattern", DiskAccess::ReadWrite};
  directory_.guests[0].disks["vde"] = {"/sys/kernel/uevent_seqnum", DiskAccess::ReadOnly};
  EXPECT_EQ(askAs(kGuestUid, "web", "vdc", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
  EXPECT_EQ(askAs(kGuestUid, "web", "vdd", DiskAccess::ReadWrite, 2),
            static_cast<int>(ExitCode::PermissionDenied));
  EXPECT_EQ(askAs(kGuestUid, "web", "vde", DiskAccess::ReadOnly, 1),
            static_cast<int>(ExitCode::PermissionDenied));
  for (const auto& record : auditor_.records()) {
    EXPECT_EQ(record.kind, "fd");
    EXPECT_FALSE(record.success) << record.pathOrReason;
  }
  try {
    requestDiskFds(socket_, "web", "vdc", DiskAccess::ReadOnly);
    FAIL() << "root got an fd of /proc/sys/kernel/hostname";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is on proc"), std::string::npos) << e.what();
  }
}

TEST_F(BrokerTest, FifoSwappedInForTheImageIsRefusedWithoutHanging) {
  ASSERT_EQ(::unlink(webCdrom_.c_str()), 0);
  ASSERT_EQ(::mkfifo(webCdrom_.c_str(), 0600), 0);
  try {
    requestDiskFds(socket_, "web", "vdb", DiskAccess::ReadOnly);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::PermissionDenied);
    EXPECT_NE(std::string(e.what()).find("not a regular file or block device"),
              std::string::npos);
  }
}

TEST_F(BrokerTest, DenialIsAReplyAndTheConnectionKeepsServing) {
  BrokerConnection connection = BrokerConnection::connect(socket_);
  EXPECT_THROW(connection.openDisk("web", "vdz", DiskAccess::ReadOnly), Error);
  EXPECT_THROW(connection.openDisk("web", "vdb", DiskAccess::ReadWrite), Error);
  EXPECT_EQ(connection.openDisk("web", "vdb", DiskAccess::ReadOnly).fds.size(), 1u);
}

TEST_F(BrokerTest, MalformedOversizedAndFdCarryingRequestsGetReasons) {
  UniqueFd fd = rawConnection();
  BrokerReply reply = rawExchange(fd.get(), "not json");
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.refusalCode, ExitCode::InvalidInput);

  reply = rawExchange(fd.get(), std::string(kMaxBrokerRequestBytes + 100, '{'));
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.refusalReason.find("larger than"), std::string::npos) << reply.refusalReason;

  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  reply = rawExchange(fd.get(), formatBrokerRequest({"web", "vdb", DiskAccess::ReadOnly}),
                      {devnull.get(), devnull.get(), devnull.get()});
  EXPECT_FALSE(reply.ok);

  reply = rawExchange(fd.get(), formatBrokerRequest({"web", "vdb", DiskAccess::ReadOnly}));
  EXPECT_TRUE(reply.ok);
}

TEST_F(BrokerTest, FailingDirectoryIsAFailedReplyNotACrash) {
  directory_.failLookups = true;
  try {
    requestDiskFds(socket_, "web", "vda", DiskAccess::ReadOnly);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Failed);
    EXPECT_NE(std::string(e.what()).find("store is locked"), std::string::npos);
  }
  directory_.failLookups = false;
  EXPECT_EQ(requestDiskFds(socket_, "web", "vda", DiskAccess::ReadOnly).fds.size(), 1u);
}

TEST_F(BrokerTest, ThousandsOfMixedRequestsLeakNoFd) {
  // Warm up (first-use allocations inside libc), then count.
  requestDiskFds(socket_, "web", "vda", DiskAccess::ReadWrite);
  const int baseline = settleFdCount(countOpenFds());
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int withDevnull = baseline + 1;

  BrokerConnection steady = BrokerConnection::connect(socket_);
  for (int i = 0; i < 3000; ++i) {
    switch (i % 6) {
      case 0:
        EXPECT_EQ(steady.openDisk("web", "vda", DiskAccess::ReadWrite).fds.size(), 2u);
        break;
      case 1:
        EXPECT_THROW(steady.openDisk("web", "vdb", DiskAccess::ReadWrite), Error);
        break;
      case 2: {  // malformed, with fds the broker must close
        UniqueFd fd = rawConnection();
        int fds[] = {devnull.get()};
        sendWithFds(fd.get(), "{\"op\":", fds);
        break;  // hang up without reading the reply
      }
      case 3: {  // a valid request, then gone before the reply
        UniqueFd fd = rawConnection();
        sendWithFds(fd.get(), formatBrokerRequest({"web", "vda", DiskAccess::ReadWrite}), {});
        break;
      }
      case 4: {  // oversized
        UniqueFd fd = rawConnection();
        sendWithFds(fd.get(), std::string(20000, 'x'), {});
        break;
      }
      case 5: {  // connect and leave
        UniqueFd fd = rawConnection();
        break;
      }
    }
  }
  EXPECT_EQ(steady.openDisk("web", "vdb", DiskAccess::ReadOnly).fds.size(), 1u);
  { BrokerConnection drop = std::move(steady); }
  // A leak shows as more fds than before. Fewer is no leak: an fd that was
  // transiently open when the baseline was taken (seen once in CI) has gone.
  // Our own fd must still be the one we opened: the broker closed only its
  // received copies.
  EXPECT_LE(settleFdCount(withDevnull), withDevnull);
  EXPECT_NE(::fcntl(devnull.get(), F_GETFD), -1);
}

TEST_F(BrokerTest, ManyClientsAtOnceAreAllServed) {
  constexpr int kClients = 8, kRequests = 300;
  std::atomic<int> granted{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      BrokerConnection connection = BrokerConnection::connect(socket_);
      for (int i = 0; i < kRequests; ++i) {
        if (connection.openDisk("web", "vda", DiskAccess::ReadWrite).fds.size() == 2) ++granted;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(granted, kClients * kRequests);
}

TEST_F(BrokerTest, ClientThatNeverReadsIsCutOffAndOthersAreStillServed) {
  UniqueFd flooder = rawConnection();
  ::fcntl(flooder.get(), F_SETFL, O_NONBLOCK);
  std::string request = formatBrokerRequest({"web", "vdb", DiskAccess::ReadOnly});
  int sent = 0;
  for (int i = 0; i < 20000; ++i) {
    try {
      sendWithFds(flooder.get(), request, {});
      ++sent;
    } catch (const Error&) {
      break;  // our buffer is full, or the broker hung up on us
    }
  }
  EXPECT_GT(sent, 10);
  // Everyone else is still served while the flooder sits there.
  EXPECT_EQ(requestDiskFds(socket_, "web", "vdb", DiskAccess::ReadOnly).fds.size(), 1u);
}

// ---- hot-plugging a brokered disk into a running QEMU ----------------------

TEST_F(BrokerTest, GuestUidHotPlugsItsDiskIntoItsRunningQemu) {
  std::string runDir = dir_.file("run");
  ASSERT_EQ(::mkdir(runDir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(runDir.c_str(), kGuestUid, kGuestUid), 0);
  // Two monitors: the management one stays connected (QEMU before 9.1 drops
  // unused fds when no monitor is left), the other is the hot-plug caller's.
  const std::string managementQmp = runDir + "/mgmt.sock", hotplugQmp = runDir + "/hp.sock";
  testing::QemuProcess qemu(
      {{managementQmp, hotplugQmp}, {}, kGuestUid, dir_.file("qemu.log")});
  QmpClient management = QmpClient::connect(managementQmp);

  // The guest's negative control: its QEMU cannot open the image by path.
  EXPECT_THROW(management.execute("blockdev-add", {{"node-name", "direct"},
                                                   {"driver", "file"},
                                                   {"filename", webDisk_}}),
               Error);

  int pipeFds[2];
  ASSERT_EQ(::pipe2(pipeFds, O_CLOEXEC), 0);
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  int status = runAsUid(kGuestUid, [&] {
    QmpClient qmp = QmpClient::connect(hotplugQmp);
    int fdset = addBrokeredDiskToQemu(qmp, socket_, "web", "vda", DiskAccess::ReadWrite);
    return ::write(writeEnd.get(), &fdset, sizeof fdset) == sizeof fdset ? 0 : 1;
  });
  ASSERT_EQ(status, 0);
  int fdsetId = -1;
  ASSERT_EQ(::read(readEnd.get(), &fdsetId, sizeof fdsetId),
            static_cast<ssize_t>(sizeof fdsetId));

  std::vector<QmpFdset> sets = management.queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].fdsetId, fdsetId);
  ASSERT_EQ(sets[0].fds.size(), 2u);

  management.execute("blockdev-add",
                     {{"node-name", "web-vda"},
                      {"driver", "qcow2"},
                      {"file", {{"driver", "file"}, {"filename", fdsetPath(fdsetId)}}}});
  bool attached = false;
  for (const auto& node : management.execute("query-named-block-nodes")) {
    if (node["node-name"] == "web-vda") {
      attached = true;
      EXPECT_FALSE(node["ro"].get<bool>());
    }
  }
  EXPECT_TRUE(attached);

  management.execute("blockdev-del", {{"node-name", "web-vda"}});
  removeFdsetFromQemu(management, fdsetId);
  EXPECT_TRUE(management.queryFdsets().empty());
  EXPECT_THROW(removeFdsetFromQemu(management, fdsetId), Error);
}

TEST_F(BrokerTest, StrangerCannotHotPlugSomeoneElsesDisk) {
  std::string runDir = dir_.file("run");
  ASSERT_EQ(::mkdir(runDir.c_str(), 0755), 0);
  const std::string qmpPath = runDir + "/qmp.sock";
  testing::QemuProcess qemu({{qmpPath}, {}, std::nullopt, dir_.file("qemu.log")});
  ASSERT_EQ(::chmod(qmpPath.c_str(), 0666), 0);  // the monitor is not what stops it
  int status = runAsUid(kStrangerUid, [&] {
    try {
      QmpClient qmp = QmpClient::connect(qmpPath);
      addBrokeredDiskToQemu(qmp, socket_, "web", "vda", DiskAccess::ReadOnly);
      return 0;
    } catch (const Error& e) {
      return e.exitCode();
    }
  });
  EXPECT_EQ(status, static_cast<int>(ExitCode::PermissionDenied));
  QmpClient qmp = QmpClient::connect(qmpPath);
  EXPECT_TRUE(qmp.queryFdsets().empty());
}

}  // namespace
}  // namespace seclabel
