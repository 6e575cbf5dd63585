// The real `seclabel broker` over a store prepared by `seclabel prepare`,
// clients forked as the guest's uid and a stranger's, and the audit trail it
// leaves: one VIRT_RESOURCE reason=open record per grant (res=success) and
// per denial (res=failed), read back with ausearch from a real auditd (under
// the `auditd` CTest fixture) or from the JSON-lines file sink.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/broker_client.h"
#include "tests/audit/auditd_helpers.h"
#include "tests/fdpass/e2e_fdpass_support.h"
#include "tests/fdpass/test_support.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;
using Fields = std::map<std::string, std::string>;

constexpr uid_t kStrangerUid = testing::kStrangerUid;
// Exit codes of the forked clients.
constexpr int kGranted = 0, kWrongFds = 10, kUnexpected = 11;

class BrokerAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: prepare chowns, clients change uid";
  }

  // Prepares the guest (vda writable, vdb read-only) and starts the broker;
  // `extraConfig` is appended to seclabel.toml.
  void start(const std::string& auditSink, const std::string& extraConfig = "") {
    makeImage(vda_);
    makeImage(vdb_);
    ConfigOptions options;
    options.auditSink = auditSink;  // fdpass = "never": the disks are labeled
    writeConfig(config_, options);
    std::ofstream(config_, std::ios::app) << extraConfig;
    fdpass_e2e::writeDomain(xml_, name_, uuid_, {{vda_, "vda"}, {vdb_, "vdb", true}});
    Finished prepared = runSeclabel(config_, state_, {"prepare", xml_});
    ASSERT_EQ(prepared.code(), 0) << prepared.err;
    std::tie(guestUid_, std::ignore) = dacIds(findGuest(listGuests(config_, state_), uuid_));
    broker_.emplace(seclabelArgv(config_, state_, {"broker", "--socket", socket_}));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(socket_) || !processExists(broker_->pid()); }))
        << "broker did not come up: " << broker_->wait().err;
    ASSERT_TRUE(std::filesystem::exists(socket_)) << broker_->wait().err;
  }

  int askAs(uid_t uid, const std::string& disk, DiskAccess access, size_t expectedFds,
            const std::string& guest = "") {
    return testing::runAsUid(uid, [&] {
      try {
        BrokerDiskFds fds = requestDiskFds(socket_, guest.empty() ? name_ : guest, disk, access);
        return fds.fds.size() == expectedFds ? kGranted : kWrongFds;
      } catch (const Error& e) {
        // A denial is PermissionDenied and names the reason.
        std::string what = e.what();
        return what.rfind("broker: ", 0) == 0 ? e.exitCode() : kUnexpected;
      }
    });
  }

  // The three requests every variant makes: a grant and two denials.
  void grantAndDeny() {
    EXPECT_EQ(askAs(guestUid_, "vda", DiskAccess::ReadWrite, 2), kGranted);
    EXPECT_EQ(askAs(kStrangerUid, "vda", DiskAccess::ReadOnly, 1),
              static_cast<int>(ExitCode::PermissionDenied));
    EXPECT_EQ(askAs(guestUid_, "vdb", DiskAccess::ReadWrite, 2),
              static_cast<int>(ExitCode::PermissionDenied));
  }

  void stopBroker() {
    ASSERT_EQ(::kill(broker_->pid(), SIGTERM), 0);
    Finished f = broker_->wait(10000);
    EXPECT_EQ(f.code(), 0) << f.err;
    broker_.reset();
    EXPECT_EQ(runSeclabel(config_, state_, {"restore", uuid_}).code(), 0);
  }

  // The grant and the two denials, whichever sink wrote them.
  void expectOpenRecords(std::vector<Fields> records) {
    std::string all;
    for (const auto& r : records) {
      for (const auto& [k, v] : r) all += k + "=" + v + " ";
      all += "\n";
    }
    SCOPED_TRACE("reason=open records:\n" + all);
    ASSERT_EQ(records.size(), 3u);
    auto byOutcome = [&](const std::string& res, const std::string& path) {
      std::vector<Fields> found;
      for (const auto& r : records)
        if (r.at("res") == res && r.at("path") == path) found.push_back(r);
      return found;
    };
    auto granted = byOutcome("success", vda_);
    ASSERT_EQ(granted.size(), 1u);
    EXPECT_EQ(granted[0]["access"], "rw");
    EXPECT_EQ(granted[0]["rdev"], "?");
    auto stranger = byOutcome("failed", vda_);
    ASSERT_EQ(stranger.size(), 1u);
    EXPECT_EQ(stranger[0]["access"], "ro");
    auto readOnly = byOutcome("failed", vdb_);
    ASSERT_EQ(readOnly.size(), 1u);
    EXPECT_EQ(readOnly[0]["access"], "rw");
    for (const auto& r : records) {
      EXPECT_EQ(r.at("peer-uid"), std::to_string(r.at("res") == "success" || r.at("path") == vdb_
                                                     ? guestUid_
                                                     : kStrangerUid));
      EXPECT_EQ(r.at("vm"), name_);
      EXPECT_EQ(r.at("uuid"), uuid_);
      EXPECT_EQ(r.at("virt"), "kvm");
      EXPECT_EQ(r.at("resrc"), "disk");
      EXPECT_EQ(r.at("rdev"), "?");
    }
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml", state_ = dir_ / "state";
  std::string vda_ = dir_ / "vda.qcow2", vdb_ = dir_ / "vdb.qcow2", xml_ = dir_ / "guest.xml";
  std::string socket_ = dir_ / "broker.sock";
  std::string name_ = "brokered", uuid_ = freshUuid();
  uid_t guestUid_ = 0;
  std::optional<Child> broker_;
};

