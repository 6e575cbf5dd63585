// prepare + restore of a guest with 1, 16 and 128 private disks: time per
// disk, and the share of it spent in the state store.
//
// Real files in a tmp dir (real chown and security.selinux xattrs), both
// drivers (selinux, dac), a real SQLite store in a tmp dir. The store's share
// is measured by wrapping the SQLite store in TimedStore, which forwards every
// call and adds up the wall time spent inside it (transaction commits
// included); everything else (path resolution, open, fstat, chown, xattrs,
// the drivers, formatting the live XML) is the rest. A second run puts the
// store on tmpfs (/dev/shm), where fdatasync is free, so the difference is the
// price of the store's durable commits on the real disk. Run as root;
// SECLABEL_BENCH_BREAKDOWN=1 prints the time per Store method to stderr.
//
// BM_DurableCommits counts the durable commits (WAL syncs) of a prepare and
// of a restore (docs/store.md, "Durability": one per prepare that changes a
// file, none for one that changes none, none for a restore). The count is
// a performance figure; the safety property (everything recover needs is
// durable before the first file changes) is tests/secdriver/durability_test.
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "alloc/store.h"
#include "core/config.h"
#include "secdriver/manager.h"
#include "secdriver/selinux_host.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

using Clock = std::chrono::steady_clock;

// Adds the time spent in each call to `total`.
class Stopwatch {
 public:
  explicit Stopwatch(Clock::duration& total) : total_(total), start_(Clock::now()) {}
  ~Stopwatch() { total_ += Clock::now() - start_; }

 private:
  Clock::duration& total_;
  Clock::time_point start_;
};

class TimedTransaction final : public StoreTransaction {
 public:
  TimedTransaction(std::unique_ptr<StoreTransaction> inner, Clock::duration& total,
                   Clock::duration& commits)
      : inner_(std::move(inner)), total_(total), commits_(commits) {}
  ~TimedTransaction() override {
    Stopwatch watch(total_);  // a rollback happens here
    Stopwatch method(commits_);
    inner_.reset();
  }
  void commit() override {
    Stopwatch watch(total_);
    Stopwatch method(commits_);
    inner_->commit();
  }

 private:
  std::unique_ptr<StoreTransaction> inner_;
  Clock::duration& total_;
  Clock::duration& commits_;
};

// Forwards every call to the real store, timing it.
class TimedStore final : public Store {
 public:
  explicit TimedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  Clock::duration total{};

  // Per method, for the breakdown printed with SECLABEL_BENCH_BREAKDOWN=1.
  std::map<std::string, Clock::duration> byMethod;

#define TIMED(call)                          \
  Stopwatch watch(total);                    \
  Stopwatch method(byMethod[__func__]);      \
  return inner_->call

  std::unique_ptr<StoreTransaction> begin() override {
    Stopwatch watch(total);
    Stopwatch method(byMethod["begin"]);
    return std::make_unique<TimedTransaction>(inner_->begin(), total, byMethod["commit"]);
  }
  uint64_t allocate(const AllocationSpace& s, const Owner& o) override { TIMED(allocate(s, o)); }
  void reserve(IdentityKind k, uint64_t id, const Owner& o) override { TIMED(reserve(k, id, o)); }
  void release(IdentityKind k, uint64_t id, const std::string& g) override {
    TIMED(release(k, id, g));
  }
  void releaseAllOf(const std::string& g) override { TIMED(releaseAllOf(g)); }
  std::vector<Identity> identitiesOf(const std::string& g) override { TIMED(identitiesOf(g)); }
  std::optional<Owner> holderOf(IdentityKind k, uint64_t id) override { TIMED(holderOf(k, id)); }
  uint64_t countInUse(const AllocationSpace& s) override { TIMED(countInUse(s)); }
  void putGuest(const GuestRecord& g) override { TIMED(putGuest(g)); }
  void updateGuest(const GuestRecord& g) override { TIMED(updateGuest(g)); }
  std::optional<GuestRecord> findGuest(const std::string& n) override { TIMED(findGuest(n)); }
  std::vector<GuestRecord> listGuests() override { TIMED(listGuests()); }
  void deleteGuest(const std::string& u) override { TIMED(deleteGuest(u)); }
  bool remember(const RememberedResource& r, const std::string& g, ResourceUse u) override {
    TIMED(remember(r, g, u));
  }
  std::optional<RememberedResource> forget(uint64_t d, uint64_t i, const std::string& g) override {
    TIMED(forget(d, i, g));
  }
  std::vector<HeldResource> resourcesOf(const std::string& g) override { TIMED(resourcesOf(g)); }
  std::vector<ResourceHolder> holdersOf(uint64_t d, uint64_t i) override {
    TIMED(holdersOf(d, i));
  }
  void addFdPassedDisk(const std::string& g, const FdPassedDisk& d) override {
    TIMED(addFdPassedDisk(g, d));
  }
  std::vector<FdPassedDisk> fdPassedDisksOf(const std::string& g) override {
    TIMED(fdPassedDisksOf(g));
  }
  void removeFdPassedDisks(const std::string& g) override { TIMED(removeFdPassedDisks(g)); }
  int64_t recordIntent(const std::string& g, IntentKind k, const std::string& p) override {
    TIMED(recordIntent(g, k, p));
  }
  void completeIntent(int64_t id) override { TIMED(completeIntent(id)); }
  std::vector<Intent> pendingIntents() override { TIMED(pendingIntents()); }
  std::vector<Intent> pendingIntentsOf(const std::string& g) override {
    TIMED(pendingIntentsOf(g));
  }
#undef TIMED

