// A restore finds the file it labeled wherever it went (its file handle),
// never restores an impostor at its old path, and a restore that could not
// put a file back keeps everything -- original remembered, identities held,
// the guest listed as failed -- exits 1, and is finished by a later restore
// or recover.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

class RestoreByHandle : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }

  FileState untouched() const {
    return {original.uid, original.gid, original.mode, original.selinux};
  }
  FileState labeledFor(Harness& harness) {
    GuestLabels labels = labelsOf(harness.liveDomain("g1"));
    return {labels.uid, labels.gid, original.mode, labels.imageContext};
  }

  Scratch scratch;
  const Original original;
};

TEST_F(RestoreByHandle, AFileRenamedInItsDirectoryIsRestored) {
  std::string disk = scratch.makeFile("images/disk.img", original);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  std::string renamed = scratch.path("images/renamed.img");
  ASSERT_EQ(::rename(disk.c_str(), renamed.c_str()), 0);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(renamed), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(RestoreByHandle, AFileMovedToAnotherDirectoryOfItsFileSystemIsRestored) {
  std::string disk = scratch.makeFile("images/disk.img", original);
  std::filesystem::create_directories(scratch.path("elsewhere/deeper"));
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  std::string moved = scratch.path("elsewhere/deeper/disk.img");
  ASSERT_EQ(::rename(disk.c_str(), moved.c_str()), 0);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(moved), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(RestoreByHandle, AFileWhoseDirectoryWasRenamedIsRestored) {
  std::string disk = scratch.makeFile("images/disk.img", original);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  ASSERT_EQ(::rename(scratch.path("images").c_str(), scratch.path("old-images").c_str()), 0);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(scratch.path("old-images/disk.img")), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(RestoreByHandle, AnImpostorAtThePathIsNotRestoredAndTheOriginalIs) {
  std::string disk = scratch.makeFile("images/disk.img", original);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  FileState labeled = labeledFor(harness);
  std::string moved = scratch.path("images/moved.img");
  ASSERT_EQ(::rename(disk.c_str(), moved.c_str()), 0);
  // Someone puts another file, owned by the guest's uid, where it was.
  Original impostorLook{labeled.uid, labeled.gid, 0644, std::nullopt};
  std::string impostor = scratch.makeFile("images/disk.img", impostorLook);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(moved), untouched());
  EXPECT_EQ(fileState(impostor), (FileState{labeled.uid, labeled.gid, 0644, std::nullopt}));
}

TEST_F(RestoreByHandle, AnImpostorReusingTheInodeOfADeletedFileIsNotRestored) {
  std::string disk = scratch.makeFile("images/disk.img", original);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  FileState labeled = labeledFor(harness);
  struct stat old;
  ASSERT_EQ(::stat(disk.c_str(), &old), 0);
  ASSERT_EQ(::unlink(disk.c_str()), 0);
  // File systems reuse a freed inode number soon: try for the same one.
  Original impostorLook{labeled.uid, labeled.gid, 0644, std::nullopt};
  std::string impostor;
  for (int i = 0; i < 200 && impostor.empty(); ++i) {
    std::string candidate = scratch.makeFile("images/new" + std::to_string(i), impostorLook);
    struct stat now;
    ASSERT_EQ(::stat(candidate.c_str(), &now), 0);
    if (now.st_ino == old.st_ino) impostor = candidate;
  }
  if (impostor.empty()) {
    impostor = scratch.makeFile("images/disk.img", impostorLook);
  } else {
    ASSERT_EQ(::rename(impostor.c_str(), disk.c_str()), 0);
    impostor = disk;
  }
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(impostor), (FileState{labeled.uid, labeled.gid, 0644, std::nullopt}))
      << "the impostor was restored";
  EXPECT_THAT(harness.warnings, ::testing::Contains(HasSubstr("no longer exists")));
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

// An image on its own file system (tmpfs), reached through a read-only
// bind mount of it.
class ReadOnlyRemount : public RestoreByHandle {
 protected:
  void SetUp() override {
    RestoreByHandle::SetUp();
    if (IsSkipped()) return;
    std::string why;
    fs = scratch.mountFilesystem("tmpfs", "fs", &why);
    if (fs.empty()) GTEST_SKIP() << why;
    std::filesystem::create_directories(scratch.path("view"));
    view = scratch.path("view");
    ASSERT_EQ(::mount(fs.c_str(), view.c_str(), nullptr, MS_BIND, nullptr), 0);
    scratch.noteMount(view);
    disk = scratch.makeFile("view/disk.img", original);
  }
  void remountReadOnly(const std::string& where, unsigned long extra) {
    ASSERT_EQ(::mount(nullptr, where.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | extra, nullptr), 0)
        << std::strerror(errno);
  }
  std::string fs, view, disk;
};

TEST_F(ReadOnlyRemount, ABindRemountedReadOnlyIsRestoredThroughAWritableMountOfTheSameFileSystem) {
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  remountReadOnly(view, MS_BIND);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(fs + "/disk.img"), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(ReadOnlyRemount, AFileSystemRemountedReadOnlyKeepsEverythingAndALaterRestoreFinishes) {
  Harness harness(scratch);
  std::string other = scratch.makeFile("other.img", original);
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}, {other, "vdb"}}));
  FileState labeled = labeledFor(harness);
  auto identities = harness.store->identitiesOf(record.uuid);
  ASSERT_FALSE(identities.empty());
  remountReadOnly(fs, 0);  // the file system itself: every mount of it

  try {
    harness.manager->restore("g1");
    FAIL() << "restore reported success";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Failed);
    EXPECT_THAT(e.what(), HasSubstr("Read-only file system"));
    EXPECT_THAT(e.what(), HasSubstr("g1 is not restored"));
  }
  EXPECT_EQ(fileState(disk), labeled);
  EXPECT_EQ(fileState(other), untouched()) << "what could be restored was";
  auto guest = harness.store->findGuest(record.uuid);
  ASSERT_TRUE(guest.has_value()) << "the guest stays listed";
  EXPECT_EQ(guest->state, GuestState::Failed);
  EXPECT_EQ(harness.store->identitiesOf(record.uuid), identities);
  auto held = harness.store->resourcesOf(record.uuid);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].original.path, disk);
  EXPECT_EQ(held[0].original.uid, original.uid);

  // A recover meanwhile does not pretend either, nor does a second restore;
  // and the retries do not pile up.
  auto report = harness.manager->recover();
  EXPECT_THAT(report, ::testing::Contains(HasSubstr("g1 is not restored")));
  ASSERT_TRUE(harness.store->findGuest(record.uuid).has_value());
  EXPECT_THROW(harness.manager->restore("g1"), Error);
  EXPECT_EQ(harness.store->pendingIntentsOf(record.uuid).size(), 1u);

  ASSERT_EQ(::mount(nullptr, fs.c_str(), nullptr, MS_REMOUNT, nullptr), 0);
  report = harness.manager->recover();
  EXPECT_THAT(report, ::testing::Contains(HasSubstr("finished the interrupted restore of guest g1")));
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, record.uuid));
}

