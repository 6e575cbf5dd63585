// The file sink: one JSON object per record, the fields in the kernel record's
// order, decoded, with res; and the warn-or-fail policy for a file that
// cannot be opened.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "audit/audit.h"
#include "tests/core/hostile_files.h"

namespace seclabel {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const AuditGuest kGuest{"kvm", "evil name \"q\" 'x'", "0b5e8a41-7c2d-4f3e-8a9b-0c1d2e3f4a5b"};

class AuditFileSink : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/seclabel-audit-file-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<Json> readLines(const fs::path& file) {
    std::vector<Json> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
    return lines;
  }

  AuditConfig fileConfig(const fs::path& file, bool required = false) {
    AuditConfig config;
    config.sink = AuditSink::File;
    config.path = file;
    config.required = required;
    return config;
  }

  fs::path dir_;
  std::vector<std::string> warnings_;
  AuditWarning collect_ = [this](const std::string& m) { warnings_.push_back(m); };
};

TEST_F(AuditFileSink, WritesOneObjectPerRecordWithFieldsInOrderAndRes) {
  fs::path file = dir_ / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file), collect_);
  log->ensureUsable();
  AuditRecord id = audit::machineId(kGuest, "dac", "+1879048193:+1879048193", std::nullopt,
                                    AuditOutcome::Success);
  AuditRecord stop = audit::control(kGuest, AuditControlOp::Stop, "failed", std::nullopt,
                                    AuditOutcome::Failure);
  log->write(id);
  log->write(stop);

  std::vector<Json> lines = readLines(file);
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::string> keys;
  for (auto& [key, value] : lines[0].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"type", "time", "virt", "vm", "uuid", "vm-ctx",
                                            "img-ctx", "model", "res"}));
  EXPECT_EQ(lines[0]["type"], "VIRT_MACHINE_ID");
  EXPECT_EQ(lines[0]["vm"], kGuest.name);  // decoded: JSON has its own escaping
  EXPECT_EQ(lines[0]["vm-ctx"], "+1879048193:+1879048193");
  EXPECT_EQ(lines[0]["img-ctx"], "?");
  EXPECT_EQ(lines[0]["res"], "success");
  EXPECT_EQ(lines[1]["type"], "VIRT_CONTROL");
  EXPECT_EQ(lines[1]["op"], "stop");
  EXPECT_EQ(lines[1]["vm-pid"], "?");
  EXPECT_EQ(lines[1]["res"], "failed");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(AuditFileSink, EveryRecordFieldAppearsWithItsValue) {
  fs::path file = dir_ / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file), collect_);
  AuditRecord open = audit::resourceOpen(kGuest, "/dev/null", makedev(1, 3),
                                         AuditAccess::ReadWrite, AuditOutcome::Success);
  log->write(open);
  std::vector<Json> lines = readLines(file);
  ASSERT_EQ(lines.size(), 1u);
  for (const AuditField& f : open.fields) EXPECT_EQ(lines[0][f.name], f.value) << f.name;
  EXPECT_EQ(lines[0]["rdev"], "01:03");
}

TEST_F(AuditFileSink, BytesThatAreNotUtf8AreKeptAsHex) {
  fs::path file = dir_ / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file), collect_);
  log->write(audit::resourceOpen(kGuest, "/img\xff\n", std::nullopt, AuditAccess::ReadOnly,
                                 AuditOutcome::Failure));
  std::vector<Json> lines = readLines(file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["path"], Json({{"hex", "2F696D67FF0A"}}));
}

