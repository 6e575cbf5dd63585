// Recovery's decisions (secdriver/recovery.h), from tables, with a fake
// ProcessLiveness: which pids live with which start times is all a decision
// may depend on, besides the store and the claims. Then the same table
// through SecurityManager::recover on a real store and real files.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloc/guest_claims.h"
#include "secdriver/recovery.h"
#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

class FakeLiveness final : public ProcessLiveness {
 public:
  std::optional<uint64_t> startTime(pid_t pid) override {
    auto it = live.find(pid);
    if (it == live.end()) return std::nullopt;
    return it->second;
  }
  pid_t self() override { return selfPid; }
  std::vector<pid_t> endProcessesOf(uid_t uid) override {
    ended.push_back(uid);
    return stuck;
  }
  std::map<pid_t, uint64_t> live;  // pid -> start time
  pid_t selfPid = 100;
  std::vector<uid_t> ended;  // uids asked to end, in order
  std::vector<pid_t> stuck;  // what endProcessesOf reports as surviving
};

Intent intentOf(IntentKind kind, const std::string& payload) {
  Intent intent;
  intent.id = 1;
  intent.guestUuid = "u";
  intent.kind = kind;
  intent.payloadJson = payload;
  return intent;
}

struct IntentRow {
  const char* what;
  IntentKind kind;
  std::string payload;
  bool claimedElsewhere;
  RecoveryStep expected;
};

TEST(RecoveryDecisions, Intents) {
  FakeLiveness liveness;
  liveness.live = {{100, 1}, {200, 50}, {300, 70}};
  const std::vector<IntentRow> rows = {
      {"prepare, worker alive", IntentKind::Prepare, R"({"pid":200,"start":50})", false,
       RecoveryStep::Leave},
      {"prepare, worker gone", IntentKind::Prepare, R"({"pid":201,"start":50})", false,
       RecoveryStep::UndoPrepare},
      {"prepare, pid recycled", IntentKind::Prepare, R"({"pid":200,"start":49})", false,
       RecoveryStep::UndoPrepare},
      {"prepare, worker gone, claimed", IntentKind::Prepare, R"({"pid":201,"start":50})", true,
       RecoveryStep::Leave},
      {"prepare, our own (an earlier attempt of this pid)", IntentKind::Prepare,
       R"({"pid":100,"start":1})", false, RecoveryStep::UndoPrepare},
      {"restore, worker gone", IntentKind::Restore, R"({"pid":201,"start":5})", false,
       RecoveryStep::FinishRestore},
      {"restore, worker alive", IntentKind::Restore, R"({"pid":300,"start":70})", false,
       RecoveryStep::Leave},
      {"supervise, launcher alive", IntentKind::Supervise, R"({"pid":300,"start":70})", false,
       RecoveryStep::Leave},
      {"supervise, launcher gone", IntentKind::Supervise, R"({"pid":300,"start":71})", false,
       RecoveryStep::CompleteIntent},
      {"payload not json", IntentKind::Prepare, "not json", false, RecoveryStep::UndoPrepare},
      {"payload without start", IntentKind::Prepare, R"({"pid":200})", false,
       RecoveryStep::UndoPrepare},
      {"pid as text", IntentKind::Prepare, R"({"pid":"200","start":50})", false,
       RecoveryStep::UndoPrepare},
      {"negative pid", IntentKind::Prepare, R"({"pid":-1,"start":50})", false,
       RecoveryStep::UndoPrepare},
      {"huge pid", IntentKind::Prepare, R"({"pid":4294967496,"start":50})", false,
       RecoveryStep::UndoPrepare},
  };
  for (const IntentRow& row : rows)
    EXPECT_EQ(recoveryStepName(decideIntent(intentOf(row.kind, row.payload),
                                            row.claimedElsewhere, liveness)),
              std::string(recoveryStepName(row.expected)))
        << row.what;
}

