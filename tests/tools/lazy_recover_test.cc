// When a guest whose process died is restored (docs/store.md, "What recover
// relies on"): the recover pass at the start of every mutating command looks
// only at in-flight prepares and restores, so that its cost does not grow
// with the guests in the store. A guest recorded as running whose process is
// gone is restored
//   - by the next `seclabel recover`;
//   - by the next prepare (prepare, exec, run) that needs its name, its uuid,
//     an identity of a full space, or a file it holds exclusively;
// and a guest whose launcher is alive is never touched, whatever needs it.
// The built binary against a real state dir, images and processes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

// A range of one id, the first of this process's slice (a full space is
// what the test needs; a slice of its own keeps other tests' guests out).
std::string onlyIdOfTheSlice() {
  const std::string first = testDacRange().substr(0, testDacRange().find('-'));
  return first + "-" + first;
}

constexpr char kWaitForever[] = "echo ready; while :; do sleep 0.1; done";

class LazyRecover : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    writeConfig(config_, options_);
    makeImage(image_);
    makeImage(otherImage_);
    writeDomain(xml_, "lazy-guest", uuid_, {{image_, "vda"}});
  }

  Finished seclabel(const std::vector<std::string>& args) {
    return runSeclabel(config_, state_, args);
  }
  nlohmann::json list() { return listGuests(config_, state_); }
  nlohmann::json guest() { return findGuest(list(), uuid_); }

  // `seclabel exec` of lazy-guest, SIGKILLed (and reaped): the store still
  // records it as running, in a process that is gone. Returns its uid.
  uid_t killedExecGuest() {
    Child exec(seclabelArgv(config_, state_, {"exec", xml_, "--", "/bin/sh", "-c", kWaitForever}));
    EXPECT_TRUE(exec.waitForLine("ready"));
    nlohmann::json g = guest();
    EXPECT_EQ(g.value("state", ""), "running") << g.dump();
    uid_t uid = dacIds(g).first;
    EXPECT_EQ(ownerOf(image_).uid, uid);
    EXPECT_EQ(::kill(exec.pid(), SIGKILL), 0);
    EXPECT_EQ(exec.wait().code(), 128 + SIGKILL);
    return uid;
  }

  void expectUntouched(const std::string& image) {
    Owner o = ownerOf(image);
    EXPECT_EQ(o.uid, 0u) << image;
    EXPECT_EQ(o.gid, 0u) << image;
    EXPECT_EQ(o.mode, 0600u) << image;
  }

  // A guest that is not lazy-guest, with its own name, uuid and disk.
  std::string otherDomain(const std::string& name, const std::string& uuid,
                          const std::string& image) {
    std::string xml = dir_ / (name + ".xml");
    writeDomain(xml, name, uuid, {{image, "vda"}});
    return xml;
  }

  TempDir dir_;
  ConfigOptions options_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string image_ = dir_ / "guest.qcow2";
  std::string otherImage_ = dir_ / "other.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = freshUuid();
};

TEST_F(LazyRecover, AKilledGuestIsLeftByUnrelatedCommandsAndRestoredByTheNextRecover) {
  const uid_t uid = killedExecGuest();

  // Commands that need nothing of it leave it as it is: their recover pass
  // does not look at running guests.
  std::string other = otherDomain("lazy-other", freshUuid(), otherImage_);
  Finished p = seclabel({"prepare", other});
  ASSERT_EQ(p.code(), 0) << p.err;
  EXPECT_EQ(p.err.find("recover:"), std::string::npos) << p.err;
  Finished r = seclabel({"restore", "lazy-other"});
  ASSERT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(guest().value("state", ""), "running");
  EXPECT_EQ(ownerOf(image_).uid, uid);

  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_NE(recover.out.find("restored guest lazy-guest: its process "), std::string::npos)
      << recover.out;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectUntouched(image_);
}

TEST_F(LazyRecover, AKilledGuestIsRestoredByThePrepareThatNeedsItsName) {
  killedExecGuest();
  const std::string newUuid = freshUuid();
  Finished p = seclabel({"prepare", otherDomain("lazy-guest", newUuid, otherImage_)});
  ASSERT_EQ(p.code(), 0) << p.err;
  EXPECT_NE(p.err.find("recover: restored guest lazy-guest: its process "), std::string::npos)
      << p.err;
  expectUntouched(image_);
  nlohmann::json all = list();
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["uuid"], newUuid);
}

TEST_F(LazyRecover, AKilledGuestIsRestoredByThePrepareThatNeedsItsUuid) {
  killedExecGuest();
  Finished p = seclabel({"prepare", otherDomain("lazy-renamed", uuid_, otherImage_)});
  ASSERT_EQ(p.code(), 0) << p.err;
  EXPECT_NE(p.err.find("recover: restored guest lazy-guest"), std::string::npos) << p.err;
  expectUntouched(image_);
  nlohmann::json all = list();
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["name"], "lazy-renamed");
}

TEST_F(LazyRecover, AKilledGuestIsRestoredByThePrepareThatNeedsItsIdentity) {
  // One uid in the DAC range: the killed guest holds it.
  options_.dacRange = onlyIdOfTheSlice();
  writeConfig(config_, options_);
  const uid_t uid = killedExecGuest();
  ASSERT_EQ(std::to_string(uid), onlyIdOfTheSlice().substr(0, onlyIdOfTheSlice().find('-')));

  const std::string otherUuid = freshUuid();
  Finished p = seclabel({"prepare", otherDomain("lazy-other", otherUuid, otherImage_)});
  ASSERT_EQ(p.code(), 0) << p.err;
  EXPECT_NE(p.err.find("recover: restored guest lazy-guest"), std::string::npos) << p.err;
  expectUntouched(image_);
  nlohmann::json all = list();
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["uuid"], otherUuid);
  EXPECT_EQ(dacIds(all[0]).first, uid) << "the identity the dead guest held";
  EXPECT_EQ(ownerOf(otherImage_).uid, uid);
}

