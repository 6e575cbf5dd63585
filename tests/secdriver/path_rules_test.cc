// Nothing but the file the domain names is ever changed: hard links of a
// root-only file under every role, symlinks a user plants (in a sticky
// world-writable directory, in their own directory, as a parent), "..",
// loops, and kernel-interface file systems. Each attack leaves the target
// as it was and the store holding nothing for the guest.
//
// None of this relies on fs.protected_symlinks: the walk applies its rule
// itself (the test host runs with the sysctl at 0).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "secdriver/guest_path.h"
#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kUser = 61400;  // a local user (no account needed)
constexpr uid_t kOtherUser = 61401;

std::string protectedSymlinks() {
  std::ifstream in("/proc/sys/fs/protected_symlinks");
  std::string value;
  in >> value;
  return value;
}

class PathRules : public ::testing::Test {
 protected:
  void SetUp() override {
    SECLABEL_REQUIRE_ROOT();
    // Reported, not required: the rules hold either way, and with 0 this
    // run shows that they do not come from the sysctl.
    RecordProperty("fs.protected_symlinks", protectedSymlinks());
    secret = scratch.makeFile("root-only/shadow", secretLook);
    ::chmod(scratch.path("root-only").c_str(), 0700);
  }

  // A sticky world-writable directory owned by root, like /tmp.
  std::string stickyDir(const std::string& name) {
    std::string dir = scratch.path(name);
    std::filesystem::create_directories(dir);
    EXPECT_EQ(::chmod(dir.c_str(), 01777), 0);
    return dir;
  }
  // A directory owned by `uid`, mode 0755.
  std::string userDir(const std::string& name, uid_t uid) {
    std::string dir = scratch.path(name);
    std::filesystem::create_directories(dir);
    EXPECT_EQ(::chown(dir.c_str(), uid, uid), 0);
    return dir;
  }
  // A symlink at `link` to `target`, owned by `uid` (as if `uid` made it).
  static void plantSymlink(const std::string& target, const std::string& link, uid_t uid) {
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link;
    ASSERT_EQ(::lchown(link.c_str(), uid, uid), 0) << link;
  }

  FileState secretUntouched() const {
    return {secretLook.uid, secretLook.gid, secretLook.mode, secretLook.selinux};
  }

  // Prepares a domain with `disk` as a private disk and expects a refusal
  // that names `named`, leaves the secret alone and stores nothing.
  Error refusedAsDisk(const std::string& named, Config config = testConfig()) {
    Harness harness(scratch, std::move(config));
    Error error = harness.prepareFailure(domainXml("g1", uuidFor(1), {{named, "vda"}}));
    EXPECT_THAT(error.what(), HasSubstr(named));
    EXPECT_EQ(fileState(secret), secretUntouched());
    EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
    return error;
  }

  Scratch scratch;
  const Original original;
  const Original secretLook{0, 0, 0600, std::string("system_u:object_r:shadow_t:s0")};
  std::string secret;
};

// ---- hard links, whatever the role ---------------------------------------------------

struct LinkedRole {
  const char* name;
  // The domain that names `link` in this role.
  std::string (*domain)(const std::string& link, const std::string& filler);
};

std::string asSerialLog(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels, {},
                   "    <serial type='file'><source path='" + link + "'/></serial>\n");
}
std::string asConsole(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels, {},
                   "    <console type='file'><source path='" + link + "'/></console>\n");
}
std::string asKernel(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels,
                   "    <kernel>" + link + "</kernel>\n");
}
std::string asInitrd(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels,
                   "    <initrd>" + link + "</initrd>\n");
}
std::string asReadOnlyDisk(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {{.path = link, .target = "vda", .readonly = true}});
}
std::string asShareableDisk(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {{.path = link, .target = "vda", .shareable = true}});
}
std::string asPrivateDisk(const std::string& link, const std::string&) {
  return domainXml("g1", uuidFor(1), {{link, "vda"}});
}
std::string asBackingLayer(const std::string& link, const std::string& filler) {
  return domainXml("g1", uuidFor(1), {{.path = filler, .target = "vda", .backingChain = {link}}});
}

class HardLinkedResource : public PathRules,
                           public ::testing::WithParamInterface<LinkedRole> {};

TEST_P(HardLinkedResource, IsRefusedAndTheFileItLinksToIsUntouched) {
  std::string link = scratch.path("images/linked");
  std::filesystem::create_directories(scratch.path("images"));
  ASSERT_EQ(::link(secret.c_str(), link.c_str()), 0);
  std::string filler = scratch.makeFile("images/top.img", original);
  Harness harness(scratch);
  Error error = harness.prepareFailure(GetParam().domain(link, filler));
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("2 hard links"));
  EXPECT_THAT(error.what(), HasSubstr(link));
  EXPECT_EQ(fileState(secret), secretUntouched());
  EXPECT_EQ(fileState(filler), (FileState{original.uid, original.gid, original.mode,
                                          original.selinux}));
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

