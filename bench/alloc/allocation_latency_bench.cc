// Latency of one allocation as the space fills: empty, 50%, 99%, 99.9% full,
// for the default MCS space (c0.c1023, 523,776 pairs) and a 65,536-id DAC
// range. The held ids are a random subset (so the free ids are scattered
// holes, the hard case for a gap search), reserved in one transaction
// before timing. Each iteration times allocate() (one committed
// transaction) and then, untimed, releases the id so the fill stays put.
// "InTransaction" variants time allocate() inside one open transaction:
// the gap search and row updates alone, without the commit.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#include "alloc/store.h"
#include "bench/alloc/bench_state_dir.h"

namespace seclabel {
namespace {

enum SpaceKind { kMcsDefault = 0, kDac65536 = 1 };

AllocationSpace makeSpace(int kind) {
  if (kind == kMcsDefault) return AllocationSpace::mcs(CategoryRange{0, 1023});
  DacConfig config;
  config.range = IdRange{1879048192u, 1879048192u + 65535u};
  return AllocationSpace::dac(config);
}

struct FilledStore {
  bench::BenchStateDir dir;
  std::unique_ptr<Store> store;
};

// One pre-filled store per (space, fill), built on first use and kept for
// the repetitions Google Benchmark makes.
FilledStore& filledStore(int kind, int permille) {
  static std::map<std::pair<int, int>, std::unique_ptr<FilledStore>> cache;
  auto& slot = cache[{kind, permille}];
  if (slot) return *slot;
  slot = std::make_unique<FilledStore>();
  slot->store = openSqliteStore(slot->dir.stateDir());
  AllocationSpace space = makeSpace(kind);
  std::vector<uint64_t> ids;
  ids.reserve(space.size());
  for (const auto& interval : space.intervals())
    for (uint64_t id = interval.first; id <= interval.last; ++id) ids.push_back(id);
  std::mt19937_64 random(42);
  std::shuffle(ids.begin(), ids.end(), random);
  ids.resize(ids.size() * permille / 1000);
  auto transaction = slot->store->begin();
  Owner filler{"00000000-0000-0000-0000-00000000f111", "filler", "bench"};
  for (uint64_t id : ids) slot->store->reserve(space.kind(), id, filler);
  transaction->commit();
  return *slot;
}

void timeAllocations(benchmark::State& state, Store& store, const AllocationSpace& space) {
  Owner owner{"00000000-0000-0000-0000-0000000000b1", "bench", "bench"};
  for (auto _ : state) {
    auto started = std::chrono::steady_clock::now();
    uint64_t id = store.allocate(space, owner);
    auto elapsed = std::chrono::steady_clock::now() - started;
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    store.release(space.kind(), id, owner.guestUuid);
  }
  state.counters["in_use"] = double(store.countInUse(space));
  state.counters["space"] = double(space.size());
}

void BM_Allocate(benchmark::State& state) {
  int kind = int(state.range(0));
  FilledStore& filled = filledStore(kind, int(state.range(1)));
  timeAllocations(state, *filled.store, makeSpace(kind));
}

void BM_AllocateInTransaction(benchmark::State& state) {
  int kind = int(state.range(0));
  FilledStore& filled = filledStore(kind, int(state.range(1)));
  auto transaction = filled.store->begin();  // rolled back at the end
  timeAllocations(state, *filled.store, makeSpace(kind));
}

void fillLevels(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"space", "permille_full"});
  for (int kind : {kMcsDefault, kDac65536})
    for (int permille : {0, 500, 990, 999}) bench->Args({kind, permille});
  bench->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1.0);
}

BENCHMARK(BM_Allocate)->Apply(fillLevels);
BENCHMARK(BM_AllocateInTransaction)->Apply(fillLevels);

}  // namespace
}  // namespace seclabel
