// The etcd store backend end to end: the built `seclabel` as several hosts
// (each its own state directory and config with [store] host = "hN") on one
// real 3-member etcd cluster on 127.0.0.1. What is checked is what the
// cluster promises: no two guests of any host share a uid, an MCS pair or a
// name; a failure leaves nothing behind; a host's identities are released
// only by that host or by an explicit --forget-host.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alloc/etcd/client.h"
#include "alloc/etcd/keys.h"
#include "tests/etcd/etcd_cluster.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

// The etcd tests' uids: above the default range's slices other tests
// allocate from (tests/support/dac_slice.h), so a restore here, which ends
// every process of the guest's uid, never reaches another test's guest.
constexpr uint64_t kEtcdFirstUid = 1879113728;
const std::string kEtcdDacRange =
    std::to_string(kEtcdFirstUid) + "-" + std::to_string(kEtcdFirstUid + 65535);

using e2e::Finished;
using e2e::TempDir;
using testing::EtcdCluster;
using nlohmann::json;

const char* const kPrefix = "/seclabel/";

struct Host {
  std::string name;
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::string config() const { return *dir / "seclabel.toml"; }
  std::string state() const { return *dir / "state"; }

  Finished run(const std::vector<std::string>& args) const {
    return e2e::runSeclabel(config(), state(), args);
  }
  // Prepares a guest without disks; returns the finished process.
  Finished prepare(const std::string& guest, const std::string& uuid) const {
    std::string xml = *dir / (uuid + ".xml");
    e2e::writeDomain(xml, guest, uuid, {}, {"selinux", "dac"});
    return run({"prepare", xml});
  }
};

std::string tomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
  return out + "]";
}

Host makeHost(const std::string& name, const std::vector<std::string>& endpoints,
              uint32_t timeoutMs = 5000, const std::string& auditSink = "none",
              const std::string& dacRange = kEtcdDacRange) {
  Host host;
  host.name = name;
  std::ofstream out(host.config());
  out << "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"never\"\n\n"
      << "[dac]\nrange = \"" << dacRange << "\"\n\n"
      << "[audit]\nsink = \"" << auditSink << "\"\n\n"
      << "[store]\nbackend = \"etcd\"\nendpoints = " << tomlList(endpoints) << "\nprefix = \""
      << kPrefix << "\"\nhost = \"" << name << "\"\ntimeout_ms = " << timeoutMs << "\n"
      // Not about cgroups: guests the fixture never restores leave none.
      << "\n[cgroup]\ndevices = \"off\"\n";
  return host;
}

// The uuids in the host's own SQLite store, read by `seclabel list` with
// the SQLite backend on the same state directory (not through the cluster).
std::set<std::string> localUuids(const Host& host) {
  std::string config = *host.dir / "local-only.toml";
  std::ofstream(config) << "security_driver = [\"selinux\", \"dac\"]\n[audit]\nsink = \"none\"\n"
                           "[cgroup]\ndevices = \"off\"\n";
  std::set<std::string> uuids;
  for (auto& guest : e2e::listGuests(config, host.state()))
    uuids.insert(guest["uuid"].get<std::string>());
  return uuids;
}

// stderr without the warning lines (SELinux disabled on the test host).
std::vector<std::string> errorLines(const Finished& f) {
  std::vector<std::string> lines;
  std::istringstream in(f.err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("seclabel: warning:", 0) != 0) lines.push_back(line);
  return lines;
}

// Every key under `prefix` of the cluster, read by etcd's own client.
std::map<std::string, std::string> etcdctlGet(const EtcdCluster& cluster,
                                              const std::string& prefix) {
  std::string endpoints;
  for (auto& url : cluster.clientUrls()) endpoints += (endpoints.empty() ? "" : ",") + url;
  e2e::Child child({"/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl",
                    "--endpoints=" + endpoints, "get", "--prefix", prefix, "-w", "json"});
  Finished f = child.wait(30000);
  if (f.code() != 0) throw std::runtime_error("etcdctl get failed: " + f.err);
  json reply = json::parse(f.out);
  std::map<std::string, std::string> kvs;
  auto decode = [](const std::string& text) {
    // etcdctl -w json prints keys and values in base64.
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
      if (c == '=') break;
      buffer = (buffer << 6) | static_cast<uint32_t>(alphabet.find(c));
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((buffer >> bits) & 0xff));
      }
    }
    return out;
  };
  if (reply.contains("kvs"))
    for (auto& kv : reply["kvs"])
      kvs[decode(kv["key"].get<std::string>())] =
          kv.contains("value") ? decode(kv["value"].get<std::string>()) : "";
  return kvs;
}