INSTANTIATE_TEST_SUITE_P(
    EveryRole, HardLinkedResource,
    ::testing::Values(LinkedRole{"SerialLog", asSerialLog}, LinkedRole{"Console", asConsole},
                      LinkedRole{"Kernel", asKernel}, LinkedRole{"Initrd", asInitrd},
                      LinkedRole{"ReadOnlyDisk", asReadOnlyDisk},
                      LinkedRole{"ShareableDisk", asShareableDisk},
                      LinkedRole{"PrivateDisk", asPrivateDisk},
                      LinkedRole{"BackingLayer", asBackingLayer}),
    [](const ::testing::TestParamInfo<LinkedRole>& info) { return std::string(info.param.name); });

TEST_F(PathRules, AHardLinkedImageIsRefusedWithFdpassAlwaysToo) {
  std::string link = scratch.path("linked.img");
  ASSERT_EQ(::link(secret.c_str(), link.c_str()), 0);
  Error error = refusedAsDisk(link, testConfig({"selinux", "dac"}, "always"));
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
}

// ---- symlinks ------------------------------------------------------------------------

TEST_F(PathRules, ASymlinkAnotherUserPlantedInAStickyWorldWritableDirectoryIsNotFollowed) {
  std::string ww = stickyDir("ww");
  plantSymlink(secret, ww + "/serial.log", kUser);
  Harness harness(scratch);
  Error error = harness.prepareFailure(asSerialLog(ww + "/serial.log", ""));
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied) << error.what();
  EXPECT_EQ(error.errnum(), EACCES);
  EXPECT_THAT(error.what(), HasSubstr("sticky world-writable"));
  EXPECT_EQ(fileState(secret), secretUntouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(PathRules, ASymlinkedParentDirectoryPlantedInAStickyDirectoryIsNotFollowed) {
  std::string ww = stickyDir("ww");
  plantSymlink(scratch.path("root-only"), ww + "/vm", kUser);
  refusedAsDisk(ww + "/vm/shadow");
}

TEST_F(PathRules, ASymlinkInAUsersOwnDirectoryToAFileTheyDoNotOwnIsNotFollowed) {
  // The kernel's rule would follow it (the directory is not sticky): the
  // owner of any directory on the path can plant a link.
  std::string home = userDir("home", kUser);
  plantSymlink(secret, home + "/disk.img", kUser);
  Error error = refusedAsDisk(home + "/disk.img");
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  EXPECT_THAT(error.what(), HasSubstr("owned by uid 61400"));
}

TEST_F(PathRules, ASymlinkedParentInAUsersOwnDirectoryLeadingToRootsDirectoryIsNotFollowed) {
  std::string home = userDir("home", kUser);
  plantSymlink(scratch.path("root-only"), home + "/vm", kUser);
  refusedAsDisk(home + "/vm/shadow");
}

TEST_F(PathRules, ASymlinkByTheOwnerOfAStickyDirectoryToTheirOwnFileIsFollowed) {
  // What the kernel allows, and the target is the link owner's own file.
  std::string shared = scratch.path("shared");
  std::filesystem::create_directories(shared);
  ASSERT_EQ(::chown(shared.c_str(), kUser, kUser), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  Original theirs = original;
  theirs.uid = kUser;
  theirs.gid = kUser;
  std::string image = scratch.makeFile("shared/real.img", theirs);
  plantSymlink(image, shared + "/disk.img", kUser);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{shared + "/disk.img", "vda"}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(image).uid, labels.uid);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(image), (FileState{kUser, kUser, theirs.mode, theirs.selinux}));
}

TEST_F(PathRules, ASymlinkOfAnotherUserEvenToTheirOwnFileInAStickyDirectoryIsNotFollowed) {
  std::string ww = stickyDir("ww");
  Original theirs = original;
  theirs.uid = kOtherUser;
  theirs.gid = kOtherUser;
  std::string image = scratch.makeFile("ww/real.img", theirs);
  plantSymlink(image, ww + "/disk.img", kOtherUser);
  Harness harness(scratch);
  Error error = harness.prepareFailure(domainXml("g1", uuidFor(1), {{ww + "/disk.img", "vda"}}));
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  EXPECT_EQ(fileState(image), (FileState{kOtherUser, kOtherUser, theirs.mode, theirs.selinux}));
}