struct GuestRow {
  const char* what;
  GuestState state;
  std::optional<int64_t> pid;
  std::optional<uint64_t> start;
  bool superviseAlive;
  bool claimedElsewhere;
  RecoveryStep expected;
};

TEST(RecoveryDecisions, Guests) {
  FakeLiveness liveness;
  liveness.live = {{400, 9}};
  const std::vector<GuestRow> rows = {
      {"running, alive", GuestState::Running, 400, 9, false, false, RecoveryStep::Leave},
      {"running, gone", GuestState::Running, 401, 9, false, false, RecoveryStep::RestoreGuest},
      {"running, pid recycled", GuestState::Running, 400, 8, false, false,
       RecoveryStep::RestoreGuest},
      {"running, no start time", GuestState::Running, 400, std::nullopt, false, false,
       RecoveryStep::RestoreGuest},
      {"running, gone, launcher alive", GuestState::Running, 401, 9, true, false,
       RecoveryStep::Leave},
      {"running, gone, claimed", GuestState::Running, 401, 9, false, true, RecoveryStep::Leave},
      {"prepared", GuestState::Prepared, std::nullopt, std::nullopt, false, false,
       RecoveryStep::Leave},
      {"failed (its restore intent decides)", GuestState::Failed, std::nullopt, std::nullopt,
       false, false, RecoveryStep::Leave},
  };
  for (const GuestRow& row : rows) {
    GuestRecord guest;
    guest.uuid = "u";
    guest.state = row.state;
    guest.pid = row.pid;
    guest.pidStartTime = row.start;
    EXPECT_EQ(std::string(recoveryStepName(
                  decideGuest(guest, row.superviseAlive, row.claimedElsewhere, liveness))),
              recoveryStepName(row.expected))
        << row.what;
  }
  GuestRecord alive;
  alive.state = GuestState::Running;
  alive.pid = 400;
  alive.pidStartTime = 9;
  EXPECT_TRUE(guestProcessIsAlive(alive, liveness));
  alive.state = GuestState::Prepared;
  EXPECT_FALSE(guestProcessIsAlive(alive, liveness)) << "only a running guest runs";
}

// The table again, through recover on a real store with real files: a
// guest marked running in pid 4000 (start time 77 when it was marked).
struct RecoverRow {
  const char* what;
  std::map<pid_t, uint64_t> liveAtRecover;
  bool claimedElsewhere;
  bool restored;
};

class RecoverWithFakeLiveness : public ::testing::TestWithParam<RecoverRow> {};

TEST_P(RecoverWithFakeLiveness, RestoresExactlyTheGuestsWhoseProcessIsGone) {
  SECLABEL_REQUIRE_ROOT();
  const RecoverRow& row = GetParam();
  Scratch scratch;
  const Original look;
  const std::string disk = scratch.makeFile("disk.img", look);
  Harness harness(scratch);
  FakeLiveness liveness;
  liveness.live = {{4000, 77}};
  harness.manager->setLiveness(liveness);
  GuestRecord record = harness.prepare(domainXml("g", uuidFor(1), {{disk, "vda"}}));
  harness.manager->markRunning(record.uuid, 4000);
  ASSERT_EQ(harness.store->findGuest(record.uuid)->pidStartTime, 77u);
  const FileState labeled = fileState(disk);
  ASSERT_NE(labeled.uid, look.uid);

  std::unique_ptr<GuestClaims> other;
  if (row.claimedElsewhere) {
    other = GuestClaims::open(*openStateDirectory(scratch.stateDir()));
    ASSERT_TRUE(other->tryClaim(record.uuid, record.name));
  }
  liveness.live = row.liveAtRecover;
  auto claims = GuestClaims::open(*openStateDirectory(scratch.stateDir()));
  harness.manager->setClaims(claims.get());
  auto report = harness.manager->recover();
  if (row.restored) {
    EXPECT_TRUE(storeHoldsNothingFor(*harness.store, record.uuid));
    EXPECT_EQ(fileState(disk).uid, look.uid);
    ASSERT_EQ(report.size(), 1u);
    EXPECT_EQ(report[0], "restored guest g: its process 4000 is gone");
  } else {
    EXPECT_TRUE(report.empty()) << report.front();
    EXPECT_TRUE(harness.store->findGuest(record.uuid).has_value());
    EXPECT_EQ(fileState(disk), labeled);
  }
}

