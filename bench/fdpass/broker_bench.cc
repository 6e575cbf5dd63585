// Broker round trip: request, authorize, open, send, receive (and close the
// received fds), over a real SOCK_SEQPACKET socket to a broker thread in this
// process; beside a plain open()+close() of the same file, the floor.
//
//   BM_PlainOpen              the floor: open(O_RDONLY)+fstat+close
//   BM_BrokerRoundTrip/ro     one ro request on a kept connection; p50/p99 in µs
//   BM_BrokerRoundTrip/rw     rw: two opens, two fds
//   BM_BrokerFdsPerSecond     ro requests from 1 and 8 client threads;
//                             items_per_second = fds/s
//
// Run: bench/fdpass/fdpass_bench --benchmark_min_time=2
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <benchmark/benchmark.h>

#include "fdpass/broker_client.h"
#include "fdpass/broker_server.h"

namespace seclabel {
namespace {

class OneGuestDirectory : public BrokerGuestDirectory {
 public:
  explicit OneGuestDirectory(std::string image) : image_(std::move(image)) {}
  std::optional<BrokerGuest> find(const std::string& nameOrUuid) override {
    if (nameOrUuid != "bench") return std::nullopt;
    return BrokerGuest{"33333333-3333-3333-3333-333333333333",
                       "bench",
                       ::getuid(),
                       {{"vda", {image_, DiskAccess::ReadWrite}}}};
  }

 private:
  std::string image_;
};

// One broker for the whole run.
struct BrokerFixture {
  BrokerFixture() {
    char pattern[] = "/tmp/seclabel-fdpass-bench-XXXXXX";
    dir = ::mkdtemp(pattern);
    image = dir + "/disk.raw";
    std::ofstream(image) << std::string(1 << 20, '\0');
    socket = dir + "/broker.sock";
    directory = std::make_unique<OneGuestDirectory>(image);
    server = std::make_unique<BrokerServer>(listenOnBrokerSocket(socket), *directory, auditor);
    thread = std::thread([this] { server->run(); });
  }
  ~BrokerFixture() {
    server->stop();
    thread.join();
    std::filesystem::remove_all(dir);
  }
  std::string dir, image, socket;
  NullBrokerAuditor auditor;
  std::unique_ptr<OneGuestDirectory> directory;
  std::unique_ptr<BrokerServer> server;
  std::thread thread;
};

BrokerFixture& fixture() {
  static BrokerFixture instance;
  return instance;
}

void reportPercentiles(benchmark::State& state, std::vector<double>& micros) {
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) {
    return micros[std::min(micros.size() - 1, static_cast<std::size_t>(q * micros.size()))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
}

void BM_PlainOpen(benchmark::State& state) {
  const std::string& image = fixture().image;
  std::vector<double> micros;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    int fd = ::open(image.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat status;
    ::fstat(fd, &status);
    ::close(fd);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  state.SetItemsProcessed(state.iterations());
  reportPercentiles(state, micros);
}
BENCHMARK(BM_PlainOpen)->UseRealTime();

void BM_BrokerRoundTrip(benchmark::State& state) {
  const DiskAccess access = state.range(0) ? DiskAccess::ReadWrite : DiskAccess::ReadOnly;
  BrokerConnection connection = BrokerConnection::connect(fixture().socket);
  std::vector<double> micros;
  std::size_t fds = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    BrokerDiskFds disk = connection.openDisk("bench", "vda", access);
    fds += disk.fds.size();
    disk.fds.clear();  // closing is part of the client's cost
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(fds));
  reportPercentiles(state, micros);
  state.SetLabel(access == DiskAccess::ReadWrite ? "rw (2 fds)" : "ro (1 fd)");
}
BENCHMARK(BM_BrokerRoundTrip)->Arg(0)->Arg(1)->UseRealTime();

void BM_BrokerFdsPerSecond(benchmark::State& state) {
  BrokerConnection connection = BrokerConnection::connect(fixture().socket);
  std::size_t fds = 0;
  for (auto _ : state) {
    BrokerDiskFds disk = connection.openDisk("bench", "vda", DiskAccess::ReadOnly);
    fds += disk.fds.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(fds));
}
BENCHMARK(BM_BrokerFdsPerSecond)->Threads(1)->Threads(8)->UseRealTime();

}  // namespace
}  // namespace seclabel

BENCHMARK_MAIN();
