// A prepare that fails leaves every file as it was and the store holding
// nothing for the guest; attacks on the path are refused without touching
// the file they aim at; a file system that refuses labels is never "success".
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

class FailureTest : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }
  Scratch scratch;
  const Original original;
  FileState untouched() const { return {original.uid, original.gid, original.mode, original.selinux}; }
};

// ---- rollback -------------------------------------------------------------------

TEST_F(FailureTest, AMissingLastDiskRollsBackEveryEarlierDisk) {
  Harness harness(scratch);
  std::string first = scratch.makeQcow2("first.qcow2", original);
  std::string shared = scratch.makeFile("shared.img", original);
  std::string missing = scratch.path("missing.qcow2");
  Error error = harness.prepareFailure(domainXml(
      "g1", uuidFor(1),
      {{first, "vda"}, {.path = shared, .target = "vdb", .shareable = true}, {missing, "vdc"}}));
  EXPECT_EQ(error.errnum(), ENOENT);
  EXPECT_THAT(error.what(), HasSubstr(missing));
  EXPECT_THAT(error.what(), HasSubstr("vdc"));
  EXPECT_EQ(fileState(first), untouched());
  EXPECT_EQ(fileState(shared), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(FailureTest, ASecondDriverFailingUndoesTheFirstDriversWorkOnEveryFile) {
  std::string first = scratch.makeFile("first.img", original);
  std::string second = scratch.makeFile("second.img", original);
  std::string third = scratch.makeFile("third.img", original);
  auto realHost = makeSystemSelinuxHost();
  FaultySelinuxHost faulty(*realHost, second, EIO);
  // dac first: first.img is chowned and labeled, second.img chowned, then
  // the selinux driver fails on second.img.
  Harness harness(scratch, testConfig({"dac", "selinux"}), &faulty);
  Error error = harness.prepareFailure(
      domainXml("g1", uuidFor(1), {{first, "vda"}, {second, "vdb"}, {third, "vdc"}}));
  EXPECT_EQ(faulty.failures(), 1);
  EXPECT_THAT(error.what(), HasSubstr("selinux driver"));
  EXPECT_THAT(error.what(), HasSubstr(second));
  EXPECT_THAT(error.what(), HasSubstr("Input/output error"));
  EXPECT_EQ(fileState(first), untouched());
  EXPECT_EQ(fileState(second), untouched());
  EXPECT_EQ(fileState(third), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(FailureTest, ASecondDriverFailingToGenerateItsLabelReleasesTheFirstDriversIdentity) {
  Harness harness(scratch);
  std::string holder = scratch.makeFile("holder.img", original);
  std::string disk = scratch.makeFile("disk.img", original);
  harness.prepare(domainXml("holder", uuidFor(1), {{holder, "vda"}},
                            "<seclabel type='dynamic' model='selinux'/>"
                            "<seclabel type='static' model='dac'><label>+1879048300:+1879048300"
                            "</label></seclabel>"));
  Error error = harness.prepareFailure(domainXml(
      "g2", uuidFor(2), {{disk, "vda"}},
      "<seclabel type='dynamic' model='selinux'/>"
      "<seclabel type='static' model='dac'><label>+1879048300:+1879048300</label></seclabel>"));
  EXPECT_EQ(error.code(), ExitCode::NoIdentity);
  EXPECT_THAT(error.what(), HasSubstr("dac driver"));
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_TRUE(harness.store->identitiesOf(uuidFor(2)).empty()) << "selinux pair released";
  EXPECT_FALSE(harness.store->findGuest(uuidFor(2)).has_value());
  EXPECT_EQ(harness.store->listGuests().size(), 1u);
}

// ---- attacks ---------------------------------------------------------------------

TEST_F(FailureTest, APrivateImageThatIsAHardLinkToARootOnlyFileIsRefused) {
  Harness harness(scratch);
  Original secretLook{0, 0, 0600, std::string("system_u:object_r:shadow_t:s0")};
  std::string secret = scratch.makeFile("etc/shadow", secretLook);
  std::string image = scratch.path("images/guest.img");
  std::filesystem::create_directories(scratch.path("images"));
  ASSERT_EQ(::link(secret.c_str(), image.c_str()), 0);
  Error error = harness.prepareFailure(domainXml("g1", uuidFor(1), {{image, "vda"}}));
  EXPECT_THAT(error.what(), HasSubstr("hard links"));
  EXPECT_THAT(error.what(), HasSubstr(image));
  EXPECT_EQ(fileState(secret), (FileState{0, 0, 0600, secretLook.selinux}));
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(FailureTest, APathSwappedForASymlinkAfterOpeningChangesOnlyTheFileThatWasOpened) {
  Harness harness(scratch);
  Original victimLook{0, 0, 0600, std::string("system_u:object_r:shadow_t:s0")};
  std::string victim = scratch.makeFile("etc/shadow", victimLook);
  std::string image = scratch.makeFile("images/guest.img", original);
  std::string movedAway = scratch.path("images/moved.img");
  bool swapped = false;
  harness.manager->setHooks({.afterOpen = [&](const std::string& resolved) {
    if (resolved != image) return;
    // The attacker (owner of the image directory) swaps the checked path.
    ASSERT_EQ(::rename(image.c_str(), movedAway.c_str()), 0);
    ASSERT_EQ(::symlink(victim.c_str(), image.c_str()), 0);
    swapped = true;
  }});
  harness.prepare(domainXml("g1", uuidFor(1), {{image, "vda"}}));
  ASSERT_TRUE(swapped);
  EXPECT_EQ(fileState(victim), (FileState{0, 0, 0600, victimLook.selinux}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(movedAway),
            (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
  // And the restore finds the file it labeled, not what the path names now.
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(victim), (FileState{0, 0, 0600, victimLook.selinux}));
  EXPECT_EQ(fileState(movedAway), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

// ---- sharing ---------------------------------------------------------------------

TEST_F(FailureTest, AShareableImageIsRestoredOnlyWhenTheLastGuestUsingItIsRestored) {
  Harness harness(scratch);
  std::string shared = scratch.makeFile("shared.img", original);
  harness.prepare(domainXml("g1", uuidFor(1), {{.path = shared, .target = "vda", .shareable = true}}));
  FileState labeled = fileState(shared);
  ASSERT_NE(labeled, untouched());
  harness.prepare(domainXml("g2", uuidFor(2), {{.path = shared, .target = "vda", .shareable = true}}));
  ASSERT_EQ(fileState(shared), labeled);

  harness.manager->restore("g1");
  EXPECT_EQ(fileState(shared), labeled) << "g2 still uses it";
  struct stat st;
  ASSERT_EQ(::stat(shared.c_str(), &st), 0);
  auto holders = harness.store->holdersOf(st.st_dev, st.st_ino);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders[0].guestUuid, uuidFor(2));

  harness.manager->restore("g2");
  EXPECT_EQ(fileState(shared), untouched());
  EXPECT_TRUE(harness.store->holdersOf(st.st_dev, st.st_ino).empty());
}

TEST_F(FailureTest, APrivateImageHeldByAnotherGuestIsRefusedNamingBothGuests) {
  Harness harness(scratch);
  std::string disk = scratch.makeFile("disk.img", original);
  std::string other = scratch.makeFile("other.img", original);
  harness.prepare(domainXml("first-guest", uuidFor(1), {{disk, "vda"}}));
  FileState heldByFirst = fileState(disk);
  Error error =
      harness.prepareFailure(domainXml("second-guest", uuidFor(2), {{other, "vda"}, {disk, "vdb"}}));
  EXPECT_EQ(error.code(), ExitCode::NoIdentity);
  EXPECT_THAT(error.what(), HasSubstr("first-guest"));
  EXPECT_THAT(error.what(), HasSubstr("second-guest"));
  EXPECT_EQ(fileState(disk), heldByFirst);
  EXPECT_EQ(fileState(other), untouched());
  EXPECT_FALSE(harness.store->findGuest(uuidFor(2)).has_value());
  EXPECT_TRUE(harness.store->identitiesOf(uuidFor(2)).empty());

  harness.manager->restore("first-guest");
  EXPECT_EQ(fileState(disk), untouched());
}

// ---- file systems that refuse ------------------------------------------------------------

TEST_F(FailureTest, WithFdpassNeverARefusedLabelFailsNamingThePathAndTheReason) {
  std::string disk = scratch.makeFile("nfs.img", original);
  auto realHost = makeSystemSelinuxHost();
  FaultySelinuxHost faulty(*realHost, disk, ENOTSUP);
  Harness harness(scratch, testConfig({"selinux", "dac"}, "never"), &faulty);
  Error error = harness.prepareFailure(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  EXPECT_EQ(error.errnum(), ENOTSUP);
  EXPECT_THAT(error.what(), HasSubstr(disk));
  EXPECT_THAT(error.what(), HasSubstr("Operation not supported"));
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(FailureTest, WithFdpassAutoARefusedLabelServesTheDiskByFdPassingAndLeavesTheFile) {
  std::string refused = scratch.makeFile("nfs.img", original);
  std::string local = scratch.makeFile("local.img", original);
  auto realHost = makeSystemSelinuxHost();
  FaultySelinuxHost faulty(*realHost, refused, ENOTSUP);
  // dac first: the chown already done must be put back too.
  Harness harness(scratch, testConfig({"dac", "selinux"}, "auto"), &faulty);
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{refused, "vda"}, {local, "vdb"}}));
  EXPECT_EQ(harness.store->fdPassedDisksOf(record.uuid),
            (std::vector<FdPassedDisk>{{"vda", refused, DiskAccess::ReadWrite}}));
  EXPECT_EQ(fileState(refused), untouched());
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(local), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));

  harness.manager->restore("g1");
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, record.uuid));
  EXPECT_EQ(fileState(local), untouched());
}

// A real read-only bind mount: the kernel answers EROFS.
class ReadOnlyMountTest : public FailureTest {
 protected:
  void SetUp() override {
    FailureTest::SetUp();
    if (IsSkipped()) return;
    std::filesystem::create_directories(scratch.path("rw"));
    std::filesystem::create_directories(scratch.path("ro"));
    disk = scratch.makeFile("rw/disk.img", original);
    std::string rw = scratch.path("rw"), ro = scratch.path("ro");
    if (::mount(rw.c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) != 0)
      GTEST_SKIP() << "cannot bind-mount: " << std::strerror(errno);
    scratch.noteMount(ro);
    if (::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
      GTEST_SKIP() << "cannot remount read-only: " << std::strerror(errno);
    readOnlyDisk = scratch.path("ro/disk.img");
  }
  std::string disk, readOnlyDisk;
};

TEST_F(ReadOnlyMountTest, WithFdpassNeverEroFsFailsNamingThePathAndTheReason) {
  Harness harness(scratch, testConfig({"selinux", "dac"}, "never"));
  Error error = harness.prepareFailure(domainXml("g1", uuidFor(1), {{readOnlyDisk, "vda"}}));
  EXPECT_EQ(error.errnum(), EROFS);
  EXPECT_THAT(error.what(), HasSubstr(readOnlyDisk));
  EXPECT_THAT(error.what(), HasSubstr("Read-only file system"));
  EXPECT_EQ(fileState(disk), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(ReadOnlyMountTest, WithFdpassAutoEroFsServesTheDiskByFdPassing) {
  Harness harness(scratch, testConfig({"selinux", "dac"}, "auto"));
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{readOnlyDisk, "vda"}}));
  EXPECT_EQ(harness.store->fdPassedDisksOf(record.uuid),
            (std::vector<FdPassedDisk>{{"vda", readOnlyDisk, DiskAccess::ReadWrite}}));
  EXPECT_TRUE(harness.store->resourcesOf(record.uuid).empty());
  EXPECT_EQ(fileState(disk), untouched());
}

}  // namespace
}  // namespace seclabel::testing
