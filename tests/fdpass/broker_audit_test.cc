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

  // Prepares the guest (vda writable, vdb read-only) and starts the broker.
  void start(const std::string& auditSink) {
    makeImage(vda_);
    makeImage(vdb_);
    ConfigOptions options;
    options.auditSink = auditSink;  // fdpass = "never": the disks are labeled
    writeConfig(config_, options);
    fdpass_e2e::writeDomain(xml_, name_, uuid_, {{vda_, "vda"}, {vdb_, "vdb", true}});
    Finished prepared = runSeclabel(config_, state_, {"prepare", xml_});
    ASSERT_EQ(prepared.code(), 0) << prepared.err;
    std::tie(guestUid_, std::ignore) = dacIds(findGuest(listGuests(config_, state_), uuid_));
    broker_.emplace(seclabelArgv(config_, state_, {"broker", "--socket", socket_}));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(socket_) || !processExists(broker_->pid()); }))
        << "broker did not come up: " << broker_->wait().err;
    ASSERT_TRUE(std::filesystem::exists(socket_)) << broker_->wait().err;
  }

  int askAs(uid_t uid, const std::string& disk, DiskAccess access, size_t expectedFds) {
    return testing::runAsUid(uid, [&] {
      try {
        BrokerDiskFds fds = requestDiskFds(socket_, name_, disk, access);
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

}  // namespace
}  // namespace seclabel