// Requests etcd's members have answered so far (Range, Txn, Put, DeleteRange).
long requestsServed(const EtcdCluster& cluster) {
  static const std::regex line(
      R"re(grpc_server_handled_total\{[^}]*grpc_method="(Range|Txn|Put|DeleteRange)"[^}]*\} ([0-9]+))re");
  long total = 0;
  for (const auto& url : cluster.clientUrls()) {
    e2e::Child curl({"/usr/bin/curl", "-s", url + "/metrics"});
    Finished f = curl.wait();
    std::istringstream in(f.out);
    for (std::string text; std::getline(in, text);) {
      std::smatch m;
      if (std::regex_search(text, m, line)) total += std::stol(m[2]);
    }
  }
  return total;
}

std::string uuidFor(int host, int process, int n) {
  char text[40];
  std::snprintf(text, sizeof text, "%08x-0000-4000-8000-%012x", host * 100 + process, n);
  return text;
}

class EtcdStoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdCluster::available()) GTEST_SKIP() << "etcd is not installed";
    cluster_ = EtcdCluster::start(3);
  }
  std::vector<Host> hosts(int n, uint32_t timeoutMs = 5000) {
    std::vector<Host> out;
    for (int i = 1; i <= n; ++i)
      out.push_back(makeHost("h" + std::to_string(i), cluster_->clientUrls(), timeoutMs));
    return out;
  }
  std::unique_ptr<EtcdCluster> cluster_;
};

// Checks the cluster-wide uniqueness of `list --json` (as seen from `from`)
// and, independently, of the identity keys etcd holds; returns the guests.
json checkUnique(const Host& from, const EtcdCluster& cluster, size_t expected) {
  json list = e2e::listGuests(from.config(), from.state());
  EXPECT_EQ(list.size(), expected);
  std::set<uid_t> uids;
  std::set<std::string> pairs, names, uuids;
  for (auto& guest : list) {
    EXPECT_TRUE(uids.insert(e2e::dacIds(guest).first).second) << guest.dump();
    EXPECT_TRUE(pairs.insert(e2e::categories(guest)).second) << guest.dump();
    EXPECT_TRUE(names.insert(guest["name"].get<std::string>()).second) << guest.dump();
    EXPECT_TRUE(uuids.insert(guest["uuid"].get<std::string>()).second) << guest.dump();
  }
  // etcd's keys: one per identity (a key cannot exist twice), each naming a
  // guest that holds no other of that kind.
  for (std::string kind : {"dac", "mcs"}) {
    auto ids = etcdctlGet(cluster, std::string(kPrefix) + "ids/" + kind + "/");
    EXPECT_EQ(ids.size(), expected) << kind;
    std::set<std::string> holders;
    for (auto& [key, value] : ids) {
      std::string uuid = json::parse(value)["uuid"].get<std::string>();
      EXPECT_TRUE(holders.insert(uuid).second) << kind << " held twice by " << uuid;
      EXPECT_TRUE(uuids.count(uuid)) << key << " held by a guest not listed: " << uuid;
    }
    if (kind == "dac")
      for (auto& [key, value] : ids) {
        auto n = etcd::parseSortableNumber(key.substr(key.rfind('/') + 1));
        EXPECT_TRUE(n.has_value()) << key;
        if (n) {
          EXPECT_TRUE(uids.count(static_cast<uid_t>(*n))) << key;
        }
      }
  }
  EXPECT_EQ(etcdctlGet(cluster, std::string(kPrefix) + "names/").size(), expected);
  return list;
}

