// `seclabel exec` and `seclabel run` end to end: the built binary, a real
// state dir, real images, real child processes, and the kernel's view of
// the guest (/proc/PID/status) checked against `seclabel list --json`.
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

constexpr char kAllCapsZero[] = "0000000000000000";

// Prints what the tests check about the guest process itself, then "ready".
// `[` and `echo` are dash builtins, so /proc/self is the guest's shell.
constexpr char kReport[] =
    "echo pid=$$; cat /proc/self/status; "
    "for f in 7 8; do if [ -e /proc/self/fd/$f ]; then echo fd$f=open; "
    "else echo fd$f=closed; fi; done; ";

class Launch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    writeConfig(config_, configOptions_);
    makeImage(image_);
    writeDomain(xml_, "e2e-guest", uuid_, {{image_, "vda"}});
  }

  void rewriteConfig(const ConfigOptions& options) { writeConfig(config_, options); }

  Finished seclabel(const std::vector<std::string>& args, const SpawnOptions& options = {}) {
    return runSeclabel(config_, state_, args, options);
  }
  std::vector<std::string> argv(const std::vector<std::string>& args) {
    return seclabelArgv(config_, state_, args);
  }
  nlohmann::json list() { return listGuests(config_, state_); }
  nlohmann::json guest() { return findGuest(list(), uuid_); }

  void expectImageUntouched() {
    Owner o = ownerOf(image_);
    EXPECT_EQ(o.uid, 0u);
    EXPECT_EQ(o.gid, 0u);
    EXPECT_EQ(o.mode, 0600u);
  }

  // The guest's own /proc/self/status, as printed by kReport.
  static void expectIdentity(const std::string& status, uid_t uid, gid_t gid,
                             const std::string& groups) {
    std::string u = std::to_string(uid), g = std::to_string(gid);
    EXPECT_EQ(statusField(status, "Uid"), u + " " + u + " " + u + " " + u);
    EXPECT_EQ(statusField(status, "Gid"), g + " " + g + " " + g + " " + g);
    EXPECT_EQ(statusField(status, "Groups"), groups);
    for (const char* cap : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
      EXPECT_EQ(statusField(status, cap), kAllCapsZero) << cap;
    EXPECT_EQ(statusField(status, "NoNewPrivs"), "1");
  }

  TempDir dir_;
  ConfigOptions configOptions_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = freshUuid();
};

TEST_F(Launch, ExecAppliesTheAllocatedIdentityInPlaceAndClosesFdsNotKept) {
  Child exec(argv({"exec", xml_, "--keep-fd", "8", "--", "/bin/sh", "-c", kReport}),
             devNullAt({7, 8}));
  Finished f = exec.wait();
  ASSERT_EQ(f.code(), 0) << f.err;

  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null()) << "exec leaves the guest in the store for its caller to restore";
  EXPECT_EQ(g["state"], "running");
  // In place: the guest is the very process the test started.
  EXPECT_EQ(g["pid"], exec.pid());
  EXPECT_NE(f.out.find("pid=" + std::to_string(exec.pid()) + "\n"), std::string::npos) << f.out;
  auto [uid, gid] = dacIds(g);
  EXPECT_GE(uid, 1879048192u);
  EXPECT_LE(uid, 1879113727u);
  expectIdentity(f.out, uid, gid, "");
  EXPECT_NE(f.out.find("fd7=closed"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("fd8=open"), std::string::npos) << f.out;
  Owner o = ownerOf(image_);
  EXPECT_EQ(o.uid, uid);
  EXPECT_EQ(o.gid, gid);

  // The caller restores once the guest is gone (seclabel(1)).
  Finished r = seclabel({"restore", uuid_});
  EXPECT_EQ(r.code(), 0) << r.err;
  expectImageUntouched();
  EXPECT_TRUE(list().empty());
}

TEST_F(Launch, ExecReusesAPreparedGuest) {
  Finished p = seclabel({"prepare", xml_});
  ASSERT_EQ(p.code(), 0) << p.err;
  auto [uid, gid] = dacIds(guest());
  EXPECT_EQ(guest()["state"], "prepared");

  Finished f = seclabel({"exec", xml_, "--", "/bin/sh", "-c", kReport});
  ASSERT_EQ(f.code(), 0) << f.err;
  expectIdentity(f.out, uid, gid, "");
  EXPECT_EQ(dacIds(guest()), std::make_pair(uid, gid)) << "the prepared identity, not a new one";
  EXPECT_EQ(list().size(), 1u);
}