TEST_F(PathRules, ARootOwnedSymlinkHardLinkedIntoAUsersDirectoryIsNotFollowed) {
  // With fs.protected_hardlinks=0 any user can give root's own symlink a
  // second name in their directory: it is still root's link, leading
  // wherever root pointed it.
  std::filesystem::create_directories(scratch.path("root-links"));
  std::string rootLink = scratch.path("root-links/to-shadow");
  ASSERT_EQ(::symlink(secret.c_str(), rootLink.c_str()), 0);
  std::string home = userDir("home", kUser);
  ASSERT_EQ(::linkat(AT_FDCWD, rootLink.c_str(), AT_FDCWD, (home + "/disk.img").c_str(), 0), 0);
  Error error = refusedAsDisk(home + "/disk.img");
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  EXPECT_THAT(error.what(), HasSubstr("symbolic link with 2 hard links"));
}

TEST_F(PathRules, ASymlinkOnAUsersFuseMountClaimingToBeRootsIsNotFollowed) {
  // Any user may mount FUSE; their daemon answers "uid 0" for the link.
  if (::access("/usr/bin/bindfs", X_OK) != 0) GTEST_SKIP() << "no bindfs";
  std::string source = userDir("fuse-source", 65534);
  std::string mountPoint = userDir("fuse", 65534);
  plantSymlink(secret, source + "/disk.img", 65534);
  CommandResult mounted = runCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", "/usr/bin/bindfs", "-u", "0", "-g", "0",
                                      "-o", "allow_other", source, mountPoint});
  if (mounted.exitCode != 0) GTEST_SKIP() << "bindfs as nobody: " << mounted.err;
  scratch.noteMount(mountPoint);
  struct stat link;
  ASSERT_EQ(::lstat((mountPoint + "/disk.img").c_str(), &link), 0);
  ASSERT_EQ(link.st_uid, 0u) << "the daemon claims root";
  Error error = refusedAsDisk(mountPoint + "/disk.img");
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  EXPECT_THAT(error.what(), HasSubstr("FUSE"));
}

TEST_F(PathRules, ARootOwnedRelativeSymlinkWithDotDotIsFollowedAlongTheWalk) {
  std::string image = scratch.makeFile("images/real.img", original);
  std::filesystem::create_directories(scratch.path("links"));
  ASSERT_EQ(::symlink("../images/real.img", scratch.path("links/disk.img").c_str()), 0);
  Harness harness(scratch);
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{scratch.path("links/disk.img"), "vda"}}));
  auto held = harness.store->resourcesOf(record.uuid);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].original.path, image);
  EXPECT_EQ(fileState(image).uid, labelsOf(harness.liveDomain("g1")).uid);
}

TEST_F(PathRules, DotDotInTheDomainsPathIsRefusedBeforeAnythingIsOpened) {
  // img/../decoy: with img a symlink, the kernel's ".." leaves from the
  // link's target, not from where a reader of the XML thinks.
  std::filesystem::create_directories(scratch.path("vm"));
  std::string decoy = scratch.makeFile("vm/decoy", original);
  plantSymlink(scratch.path("root-only"), scratch.path("vm/img"), 0);
  Error error = refusedAsDisk(scratch.path("vm/img/../decoy"));
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr("\"..\""));
  EXPECT_EQ(fileState(decoy), (FileState{original.uid, original.gid, original.mode,
                                         original.selinux}));
}

TEST_F(PathRules, ASymlinkLoopFailsWithEloopAndChangesNothing) {
  std::string ww = stickyDir("loop");
  ASSERT_EQ(::symlink(scratch.path("loop/b").c_str(), scratch.path("loop/a").c_str()), 0);
  ASSERT_EQ(::symlink(scratch.path("loop/a").c_str(), scratch.path("loop/b").c_str()), 0);
  Error error = refusedAsDisk(scratch.path("loop/a"));
  EXPECT_EQ(error.errnum(), ELOOP);
}

// ---- kernel-interface file systems --------------------------------------------------

struct FileOwner {
  uid_t uid;
  gid_t gid;
};
FileOwner ownerOf(const std::string& path) {
  struct stat status;
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return {status.st_uid, status.st_gid};
}

TEST_F(PathRules, SysfsFileIsRefusedAndKeepsItsOwner) {
  const std::string file = "/sys/kernel/uevent_seqnum";
  FileOwner before = ownerOf(file);
  Error error = refusedAsDisk(file);
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr("sysfs"));
  EXPECT_EQ(ownerOf(file).uid, before.uid);
}

TEST_F(PathRules, ProcSysFileIsRefusedEvenWithFdpassAuto) {
  // It used to be refused relabeling, then served by fd passing: the guest
  // got an O_RDWR fd of a kernel knob opened by root.
  const std::string file = "/proc/sys/kernel/hostname";
  Error error = refusedAsDisk(file, testConfig({"selinux", "dac"}, "auto"));
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr("proc"));
}