TEST_F(EtcdStoreCliTest, ThreeHostsFourProcessesEachNeverShareAUidAPairOrAName) {
  std::vector<Host> all = hosts(3);
  constexpr int kProcesses = 4, kPrepares = 50;
  std::atomic<int> failures{0};
  std::vector<std::string> failureText(3 * kProcesses);
  std::vector<std::thread> workers;
  for (int h = 0; h < 3; ++h)
    for (int p = 0; p < kProcesses; ++p)
      workers.emplace_back([&, h, p] {
        for (int n = 0; n < kPrepares; ++n) {
          Finished f = all[h].prepare("g-" + std::to_string(h) + "-" + std::to_string(p) + "-" +
                                          std::to_string(n),
                                      uuidFor(h, p, n));
          if (f.code() != 0) {
            ++failures;
            failureText[h * kProcesses + p] = f.err;
          }
        }
      });
  for (auto& worker : workers) worker.join();
  for (auto& text : failureText) EXPECT_EQ(text, "");
  ASSERT_EQ(failures.load(), 0);
  json list = checkUnique(all[0], *cluster_, 3 * kProcesses * kPrepares);
  // Every host sees the same cluster, and each guest is listed under its host.
  for (int h = 0; h < 3; ++h) {
    Finished f = all[h].run({"list", "--json", "--host", all[h].name});
    ASSERT_EQ(f.code(), 0) << f.err;
    json mine = json::parse(f.out);
    EXPECT_EQ(mine.size(), static_cast<size_t>(kProcesses * kPrepares));
    for (auto& guest : mine) EXPECT_EQ(guest["host"], all[h].name);
  }
}

TEST_F(EtcdStoreCliTest, ANameTakenOnOneHostIsRefusedOnAnother) {
  std::vector<Host> all = hosts(2);
  Finished first = all[0].prepare("shared-name", e2e::freshUuid());
  ASSERT_EQ(first.code(), 0) << first.err;
  Finished second = all[1].prepare("shared-name", e2e::freshUuid());
  EXPECT_EQ(second.code(), 3);
  ASSERT_EQ(errorLines(second).size(), 1u) << second.err;
  EXPECT_NE(errorLines(second)[0].find("already prepared on host h1"), std::string::npos)
      << second.err;
  EXPECT_EQ(e2e::listGuests(all[1].config(), all[1].state()).size(), 1u);
  Finished local = all[1].run({"list", "--json", "--host", "h2"});
  EXPECT_EQ(json::parse(local.out).size(), 0u);
}

TEST_F(EtcdStoreCliTest, RestoreOfAnotherHostsGuestIsRefusedNamingItsHost) {
  std::vector<Host> all = hosts(2);
  std::string uuid = e2e::freshUuid();
  ASSERT_EQ(all[0].prepare("on-h1", uuid).code(), 0);
  Finished refused = all[1].run({"restore", "on-h1"});
  EXPECT_EQ(refused.code(), 4);
  ASSERT_EQ(errorLines(refused).size(), 1u) << refused.err;
  EXPECT_NE(refused.err.find("belongs to host h1"), std::string::npos) << refused.err;
  // dominfo works from any host; the owner restores it.
  Finished info = all[1].run({"dominfo", "on-h1"});
  EXPECT_EQ(info.code(), 0) << info.err;
  Finished restored = all[0].run({"restore", "on-h1"});
  EXPECT_EQ(restored.code(), 0) << restored.err;
  EXPECT_TRUE(etcdctlGet(*cluster_, kPrefix).count(std::string(kPrefix) + "names/on-h1") == 0);
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "ids/").size(), 0u);
}

TEST_F(EtcdStoreCliTest, QuorumLostFailsWithinTheTimeoutChangingNothingThenWorksAgain) {
  constexpr uint32_t kTimeoutMs = 2000;
  std::vector<Host> all = hosts(1, kTimeoutMs);
  ASSERT_EQ(all[0].prepare("before", e2e::freshUuid()).code(), 0);
  size_t leader = cluster_->leader();
  size_t a = (leader + 1) % 3, b = (leader + 2) % 3;
  cluster_->stop(a);
  cluster_->stop(b);
  std::set<std::string> localBefore = localUuids(all[0]);
  auto started = std::chrono::steady_clock::now();
  Finished f = all[0].prepare("during", e2e::freshUuid());
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(localUuids(all[0]), localBefore);
  EXPECT_EQ(f.code(), 1) << f.err;
  EXPECT_EQ(errorLines(f).size(), 1u) << f.err;
  EXPECT_LT(took, std::chrono::milliseconds(kTimeoutMs + 1000));
  cluster_->restart(a);
  cluster_->restart(b);
  cluster_->waitHealthy();
  // Nothing of it anywhere: not in the cluster, not in the host's store.
  json list = e2e::listGuests(all[0].config(), all[0].state());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "before");
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "names/").size(), 1u);
  Finished recover = all[0].run({"recover"});
  EXPECT_EQ(recover.out, "nothing to recover\n") << recover.err;
  Finished after = all[0].prepare("during", e2e::freshUuid());
  EXPECT_EQ(after.code(), 0) << after.err;
}