 private:
  std::unique_ptr<Store> inner_;
};

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern = parent + "/seclabel-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

std::string guestXml(const std::string& dir, int disks) {
  std::string xml =
      "<domain type='qemu'><name>bench</name><uuid>5ec1abe1-0000-4000-8000-00000000be0c</uuid>"
      "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices>";
  for (int i = 0; i < disks; ++i) {
    std::string path = dir + "/disk" + std::to_string(i) + ".img";
    std::ofstream(path) << "image\n";
    ::chown(path.c_str(), 4242, 4343);
    ::chmod(path.c_str(), 0640);
    const char label[] = "system_u:object_r:user_home_t:s0";
    ::setxattr(path.c_str(), "security.selinux", label, sizeof label, 0);
    xml += "<disk type='file' device='disk'><source file='" + path + "'/><target dev='vd" +
           std::to_string(i) + "'/></disk>";
  }
  return xml +
         "</devices><seclabel type='dynamic' model='selinux'/>"
         "<seclabel type='dynamic' model='dac'/></domain>";
}

void BM_PrepareRestore(benchmark::State& state) {
  if (::geteuid() != 0) {
    state.SkipWithError("needs root: real chown and xattrs");
    return;
  }
  const int disks = static_cast<int>(state.range(0));
  // Images always on the root file system (ext4); the store there too, or
  // on tmpfs where fdatasync costs nothing, to show what durability costs.
  const bool storeOnTmpfs = state.range(1) != 0;
  ScratchDir scratch("/tmp");
  ScratchDir storeDir(storeOnTmpfs ? "/dev/shm" : "/tmp");
  std::filesystem::create_directories(scratch.root() + "/images");
  const std::string xml = guestXml(scratch.root() + "/images", disks);
  auto host = makeSystemSelinuxHost();
  Config config = Config::parse(
      "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"never\"\n[audit]\nsink = \"none\"\n",
      "bench.toml", host->enabled());
  TimedStore store(openSqliteStore(storeDir.root() + "/state"));
  SecurityManager manager(config, store, *host);

  Clock::duration total{};
  for (auto _ : state) {
    Domain domain = parseDomainXml(xml);
    Clock::time_point start = Clock::now();
    manager.prepare(domain);
    manager.restore("bench");
    total += Clock::now() - start;
  }
  const double iterations = static_cast<double>(state.iterations());
  const double totalUs = std::chrono::duration<double, std::micro>(total).count();
  const double storeUs = std::chrono::duration<double, std::micro>(store.total).count();
  state.counters["us_per_disk"] = totalUs / iterations / disks;
  state.counters["store_us_per_disk"] = storeUs / iterations / disks;
  state.counters["store_share_pct"] = 100.0 * storeUs / totalUs;
  if (const char* breakdown = std::getenv("SECLABEL_BENCH_BREAKDOWN"); breakdown && *breakdown == '1')
    for (const auto& [name, spent] : store.byMethod)
      std::fprintf(stderr, "  %d disks%s: %-18s %9.1f us per prepare+restore\n", disks, storeOnTmpfs ? " (store on tmpfs)" : "", name.c_str(),
                   std::chrono::duration<double, std::micro>(spent).count() / iterations);
}
BENCHMARK(BM_PrepareRestore)
    ->ArgNames({"disks", "store_on_tmpfs"})
    ->ArgsProduct({{1, 16, 128}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

void BM_DurableCommits(benchmark::State& state) {
  if (::geteuid() != 0) {
    state.SkipWithError("needs root: real chown and xattrs");
    return;
  }
  const int disks = static_cast<int>(state.range(0));
  ScratchDir scratch("/tmp");
  std::filesystem::create_directories(scratch.root() + "/images");
  const std::string xml = guestXml(scratch.root() + "/images", disks);
  auto host = makeSystemSelinuxHost();
  Config config = Config::parse(
      "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"never\"\n[audit]\nsink = \"none\"\n",
      "bench.toml", host->enabled());
  auto store = openSqliteStore(scratch.root() + "/state");
  SecurityManager manager(config, *store, *host);
  int64_t syncs = 0;
  setDurableCommitHookForTesting([&syncs](const std::string&) { ++syncs; });
  int64_t prepareSyncs = 0, restoreSyncs = 0;
  for (auto _ : state) {
    Domain domain = parseDomainXml(xml);
    const int64_t start = syncs;
    manager.prepare(domain);
    prepareSyncs += syncs - start;
    const int64_t afterPrepare = syncs;
    manager.restore("bench");
    restoreSyncs += syncs - afterPrepare;
  }
  setDurableCommitHookForTesting({});
  const double iterations = static_cast<double>(state.iterations());
  state.counters["syncs_per_prepare"] = static_cast<double>(prepareSyncs) / iterations;
  state.counters["syncs_per_restore"] = static_cast<double>(restoreSyncs) / iterations;
}
BENCHMARK(BM_DurableCommits)->ArgName("disks")->Arg(0)->Arg(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seclabel

BENCHMARK_MAIN();