TEST_F(RestoreByHandle, AnImmutableFileMakesTheRestoreFailAndKeepTheGuest) {
  std::string disk = scratch.makeFile("disk.img", original);
  Harness harness(scratch);
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  ASSERT_EQ(runCommand({"/usr/bin/chattr", "+i", disk}).exitCode, 0);
  Error error = [&] {
    try {
      harness.manager->restore("g1");
    } catch (const Error& e) {
      return e;
    }
    return Error(ExitCode::Ok, "");
  }();
  ASSERT_EQ(runCommand({"/usr/bin/chattr", "-i", disk}).exitCode, 0);
  EXPECT_EQ(error.code(), ExitCode::Failed) << error.what();
  EXPECT_EQ(error.errnum(), EPERM);
  EXPECT_EQ(harness.store->findGuest(record.uuid)->state, GuestState::Failed);
  EXPECT_FALSE(harness.store->identitiesOf(record.uuid).empty());
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, record.uuid));
}

TEST_F(RestoreByHandle, TheCommandExitsOneListsTheGuestAsFailedAndALaterRestoreFinishes) {
  std::string config = scratch.path("seclabel.toml");
  writeTextFile(config, configToml());
  std::string disk = scratch.makeFile("disk.img", original);
  std::string xml = scratch.path("g1.xml");
  writeTextFile(xml, domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  ASSERT_EQ(runSeclabel(config, scratch.stateDir(), {"prepare", xml}).exitCode, 0);
  FileState labeled = fileState(disk);
  ASSERT_EQ(runCommand({"/usr/bin/chattr", "+i", disk}).exitCode, 0);
  CommandResult failed = runSeclabel(config, scratch.stateDir(), {"restore", "g1"});
  CommandResult listed = runSeclabel(config, scratch.stateDir(), {"list"});
  CommandResult started = runSeclabel(config, scratch.stateDir(), {"exec", xml, "--", "/bin/true"});
  ASSERT_EQ(runCommand({"/usr/bin/chattr", "-i", disk}).exitCode, 0);
  EXPECT_EQ(started.exitCode, 3) << "a guest not restored is not started again: " << started.err;
  EXPECT_THAT(started.err, HasSubstr("not fully restored"));
  EXPECT_EQ(failed.exitCode, 1) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("seclabel: guest g1 is not restored: "));
  EXPECT_THAT(failed.err, HasSubstr(disk));
  EXPECT_EQ(fileState(disk), labeled);
  EXPECT_THAT(listed.out, HasSubstr("failed"));
  CommandResult finished = runSeclabel(config, scratch.stateDir(), {"restore", "g1"});
  EXPECT_EQ(finished.exitCode, 0) << finished.err;
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_EQ(runSeclabel(config, scratch.stateDir(), {"list", "--json"}).out, "[]\n");
}

}  // namespace
}  // namespace seclabel::testing