TEST_F(AuditFileSink, AppendsToWhatIsThere) {
  fs::path file = dir_ / "audit.jsonl";
  makeAuditLog(fileConfig(file), collect_)
      ->write(audit::control(kGuest, AuditControlOp::Start, "booted", 10, AuditOutcome::Success));
  makeAuditLog(fileConfig(file), collect_)
      ->write(audit::control(kGuest, AuditControlOp::Stop, "shutdown", 10, AuditOutcome::Success));
  std::vector<Json> lines = readLines(file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["op"], "start");
  EXPECT_EQ(lines[1]["op"], "stop");
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AuditFileSink, UnusableFileWhenRequiredFailsBeforeAnyRecord) {
  fs::path file = dir_ / "no-such-dir" / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file, /*required=*/true), collect_);
  try {
    log->ensureUsable();
    FAIL() << "ensureUsable accepted an audit file that cannot be opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("audit is required"), std::string::npos) << e.what();
  }
  EXPECT_THROW(log->write(audit::control(kGuest, AuditControlOp::Start, "booted", 1,
                                         AuditOutcome::Success)),
               Error);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(AuditFileSink, UnusableFileWhenNotRequiredWarnsOnceAndContinues) {
  fs::path file = dir_ / "no-such-dir" / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file), collect_);
  EXPECT_NO_THROW(log->ensureUsable());
  AuditRecord r = audit::control(kGuest, AuditControlOp::Start, "booted", 1,
                                 AuditOutcome::Success);
  EXPECT_NO_THROW(log->write(r));
  EXPECT_NO_THROW(log->write(r));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find(file.string()), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[0].find("continuing without audit records"), std::string::npos);
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(AuditFileSink, DefaultWarningGoesToStderrWithThePrefix) {
  fs::path file = dir_ / "no-such-dir" / "audit.jsonl";
  auto log = makeAuditLog(fileConfig(file));
  ::testing::internal::CaptureStderr();
  log->ensureUsable();
  log->ensureUsable();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind("seclabel: warning: audit file " + file.string(), 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// ---- a hostile audit file or directory ----------------------------------------

// The error ensureUsable throws for a required file sink at `file`.
Error requiredFileError(const AuditConfig& config, std::vector<std::string>& warnings) {
  auto log = makeAuditLog(config, [&](const std::string& m) { warnings.push_back(m); });
  try {
    log->ensureUsable();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the audit file " << config.path << " was accepted";
  return Error(ExitCode::Ok, "");
}

// Root appending records to whatever a planted symlink names (/etc/shadow,
// a cron file) is the attack: the link is refused, its target untouched.
TEST_F(AuditFileSink, RefusesAPlantedSymlinkAndNeverWritesItsTarget) {
  fs::path target = dir_ / "precious";
  { std::ofstream(target) << "root-only\n"; }
  fs::path file = dir_ / "audit.jsonl";
  fs::create_symlink(target, file);
  Error e = requiredFileError(fileConfig(file, /*required=*/true), warnings_);
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  // Not required: a warning, and still nothing written through the link.
  auto log = makeAuditLog(fileConfig(file), collect_);
  log->write(audit::control(kGuest, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  EXPECT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(fs::file_size(target), 10u);
}

TEST_F(AuditFileSink, RefusesAHardLinkToAnotherFile) {
  fs::path other = dir_ / "other";
  { std::ofstream(other) << "another file\n"; }
  fs::path file = dir_ / "audit.jsonl";
  ASSERT_EQ(::link(other.c_str(), file.c_str()), 0);
  Error e = requiredFileError(fileConfig(file, true), warnings_);
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("hard links"), std::string::npos) << e.what();
  EXPECT_EQ(fs::file_size(other), 13u);
}

TEST_F(AuditFileSink, RefusesAFifoWithoutBlocking) {
  fs::path file = dir_ / "audit.jsonl";
  ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
  auto outcome = testing::runGuarded([&] {
    makeAuditLog(fileConfig(file, true))->ensureUsable();
  });
  ASSERT_TRUE(outcome.finished) << "blocked on a FIFO (signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(AuditFileSink, RefusesAFileInADirectoryOthersCanWrite) {
  fs::path open = dir_ / "open";
  fs::create_directory(open);
  ASSERT_EQ(::chmod(open.c_str(), 0777), 0);
  Error e = requiredFileError(fileConfig(open / "audit.jsonl", true), warnings_);
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_FALSE(fs::exists(open / "audit.jsonl"));
}

TEST_F(AuditFileSink, RefusesAFileInADirectoryAnotherUserOwns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: chown to another user";
  fs::path theirs = dir_ / "theirs";
  fs::create_directory(theirs);
  ASSERT_EQ(::chown(theirs.c_str(), testing::kOtherUser, testing::kOtherUser), 0);
  Error e = requiredFileError(fileConfig(theirs / "audit.jsonl", true), warnings_);
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_FALSE(fs::exists(theirs / "audit.jsonl"));
}

TEST_F(AuditFileSink, RefusesAFileAnotherUserOwns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: chown to another user";
  fs::path file = dir_ / "audit.jsonl";
  { std::ofstream create(file); }
  ASSERT_EQ(::chown(file.c_str(), testing::kOtherUser, testing::kOtherUser), 0);
  EXPECT_EQ(requiredFileError(fileConfig(file, true), warnings_).code(),
            ExitCode::PermissionDenied);
}

// A log directory reached through a symlink root made (/var/log -> /srv/log)
// is fine: only root can re-point it.
TEST_F(AuditFileSink, FollowsADirectorySymlinkRootOwns) {
  fs::path real = dir_ / "real";
  fs::create_directory(real);
  fs::create_symlink(real, dir_ / "log");
  auto log = makeAuditLog(fileConfig(dir_ / "log" / "audit.jsonl", true), collect_);
  log->write(audit::control(kGuest, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  EXPECT_EQ(readLines(real / "audit.jsonl").size(), 1u);
}

TEST_F(AuditFileSink, NoneSinkNeverWarnsNorFails) {
  AuditConfig none;
  none.sink = AuditSink::None;
  none.required = true;  // nothing to be unusable: "none" is a choice
  auto log = makeAuditLog(none, collect_);
  EXPECT_NO_THROW(log->ensureUsable());
  EXPECT_NO_THROW(log->write(audit::control(kGuest, AuditControlOp::Start, "booted", 1,
                                            AuditOutcome::Success)));
  EXPECT_TRUE(warnings_.empty());
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace seclabel
