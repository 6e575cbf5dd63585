// A guest's cgroup on the real kernel, cgroup v1 (devices.allow/deny) and
// cgroup v2 (the BPF program and map; this host's hybrid layout runs v2
// device programs in its cgroup2 tree): a process put into the cgroup
// between clone and exec opens its own devices and gets EPERM on every
// other; each change of the ACL is audited once with its outcome; the
// cgroup goes away when empty. Real loop devices, always detached.
//
// Needs root; a kind of cgroup the host lacks is skipped with the reason.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "audit/audit.h"
#include "cgroup/bpf.h"
#include "cgroup/device_rules.h"
#include "cgroup/guest_cgroup.h"
#include "core/error.h"
#include "tests/cgroup/test_support.h"

namespace seclabel {

// Test names and failure messages say V1/V2, not "4-byte object".
void PrintTo(CgroupVersion version, std::ostream* out) {
  *out << (version == CgroupVersion::V1 ? "cgroup v1" : "cgroup v2");
}

namespace {

namespace fs = std::filesystem;
using testing::LoopDevice;
using testing::runProbe;

// Keeps every record, as the kernel sink would deliver it.
class RecordingLog final : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord& record) override { records.push_back(record); }
  std::vector<AuditRecord> records;
  std::vector<std::string> messages() const {
    std::vector<std::string> text;
    for (const AuditRecord& r : records)
      text.push_back(r.message() + (r.outcome == AuditOutcome::Success ? " res=success" : " res=failed"));
    return text;
  }
};

DeviceRule nodeRule(const std::string& path, DeviceAccess access) {
  std::optional<NodeInfo> node = statNode(path);
  return DeviceRule::forNode(path, node->type == S_IFBLK ? DeviceType::Block : DeviceType::Char,
                             node->rdev, access);
}

std::string versionName(const ::testing::TestParamInfo<CgroupVersion>& info) {
  return info.param == CgroupVersion::V1 ? "V1" : "V2";
}

class GuestCgroupTest : public ::testing::TestWithParam<CgroupVersion> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, loop devices)";
    std::optional<DeviceController> controller = detectDeviceController(GetParam());
    if (!controller)
      GTEST_SKIP() << (GetParam() == CgroupVersion::V1
                           ? "no cgroup v1 devices hierarchy in /proc/self/mountinfo"
                           : "no cgroup2 mount with BPF device programs");
    controller_ = *controller;
    parent_.emplace(controller_);
    guest_ = AuditGuest{"kvm", "web1", testing::freshUuid()};
  }

  // The guest's rules as the launcher computes them: its disks, the pty
  // major and `defaults`.
  std::vector<DeviceRule> rulesFor(std::vector<GuestDeviceUse::Disk> disks,
                                   std::vector<std::string> defaults = {"/dev/null", "/dev/zero"}) {
    GuestDeviceUse use;
    use.disks = std::move(disks);
    return guestDeviceRules(use, defaults);
  }

  GuestCgroup create(const std::vector<DeviceRule>& rules, const std::string& uuid = {}) {
    return GuestCgroup::create(parent_->location(uuid.empty() ? guest_.uuid : uuid), rules, log_,
                               guest_);
  }

  DeviceController controller_;
  std::optional<testing::TestParent> parent_;
  AuditGuest guest_;
  RecordingLog log_;
};