TEST_F(EtcdStoreCliTest, LeaderKilledDuringLoadEveryPrepareSucceedsUniquelyOrLeavesNothing) {
  std::vector<Host> all = hosts(3, 3000);
  constexpr int kProcesses = 2, kPrepares = 25;
  std::vector<std::vector<int>> codes(3 * kProcesses, std::vector<int>(kPrepares, -1));
  std::atomic<int> done{0};
  std::vector<std::thread> workers;
  for (int h = 0; h < 3; ++h)
    for (int p = 0; p < kProcesses; ++p)
      workers.emplace_back([&, h, p] {
        for (int n = 0; n < kPrepares; ++n) {
          Finished f = all[h].prepare("k-" + uuidFor(h, p, n), uuidFor(h, p, n));
          codes[h * kProcesses + p][n] = f.code();
          ++done;
        }
      });
  while (done.load() < 3 * kProcesses * kPrepares / 3)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  size_t leader = cluster_->leader();
  cluster_->kill(leader);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster_->restart(leader);
  for (auto& worker : workers) worker.join();
  cluster_->waitHealthy();

  auto keys = etcdctlGet(*cluster_, kPrefix);
  size_t succeeded = 0;
  for (int h = 0; h < 3; ++h)
    for (int p = 0; p < kProcesses; ++p)
      for (int n = 0; n < kPrepares; ++n) {
        int code = codes[h * kProcesses + p][n];
        std::string uuid = uuidFor(h, p, n);
        ASSERT_TRUE(code == 0 || code == 1) << uuid << " exit " << code;
        bool inCluster = keys.count(std::string(kPrefix) + "guests/" + uuid) > 0;
        if (code == 0) {
          ++succeeded;
          EXPECT_TRUE(inCluster) << uuid;
        } else {
          EXPECT_FALSE(inCluster) << uuid << " failed yet is in the cluster";
          for (auto& [key, value] : keys) EXPECT_EQ(key.find(uuid), std::string::npos) << key;
        }
      }
  EXPECT_GT(succeeded, 0u);
  RecordProperty("prepares_failed", static_cast<int>(3 * kProcesses * kPrepares - succeeded));
  checkUnique(all[0], *cluster_, succeeded);
  // Locally too: each host's store holds exactly its successful guests.
  for (int h = 0; h < 3; ++h) {
    std::set<std::string> expected;
    for (int p = 0; p < kProcesses; ++p)
      for (int n = 0; n < kPrepares; ++n)
        if (codes[h * kProcesses + p][n] == 0) expected.insert(uuidFor(h, p, n));
    EXPECT_EQ(localUuids(all[h]), expected) << all[h].name;
    Finished recover = all[h].run({"recover"});
    EXPECT_EQ(recover.out, "nothing to recover\n") << all[h].name << ": " << recover.out;
  }
}

TEST_F(EtcdStoreCliTest, KilledBetweenClusterAndLocalCommitRecoverReleasesOnlyThisHostsOrphans) {
  std::vector<Host> all = hosts(2);
  std::string other = e2e::freshUuid();
  ASSERT_EQ(all[1].prepare("h2-guest", other).code(), 0);
  std::string orphan = e2e::freshUuid();
  std::string xml = *all[0].dir / "orphan.xml";
  e2e::writeDomain(xml, "orphan", orphan, {}, {"selinux", "dac"});
  e2e::Child killed({"/usr/bin/env", "SECLABEL_TEST_KILL_AFTER_CLUSTER_COMMIT=1",
                     e2e::seclabelBinary(), "--config", all[0].config(), "--state-dir",
                     all[0].state(), "prepare", xml});
  Finished f = killed.wait();
  ASSERT_EQ(f.code(), 128 + SIGKILL) << f.err;
  auto before = etcdctlGet(*cluster_, kPrefix);
  ASSERT_TRUE(before.count(std::string(kPrefix) + "guests/" + orphan));
  ASSERT_TRUE(before.count(std::string(kPrefix) + "hosts/h1/" + orphan));

  Finished recover = all[0].run({"recover"});
  ASSERT_EQ(recover.code(), 0) << recover.err;
  EXPECT_NE(recover.out.find("released guest orphan (" + orphan + ")"), std::string::npos)
      << recover.out;
  auto after = etcdctlGet(*cluster_, kPrefix);
  for (auto& [key, value] : after) EXPECT_EQ(key.find(orphan), std::string::npos) << key;
  EXPECT_EQ(after.count(std::string(kPrefix) + "names/orphan"), 0u);
  // h2's guest is untouched, keys and values.
  for (auto& [key, value] : before) {
    if (key.find(other) != std::string::npos || key == std::string(kPrefix) + "names/h2-guest") {
      EXPECT_EQ(after[key], value) << key;
    }
  }
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "ids/").size(), 2u);
  // The name is free again.
  EXPECT_EQ(all[0].prepare("orphan", e2e::freshUuid()).code(), 0);
}

