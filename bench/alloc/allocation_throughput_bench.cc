// allocate + release throughput with 1, 2 and 8 processes on one store.
// Each process opens its own connection (as separate seclabel commands do)
// and runs allocate then release of that id, kAllocationsPerProcess times,
// on a 65,536-id DAC range (space:1, each allocation also asks NSS for the
// uid and the gid) or the default MCS space (space:0, the store alone). The
// time is the wall time from fork to the last child's exit; items/s =
// allocations/s.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "alloc/store.h"
#include "bench/alloc/bench_state_dir.h"

namespace seclabel {
namespace {

constexpr int kAllocationsPerProcess = 1000;

AllocationSpace makeSpace(bool dac) {
  if (!dac) return AllocationSpace::mcs(CategoryRange{0, 1023});
  DacConfig config;
  config.range = IdRange{1879048192u, 1879048192u + 65535u};
  return AllocationSpace::dac(config);
}

int allocateAndRelease(const std::string& stateDir, int worker, bool dac) {
  try {
    auto store = openSqliteStore(stateDir);
    AllocationSpace space = makeSpace(dac);
    Owner owner{"00000000-0000-0000-0000-0000000000" + std::to_string(10 + worker),
                "worker" + std::to_string(worker), "bench"};
    for (int i = 0; i < kAllocationsPerProcess; ++i) {
      uint64_t id = store->allocate(space, owner);
      store->release(space.kind(), id, owner.guestUuid);
    }
    return 0;
  } catch (...) {
    return 1;
  }
}

void BM_AllocateReleaseProcesses(benchmark::State& state) {
  const int processes = int(state.range(0));
  const bool dac = state.range(1) == 1;
  bench::BenchStateDir dir;
  openSqliteStore(dir.stateDir());  // schema created before the clock starts
  for (auto _ : state) {
    auto started = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (int worker = 0; worker < processes; ++worker) {
      pid_t pid = ::fork();
      if (pid == 0) ::_exit(allocateAndRelease(dir.stateDir(), worker, dac));
      children.push_back(pid);
    }
    bool failed = false;
    for (pid_t pid : children) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0) {
      }
      failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (failed) state.SkipWithError("a worker process failed");
  }
  state.SetItemsProcessed(state.iterations() * processes * kAllocationsPerProcess);
}

BENCHMARK(BM_AllocateReleaseProcesses)
    ->ArgNames({"processes", "space"})
    ->ArgsProduct({{1, 2, 8}, {0, 1}})
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seclabel
