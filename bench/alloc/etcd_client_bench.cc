// Round trips of the etcd client against a 3-member cluster on 127.0.0.1
// (tests/etcd/etcd_cluster.h: members on loopback, data in /tmp, each commit
// synced by etcd to its write-ahead log on the leader and a follower).
//
//   TxnCreate/E          one txn creating a fresh key, guarded by
//                        create_revision == 0 (what a prepare does per key)
//   TxnPrepareShaped/E   one txn of 4 guards + 4 puts (guest, name, uid, MCS
//                        pair): the shape of one prepare
//   RangeOneKey/E        a linearizable read of one key
//   RangeSerializable/E  the same read, served by the member asked
//   RangeFromCursor/E    keys-only read of 8 keys from a cursor among 10,000
//                        zero-padded keys: the next-fit gap probe
//   RangeFromCursorWindow/E  the same with the range's end bounded
// E = 0: the client talks to the leader; E = 1: to a follower (which
// forwards writes and asks the leader for each linearizable read).
// Run: build/bench/alloc/etcd_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <memory>

#include "alloc/etcd/client.h"
#include "alloc/etcd/keys.h"
#include "tests/etcd/etcd_cluster.h"

namespace seclabel::etcd {
namespace {

using seclabel::testing::EtcdCluster;

EtcdCluster& cluster() {
  static std::unique_ptr<EtcdCluster> instance = [] {
    auto c = EtcdCluster::start(3);
    // 10,000 held ids for the cursor probe, 100 keys per txn.
    EtcdClient client(c->clientOptions());
    for (uint64_t first = 0; first < 10000; first += 100) {
      TxnRequest fill;
      for (uint64_t id = first; id < first + 100; ++id)
        fill.success.push_back(PutRequest{"/bench/ids/" + sortableNumber(id * 3), "guest", 0});
      client.txn(fill);
    }
    return c;
  }();
  return *instance;
}

// A client whose first endpoint is the leader (0) or a follower (1).
EtcdClient clientFor(int which) {
  EtcdCluster& c = cluster();
  size_t leader = c.leader();
  size_t member = which == 0 ? leader : (leader + 1) % c.size();
  ClientOptions options = c.clientOptions();
  options.endpoints = {c.clientUrl(member)};
  return EtcdClient(options);
}

uint64_t nextKeyNumber() {
  static uint64_t n = 0;
  return n++;
}

void TxnCreate(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  for (auto _ : state) {
    std::string key = "/bench/create/" + sortableNumber(nextKeyNumber());
    TxnRequest t;
    t.compare = {Compare::absent(key)};
    t.success = {PutRequest{key, "guest", 0}};
    if (!client.txn(t).succeeded) state.SkipWithError("guard failed");
  }
}
BENCHMARK(TxnCreate)->Arg(0)->Arg(1)->UseRealTime();

void TxnPrepareShaped(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  std::string xml(2048, 'x');  // a live XML of typical size
  for (auto _ : state) {
    std::string n = sortableNumber(nextKeyNumber());
    TxnRequest t;
    for (const char* kind : {"guests/", "names/", "dac/", "mcs/"}) {
      std::string key = "/bench/prepare/" + std::string(kind) + n;
      t.compare.push_back(Compare::absent(key));
      t.success.push_back(PutRequest{key, kind[0] == 'g' ? xml : "guest", 0});
    }
    if (!client.txn(t).succeeded) state.SkipWithError("guard failed");
  }
}
BENCHMARK(TxnPrepareShaped)->Arg(0)->Arg(1)->UseRealTime();

void RangeOneKey(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  client.put(PutRequest{"/bench/read", "value", 0});
  for (auto _ : state) benchmark::DoNotOptimize(client.range(RangeRequest::single("/bench/read")));
}
BENCHMARK(RangeOneKey)->Arg(0)->Arg(1)->UseRealTime();

void RangeSerializable(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  client.put(PutRequest{"/bench/read", "value", 0});
  for (auto _ : state)
    benchmark::DoNotOptimize(client.range(RangeRequest::single("/bench/read").serializable()));
}
BENCHMARK(RangeSerializable)->Arg(0)->Arg(1)->UseRealTime();

void RangeFromCursor(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  uint64_t cursor = 0;
  for (auto _ : state) {
    auto r = client.range(RangeRequest::between("/bench/ids/" + sortableNumber(cursor),
                                                prefixRangeEnd("/bench/ids/"))
                              .keysOnly()
                              .withLimit(8));
    if (r.kvs.size() != 8) state.SkipWithError("short read");
    cursor = (cursor + 7919) % 29000;
  }
}
BENCHMARK(RangeFromCursor)->Arg(0)->Arg(1)->UseRealTime();

// The same probe with the range's end bounded too (cursor + 192 ids, 64
// held keys): etcd 3.4 collects every key of a range before it applies the
// limit (to return the count), so an open-ended probe costs in proportion to
// the keys after the cursor, a bounded one does not.
void RangeFromCursorWindow(benchmark::State& state) {
  EtcdClient client = clientFor(int(state.range(0)));
  uint64_t cursor = 0;
  for (auto _ : state) {
    auto r = client.range(RangeRequest::between("/bench/ids/" + sortableNumber(cursor),
                                                "/bench/ids/" + sortableNumber(cursor + 192))
                              .keysOnly()
                              .withLimit(8));
    if (r.kvs.size() != 8) state.SkipWithError("short read");
    cursor = (cursor + 7919) % 29000;
  }
}
BENCHMARK(RangeFromCursorWindow)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace seclabel::etcd