// Before its uid is released, every process of the guest's uid is ended;
// one that will not die keeps the guest held and listed as failed.
TEST(RecoverWithFakeLivenessProcesses, AUidWhoseProcessesWillNotDieStaysHeld) {
  SECLABEL_REQUIRE_ROOT();
  Scratch scratch;
  const Original look;
  const std::string disk = scratch.makeFile("disk.img", look);
  Harness harness(scratch);
  FakeLiveness liveness;
  harness.manager->setLiveness(liveness);
  GuestRecord record = harness.prepare(domainXml("g", uuidFor(1), {{disk, "vda"}}));
  const uid_t uid = labelsOf(harness.liveDomain(record.uuid)).uid;
  harness.manager->markRunning(record.uuid, 4000);

  liveness.stuck = {4242};
  auto report = harness.manager->recover();
  ASSERT_EQ(liveness.ended, std::vector<uid_t>{uid});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_NE(report[0].find("processes of uid " + std::to_string(uid) +
                           " did not end (pids 4242): the uid stays held"),
            std::string::npos)
      << report[0];
  auto kept = harness.store->findGuest(record.uuid);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->state, GuestState::Failed);
  EXPECT_EQ(harness.store->holderOf(IdentityKind::Dac, uid)->guestUuid, record.uuid);

  // Once they are gone, the next recover finishes it.
  liveness.stuck.clear();
  report = harness.manager->recover();
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, record.uuid));
  EXPECT_EQ(fileState(disk).uid, look.uid);
}

// A launcher restores only the instance it prepared: when its guest was
// restored by someone else and the uuid prepared again (a launcher that
// slept through both), restore(uuid, its generation) leaves the new
// instance alone.
TEST(RestoreByGeneration, AStaleLauncherDoesNotRestoreTheNextInstance) {
  SECLABEL_REQUIRE_ROOT();
  Scratch scratch;
  const Original look;
  const std::string disk = scratch.makeFile("disk.img", look);
  Harness harness(scratch);
  const std::string xml = domainXml("g", uuidFor(1), {{disk, "vda"}});
  const GuestRecord first = harness.prepare(xml);
  harness.manager->restore(first.uuid);
  const GuestRecord second = harness.prepare(xml);
  ASSERT_EQ(second.uuid, first.uuid);
  ASSERT_NE(second.generation, first.generation);
  const FileState labeled = fileState(disk);
  ASSERT_NE(labeled.uid, look.uid);

  harness.warnings.clear();
  harness.manager->restore(first.uuid, first.generation);
  ASSERT_EQ(harness.warnings.size(), 1u);
  EXPECT_EQ(harness.warnings[0],
            "guest g was restored and prepared again by another process meanwhile: leaving "
            "that instance alone");
  EXPECT_EQ(fileState(disk), labeled);
  ASSERT_TRUE(harness.store->findGuest(first.uuid).has_value());
  EXPECT_EQ(harness.store->findGuest(first.uuid)->generation, second.generation);

  harness.manager->restore(second.uuid, second.generation);
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, second.uuid));
  EXPECT_EQ(fileState(disk).uid, look.uid);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RecoverWithFakeLiveness,
    ::testing::Values(RecoverRow{"alive", {{4000, 77}}, false, false},
                      RecoverRow{"gone", {}, false, true},
                      RecoverRow{"recycled", {{4000, 78}}, false, true},
                      RecoverRow{"gone_but_claimed", {}, true, false}),
    [](const auto& info) { return std::string(info.param.what); });

}  // namespace
}  // namespace seclabel::testing
