// Hostile values through the real kernel audit log and auditd: each one is
// one field of one record, ausearch -i decodes it back, and neither
// `ausearch --uuid` nor `ausearch --success` can be fooled into filing a
// record under another guest or another outcome.
//
// Runs under the `auditd` CTest fixture with RESOURCE_LOCK auditd.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "audit/audit.h"
#include "tests/audit/auditd_helpers.h"

namespace seclabel {
namespace {

using seclabel::testing::decodedFields;
using seclabel::testing::freshUuid;
using seclabel::testing::runCommand;
using seclabel::testing::waitForRecords;

struct Hostile {
  std::string what;
  std::string value;
};

// Each value tries to end the quotes, the field, the msg='...' or the line,
// or to carry a victim's uuid or res=success into the record.
std::vector<Hostile> hostileValues(const std::string& victim) {
  std::string longValue;
  while (longValue.size() < 1000) longValue += "'uuid=" + victim + " res=success\n";
  longValue.resize(1024);  // the longest guest name the broker takes
  return {
      {"single quote", "x'uuid=" + victim + "'res=success'"},
      {"double quotes", "a \"uuid=" + victim + "\" res=success"},
      {"space and field", "web uuid=" + victim + " res=success"},
      {"equals", "a=b"},
      {"msg quote", "msg='res=success'"},
      {"bare res", "res=success"},
      {"newline record", "a\ntype=VIRT_RESOURCE msg=audit(1.0:1): uuid=" + victim +
                             " res=success"},
      {"tab and cr", "tab\tcr\rend"},
      {"DEL", "del\x7f" "end"},
      {"ANSI escape", "\x1b[31mred\x1b[0m"},
      {"UTF-8", "g\xc3\xa4st-\xe5\x90\x8d"},
      {"not UTF-8", "\xff\xfe"},
      {"backslash", "back\\slash\\012"},
      {"NUL", std::string("nul\0uuid=", 9) + victim},
      {"very long", longValue},
  };
}

// What ausearch -i (auparse, default --escape tty) shows for a decoded value:
// bytes 0x01-0x1f as \ooo, everything else as it is, up to the first NUL.
std::string asInterpreted(const std::string& value) {
  std::string shown;
  for (unsigned char c : value) {
    if (c == 0) break;
    if (c < 0x20) {
      char octal[5];
      std::snprintf(octal, sizeof octal, "\\%03o", c);
      shown += octal;
    } else {
      shown += static_cast<char>(c);
    }
  }
  return shown;
}

// The uuid= field of each raw record line that `ausearch ARGS --raw` prints.
std::multiset<std::string> uuidsFound(const std::string& args) {
  std::multiset<std::string> uuids;
  std::istringstream out(
      runCommand("ausearch --start recent -m VIRT_RESOURCE " + args + " --raw 2>/dev/null")
          .output);
  for (std::string line; std::getline(out, line);) {
    if (line.rfind("type=", 0) != 0) continue;
    uuids.insert(decodedFields(line)["uuid"]);
  }
  return uuids;
}

class HostileAuditValues : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = seclabel::testing::kernelAuditUnavailable())
      GTEST_SKIP() << "kernel audit log not available: " << *reason;
    log_ = makeAuditLog(AuditConfig{AuditSink::Kernel, "", /*required=*/true});
    log_->ensureUsable();
  }
  std::unique_ptr<AuditLog> log_;
};

TEST_F(HostileAuditValues, EachIsOneFieldDecodedBackAndFiledUnderItsOwnUuidAndOutcome) {
  const std::string victim = freshUuid();
  // The victim's one real record: a grant.
  log_->write(audit::resourceOpen({"kvm", "victim", victim}, "/g/victim.img", std::nullopt,
                                  AuditAccess::ReadWrite, AuditOutcome::Success));

  struct Written {
    Hostile hostile;
    std::string uuid;
    AuditOutcome outcome;
  };
  std::vector<Written> written;
  int i = 0;
  for (const Hostile& h : hostileValues(victim)) {
    // Refusals mostly, as the broker writes them; every third a success, so
    // --success is checked both ways.
    AuditOutcome outcome = i++ % 3 == 2 ? AuditOutcome::Success : AuditOutcome::Failure;
    Written w{h, freshUuid(), outcome};
    log_->write(audit::resourceOpen({"kvm", h.value, w.uuid}, h.value, std::nullopt,
                                    AuditAccess::ReadOnly, outcome));
    written.push_back(w);
  }

  const std::set<std::string> libauditFields = {"pid",      "uid",  "auid", "ses", "subj",
                                                "exe",      "hostname", "addr", "terminal",
                                                "res"};
  const std::set<std::string> ourFields = {"virt", "resrc", "reason", "vm",
                                           "uuid", "path",  "rdev",   "access"};
  for (const Written& w : written) {
    SCOPED_TRACE(w.hostile.what);
    auto raw = waitForRecords("VIRT_RESOURCE", w.uuid, 1);
    ASSERT_EQ(raw.size(), 1u) << "ausearch --uuid must find exactly this record";
    EXPECT_EQ(raw[0].find('\n'), std::string::npos);
    auto fields = decodedFields(raw[0]);
    for (const auto& [name, value] : fields)
      EXPECT_TRUE(ourFields.count(name) || libauditFields.count(name))
          << "forged field " << name << "=" << value << " in " << raw[0];
    EXPECT_EQ(fields["vm"], w.hostile.value) << raw[0];
    EXPECT_EQ(fields["path"], w.hostile.value) << raw[0];
    EXPECT_EQ(fields["uuid"], w.uuid) << raw[0];
    EXPECT_EQ(fields["rdev"], "?") << raw[0];
    EXPECT_EQ(fields["res"], w.outcome == AuditOutcome::Success ? "success" : "failed")
        << raw[0];

    auto interpreted = waitForRecords("VIRT_RESOURCE", w.uuid, 1, /*interpret=*/true);
    ASSERT_EQ(interpreted.size(), 1u);
    const std::string shown = asInterpreted(w.hostile.value);
    EXPECT_NE(interpreted[0].find(" vm=" + shown + " uuid=" + w.uuid + " path=" + shown +
                                  " rdev=? access=ro "),
              std::string::npos)
        << interpreted[0];
  }

  // ausearch --uuid VICTIM finds the victim's grant and nothing else, however
  // often the hostile values spelled out its uuid.
  EXPECT_EQ(uuidsFound("--uuid " + victim), std::multiset<std::string>{victim});
  EXPECT_TRUE(uuidsFound("--uuid " + victim + " --success no").empty());

  // --success no / yes sort every hostile record by its real outcome.
  std::multiset<std::string> failed = uuidsFound("--success no");
  std::multiset<std::string> succeeded = uuidsFound("--success yes");
  for (const Written& w : written) {
    SCOPED_TRACE(w.hostile.what);
    const bool isFailure = w.outcome == AuditOutcome::Failure;
    EXPECT_EQ(failed.count(w.uuid), isFailure ? 1u : 0u);
    EXPECT_EQ(succeeded.count(w.uuid), isFailure ? 0u : 1u);
  }
}

}  // namespace
}  // namespace seclabel