#define NEED_LOOP(var)                                      \
  std::string var##_why;                                    \
  std::optional<LoopDevice> var = LoopDevice::attach(var##_why); \
  if (!var) GTEST_SKIP() << var##_why

TEST_P(GuestCgroupTest, ProcessIsInTheGuestCgroupBeforeItExecs) {
  GuestCgroup cgroup = create(rulesFor({}));
  auto lines = runProbe(&cgroup, {"cgroup"});
  ASSERT_EQ(lines.size(), 1u);
  const std::string relative = "/" + parent_->name() + "/" + guest_.uuid + ";";
  const std::string expected =
      GetParam() == CgroupVersion::V1 ? ":devices:" + relative : "0::" + relative;
  EXPECT_NE(lines[0].find(expected), std::string::npos) << lines[0];
}

TEST_P(GuestCgroupTest, GuestReadsAndWritesItsOwnLoopDevice) {
  NEED_LOOP(own);
  GuestCgroup cgroup = create(rulesFor({{own->path(), DeviceAccess::readWrite()}}));
  EXPECT_EQ(runProbe(&cgroup, {"rw:" + own->path()}),
            std::vector<std::string>{"rw:" + own->path() + " ok"});
}

TEST_P(GuestCgroupTest, LoopDeviceOfNoGuestIsEperm) {
  NEED_LOOP(own);
  NEED_LOOP(stranger);
  GuestCgroup cgroup = create(rulesFor({{own->path(), DeviceAccess::readWrite()}}));
  EXPECT_EQ(runProbe(&cgroup, {"r:" + stranger->path(), "rw:" + stranger->path()}),
            (std::vector<std::string>{"r:" + stranger->path() + " EPERM",
                                      "rw:" + stranger->path() + " EPERM"}));
  // Control: outside the cgroup the same process opens it.
  EXPECT_EQ(runProbe(nullptr, {"r:" + stranger->path()}),
            std::vector<std::string>{"r:" + stranger->path() + " ok"});
}

TEST_P(GuestCgroupTest, ReadonlyDiskIsReadableButNotOpenableForWrite) {
  NEED_LOOP(readonly);
  GuestCgroup cgroup = create(rulesFor({{readonly->path(), DeviceAccess::read()}}));
  EXPECT_EQ(runProbe(&cgroup, {"r:" + readonly->path(), "rw:" + readonly->path(),
                               "w:" + readonly->path()}),
            (std::vector<std::string>{"r:" + readonly->path() + " ok",
                                      "rw:" + readonly->path() + " EPERM",
                                      "w:" + readonly->path() + " EPERM"}));
}

TEST_P(GuestCgroupTest, DefaultDevicesAreReadableAndWritable) {
  GuestCgroup cgroup = create(rulesFor({}));
  EXPECT_EQ(runProbe(&cgroup, {"r:/dev/null", "rw:/dev/null", "r:/dev/zero"}),
            (std::vector<std::string>{"r:/dev/null ok", "rw:/dev/null ok", "r:/dev/zero ok"}));
}

TEST_P(GuestCgroupTest, ZeroIsEpermWhenTheDefaultListLeavesItOut) {
  GuestCgroup cgroup = create(rulesFor({}, {"/dev/null"}));
  EXPECT_EQ(runProbe(&cgroup, {"r:/dev/null", "r:/dev/zero", "r:/dev/full"}),
            (std::vector<std::string>{"r:/dev/null ok", "r:/dev/zero EPERM", "r:/dev/full EPERM"}));
}

TEST_P(GuestCgroupTest, PtyMajorLetsTheGuestOpenANewPtySlave) {
  if (!fs::exists("/dev/pts/ptmx")) GTEST_SKIP() << "no devpts mounted at /dev/pts";
  GuestCgroup cgroup = create(rulesFor({}, {"/dev/ptmx"}));
  EXPECT_EQ(runProbe(&cgroup, {"pty"}), std::vector<std::string>{"pty ok"});
  // Without the ptmx default the master itself is refused.
  GuestCgroup other = create(rulesFor({}, {}), testing::freshUuid());
  EXPECT_EQ(runProbe(&other, {"pty"}), std::vector<std::string>{"pty-master EPERM"});
}

TEST_P(GuestCgroupTest, TwoGuestsAtOnceEachReachOnlyTheirOwnLoopDevice) {
  NEED_LOOP(diskA);
  NEED_LOOP(diskB);
  const std::string uuidB = testing::freshUuid();
  GuestCgroup a = create(rulesFor({{diskA->path(), DeviceAccess::readWrite()}}));
  GuestCgroup b = create(rulesFor({{diskB->path(), DeviceAccess::readWrite()}}), uuidB);
  // Both cgroups hold a process while the other guest probes.
  testing::SleepingChild inA(a), inB(b);
  EXPECT_EQ(runProbe(&a, {"rw:" + diskA->path(), "r:" + diskB->path()}),
            (std::vector<std::string>{"rw:" + diskA->path() + " ok", "r:" + diskB->path() + " EPERM"}));
  EXPECT_EQ(runProbe(&b, {"rw:" + diskB->path(), "r:" + diskA->path()}),
            (std::vector<std::string>{"rw:" + diskB->path() + " ok", "r:" + diskA->path() + " EPERM"}));
}

TEST_P(GuestCgroupTest, ExactAuditRecordsForOneSetUp) {
  NEED_LOOP(disk);
  GuestDeviceUse use;
  char file[] = "/tmp/seclabel-image-XXXXXX";
  int fd = ::mkstemp(file);
  ASSERT_GE(fd, 0);
  ::close(fd);
  use.disks = {{disk->path(), DeviceAccess::readWrite()}, {file, DeviceAccess::readWrite()}};
  use.chardevs = {"/tmp/seclabel-serial-not-there"};
  GuestCgroup cgroup =
      create(guestDeviceRules(use, {"/dev/null", "/dev/seclabel-absent", "/dev/zero"}));
  ::unlink(file);

  const std::string head = "virt=kvm resrc=cgroup reason=";
  const std::string who = " vm=\"web1\" uuid=" + guest_.uuid + " cgroup=\"" + cgroup.path() + "\"";
  char rdev[16];
  std::snprintf(rdev, sizeof rdev, "%02X:%02X", major(disk->rdev()), minor(disk->rdev()));
  EXPECT_EQ(log_.messages(),
            (std::vector<std::string>{
                head + "deny" + who + " class=all res=success",
                head + "allow" + who + " class=path path=\"" + disk->path() + "\" rdev=" + rdev +
                    " acl=rw res=success",
                head + "allow" + who + " class=major category=pty maj=88 acl=rw res=success",
                head + "allow" + who + " class=path path=\"/dev/null\" rdev=01:03 acl=rw res=success",
                head + "allow" + who + " class=path path=\"/dev/zero\" rdev=01:05 acl=rw res=success",
            }));
}

TEST_P(GuestCgroupTest, FileSinkCarriesTheSameRecords) {
  char path[] = "/tmp/seclabel-cgroup-audit-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  AuditConfig config;
  config.sink = AuditSink::File;
  config.path = path;
  std::unique_ptr<AuditLog> file = makeAuditLog(config);
  GuestCgroup cgroup = GuestCgroup::create(parent_->location(guest_.uuid), rulesFor({}, {"/dev/null"}),
                                           *file, guest_);
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ::unlink(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["type"], "VIRT_RESOURCE");
  EXPECT_EQ(lines[0]["resrc"], "cgroup");
  EXPECT_EQ(lines[0]["reason"], "deny");
  EXPECT_EQ(lines[0]["class"], "all");
  EXPECT_EQ(lines[0]["cgroup"], cgroup.path());
  EXPECT_EQ(lines[0]["res"], "success");
  EXPECT_EQ(lines[1]["class"], "major");
  EXPECT_EQ(lines[1]["maj"], "88");
  EXPECT_EQ(lines[2]["class"], "path");
  EXPECT_EQ(lines[2]["path"], "/dev/null");
  EXPECT_EQ(lines[2]["rdev"], "01:03");
  EXPECT_EQ(lines[2]["acl"], "rw");
}

TEST_P(GuestCgroupTest, HotplugAllowThenDenyIsOneRecordEach) {
  NEED_LOOP(plugged);
  GuestCgroup cgroup = create(rulesFor({}));
  EXPECT_EQ(runProbe(&cgroup, {"r:" + plugged->path()}),
            std::vector<std::string>{"r:" + plugged->path() + " EPERM"});

  // A later command (attach) opens the cgroup again: v2 finds the map
  // through the attached program.
  GuestCgroup later = GuestCgroup::open(parent_->location(guest_.uuid));
  const size_t before = log_.records.size();
  later.allow(nodeRule(plugged->path(), DeviceAccess::readWrite()), log_, guest_);
  EXPECT_EQ(runProbe(&cgroup, {"rw:" + plugged->path()}),
            std::vector<std::string>{"rw:" + plugged->path() + " ok"});
  later.deny(nodeRule(plugged->path(), DeviceAccess::readWriteMknod()), log_, guest_);
  EXPECT_EQ(runProbe(&cgroup, {"r:" + plugged->path()}),
            std::vector<std::string>{"r:" + plugged->path() + " EPERM"});

  ASSERT_EQ(log_.records.size(), before + 2);
  EXPECT_EQ(log_.records[before].field("reason")->value, "allow");
  EXPECT_EQ(log_.records[before].field("acl")->value, "rw");
  EXPECT_EQ(log_.records[before + 1].field("reason")->value, "deny");
  EXPECT_EQ(log_.records[before + 1].field("acl")->value, "rwm");
  EXPECT_EQ(log_.records[before + 1].field("path")->value, plugged->path());
  EXPECT_EQ(log_.records[before + 1].outcome, AuditOutcome::Success);
}

TEST_P(GuestCgroupTest, DenyingPartOfTheAccessKeepsTheRest) {
  NEED_LOOP(disk);
  GuestCgroup cgroup = create(rulesFor({{disk->path(), DeviceAccess::readWrite()}}));
  cgroup.deny(nodeRule(disk->path(), DeviceAccess::parse("w")), log_, guest_);
  EXPECT_EQ(runProbe(&cgroup, {"r:" + disk->path(), "rw:" + disk->path()}),
            (std::vector<std::string>{"r:" + disk->path() + " ok", "rw:" + disk->path() + " EPERM"}));
}

TEST_P(GuestCgroupTest, RemovalDeletesTheEmptyCgroupAndThenFindsNone) {
  GuestCgroupLocation location = parent_->location(guest_.uuid);
  {
    GuestCgroup cgroup = create(rulesFor({}));
    runProbe(&cgroup, {"r:/dev/null"});  // a process came and went
  }
  ASSERT_TRUE(fs::is_directory(location.path()));
  EXPECT_EQ(removeGuestCgroup(location), CgroupRemoval::Removed);
  EXPECT_FALSE(fs::exists(location.path()));
  EXPECT_EQ(removeGuestCgroup(location), CgroupRemoval::Absent);
  EXPECT_TRUE(fs::is_directory(parent_->path()));  // other guests live there
}

TEST_P(GuestCgroupTest, RemovalWhileAProcessIsInsideNamesItAndKeepsTheCgroup) {
  GuestCgroup cgroup = create(rulesFor({}));
  testing::SleepingChild child(cgroup);
  EXPECT_EQ(cgroup.processes(), std::vector<pid_t>{child.pid()});
  try {
    removeGuestCgroup(cgroup.location());
    ADD_FAILURE() << "removed a cgroup with a process inside";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EBUSY);
    EXPECT_EQ(std::string(e.what()), "cannot remove cgroup " + cgroup.path() + ": processes " +
                                         std::to_string(child.pid()) + " are still in it");
  }
  EXPECT_TRUE(fs::is_directory(cgroup.path()));
  child.release();
  EXPECT_EQ(removeGuestCgroup(cgroup.location()), CgroupRemoval::Removed);
}