TEST_F(EtcdStoreCliTest, ForgetHostReleasesItsIdentitiesAudited) {
  TempDir auditDir;
  Host h2 = makeHost("h2", cluster_->clientUrls(), 5000, "file:" + (auditDir / "h2.log"));
  std::string auditLog = auditDir / "h1.log";
  Host h1 = makeHost("h1", cluster_->clientUrls(), 5000, "file:" + auditLog);
  ASSERT_EQ(h2.prepare("gone-1", e2e::freshUuid()).code(), 0);
  ASSERT_EQ(h2.prepare("gone-2", e2e::freshUuid()).code(), 0);
  ASSERT_EQ(h1.prepare("stays", e2e::freshUuid()).code(), 0);
  json heldByH2 = json::array();
  for (auto& guest : e2e::listGuests(h1.config(), h1.state()))
    if (guest["host"] == "h2") heldByH2.push_back(guest);
  ASSERT_EQ(heldByH2.size(), 2u);

  // Its own name is refused: that is what recover and restore are for.
  Finished self = h1.run({"recover", "--forget-host", "h1"});
  EXPECT_EQ(self.code(), 2) << self.err;

  Finished forgot = h1.run({"recover", "--forget-host", "h2"});
  ASSERT_EQ(forgot.code(), 0) << forgot.err;
  EXPECT_NE(forgot.out.find("released guest gone-1"), std::string::npos) << forgot.out;
  EXPECT_NE(forgot.out.find("released guest gone-2"), std::string::npos) << forgot.out;
  json list = e2e::listGuests(h1.config(), h1.state());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "stays");
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "ids/").size(), 2u);
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "hosts/h2/").size(), 0u);
  std::string audit = e2e::readFile(auditLog);
  EXPECT_NE(audit.find("host-forgotten"), std::string::npos) << audit;
  EXPECT_NE(audit.find("gone-1"), std::string::npos) << audit;
  EXPECT_NE(audit.find("gone-2"), std::string::npos) << audit;
  // The names are free for any host now.
  EXPECT_EQ(h1.prepare("gone-1", e2e::freshUuid()).code(), 0);
  // h2 comes back with its old state: restoring its forgotten guest puts its
  // files back and leaves h1's new guest of the same name alone.
  Finished back = h2.run({"restore", "gone-1"});
  EXPECT_EQ(back.code(), 0) << back.err;
  json now = e2e::listGuests(h1.config(), h1.state());
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0]["name"], "gone-1");
  EXPECT_EQ(now[0]["host"], "h1");
  EXPECT_EQ(etcdctlGet(*cluster_, std::string(kPrefix) + "ids/").size(), 4u);
}

TEST_F(EtcdStoreCliTest, ASpaceFullAcrossTheClusterIsExit3NamingTheCount) {
  // Four uids for the whole cluster: two guests on each host take them all.
  const std::string range = std::to_string(kEtcdFirstUid) + "-" + std::to_string(kEtcdFirstUid + 3);
  Host h1 = makeHost("h1", cluster_->clientUrls(), 5000, "none", range);
  Host h2 = makeHost("h2", cluster_->clientUrls(), 5000, "none", range);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(h1.prepare("a" + std::to_string(i), e2e::freshUuid()).code(), 0);
    ASSERT_EQ(h2.prepare("b" + std::to_string(i), e2e::freshUuid()).code(), 0);
  }
  Finished full = h1.prepare("one-too-many", e2e::freshUuid());
  EXPECT_EQ(full.code(), 3);
  ASSERT_EQ(errorLines(full).size(), 1u) << full.err;
  EXPECT_NE(full.err.find("no free dac identity in " + range + " (4 of 4 in use in the "
                          "cluster)"),
            std::string::npos)
      << full.err;
  EXPECT_EQ(e2e::listGuests(h1.config(), h1.state()).size(), 4u);
  // h2's restore frees one for h1.
  ASSERT_EQ(h2.run({"restore", "b0"}).code(), 0);
  Finished fits = h1.prepare("one-too-many", e2e::freshUuid());
  EXPECT_EQ(fits.code(), 0) << fits.err;
}

