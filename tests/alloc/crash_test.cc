// Processes killed with SIGKILL at random instants while they allocate.
//
// Each child loops over whole units of work, the way prepare and restore use
// the store: in one transaction put a guest, allocate its DAC id and MCS
// pair and remember one resource; every other round undo an older guest the
// same way. The parent kills the children at random moments. Afterwards the
// store must open, pass integrity_check, and hold only whole units: every
// guest has exactly its two identities and its resource, and nothing is
// held by a guest that does not exist.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <random>
#include <string>

#include "alloc/store.h"
#include "core/error.h"
#include "tests/alloc/process_helpers.h"
#include "tests/alloc/store_audit.h"
#include "tests/alloc/temp_state_dir.h"

namespace seclabel {
namespace {

using testing::Shared;
using testing::TempStateDir;

constexpr int kRounds = 12;
constexpr int kProcessesPerRound = 4;

struct Progress {
  std::atomic<long> unitsCommitted{0};
};

AllocationSpace dacSpace() {
  DacConfig config;
  config.range = IdRange{1879048192, 1879048192 + 4095};
  return AllocationSpace::dac(config);
}

[[noreturn]] void prepareAndRestoreForever(const std::string& stateDir, int worker,
                                           Progress& progress) {
  auto store = openSqliteStore(stateDir);
  AllocationSpace dac = dacSpace();
  AllocationSpace mcs = AllocationSpace::mcs(CategoryRange{0, 1023});
  for (long n = 0;; ++n) {
    std::string uuid = "w" + std::to_string(worker) + "-" + std::to_string(n);
    {
      auto transaction = store->begin();
      GuestRecord guest;
      guest.uuid = uuid;
      guest.name = "guest-" + uuid;
      guest.domainType = "kvm";
      guest.liveXml = "<domain/>";
      guest.host = "host-a";
      guest.drivers = {"selinux", "dac"};
      store->putGuest(guest);
      Owner owner{uuid, guest.name, guest.host};
      store->allocate(dac, owner);
      store->allocate(mcs, owner);
      RememberedResource original;
      original.dev = 1;
      original.ino = uint64_t(worker) << 32 | uint64_t(n);
      original.path = "/images/" + uuid;
      store->remember(original, uuid, ResourceUse::Exclusive);
      transaction->commit();
    }
    progress.unitsCommitted++;
    if (n % 2 == 1) {
      std::string older = "w" + std::to_string(worker) + "-" + std::to_string(n - 1);
      auto transaction = store->begin();
      for (const HeldResource& held : store->resourcesOf(older))
        store->forget(held.original.dev, held.original.ino, older);
      store->releaseAllOf(older);
      store->deleteGuest(older);
      transaction->commit();
    }
  }
}

TEST(StoreCrash, KilledWritersLeaveOnlyWholeUnitsBehind) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());
  Shared<Progress> progress;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delayMicros(2000, 60000);

  int worker = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<pid_t> children;
    for (int i = 0; i < kProcessesPerRound; ++i, ++worker) {
      children.push_back(testing::forkChild([&, worker]() -> int {
        prepareAndRestoreForever(dir.stateDir(), worker, *progress);
      }));
    }
    for (pid_t pid : children) {
      ::usleep(delayMicros(random));
      ::kill(pid, SIGKILL);
    }
    for (pid_t pid : children) {
      int status = testing::waitChild(pid);
      // Killed, not exited on its own (an exit would mean the loop failed).
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    }
  }
  EXPECT_GT(progress->unitsCommitted.load(), kRounds * kProcessesPerRound)
      << "children did too little to test";
  RecordProperty("units_committed", int(progress->unitsCommitted.load()));

  // Opens cleanly (recovering the WAL), and is consistent.
  auto store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(testing::auditStateDatabase(dir.databasePath()), std::vector<std::string>{});
  const std::string db = dir.databasePath();
  EXPECT_EQ(testing::queryInteger(db, "SELECT count(*) FROM guests g WHERE "
                                      "(SELECT count(*) FROM identities i WHERE "
                                      "i.guest_uuid = g.uuid) <> 2"),
            0);
  EXPECT_EQ(testing::queryInteger(db, "SELECT count(*) FROM guests g WHERE "
                                      "(SELECT count(*) FROM resource_holders h WHERE "
                                      "h.guest_uuid = g.uuid) <> 1"),
            0);
  EXPECT_EQ(testing::queryInteger(db, "SELECT count(*) FROM identities i WHERE NOT EXISTS "
                                      "(SELECT 1 FROM guests g WHERE g.uuid = i.guest_uuid)"),
            0);
  EXPECT_EQ(testing::queryInteger(db, "SELECT count(*) FROM resources r WHERE NOT EXISTS "
                                      "(SELECT 1 FROM resource_holders h WHERE h.dev = r.dev "
                                      "AND h.ino = r.ino)"),
            0);
  long guests = testing::queryInteger(db, "SELECT count(*) FROM guests");
  EXPECT_GT(guests, 0);

  // And it still allocates.
  uint64_t id = store->allocate(dacSpace(), {"after", "after", "host-a"});
  EXPECT_TRUE(dacSpace().contains(id));
  EXPECT_EQ(testing::auditStateDatabase(db), std::vector<std::string>{});
}

}  // namespace
}  // namespace seclabel