TEST_F(PathRules, ProcFileIsRefusedWithFdpassAlways) {
  Error error = refusedAsDisk("/proc/sys/kernel/core_pattern",
                              testConfig({"selinux", "dac"}, "always"));
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
}

TEST_F(PathRules, AProcMagicLinkIsRefusedNotFollowed) {
  // /proc/self/root/... names an object through a process, not a path.
  Error error = refusedAsDisk("/proc/self/root" + secret);
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
}

TEST_F(PathRules, ASerialOnAPtySlaveIsRefused) {
  Harness harness(scratch);
  Error error = harness.prepareFailure(asSerialLog("/dev/pts/ptmx", ""));
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr("devpts"));
}

class BoundPseudoFile : public PathRules {
 protected:
  // Bind-mounts the single file `source` onto a new file in the scratch
  // directory, so that no /sys component is on the way and the file's own
  // file system is what decides.
  std::string bindFile(const std::string& source, const std::string& name) {
    std::string target = scratch.path(name);
    writeTextFile(target, "");
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      ADD_FAILURE() << "cannot bind " << source << ": " << std::strerror(errno);
      return {};
    }
    scratch.noteMount(target);
    return target;
  }
};

TEST_F(BoundPseudoFile, ACgroupV1FileIsRefused) {
  std::string file = "/sys/fs/cgroup/devices/devices.list";
  if (::access(file.c_str(), F_OK) != 0) GTEST_SKIP() << "no cgroup v1 devices controller";
  Error error = refusedAsDisk(bindFile(file, "devices.list"));
  EXPECT_THAT(error.what(), HasSubstr("is on cgroup,"));
}

TEST_F(BoundPseudoFile, ACgroupV2FileIsRefused) {
  std::string file = "/sys/fs/cgroup/unified/cgroup.max.depth";
  if (::access(file.c_str(), F_OK) != 0) file = "/sys/fs/cgroup/cgroup.max.depth";
  if (::access(file.c_str(), F_OK) != 0) GTEST_SKIP() << "no cgroup2 hierarchy";
  Error error = refusedAsDisk(bindFile(file, "cgroup.max.depth"));
  EXPECT_THAT(error.what(), HasSubstr("cgroup2"));
}

struct MountedPseudo {
  const char* type;
  const char* file;  // a file that exists at the root of a fresh mount
};

class MountedPseudoFilesystem : public PathRules,
                                public ::testing::WithParamInterface<MountedPseudo> {};

TEST_P(MountedPseudoFilesystem, AFileOnItIsRefusedAsADiskAndAsASerialLog) {
  std::string why;
  std::string mountPoint = scratch.mountFilesystem(GetParam().type, "pseudo", &why);
  if (mountPoint.empty()) GTEST_SKIP() << why;
  std::string file = mountPoint + "/" + GetParam().file;
  ASSERT_EQ(::access(file.c_str(), F_OK), 0) << file;
  FileOwner before = ownerOf(file);
  Error error = refusedAsDisk(file);
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr(std::string("is on ") + GetParam().type));
  Harness harness(scratch);
  Error serial = harness.prepareFailure(asSerialLog(file, ""));
  EXPECT_EQ(serial.code(), ExitCode::InvalidInput);
  EXPECT_EQ(ownerOf(file).uid, before.uid);
}

INSTANTIATE_TEST_SUITE_P(
    KernelInterfaces, MountedPseudoFilesystem,
    ::testing::Values(MountedPseudo{"debugfs", "clear_warn_once"},
                      MountedPseudo{"tracefs", "README"},
                      MountedPseudo{"securityfs", "."},
                      MountedPseudo{"proc", "sys/kernel/hostname"},
                      MountedPseudo{"sysfs", "kernel/uevent_seqnum"}),
    [](const ::testing::TestParamInfo<MountedPseudo>& info) { return std::string(info.param.type); });

// ---- what stays allowed ------------------------------------------------------------

TEST_F(PathRules, ABlockDeviceOnDevtmpfsIsAcceptedAsADisk) {
  const std::string device = "/dev/loop7";
  struct stat status;
  if (::stat(device.c_str(), &status) != 0 || !S_ISBLK(status.st_mode))
    GTEST_SKIP() << "no " << device;
  GuestPath found = openGuestPath(device, GuestObject::Image);
  EXPECT_EQ(found.resolved, device);
  EXPECT_TRUE(S_ISBLK(found.status.st_mode));
}

}  // namespace
}  // namespace seclabel::testing
