// The durability contract of a guest lifecycle (docs/store.md, "Durability"):
// a prepare makes exactly one durable commit (the WAL synced), it happens
// before the first file is changed, and by then the store already holds the
// guest record, the prepare intent, its identities and every original; a
// restore forces no sync of its own.
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

// Installs the store's durable-commit hook for one test, removes it after.
class DurableCommits {
 public:
  explicit DurableCommits(std::function<void()> onCommit) {
    setDurableCommitHookForTesting([this, onCommit](const std::string&) {
      ++count;
      onCommit();
    });
  }
  ~DurableCommits() { setDurableCommitHookForTesting({}); }
  int count = 0;
};

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }
  Scratch scratch;
  const Original original;
};

TEST_F(DurabilityTest, PrepareSyncsOnceBeforeTheFirstFileChangeAndRestoreNever) {
  std::vector<DiskSpec> disks;
  std::vector<FileState> before;
  for (int i = 0; i < 3; ++i) {
    disks.push_back({scratch.makeFile("disk" + std::to_string(i) + ".img", original),
                     "vd" + std::string(1, char('a' + i))});
    before.push_back(fileState(disks.back().path));
  }
  const std::string uuid = uuidFor(1);
  Harness harness(scratch);
  // A second connection sees what is committed at the moment of the sync.
  auto observer = openSqliteStore(scratch.stateDir());

  int checkedAtSync = 0;
  DurableCommits syncs([&] {
    for (std::size_t i = 0; i < disks.size(); ++i)
      EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path << " changed before the sync";
    EXPECT_TRUE(observer->findGuest(uuid).has_value()) << "guest record not committed";
    auto intents = observer->pendingIntentsOf(uuid);
    ASSERT_EQ(intents.size(), 1u);
    EXPECT_EQ(intents[0].kind, IntentKind::Prepare);
    EXPECT_EQ(observer->identitiesOf(uuid).size(), 2u) << "a dac uid and an mcs pair";
    auto held = observer->resourcesOf(uuid);
    ASSERT_EQ(held.size(), disks.size());
    for (const HeldResource& resource : held) {
      EXPECT_EQ(resource.original.uid, original.uid) << resource.original.path;
      EXPECT_EQ(resource.original.gid, original.gid) << resource.original.path;
      EXPECT_EQ(resource.original.selinuxLabel, original.selinux) << resource.original.path;
    }
    ++checkedAtSync;
  });

  harness.prepare(domainXml("durable", uuid, disks));
  EXPECT_EQ(syncs.count, 1) << "one durable commit per prepare";
  EXPECT_EQ(checkedAtSync, 1);
  for (std::size_t i = 0; i < disks.size(); ++i)
    EXPECT_NE(fileState(disks[i].path), before[i]) << disks[i].path << " was labeled";

  // The guest ran in a process that has exited since.
  pid_t guest = ::fork();
  ASSERT_GE(guest, 0);
  if (guest == 0) ::_exit(0);
  harness.manager->markRunning(uuid, guest);
  ASSERT_EQ(::waitpid(guest, nullptr, 0), guest);
  harness.manager->restore(uuid);
  EXPECT_EQ(syncs.count, 1) << "markRunning and restore force no sync";
  for (std::size_t i = 0; i < disks.size(); ++i)
    EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path;
  EXPECT_TRUE(storeHoldsNothingFor(*observer, uuid));
}

// Nothing on the host changes for a guest without files to label, so a
// power loss cannot leave anything to undo: no sync is forced.
TEST_F(DurabilityTest, APrepareThatChangesNoFileForcesNoSync) {
  Harness harness(scratch);
  DurableCommits syncs([] {});
  harness.prepare(domainXml("diskless", uuidFor(2), {}));
  EXPECT_EQ(syncs.count, 0);
  EXPECT_TRUE(harness.store->findGuest(uuidFor(2)).has_value());
  harness.manager->restore(uuidFor(2));
  EXPECT_EQ(syncs.count, 0);
}

}  // namespace
}  // namespace seclabel::testing