TEST_F(EtcdStoreCliTest, RunGivesTheGuestItsClusterUidAndReleasesItAfterwards) {
  std::vector<Host> all = hosts(2);
  ASSERT_EQ(all[1].prepare("on-h2", e2e::freshUuid()).code(), 0);
  std::string uuid = e2e::freshUuid();
  std::string xml = *all[0].dir / "run.xml";
  e2e::writeDomain(xml, "runner", uuid, {}, {"selinux", "dac"});
  Finished f = all[0].run({"run", xml, "--", "/bin/sh", "-c", "id -u"});
  ASSERT_EQ(f.code(), 0) << f.err;
  // h2's guest holds the first uid of the range, so this one is the next.
  json list = e2e::listGuests(all[0].config(), all[0].state());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(std::to_string(e2e::dacIds(list[0]).first) + "\n", f.out);
  EXPECT_EQ(f.out, std::to_string(kEtcdFirstUid + 1) + "\n");
  for (auto& [key, value] : etcdctlGet(*cluster_, kPrefix))
    EXPECT_EQ(key.find(uuid), std::string::npos) << key;
}

TEST_F(EtcdStoreCliTest, AFullLargeSpaceIsFoundWithoutReadingItWhole) {
  // 1,024 uids, every one held (written straight into etcd, as another
  // host's guests would be): the gap search gives up after a few bounded
  // windows and one count, not after reading 1,024 keys one by one.
  const uint64_t first = kEtcdFirstUid, size = 1024;
  Host h1 = makeHost("h1", cluster_->clientUrls(), 5000, "none",
                     std::to_string(first) + "-" + std::to_string(first + size - 1));
  etcd::EtcdClient client(cluster_->clientOptions());
  const std::string owner =
      R"({"how":"reserved","host":"h9","name":"filler","uuid":"00000000-0000-4000-8000-000000000000"})";
  for (uint64_t base = 0; base < size; base += 64) {
    etcd::TxnRequest fill;
    for (uint64_t i = base; i < base + 64; ++i)
      fill.success.push_back(etcd::PutRequest{
          std::string(kPrefix) + "ids/dac/" + etcd::sortableNumber(first + i), owner, 0});
    ASSERT_TRUE(client.txn(fill).succeeded);
  }
  long before = requestsServed(*cluster_);
  Finished full = h1.prepare("no-room", e2e::freshUuid());
  long requests = requestsServed(*cluster_) - before;
  EXPECT_EQ(full.code(), 3) << full.err;
  EXPECT_NE(full.err.find("(1024 of 1024 in use in the cluster)"), std::string::npos) << full.err;
  // cursors + at most 5 windows + counts (one to decide, one for the message)
  // for the DAC space, after the MCS pair's cursor and window.
  RecordProperty("etcd_requests", static_cast<int>(requests));
  EXPECT_GE(requests, 4);  // the counter works: at least cursors, windows, count
  EXPECT_LE(requests, 12) << full.err;
}

TEST_F(EtcdStoreCliTest, TheSqliteBackendNeverLoadsLibcurl) {
  TempDir dir;
  e2e::ConfigOptions options;
  e2e::writeConfig(dir / "seclabel.toml", options);
  e2e::Child child({"/usr/bin/env", "LD_DEBUG=libs", e2e::seclabelBinary(), "--config",
                    dir / "seclabel.toml", "--state-dir", dir / "state", "list"});
  Finished f = child.wait();
  ASSERT_EQ(f.code(), 0) << f.err;
  EXPECT_EQ(f.err.find("libcurl"), std::string::npos);
  // And the etcd backend does load it.
  Host h1 = makeHost("h1", cluster_->clientUrls());
  e2e::Child etcdChild({"/usr/bin/env", "LD_DEBUG=libs", e2e::seclabelBinary(), "--config",
                        h1.config(), "--state-dir", h1.state(), "list"});
  Finished g = etcdChild.wait();
  ASSERT_EQ(g.code(), 0) << g.err;
  EXPECT_NE(g.err.find("libcurl"), std::string::npos);
}

}  // namespace
}  // namespace seclabel