TEST_F(Launch, ExecSetsExactlyTheConfiguredGroups) {
  struct group* kvm = ::getgrnam("kvm");
  if (!kvm) GTEST_SKIP() << "no group kvm on this host";
  gid_t kvmGid = kvm->gr_gid;
  configOptions_.groups = {"kvm"};
  rewriteConfig(configOptions_);

  Finished f = seclabel({"exec", xml_, "--", "/bin/sh", "-c", kReport});
  ASSERT_EQ(f.code(), 0) << f.err;
  auto [uid, gid] = dacIds(guest());
  expectIdentity(f.out, uid, gid, std::to_string(kvmGid));
}

TEST_F(Launch, ExecOfAMissingCommandExits127AndPreparesNothing) {
  Finished f = seclabel({"exec", xml_, "--", "/nonexistent/seclabel-e2e-cmd"});
  EXPECT_EQ(f.code(), 127) << f.err;
  EXPECT_EQ(f.err.rfind("seclabel: ", 0), 0u) << f.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

TEST_F(Launch, RunAppliesTheIdentityInAChildAndRestoresAfterIt) {
  std::string script = std::string("trap 'exit 0' TERM; ") + kReport +
                       "echo ready; while :; do sleep 0.1; done";
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c", script}), devNullAt({7, 8}));
  ASSERT_TRUE(run.waitForLine("ready"));

  ASSERT_TRUE(eventually([&] { return guest().value("state", "") == "running"; }));
  nlohmann::json g = guest();
  auto [uid, gid] = dacIds(g);
  pid_t guestPid = g["pid"].get<pid_t>();
  EXPECT_NE(guestPid, run.pid()) << "run forks: the guest is a child";
  std::string status = readFile("/proc/" + std::to_string(guestPid) + "/status");
  EXPECT_EQ(statusField(status, "PPid"), std::to_string(run.pid()));
  expectIdentity(status, uid, gid, "");
  Owner o = ownerOf(image_);
  EXPECT_EQ(o.uid, uid);
  EXPECT_EQ(o.gid, gid);

  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  Finished f = run.wait();
  EXPECT_EQ(f.code(), 0) << f.err;
  expectIdentity(f.out, uid, gid, "");
  EXPECT_NE(f.out.find("pid=" + std::to_string(guestPid) + "\n"), std::string::npos);
  EXPECT_NE(f.out.find("fd7=closed"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("fd8=closed"), std::string::npos) << f.out;

  expectImageUntouched();
  EXPECT_TRUE(list().empty()) << list().dump();
}

TEST_F(Launch, RunExitsWithTheGuestsStatus) {
  Finished seven = seclabel({"run", xml_, "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(seven.code(), 7) << seven.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();

  Finished killed = seclabel({"run", xml_, "--", "/bin/sh", "-c", "kill -KILL $$"});
  EXPECT_TRUE(WIFEXITED(killed.waitStatus)) << "seclabel itself exits; it is not killed";
  EXPECT_EQ(killed.code(), 128 + SIGKILL) << killed.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();

  Finished ok = seclabel({"run", xml_, "--", "/bin/true"});
  EXPECT_EQ(ok.code(), 0) << ok.err;
}

TEST_F(Launch, RunOfAMissingCommandExits127AndLeavesNothingPrepared) {
  for (const char* cmd : {"/nonexistent/seclabel-e2e-cmd", "seclabel-e2e-no-such-command"}) {
    Finished f = seclabel({"run", xml_, "--", cmd, "arg"});
    EXPECT_EQ(f.code(), 127) << cmd << ": " << f.err;
    EXPECT_EQ(f.err.rfind("seclabel: ", 0), 0u) << f.err;
    EXPECT_NE(f.err.find(cmd), std::string::npos) << "the error names the command: " << f.err;
    EXPECT_TRUE(list().empty()) << cmd;
    expectImageUntouched();
  }
}

// A command root may execute but the guest's uid may not: the check before
// prepare passes, execve under the identity fails: exit 126. `run` restores
// at once; `exec` has already become the guest (in place), so the guest
// stays recorded with its dead pid and `recover` restores it.
TEST_F(Launch, ACommandTheGuestMayNotExecuteExits126AndIsRestored) {
  std::string script = dir_ / "root-only.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho ran\n";
  }
  ASSERT_EQ(::chmod(script.c_str(), 0700), 0);
  for (const char* mode : {"run", "exec"}) {
    Finished f = seclabel({mode, xml_, "--", script});
    EXPECT_EQ(f.code(), 126) << mode << ": " << f.err;
    EXPECT_EQ(f.out.find("ran"), std::string::npos) << mode;
    EXPECT_NE(f.err.find("Permission denied"), std::string::npos) << mode << ": " << f.err;
    if (std::string(mode) == "exec") {
      nlohmann::json g = guest();
      ASSERT_FALSE(g.is_null());
      EXPECT_EQ(g["state"], "running");
      Finished r = seclabel({"recover"});
      EXPECT_EQ(r.code(), 0) << r.err;
    }
    EXPECT_TRUE(list().empty()) << mode << ": " << list().dump();
    expectImageUntouched();
  }
}

// `run` records the guest as running while the child applies its identity;
// when the exec then fails, a guest that was prepared before stays
// prepared, with its identity, for the next attempt.
TEST_F(Launch, ARunWhoseCommandCannotStartLeavesAPreparedGuestPrepared) {
  std::string script = dir_ / "root-only.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho ran\n";
  }
  ASSERT_EQ(::chmod(script.c_str(), 0700), 0);
  Finished p = seclabel({"prepare", xml_});
  ASSERT_EQ(p.code(), 0) << p.err;
  auto ids = dacIds(guest());

  Finished f = seclabel({"run", xml_, "--", script});
  EXPECT_EQ(f.code(), 126) << f.err;
  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null()) << "the prepared guest is still there";
  EXPECT_EQ(g["state"], "prepared");
  EXPECT_TRUE(g["pid"].is_null()) << g.dump();
  EXPECT_EQ(dacIds(g), ids);

  // The next attempt uses it, and run restores it afterwards as always.
  Finished again = seclabel({"run", xml_, "--", "/bin/true"});
  EXPECT_EQ(again.code(), 0) << again.err;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectImageUntouched();
}

// The guest never sees the launcher's environment (root's tokens, agent
// sockets, LD_* settings): it starts from LC_ALL=C and a fixed PATH, then
// gets [process] env, then --env, a later name replacing an earlier one.
TEST_F(Launch, TheGuestGetsAMinimalEnvironmentPlusWhatTheConfigAndEnvName) {
  configOptions_.processEnv = {"HOME=/var/empty", "FROM_CONFIG=1", "OVERRIDDEN=config"};
  rewriteConfig(configOptions_);
  ASSERT_EQ(::setenv("SECLABEL_E2E_ROOT_SECRET", "root-only", 1), 0);
  for (const char* mode : {"run", "exec"}) {
    Finished f = seclabel({mode, "--env", "OVERRIDDEN=flag", "--env", "WITH_EQUALS=a=b", xml_, "--",
                           "/bin/sh", "-c", "tr '\\0' '\\n' < /proc/$$/environ"});
    ASSERT_EQ(f.code(), 0) << mode << ": " << f.err;
    EXPECT_EQ(f.out,
              "LC_ALL=C\n"
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
              "HOME=/var/empty\n"
              "FROM_CONFIG=1\n"
              "OVERRIDDEN=flag\n"
              "WITH_EQUALS=a=b\n")
        << mode;
    if (std::string(mode) == "exec") {
      EXPECT_EQ(seclabel({"restore", uuid_}).code(), 0);
    }
  }
  ::unsetenv("SECLABEL_E2E_ROOT_SECRET");
}

// The guest is in a session of its own: it shares no process group with
// its launcher, and as another uid in another session it cannot send the
// launcher even SIGCONT (which the kernel allows within one session
// whatever the uids). A stopped launcher stays stopped.
TEST_F(Launch, TheGuestCannotResumeItsStoppedLauncher) {
  const std::string go = dir_ / "go";
  std::string script = "trap 'exit 0' TERM; echo ready; while [ ! -e " + go +
                       " ]; do sleep 0.05; done; kill -CONT $PPID 2>/dev/null; "
                       "echo cont=$?; kill -CONT -$(ps -o pgid= -p $PPID | tr -d ' ') "
                       "2>/dev/null; echo group=$?; while :; do sleep 0.1; done";
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c", script}));
  ASSERT_TRUE(run.waitForLine("ready"));
  ASSERT_TRUE(eventually([&] { return guest().value("state", "") == "running"; }));
  const pid_t guestPid = guest()["pid"].get<pid_t>();
  EXPECT_NE(::getsid(guestPid), ::getsid(run.pid()));
  EXPECT_NE(::getpgid(guestPid), ::getpgid(run.pid()));

  ASSERT_EQ(::kill(run.pid(), SIGSTOP), 0);
  ASSERT_TRUE(eventually([&] {
    std::string stat = readFile("/proc/" + std::to_string(run.pid()) + "/stat");
    return stat.substr(stat.rfind(')') + 2, 1) == "T";
  }));
  { std::ofstream touch(go); }
  ASSERT_TRUE(run.waitForLine("group=1")) << "the guest's attempts did not finish";
  EXPECT_TRUE(run.waitForLine("cont=1")) << "kill -CONT of the launcher succeeded";
  std::string stat = readFile("/proc/" + std::to_string(run.pid()) + "/stat");
  EXPECT_EQ(stat.substr(stat.rfind(')') + 2, 1), "T") << "the guest resumed its launcher";

  ASSERT_EQ(::kill(run.pid(), SIGCONT), 0);
  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  EXPECT_EQ(run.wait().code(), 0);
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

class RunSignal : public Launch, public ::testing::WithParamInterface<int> {};

TEST_P(RunSignal, IsForwardedToTheGuest) {
  int sig = GetParam();
  std::string script = "trap 'exit 42' TERM; trap 'exit 43' INT; trap 'exit 44' HUP; "
                       "echo ready; while :; do sleep 0.1; done";
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c", script}));
  ASSERT_TRUE(run.waitForLine("ready"));
  ASSERT_EQ(::kill(run.pid(), sig), 0);
  Finished f = run.wait();
  int expected = sig == SIGTERM ? 42 : sig == SIGINT ? 43 : 44;
  EXPECT_EQ(f.code(), expected) << strsignal(sig) << ": " << f.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

INSTANTIATE_TEST_SUITE_P(TermIntHup, RunSignal, ::testing::Values(SIGTERM, SIGINT, SIGHUP),
                         [](const auto& info) { return std::string(sigabbrev_np(info.param)); });

TEST_F(Launch, SigkilledRunLeavesTheGuestRunningAndRecoverWaitsForItToDie) {
  // Orphans come back to the test, so it can reap the guest itself.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c", "echo ready; while :; do sleep 0.1; done"}));
  ASSERT_TRUE(run.waitForLine("ready"));
  ASSERT_TRUE(eventually([&] { return guest().value("state", "") == "running"; }));
  pid_t guestPid = guest()["pid"].get<pid_t>();
  auto [uid, gid] = dacIds(guest());

  ASSERT_EQ(::kill(run.pid(), SIGKILL), 0);
  Finished f = run.wait();
  ASSERT_EQ(f.code(), 128 + SIGKILL);

  // The guest lives on; the store says so.
  EXPECT_TRUE(processExists(guestPid));
  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null());
  EXPECT_EQ(g["state"], "running");
  EXPECT_EQ(g["pid"], guestPid);
  EXPECT_EQ(ownerOf(image_).uid, uid);

  // recover leaves a live guest alone.
  Finished early = seclabel({"recover"});
  EXPECT_EQ(early.code(), 0) << early.err;
  g = guest();
  ASSERT_FALSE(g.is_null()) << "recover freed a guest whose process still runs";
  EXPECT_EQ(g["state"], "running");
  EXPECT_EQ(ownerOf(image_).uid, uid);
  EXPECT_EQ(ownerOf(image_).gid, gid);

  ASSERT_EQ(::kill(guestPid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(guestPid, &status, 0), guestPid);

  Finished late = seclabel({"recover"});
  EXPECT_EQ(late.code(), 0) << late.err;
  EXPECT_TRUE(list().empty()) << list().dump();
  expectImageUntouched();
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_F(Launch, TwoGuestsStartedAtOnceGetDistinctIdentities) {
  std::string image2 = dir_ / "second.qcow2", xml2 = dir_ / "second.xml", uuid2 = freshUuid();
  makeImage(image2);
  writeDomain(xml2, "e2e-second", uuid2, {{image2, "vda"}});
  // The store exists already: this is about two allocations racing (the
  // first opening of a fresh store: FreshStoreOpenedByManyAtOnce).
  ASSERT_EQ(seclabel({"list"}).code(), 0);
  std::string script = "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done";
  Child a(argv({"run", xml_, "--", "/bin/sh", "-c", script}));
  Child b(argv({"run", xml2, "--", "/bin/sh", "-c", script}));
  ASSERT_TRUE(a.waitForLine("ready")) << a.wait(2000).err;
  ASSERT_TRUE(b.waitForLine("ready")) << b.wait(2000).err;
  nlohmann::json all;
  ASSERT_TRUE(eventually([&] {
    all = list();
    return all.size() == 2 && all[0]["state"] == "running" && all[1]["state"] == "running";
  })) << all.dump();
  nlohmann::json ga = findGuest(all, uuid_), gb = findGuest(all, uuid2);
  ASSERT_FALSE(ga.is_null());
  ASSERT_FALSE(gb.is_null());
  auto [uidA, gidA] = dacIds(ga);
  auto [uidB, gidB] = dacIds(gb);
  EXPECT_NE(uidA, uidB);
  EXPECT_NE(gidA, gidB);
  EXPECT_NE(categories(ga), "");
  EXPECT_NE(categories(ga), categories(gb));
  for (auto [g, uid, image] : {std::tuple{ga, uidA, image_}, std::tuple{gb, uidB, image2}}) {
    std::string status = readFile("/proc/" + std::to_string(g["pid"].get<pid_t>()) + "/status");
    EXPECT_EQ(statusField(status, "Uid").substr(0, std::to_string(uid).size()), std::to_string(uid));
    EXPECT_EQ(ownerOf(image).uid, uid);
  }

  ::kill(a.pid(), SIGTERM);
  ::kill(b.pid(), SIGTERM);
  EXPECT_EQ(a.wait().code(), 0);
  EXPECT_EQ(b.wait().code(), 0);
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
  EXPECT_EQ(ownerOf(image2).uid, 0u);
}

// Short guests launched over and over from several launchers at once: every
// mutating command first runs recover, which must never take a guest whose
// process has just exited for an abandoned one while its `run` is still
// about to restore it (nor act on a list read before that `run` restored
// it and started the next). Each launcher loops in a shell; any failure or
// any "recover:" line is the bug.
TEST_F(Launch, ConcurrentShortRunsNeverRecoverEachOthersGuests) {
  constexpr int kLaunchers = 4, kRuns = 25;
  ASSERT_EQ(seclabel({"list"}).code(), 0);
  std::vector<std::string> images;
  std::vector<std::unique_ptr<Child>> launchers;
  for (int l = 0; l < kLaunchers; ++l) {
    std::string image = dir_ / ("c" + std::to_string(l) + ".qcow2");
    std::string xml = dir_ / ("c" + std::to_string(l) + ".xml");
    makeImage(image);
    writeDomain(xml, "e2e-c" + std::to_string(l), freshUuid(), {{image, "vda"}});
    images.push_back(image);
    std::string command;
    for (const std::string& word : argv({"run", xml, "--", "/bin/true"})) command += "'" + word + "' ";
    launchers.push_back(std::make_unique<Child>(std::vector<std::string>{
        "/bin/sh", "-c",
        "i=0; while [ $i -lt " + std::to_string(kRuns) + " ]; do " + command +
            "|| exit 1; i=$((i+1)); done"}));
  }
  for (auto& launcher : launchers) {
    Finished done = launcher->wait(120000);
    EXPECT_EQ(done.code(), 0) << done.err;
    EXPECT_EQ(done.err.find("recover:"), std::string::npos) << done.err;
  }
  EXPECT_TRUE(list().empty()) << list().dump();
  for (const std::string& image : images) {
    EXPECT_EQ(ownerOf(image).uid, 0u) << image;
    EXPECT_EQ(ownerOf(image).gid, 0u) << image;
  }
}

// Guests launched at the same time on a host where seclabel never ran: each
// process may be the one that creates the store, and none may fail for it.
TEST_F(Launch, FreshStoreOpenedByManyAtOnce) {
  for (int round = 0; round < 20; ++round) {
    std::string state = dir_ / ("fresh-" + std::to_string(round));
    std::vector<std::unique_ptr<Child>> children;
    for (int i = 0; i < 4; ++i)
      children.push_back(std::make_unique<Child>(seclabelArgv(config_, state, {"list", "--json"})));
    for (auto& child : children) {
      Finished f = child->wait();
      ASSERT_EQ(f.code(), 0) << "round " << round << ": " << f.err;
      EXPECT_EQ(f.out, "[]\n");
    }
  }
}

}  // namespace
}  // namespace seclabel::e2e
