// The durability contract of a guest lifecycle (docs/store.md, "Durability"):
// before the first file of a prepare is changed, a durable commit (the WAL
// synced) has made the guest record, the prepare intent, its identities and
// every original survive a power loss, so `recover` can always undo what
// was changed. How many syncs a prepare or a restore costs is a performance
// figure: bench/secdriver (BM_DurableCommits) counts them.
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
    setDurableCommitHookForTesting([onCommit](const std::string&) { onCommit(); });
  }
  ~DurableCommits() { setDurableCommitHookForTesting({}); }
};

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }
  Scratch scratch;
  const Original original;
};

TEST_F(DurabilityTest, EverythingRecoverNeedsIsDurableBeforeTheFirstFileChanges) {
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

  // At every sync made while no file has changed yet: is all of it there?
  bool durableBeforeChange = false;
  DurableCommits syncs([&] {
    for (std::size_t i = 0; i < disks.size(); ++i)
      if (fileState(disks[i].path) != before[i]) return;  // files changed already
    auto intents = observer->pendingIntentsOf(uuid);
    auto held = observer->resourcesOf(uuid);
    bool complete = observer->findGuest(uuid).has_value() && intents.size() == 1 &&
                    intents[0].kind == IntentKind::Prepare &&
                    observer->identitiesOf(uuid).size() == 2 && held.size() == disks.size();
    for (const HeldResource& resource : held)
      complete = complete && resource.original.uid == original.uid &&
                 resource.original.gid == original.gid &&
                 resource.original.selinuxLabel == original.selinux;
    durableBeforeChange = durableBeforeChange || complete;
  });

  harness.prepare(domainXml("durable", uuid, disks));
  EXPECT_TRUE(durableBeforeChange)
      << "no durable commit held the guest record, its prepare intent, a dac uid and an mcs "
         "pair and every original before the first file changed";
  for (std::size_t i = 0; i < disks.size(); ++i)
    EXPECT_NE(fileState(disks[i].path), before[i]) << disks[i].path << " was labeled";

  // The guest ran in a process that has exited since.
  pid_t guest = ::fork();
  ASSERT_GE(guest, 0);
  if (guest == 0) ::_exit(0);
  harness.manager->markRunning(uuid, guest);
  ASSERT_EQ(::waitpid(guest, nullptr, 0), guest);
  harness.manager->restore(uuid);
  for (std::size_t i = 0; i < disks.size(); ++i)
    EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path;
  EXPECT_TRUE(storeHoldsNothingFor(*observer, uuid));
}

}  // namespace
}  // namespace seclabel::testing