// reason=open records of our guest in the kernel log, polled until `count`
// are there, then once more after a pause so a late extra one is seen.
std::vector<Fields> kernelOpenRecords(const std::string& uuid, size_t count) {
  auto collect = [&] {
    std::vector<Fields> open;
    for (const auto& line : testing::waitForRecords("VIRT_RESOURCE", uuid, 0)) {
      Fields fields = testing::decodedFields(line);
      if (fields["reason"] == "open") open.push_back(fields);
    }
    return open;
  };
  eventually([&] { return collect().size() >= count; }, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return collect();
}

TEST_F(BrokerAudit, KernelSinkOneRecordPerGrantAndPerDenial) {
  if (auto why = testing::kernelAuditUnavailable()) GTEST_SKIP() << *why;
  start("kernel");
  if (HasFatalFailure()) return;
  grantAndDeny();
  expectOpenRecords(kernelOpenRecords(uuid_, 3));
  stopBroker();
}

TEST_F(BrokerAudit, FileSinkOneJsonLinePerGrantAndPerDenial) {
  const std::string log = dir_ / "audit.jsonl";
  start("file:" + log);
  if (HasFatalFailure()) return;
  grantAndDeny();
  stopBroker();  // a grant is recorded right after its reply: stop first, then read
  std::vector<Fields> open;
  std::istringstream lines(readFile(log));
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record["type"] != "VIRT_RESOURCE" || record.value("reason", "") != "open") continue;
    Fields fields;
    for (const auto& [key, value] : record.items())
      if (value.is_string()) fields[key] = value.get<std::string>();
    open.push_back(fields);
  }
  expectOpenRecords(open);
}

// A stranger names a guest that spells out another guest's uuid and
// res=success; quoted, its refusal was filed under that guest by ausearch.
TEST_F(BrokerAudit, KernelSinkForgedGuestNameIsFiledUnderNoOtherGuest) {
  if (auto why = testing::kernelAuditUnavailable()) GTEST_SKIP() << *why;
  start("kernel");
  if (HasFatalFailure()) return;
  const std::string forged = "x'uuid=" + uuid_ + "'res=success'";
  EXPECT_EQ(askAs(kStrangerUid, "vda", DiskAccess::ReadOnly, 1, forged),
            static_cast<int>(ExitCode::PermissionDenied));
  // Written after the refusal: once it is in the log, so is the refusal.
  EXPECT_EQ(askAs(guestUid_, "vda", DiskAccess::ReadOnly, 1), kGranted);

  std::vector<Fields> open = kernelOpenRecords(uuid_, 1);
  ASSERT_EQ(open.size(), 1u) << "ausearch --uuid lists a record that is not this guest's";
  EXPECT_EQ(open[0]["res"], "success");
  EXPECT_TRUE(testing::runCommand("ausearch --start recent -m VIRT_RESOURCE --uuid " + uuid_ +
                                  " --success no --raw 2>/dev/null | grep 'reason=open'")
                  .output.empty());
  // The refusal itself is there, whole, under no guest, with who asked.
  std::vector<Fields> refusals;
  std::istringstream lines(testing::runCommand("ausearch --start recent -m VIRT_RESOURCE "
                                               "--success no --raw 2>/dev/null")
                               .output);
  for (std::string line; std::getline(lines, line);) {
    Fields fields = testing::decodedFields(line);
    if (fields["vm"] == forged) refusals.push_back(fields);
  }
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0]["uuid"], "?");
  EXPECT_EQ(refusals[0]["res"], "failed");
  EXPECT_EQ(refusals[0]["peer-uid"], std::to_string(kStrangerUid));
  stopBroker();
}

// One client's refusals are rate limited through the real broker and its
// [broker] settings; the summary accounts for every one left out, and the
// guest's grants are all there.
TEST_F(BrokerAudit, FileSinkRefusalFloodIsRateLimitedWithASummary) {
  const std::string log = dir_ / "audit.jsonl";
  start("file:" + log, "\n[broker]\nrefusal_audit_burst = 10\nrefusal_audit_rate = 0.001\n");
  if (HasFatalFailure()) return;
  constexpr int kFlood = 1000, kGrants = 20;
  int flood = testing::runAsUid(kStrangerUid, [&] {
    BrokerConnection connection = BrokerConnection::connect(socket_);
    for (int i = 0; i < kFlood; ++i) {
      try {
        connection.openDisk(name_, "vda", DiskAccess::ReadOnly);
        return kUnexpected;
      } catch (const Error& e) {
        if (e.code() != ExitCode::PermissionDenied) return kUnexpected;
      }
    }
    return 0;
  });
  ASSERT_EQ(flood, 0);
  for (int i = 0; i < kGrants; ++i) {
    EXPECT_EQ(askAs(guestUid_, "vda", DiskAccess::ReadOnly, 1), kGranted);
  }
  stopBroker();  // writes the pending summary

  int refusals = 0, grants = 0;
  long long suppressed = 0;
  std::istringstream lines(readFile(log));
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record["type"] != "VIRT_RESOURCE") continue;
    const std::string reason = record.value("reason", "");
    const std::string peer = record.value("peer-uid", "");
    if (reason == "open" && record["res"] == "failed" && peer == std::to_string(kStrangerUid))
      ++refusals;
    if (reason == "open" && record["res"] == "success" && peer == std::to_string(guestUid_))
      ++grants;
    if (reason == "rate-limit" && peer == std::to_string(kStrangerUid))
      suppressed += std::stoll(record.value("suppressed", "0"));
  }
  EXPECT_EQ(refusals, 10);
  EXPECT_EQ(suppressed, kFlood - 10);
  EXPECT_EQ(grants, kGrants);
}

}  // namespace
}  // namespace seclabel