TEST_F(LazyRecover, AKilledGuestIsRestoredByThePrepareThatNeedsItsDisk) {
  killedExecGuest();
  // Another guest with the same private (exclusive) disk.
  const std::string otherUuid = freshUuid();
  Finished p = seclabel({"prepare", otherDomain("lazy-other", otherUuid, image_)});
  ASSERT_EQ(p.code(), 0) << p.err;
  EXPECT_NE(p.err.find("recover: restored guest lazy-guest"), std::string::npos) << p.err;
  nlohmann::json all = list();
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["uuid"], otherUuid);
  EXPECT_EQ(ownerOf(image_).uid, dacIds(all[0]).first);
  ASSERT_EQ(seclabel({"restore", otherUuid}).code(), 0);
  expectUntouched(image_);
}

TEST_F(LazyRecover, AKilledGuestIsRestoredByTheRunThatNeedsItsName) {
  killedExecGuest();
  Finished run = seclabel({"run", otherDomain("lazy-guest", freshUuid(), otherImage_), "--",
                           "/bin/true"});
  ASSERT_EQ(run.code(), 0) << run.err;
  EXPECT_NE(run.err.find("recover: restored guest lazy-guest"), std::string::npos) << run.err;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectUntouched(image_);
  expectUntouched(otherImage_);
}

// The same domain started again after its `exec` process was killed: the
// dead instance is restored first, not taken for a prepared guest.
TEST_F(LazyRecover, AKilledGuestIsRestoredBeforeTheSameDomainRunsAgain) {
  killedExecGuest();
  Finished run = seclabel({"run", xml_, "--", "/bin/true"});
  ASSERT_EQ(run.code(), 0) << run.err;
  EXPECT_NE(run.err.find("recover: restored guest lazy-guest: its process "), std::string::npos)
      << run.err;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectUntouched(image_);
}

// A `run` whose guest process is gone while the launcher lives (stopped
// before it could reap and restore): nothing takes the guest from it, not
// recover, not a prepare that wants its name, uuid, identity or disk. Once
// the launcher goes on, it restores the guest itself.
TEST_F(LazyRecover, AGuestWhoseLauncherIsAliveIsNeverTouched) {
  options_.dacRange = onlyIdOfTheSlice();
  writeConfig(config_, options_);
  Child run(seclabelArgv(config_, state_, {"run", xml_, "--", "/bin/sh", "-c", kWaitForever}));
  ASSERT_TRUE(run.waitForLine("ready"));
  ASSERT_TRUE(eventually([&] { return guest().value("state", "") == "running"; }));
  const pid_t guestPid = guest()["pid"].get<pid_t>();
  const uid_t uid = dacIds(guest()).first;

  ASSERT_EQ(::kill(run.pid(), SIGSTOP), 0);
  ASSERT_EQ(::kill(guestPid, SIGKILL), 0);
  // A zombie now (its stopped parent cannot reap it): gone as a process.
  ASSERT_TRUE(eventually([&] { return readFile("/proc/" + std::to_string(guestPid) + "/stat")
                                           .find(") Z ") != std::string::npos; }));

  auto expectStillHeld = [&](const std::string& when) {
    nlohmann::json g = guest();
    ASSERT_FALSE(g.is_null()) << when;
    EXPECT_EQ(g["state"], "running") << when;
    EXPECT_EQ(g["pid"], guestPid) << when;
    EXPECT_EQ(ownerOf(image_).uid, uid) << when;
  };
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_EQ(recover.out, "nothing to recover\n");
  expectStillHeld("after recover");

  Finished byName = seclabel({"prepare", otherDomain("lazy-guest", freshUuid(), otherImage_)});
  EXPECT_EQ(byName.code(), 3) << byName.err;
  // Its launcher holds the guest's claim (name and uuid) for the guest's
  // life: the prepare is refused before it looks at the store.
  EXPECT_NE(byName.err.find("belongs to another seclabel process"), std::string::npos)
      << byName.err;
  expectStillHeld("after a prepare of its name");

  Finished byUuid = seclabel({"prepare", otherDomain("lazy-renamed", uuid_, otherImage_)});
  EXPECT_EQ(byUuid.code(), 3) << byUuid.err;
  EXPECT_NE(byUuid.err.find("belongs to another seclabel process"), std::string::npos)
      << byUuid.err;
  expectStillHeld("after a prepare of its uuid");

  Finished byIdentity =
      seclabel({"prepare", otherDomain("lazy-other", freshUuid(), otherImage_)});
  EXPECT_EQ(byIdentity.code(), 3) << byIdentity.err;
  EXPECT_NE(byIdentity.err.find("no free dac identity"), std::string::npos) << byIdentity.err;
  EXPECT_EQ(byIdentity.err.find("recover:"), std::string::npos) << byIdentity.err;
  expectStillHeld("after a prepare that needs its identity");
  expectUntouched(otherImage_);

  ASSERT_EQ(::kill(run.pid(), SIGCONT), 0);
  Finished done = run.wait();
  EXPECT_EQ(done.code(), 128 + SIGKILL) << done.err;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectUntouched(image_);
}

}  // namespace
}  // namespace seclabel::e2e
