// The etcd store backend against the SQLite one, whole `seclabel` processes:
//
//   etcd_store_bench [CYCLES_PER_PROCESS]     (default 25)
//
// 1. Throughput: prepare+restore cycles per second, 3 hosts x 4 processes on
//    a 3-member etcd cluster on 127.0.0.1; then the SQLite backend, one host,
//    4 processes, in the same run.
// 2. Latency of one prepare (and one restore) on an idle store, median of 21.
// 3. etcd requests per prepare and per restore, counted by etcd itself (the
//    members' grpc_server_handled_total for Range, Txn, Put, DeleteRange,
//    summed over the members: each HTTP request of the client is one).
// Guests have no disks: what is measured is the store, not the labeling.
// See docs/performance.md, "etcd store".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/etcd/etcd_cluster.h"
#include "tests/tools/e2e_support.h"

namespace {

using namespace seclabel;
using Clock = std::chrono::steady_clock;

struct Host {
  std::unique_ptr<e2e::TempDir> dir = std::make_unique<e2e::TempDir>();
  std::string config() const { return *dir / "seclabel.toml"; }
  std::string state() const { return *dir / "state"; }
};

Host makeHost(const std::string& name, const std::vector<std::string>& endpoints) {
  Host host;
  std::ofstream out(host.config());
  out << "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"never\"\n[audit]\nsink = \"none\"\n";
  if (!endpoints.empty()) {
    out << "[store]\nbackend = \"etcd\"\nhost = \"" << name << "\"\nendpoints = [";
    for (size_t i = 0; i < endpoints.size(); ++i) out << (i ? ", \"" : "\"") << endpoints[i] << "\"";
    out << "]\n";
  }
  return host;
}

void must(const e2e::Finished& f, const char* what) {
  if (f.code() != 0) {
    std::fprintf(stderr, "%s failed (exit %d): %s\n", what, f.code(), f.err.c_str());
    std::exit(1);
  }
}

void cycle(const Host& host, const std::string& name, const std::string& uuid) {
  std::string xml = *host.dir / (uuid + ".xml");
  e2e::writeDomain(xml, name, uuid, {}, {"selinux", "dac"});
  must(e2e::runSeclabel(host.config(), host.state(), {"prepare", xml}), "prepare");
  must(e2e::runSeclabel(host.config(), host.state(), {"restore", uuid}), "restore");
}

double throughput(const std::vector<Host>& hosts, int processes, int cycles) {
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (size_t h = 0; h < hosts.size(); ++h)
    for (int p = 0; p < processes; ++p)
      workers.emplace_back([&, h, p] {
        for (int n = 0; n < cycles; ++n)
          cycle(hosts[h], "b-" + std::to_string(h) + "-" + std::to_string(p) + "-" + std::to_string(n),
                e2e::freshUuid());
      });
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return hosts.size() * processes * cycles / seconds;
}

// Median milliseconds of a prepare and of a restore, one at a time.
std::pair<double, double> latency(const Host& host) {
  std::vector<double> prepares, restores;
  for (int i = 0; i < 21; ++i) {
    std::string uuid = e2e::freshUuid();
    std::string xml = *host.dir / (uuid + ".xml");
    e2e::writeDomain(xml, "lat-" + std::to_string(i), uuid, {}, {"selinux", "dac"});
    auto t0 = Clock::now();
    must(e2e::runSeclabel(host.config(), host.state(), {"prepare", xml}), "prepare");
    auto t1 = Clock::now();
    must(e2e::runSeclabel(host.config(), host.state(), {"restore", uuid}), "restore");
    auto t2 = Clock::now();
    prepares.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    restores.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(prepares.begin(), prepares.end());
  std::sort(restores.begin(), restores.end());
  return {prepares[10], restores[10]};
}

// Requests etcd's members have answered so far (Range, Txn, Put, DeleteRange).
long requestsServed(const testing::EtcdCluster& cluster) {
  static const std::regex line(
      R"re(grpc_server_handled_total\{[^}]*grpc_method="(Range|Txn|Put|DeleteRange)"[^}]*\} ([0-9]+))re");
  long total = 0;
  for (const auto& url : cluster.clientUrls()) {
    e2e::Child curl({"/usr/bin/curl", "-s", url + "/metrics"});
    e2e::Finished f = curl.wait();
    std::istringstream in(f.out);
    for (std::string text; std::getline(in, text);) {
      std::smatch m;
      if (std::regex_search(text, m, line)) total += std::stol(m[2]);
    }
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int cycles = argc > 1 ? std::atoi(argv[1]) : 25;
  auto cluster = testing::EtcdCluster::start(3);
  std::vector<Host> hosts;
  for (int h = 1; h <= 3; ++h) hosts.push_back(makeHost("h" + std::to_string(h), cluster->clientUrls()));
  std::vector<Host> sqlite;
  sqlite.push_back(makeHost("", {}));

  // Requests per prepare and per restore, on an idle cluster.
  std::string uuid = e2e::freshUuid();
  std::string xml = *hosts[0].dir / "count.xml";
  e2e::writeDomain(xml, "count", uuid, {}, {"selinux", "dac"});
  long r0 = requestsServed(*cluster);
  must(e2e::runSeclabel(hosts[0].config(), hosts[0].state(), {"prepare", xml}), "prepare");
  long r1 = requestsServed(*cluster);
  must(e2e::runSeclabel(hosts[0].config(), hosts[0].state(), {"restore", uuid}), "restore");
  long r2 = requestsServed(*cluster);

  auto [etcdPrepare, etcdRestore] = latency(hosts[0]);
  auto [sqlitePrepare, sqliteRestore] = latency(sqlite[0]);
  double etcdRate = throughput(hosts, 4, cycles);
  double sqliteRate = throughput(sqlite, 4, cycles);

  std::printf("etcd requests per prepare: %ld, per restore: %ld\n", r1 - r0, r2 - r1);
  std::printf("latency (median of 21)   prepare %.1f ms, restore %.1f ms (etcd, 3 members)\n",
              etcdPrepare, etcdRestore);
  std::printf("                         prepare %.1f ms, restore %.1f ms (sqlite)\n",
              sqlitePrepare, sqliteRestore);
  std::printf("prepare+restore cycles/s %.1f (etcd: 3 hosts x 4 processes x %d)\n", etcdRate, cycles);
  std::printf("                         %.1f (sqlite: 1 host x 4 processes x %d)\n", sqliteRate, cycles);
  return 0;
}
