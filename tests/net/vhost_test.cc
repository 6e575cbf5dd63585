// vhost-net: used when present or asked for; an explicit request on a host
// without it fails cleanly, an implicit one is skipped without a record.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/net_device.h"
#include "tests/net/net_test_support.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;

class Vhost : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  static NetInterfaceSpec spec(VhostRequest vhost) {
    NetInterfaceSpec s;
    s.mac = MacAddress::parse("52:54:00:12:34:56");
    s.vhost = vhost;
    return s;
  }
};

// A host without vhost-net, whatever this machine has.
constexpr const char* kAbsentVhost = "/nonexistent-seclabel-test/vhost-net";

TEST_F(Vhost, NotRequestedAndAbsentIsSkippedWithoutAnAuditRecord) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    context.vhostNetPath = kAbsentVhost;
    NetDevice tap = NetDevice::createEthernetTap(context, spec(VhostRequest::Auto));
    EXPECT_TRUE(tap.vhostFds().empty());
    EXPECT_TRUE(log.with("path", kAbsentVhost).empty());
    EXPECT_EQ(log.with("path", "/dev/net/tun").size(), 1u);
  });
}

TEST_F(Vhost, RequestedButAbsentIsExit1WithNothingLeftBehind) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    context.vhostNetPath = kAbsentVhost;
    std::vector<std::string> links = linkNames();
    std::size_t fds = openFdCount();
    try {
      NetDevice::createEthernetTap(context, spec(VhostRequest::Required));
      ADD_FAILURE() << "vhost-net was required";
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 1);
      EXPECT_EQ(e.errnum(), ENOENT);
      EXPECT_EQ(std::string(e.what()), std::string("cannot open ") + kAbsentVhost +
                                           " (vhost-net was requested): No such file or directory");
    }
    EXPECT_EQ(linkNames(), links);
    EXPECT_EQ(openFdCount(), fds);
    // The attempt was made and failed: one record, and no tap was opened.
    ASSERT_EQ(log.records.size(), 1u);
    EXPECT_EQ(log.records[0].outcome, AuditOutcome::Failure);
    EXPECT_EQ(log.records[0].field("path")->value, kAbsentVhost);
    EXPECT_EQ(log.records[0].field("rdev")->value, "?");
  });
}

TEST_F(Vhost, OffOpensNothingEvenWhenPresent) {
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetDevice tap = NetDevice::createEthernetTap(context, spec(VhostRequest::Off));
    EXPECT_TRUE(tap.vhostFds().empty());
    EXPECT_TRUE(log.with("path", "/dev/vhost-net").empty());
  });
}

TEST_F(Vhost, RealVhostNetIsOpenedOncePerQueueAndAudited) {
  struct stat st;
  if (::stat("/dev/vhost-net", &st) != 0) GTEST_SKIP() << "this host has no /dev/vhost-net";
  runInFreshNetns([] {
    Rtnetlink rt = Rtnetlink::open();
    RecordingAuditLog log;
    NetContext context = guestContext(rt, &log);
    NetInterfaceSpec s = spec(VhostRequest::Required);
    s.queues = 2;
    NetDevice tap = NetDevice::createEthernetTap(context, s);
    ASSERT_EQ(tap.vhostFds().size(), 2u);
    for (const UniqueFd& fd : tap.vhostFds()) {
      struct stat fdStat;
      ASSERT_EQ(::fstat(fd.get(), &fdStat), 0);
      EXPECT_TRUE(S_ISCHR(fdStat.st_mode));
    }
    EXPECT_EQ(log.with("path", "/dev/vhost-net").size(), 2u);
  });
}

}  // namespace
}  // namespace seclabel
