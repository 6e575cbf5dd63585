// Eight real processes allocate and release against one store at once.
//
// Each child opens its own connection (as separate `seclabel` commands do)
// and loops: allocate, claim the id in a shared-memory ownership table with
// an atomic compare-and-swap (which fails if another process holds the same
// id right now), keep a few ids, release the oldest. Afterwards an
// independent SQL check of the database must agree with the ownership table.
// The store never reports "busy" to its callers: BEGIN IMMEDIATE waits
// through the busy timeout (30 s), so any Error here is a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
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

constexpr uint32_t kFirst = 1879048192;
constexpr int kIds = 64;
constexpr int kProcesses = 8;
constexpr int kAllocationsPerProcess = 300;  // 2,400 in all
constexpr std::size_t kHeldPerProcess = 4;   // 32 of 64 held at once: plenty of reuse

struct Board {
  std::atomic<int> owner[kIds];          // 0 free, else 1 + child index
  std::atomic<int> doubleHandouts{0};
  std::atomic<int> allocations{0};
  char firstError[256];
  std::atomic<int> errors{0};
};

std::string uuidOf(int child) {
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", child);
  return uuid;
}

int allocateAndReleaseInALoop(const std::string& stateDir, int child, Board& board) {
  try {
    auto store = openSqliteStore(stateDir);
    DacConfig config;
    config.range = IdRange{kFirst, kFirst + kIds - 1};
    AllocationSpace space = AllocationSpace::dac(config);
    Owner owner{uuidOf(child), "guest" + std::to_string(child), "host-a"};
    std::deque<uint64_t> held;
    for (int i = 0; i < kAllocationsPerProcess; ++i) {
      uint64_t id = store->allocate(space, owner);
      board.allocations++;
      int expected = 0;
      if (!board.owner[id - kFirst].compare_exchange_strong(expected, child + 1)) {
        board.doubleHandouts++;
        return 2;
      }
      held.push_back(id);
      if (held.size() > kHeldPerProcess) {
        uint64_t oldest = held.front();
        held.pop_front();
        // Unclaim before releasing: once released, another process may get it.
        board.owner[oldest - kFirst] = 0;
        store->release(IdentityKind::Dac, oldest, owner.guestUuid);
      }
    }
    return 0;  // keeps its last ids: the final check compares them
  } catch (const Error& error) {
    if (board.errors++ == 0)
      std::snprintf(board.firstError, sizeof board.firstError, "%s", error.what());
    return 1;
  }
}

TEST(StoreConcurrency, EightProcessesNeverHoldTheSameIdentity) {
  TempStateDir dir;
  openSqliteStore(dir.stateDir());  // create the schema once, as the first command would
  Shared<Board> board;

  std::vector<pid_t> children;
  for (int child = 0; child < kProcesses; ++child)
    children.push_back(testing::forkChild(
        [&, child] { return allocateAndReleaseInALoop(dir.stateDir(), child, *board); }));
  for (pid_t pid : children) {
    int status = testing::waitChild(pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }

  EXPECT_EQ(board->doubleHandouts.load(), 0);
  EXPECT_EQ(board->errors.load(), 0) << board->firstError;
  EXPECT_EQ(board->allocations.load(), kProcesses * kAllocationsPerProcess);
  EXPECT_EQ(testing::auditStateDatabase(dir.databasePath()), std::vector<std::string>{});

  // The table holds exactly what the processes believe they hold.
  EXPECT_EQ(testing::queryInteger(dir.databasePath(), "SELECT count(*) FROM identities"),
            kProcesses * long(kHeldPerProcess));
  for (int slot = 0; slot < kIds; ++slot) {
    int owner = board->owner[slot].load();
    std::string sql = "SELECT count(*) FROM identities WHERE kind = 0 AND id = " +
                      std::to_string(kFirst + slot);
    if (owner != 0) sql += " AND guest_uuid = '" + uuidOf(owner - 1) + "'";
    EXPECT_EQ(testing::queryInteger(dir.databasePath(), sql), owner != 0 ? 1 : 0)
        << "id " << kFirst + slot;
  }
}

}  // namespace
}  // namespace seclabel