TEST_P(GuestCgroupTest, EmptyLeftoverOfACrashIsReplacedWithAFreshAcl) {
  GuestCgroupLocation location = parent_->location(guest_.uuid);
  ASSERT_EQ(::mkdir(parent_->path().c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(location.path().c_str(), 0755), 0);  // allows everything
  GuestCgroup cgroup = create(rulesFor({}, {"/dev/null"}));
  EXPECT_EQ(runProbe(&cgroup, {"r:/dev/zero"}), std::vector<std::string>{"r:/dev/zero EPERM"});
}

TEST_P(GuestCgroupTest, CgroupOfARunningGuestIsAConflictAndLeftAlone) {
  GuestCgroup first = create(rulesFor({}));
  testing::SleepingChild child(first);
  const size_t records = log_.records.size();
  try {
    create(rulesFor({}));
    ADD_FAILURE() << "a second create succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::NoIdentity);
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  EXPECT_EQ(log_.records.size(), records);  // nothing attempted, nothing audited
  EXPECT_EQ(first.processes(), std::vector<pid_t>{child.pid()});
}

TEST_P(GuestCgroupTest, HostileUuidNeverReachesAPath) {
  const std::vector<std::string> hostile = {"../../etc", "../" + parent_->name() + "-x", "a/b",
                                            "..", ".", guest_.uuid + "/../x"};
  for (const std::string& uuid : hostile) {
    EXPECT_THROW(GuestCgroup::create(GuestCgroupLocation::at(controller_, parent_->name(), uuid),
                                     rulesFor({}), log_, guest_),
                 Error)
        << uuid;
  }
  EXPECT_FALSE(fs::exists(parent_->path()));  // not even the parent was made
  EXPECT_TRUE(log_.records.empty());
}

TEST_P(GuestCgroupTest, GuestNameIsOnlyInTheAuditRecordNeverInThePath) {
  guest_.name = "../../evil/name";
  GuestCgroup cgroup = create(rulesFor({}));
  EXPECT_EQ(cgroup.path(), controller_.mountPoint + "/" + parent_->name() + "/" + guest_.uuid);
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(parent_->path()))
    if (entry.is_directory()) entries.push_back(entry.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{guest_.uuid});
  EXPECT_EQ(log_.records[0].field("vm")->value, "../../evil/name");
}

TEST_P(GuestCgroupTest, SymlinkInPlaceOfTheParentIsRefused) {
  // Symlinks cannot be made in cgroupfs; a mount point that is one can.
  char dir[] = "/tmp/seclabel-cg-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string link = std::string(dir) + "/mount";
  ASSERT_EQ(::symlink(controller_.mountPoint.c_str(), link.c_str()), 0);
  DeviceController viaLink{controller_.version, link};
  EXPECT_THROW(GuestCgroup::create(GuestCgroupLocation::at(viaLink, parent_->name(), guest_.uuid),
                                   rulesFor({}), log_, guest_),
               Error);
  EXPECT_FALSE(fs::exists(parent_->path()));
  ::unlink(link.c_str());
  ::rmdir(dir);
}

TEST_P(GuestCgroupTest, MountThatIsNotACgroupFileSystemIsRefused) {
  DeviceController wrong{controller_.version, "/tmp"};
  try {
    GuestCgroup::create(GuestCgroupLocation::at(wrong, parent_->name(), guest_.uuid), rulesFor({}),
                        log_, guest_);
    ADD_FAILURE() << "created a cgroup under /tmp";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/tmp is not a cgroup"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists("/tmp/" + parent_->name()));
}

TEST_P(GuestCgroupTest, OpenOfAGuestWithoutACgroupIsAnErrorNamingIt) {
  try {
    GuestCgroup::open(parent_->location(guest_.uuid));
    ADD_FAILURE() << "opened a cgroup that does not exist";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_EQ(std::string(e.what()), "no cgroup " + parent_->location(guest_.uuid).path());
  }
}

INSTANTIATE_TEST_SUITE_P(BothKinds, GuestCgroupTest,
                         ::testing::Values(CgroupVersion::V1, CgroupVersion::V2), versionName);

// --- failures: audited as failed, and nothing left behind ---

TEST(GuestCgroupV1Failure, AllowTheParentForbidsIsAuditedFailedAndUndone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto controller = detectDeviceController(CgroupVersion::V1);
  if (!controller) GTEST_SKIP() << "no cgroup v1 devices hierarchy";
  testing::TestParent parent(*controller);
  // The parent allows /dev/null alone; a child cannot be given more.
  ASSERT_EQ(::mkdir(parent.path().c_str(), 0755), 0);
  std::ofstream(parent.path() + "/devices.deny") << "a";
  std::ofstream(parent.path() + "/devices.allow") << "c 1:3 rw";
  RecordingLog log;
  AuditGuest guest{"kvm", "web1", testing::freshUuid()};
  GuestCgroupLocation location = parent.location(guest.uuid);
  std::vector<DeviceRule> rules = {nodeRule("/dev/null", DeviceAccess::readWrite()),
                                   nodeRule("/dev/zero", DeviceAccess::readWrite()),
                                   nodeRule("/dev/full", DeviceAccess::readWrite())};
  try {
    GuestCgroup::create(location, rules, log, guest);
    ADD_FAILURE() << "the kernel accepted more than the parent allows";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EPERM);
    EXPECT_EQ(std::string(e.what()), "cannot write 'c 1:5 rw' to " + location.path() +
                                         "/devices.allow: Operation not permitted");
  }
  // deny all, /dev/null allowed, /dev/zero failed; /dev/full never tried.
  ASSERT_EQ(log.records.size(), 3u);
  EXPECT_EQ(log.records[1].field("path")->value, "/dev/null");
  EXPECT_EQ(log.records[1].outcome, AuditOutcome::Success);
  EXPECT_EQ(log.records[2].field("path")->value, "/dev/zero");
  EXPECT_EQ(log.records[2].outcome, AuditOutcome::Failure);
  EXPECT_FALSE(fs::exists(location.path()));
}

// Attaches a device program without BPF_F_ALLOW_MULTI to `cgroupFd`: the
// kernel then lets no cgroup below attach one of its own.
int attachExclusiveAllowAllProgram(int cgroupFd) {
  const bpf_insn program[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int fd = bpf::loadDeviceProgram("test_allow_all", program, 2);
  if (fd < 0) return -1;
  bpf_attr attr{};
  attr.target_fd = uint32_t(cgroupFd);
  attr.attach_bpf_fd = uint32_t(fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  int rc = int(::syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr));
  ::close(fd);
  return rc;
}

TEST(GuestCgroupV2Failure, DenyAllThatCannotAttachIsAuditedFailedAndUndone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto controller = detectDeviceController(CgroupVersion::V2);
  if (!controller) GTEST_SKIP() << "no cgroup2 mount with BPF device programs";
  testing::TestParent parent(*controller);
  ASSERT_EQ(::mkdir(parent.path().c_str(), 0755), 0);
  {
    int fd = ::open(parent.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(attachExclusiveAllowAllProgram(fd), 0) << std::strerror(errno);
    ::close(fd);
  }
  RecordingLog log;
  AuditGuest guest{"kvm", "web1", testing::freshUuid()};
  GuestCgroupLocation location = parent.location(guest.uuid);
  try {
    GuestCgroup::create(location, {nodeRule("/dev/null", DeviceAccess::readWrite())}, log, guest);
    ADD_FAILURE() << "attached below an exclusive program";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EPERM);
    EXPECT_EQ(std::string(e.what()), "cannot attach the device BPF program to cgroup " +
                                         location.path() + ": Operation not permitted");
  }
  ASSERT_EQ(log.records.size(), 1u);  // the deny-all, failed; no allow tried
  EXPECT_EQ(log.records[0].field("class")->value, "all");
  EXPECT_EQ(log.records[0].outcome, AuditOutcome::Failure);
  EXPECT_FALSE(fs::exists(location.path()));
}

TEST(GuestCgroupAudit, RequiredAuditThatFailsUndoesTheCgroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto controller = detectDeviceController(CgroupVersion::V1);
  if (!controller) controller = detectDeviceController(CgroupVersion::V2);
  if (!controller) GTEST_SKIP() << "no cgroup device controller";
  testing::TestParent parent(*controller);
  // A required file sink that cannot be opened: the first record throws.
  AuditConfig config;
  config.sink = AuditSink::File;
  config.path = "/nonexistent-dir/audit.jsonl";
  config.required = true;
  std::unique_ptr<AuditLog> log = makeAuditLog(config);
  AuditGuest guest{"kvm", "web1", testing::freshUuid()};
  GuestCgroupLocation location = parent.location(guest.uuid);
  EXPECT_THROW(GuestCgroup::create(location, {}, *log, guest), Error);
  EXPECT_FALSE(fs::exists(location.path()));
}

}  // namespace
}  // namespace seclabel
