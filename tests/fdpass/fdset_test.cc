// Planning QEMU fd sets for disks: which fds, opened how, and the command
// line that hands them over. The last tests run a real QEMU as an
// unprivileged uid that could not open the image by itself.
#include "fdpass/fdset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/qmp_client.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::QemuProcess;
using testing::TempDir;

int accessModeOf(const UniqueFd& fd) { return ::fcntl(fd.get(), F_GETFL) & O_ACCMODE; }

TEST(FdsetPlan, ReadOnlyDiskGetsOnlyAReadOnlyFd) {
  EXPECT_EQ(fdModesFor(DiskAccess::ReadOnly), std::vector<FdMode>{FdMode::ReadOnly});
}

TEST(FdsetPlan, WritableDiskGetsReadWriteThenReadOnly) {
  EXPECT_EQ(fdModesFor(DiskAccess::ReadWrite),
            (std::vector<FdMode>{FdMode::ReadWrite, FdMode::ReadOnly}));
}

TEST(FdsetPlan, OpaqueIsModeColonPath) {
  EXPECT_EQ(fdsetOpaque(FdMode::ReadOnly, "/img/a.qcow2"), "rdonly:/img/a.qcow2");
  EXPECT_EQ(fdsetOpaque(FdMode::ReadWrite, "/img/a.qcow2"), "rdwr:/img/a.qcow2");
}

TEST(FdsetPlan, AccessWordsAreStrict) {
  EXPECT_EQ(parseDiskAccess("ro"), DiskAccess::ReadOnly);
  EXPECT_EQ(parseDiskAccess("rw"), DiskAccess::ReadWrite);
  EXPECT_THROW(parseDiskAccess("RW"), Error);
  EXPECT_THROW(parseDiskAccess(""), Error);
}

TEST(OpenImage, OpensARegularFileInTheAskedMode) {
  TempDir dir;
  std::string image = testing::makeImage(dir.file("a.raw"), "raw");
  OpenedImage ro = openImage(image, FdMode::ReadOnly);
  OpenedImage rw = openImage(image, FdMode::ReadWrite);
  EXPECT_EQ(accessModeOf(ro.fd), O_RDONLY);
  EXPECT_EQ(accessModeOf(rw.fd), O_RDWR);
  EXPECT_TRUE(::fcntl(ro.fd.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_FALSE(::fcntl(ro.fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(S_ISREG(ro.status.st_mode));
}

TEST(OpenImage, RefusesASymlinkSomeoneElsePlantedToAFileTheyDoNotOwn) {
  if (!testing::runningAsRoot()) GTEST_SKIP() << "needs root: the link belongs to another uid";
  TempDir dir;
  std::string image = testing::makeImage(dir.file("a.raw"), "raw");
  ASSERT_EQ(::symlink(image.c_str(), dir.file("link").c_str()), 0);
  ASSERT_EQ(::lchown(dir.file("link").c_str(), testing::kStrangerUid, testing::kStrangerUid), 0);
  try {
    openImage(dir.file("link"), FdMode::ReadOnly);
    FAIL() << "followed a symlink";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::PermissionDenied);
    EXPECT_EQ(e.errnum(), EACCES);
    EXPECT_NE(std::string(e.what()).find(dir.file("link")), std::string::npos);
  }
}

TEST(OpenImage, FollowsASymlinkRootMadeAsThePrepareDoes) {
  if (!testing::runningAsRoot()) GTEST_SKIP() << "needs root: root's own link";
  TempDir dir;
  std::string image = testing::makeImage(dir.file("a.raw"), "raw");
  ASSERT_EQ(::symlink(image.c_str(), dir.file("link").c_str()), 0);
  OpenedImage opened = openImage(dir.file("link"), FdMode::ReadOnly);
  struct stat status;
  ASSERT_EQ(::stat(image.c_str(), &status), 0);
  EXPECT_EQ(opened.status.st_ino, status.st_ino);
}

TEST(OpenImage, RefusesKernelInterfaceFiles) {
  for (const char* path : {"/proc/sys/kernel/hostname", "/sys/kernel/uevent_seqnum"}) {
    try {
      openImage(path, FdMode::ReadOnly);
      FAIL() << "opened " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << path;
    }
  }
}

TEST(OpenImage, RefusesAFifoWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  EXPECT_THROW(openImage(dir.file("fifo"), FdMode::ReadOnly), Error);
}

TEST(OpenImage, RefusesADirectoryAndACharacterDevice) {
  TempDir dir;
  EXPECT_THROW(openImage(dir.path(), FdMode::ReadOnly), Error);
  EXPECT_THROW(openImage("/dev/null", FdMode::ReadOnly), Error);
}

TEST(OpenImage, AcceptsABlockDevice) {
  if (::access("/dev/loop7", F_OK) != 0 || !testing::runningAsRoot()) {
    GTEST_SKIP() << "needs root and /dev/loop7";
  }
  OpenedImage device = openImage("/dev/loop7", FdMode::ReadOnly);
  EXPECT_TRUE(device.isBlockDevice());
  EXPECT_NE(device.status.st_rdev, 0u);
}

TEST(OpenImage, MissingFileNamesThePath) {
  try {
    openImage("/nonexistent/disk.qcow2", FdMode::ReadOnly);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/disk.qcow2"), std::string::npos);
  }
}

TEST(OpenDiskImages, WritableDiskGetsTwoFdsOfTheSameFile) {
  TempDir dir;
  std::string image = testing::makeImage(dir.file("a.qcow2"));
  std::vector<OpenedImage> images = openDiskImages(image, DiskAccess::ReadWrite);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(accessModeOf(images[0].fd), O_RDWR);
  EXPECT_EQ(accessModeOf(images[1].fd), O_RDONLY);
  EXPECT_EQ(images[0].status.st_ino, images[1].status.st_ino);
}

TEST(OpenDiskImages, ReadOnlyDiskNeverGetsAWritableFd) {
  TempDir dir;
  std::string image = testing::makeImage(dir.file("a.qcow2"));
  std::vector<OpenedImage> images = openDiskImages(image, DiskAccess::ReadOnly);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(accessModeOf(images[0].fd), O_RDONLY);
}

TEST(InheritableCopy, IsAtLeastThreeAndSurvivesExec) {
  UniqueFd original(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd copy = inheritableCopy(original.get());
  EXPECT_GE(copy.get(), 3);
  EXPECT_FALSE(::fcntl(copy.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(AddFdArguments, OneOptionPerFdWithCommasDoubled) {
  CommandLineFdset set{5, {{7, "rdwr:/a,b.img"}, {8, "rdonly:/a,b.img"}}};
  EXPECT_EQ(addFdArguments(set),
            (std::vector<std::string>{"-add-fd", "fd=7,set=5,opaque=rdwr:/a,,b.img",
                                      "-add-fd", "fd=8,set=5,opaque=rdonly:/a,,b.img"}));
}

TEST(ExpandDiskPlaceholders, PathDiskBecomesItsPath) {
  std::map<std::string, DiskArgument> disks{{"vda", std::string("/img/a.qcow2")}};
  EXPECT_EQ(expandDiskPlaceholders({"qemu", "-drive", "file={disk:vda},if=virtio"}, disks),
            (std::vector<std::string>{"qemu", "-drive", "file=/img/a.qcow2,if=virtio"}));
}

TEST(ExpandDiskPlaceholders, CommaInAPathIsDoubledInOptionSyntax) {
  std::map<std::string, DiskArgument> disks{{"vda", std::string("/img/a,b")}};
  EXPECT_EQ(expandDiskPlaceholders({"qemu", "-drive", "file={disk:vda}"}, disks)[2],
            "file=/img/a,,b");
}

TEST(ExpandDiskPlaceholders, JsonArgumentGetsAJsonEscapedPath) {
  std::map<std::string, DiskArgument> disks{{"vda", std::string("/img/a\"b,c")}};
  EXPECT_EQ(expandDiskPlaceholders({"qemu", "-blockdev", R"({"filename":"{disk:vda}"})"},
                                   disks)[2],
            R"({"filename":"/img/a\"b,c"})");
}

// Where the placeholder sits decides the escaping, as QEMU will read the
// argument; a hostile path (commas, quotes, '=', a backslash) must come out
// as exactly that path in each context, and never as extra options.
struct EscapingCase {
  const char* name;
  std::string argument;  // with {disk:vda}
  std::string expected;  // for kHostilePath
};
const std::string kHostilePath = R"(/img/a,file.locking=off "q" b\c=d)";

class PlaceholderContext : public ::testing::TestWithParam<EscapingCase> {};

TEST_P(PlaceholderContext, EscapesThePathForWhereItLands) {
  std::map<std::string, DiskArgument> disks{{"vda", kHostilePath}};
  EXPECT_EQ(expandDiskPlaceholders({"prog", GetParam().argument}, disks)[1], GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Contexts, PlaceholderContext,
    ::testing::Values(
        // A bare argument (qemu-img info {disk:vda}, -hda {disk:vda}): the
        // path as it is, neither JSON-escaped nor comma-doubled.
        EscapingCase{"Bare", "{disk:vda}", kHostilePath},
        EscapingCase{"PlainTextAround", "{disk:vda}.backup", kHostilePath + ".backup"},
        // QEMU option syntax: ",," is one comma inside a value.
        EscapingCase{"OptionValue", "file={disk:vda},if=none",
                     R"(file=/img/a,,file.locking=off "q" b\c=d,if=none)"},
        EscapingCase{"OptionListAfterPlaceholder", "{disk:vda},format=raw",
                     R"(/img/a,,file.locking=off "q" b\c=d,format=raw)"},
        EscapingCase{"DottedKey", "driver=qcow2,file.filename={disk:vda}",
                     R"(driver=qcow2,file.filename=/img/a,,file.locking=off "q" b\c=d)"},
        // JSON (-blockdev '{...}'): a JSON string, commas left alone.
        EscapingCase{"Json", R"({"driver":"file","filename":"{disk:vda}"})",
                     R"({"driver":"file","filename":"/img/a,file.locking=off \"q\" b\\c=d"})"}),
    [](const ::testing::TestParamInfo<EscapingCase>& info) { return std::string(info.param.name); });

TEST(ExpandDiskPlaceholders, AnFdSetInABareArgumentIsItsPath) {
  std::map<std::string, DiskArgument> disks{{"vda", CommandLineFdset{2, {{9, "rdonly:/a,b"}}}}};
  EXPECT_EQ(expandDiskPlaceholders({"qemu", "-cdrom", "{disk:vda}"}, disks),
            (std::vector<std::string>{"qemu", "-add-fd", "fd=9,set=2,opaque=rdonly:/a,,b", "-cdrom",
                                      "/dev/fdset/2"}));
}

TEST(ExpandDiskPlaceholders, FdsetDiskInsertsAddFdBeforeTheOptionThatUsesIt) {
  std::map<std::string, DiskArgument> disks{
      {"vda", CommandLineFdset{3, {{10, "rdwr:/a"}, {11, "rdonly:/a"}}}}};
  EXPECT_EQ(expandDiskPlaceholders({"qemu", "-m", "64", "-drive", "file={disk:vda},if=none",
                                    "-device", "virtio-blk,drive=x"},
                                   disks),
            (std::vector<std::string>{"qemu", "-m", "64", "-add-fd",
                                      "fd=10,set=3,opaque=rdwr:/a", "-add-fd",
                                      "fd=11,set=3,opaque=rdonly:/a", "-drive",
                                      "file=/dev/fdset/3,if=none", "-device",
                                      "virtio-blk,drive=x"}));
}

TEST(ExpandDiskPlaceholders, AddFdIsInsertedOnceForADiskUsedTwice) {
  std::map<std::string, DiskArgument> disks{{"vda", CommandLineFdset{1, {{9, "rdonly:/a"}}}}};
  auto argv = expandDiskPlaceholders(
      {"qemu", "-blockdev", "file,filename={disk:vda}", "-drive", "file={disk:vda}"}, disks);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-add-fd"), 1);
  EXPECT_EQ(argv[1], "-add-fd");
  EXPECT_EQ(argv.back(), "file=/dev/fdset/1");
}

TEST(ExpandDiskPlaceholders, UnknownDiskIsInvalidInput) {
  try {
    expandDiskPlaceholders({"qemu", "-drive", "file={disk:vdz}"}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(e.what()).find("vdz"), std::string::npos);
  }
}

TEST(ExpandDiskPlaceholders, UnterminatedPlaceholderIsInvalidInput) {
  std::map<std::string, DiskArgument> disks{{"vda", std::string("/a")}};
  EXPECT_THROW(expandDiskPlaceholders({"qemu", "file={disk:vda"}, disks), Error);
}

TEST(ExpandDiskPlaceholders, ProgramNameIsLeftAlone) {
  std::map<std::string, DiskArgument> disks{{"vda", std::string("/a")}};
  EXPECT_EQ(expandDiskPlaceholders({"{disk:vda}"}, disks)[0], "{disk:vda}");
}

// ---- a real QEMU, started as a uid that may not open the image ---------------

class UnprivilegedQemuWithFdset : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::runningAsRoot()) GTEST_SKIP() << "needs root to run QEMU as another uid";
    runDir_ = dir_.file("run");
    ASSERT_EQ(::mkdir(runDir_.c_str(), 0700), 0);
    ASSERT_EQ(::chown(runDir_.c_str(), testing::kGuestUid, testing::kGuestUid), 0);
    image_ = testing::makeImage(dir_.file("guest.qcow2"));
    ASSERT_EQ(::chmod(image_.c_str(), 0600), 0);  // root:root 0600
  }
  std::string qmpPath() const { return runDir_ + "/qmp.sock"; }

  TempDir dir_;
  std::string runDir_;
  std::string image_;
};

TEST_F(UnprivilegedQemuWithFdset, OpensTheImageOnlyThroughTheFdset) {
  std::vector<OpenedImage> images = openDiskImages(image_, DiskAccess::ReadWrite);
  std::vector<UniqueFd> inherited;  // the launcher's copies, closed after exec
  CommandLineFdset fdset{2, {}};
  for (const auto& image : images) {
    inherited.push_back(inheritableCopy(image.fd.get()));
    fdset.fds.push_back({inherited.back().get(), fdsetOpaque(image.mode, image_)});
  }
  std::vector<std::string> argv = expandDiskPlaceholders(
      {"qemu", "-blockdev", "driver=file,node-name=proto0,filename={disk:vda}", "-blockdev",
       "driver=qcow2,node-name=disk0,file=proto0"},
      {{"vda", fdset}});
  argv.erase(argv.begin());

  QemuProcess qemu({{qmpPath()}, argv, testing::kGuestUid, dir_.file("qemu.log")});
  inherited.clear();
  QmpClient qmp = QmpClient::connect(qmpPath());

  bool sawFileNode = false;
  for (const auto& node : qmp.execute("query-named-block-nodes")) {
    if (node["node-name"] == "proto0") {
      sawFileNode = true;
      EXPECT_EQ(node["file"], "/dev/fdset/2");
      EXPECT_FALSE(node["ro"].get<bool>());
    }
  }
  EXPECT_TRUE(sawFileNode) << qemu.log();

  auto sets = qmp.queryFdsets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].fdsetId, 2);
  std::vector<std::string> opaques;
  for (const auto& fd : sets[0].fds) opaques.push_back(fd.opaque.value_or(""));
  std::sort(opaques.begin(), opaques.end());
  EXPECT_EQ(opaques, (std::vector<std::string>{"rdonly:" + image_, "rdwr:" + image_}));
}

TEST_F(UnprivilegedQemuWithFdset, OpeningTheImageByPathIsPermissionDenied) {
  QemuProcess qemu({{qmpPath()}, {}, testing::kGuestUid, dir_.file("qemu.log")});
  QmpClient qmp = QmpClient::connect(qmpPath());
  try {
    qmp.execute("blockdev-add",
                {{"node-name", "direct"}, {"driver", "file"}, {"filename", image_}});
    FAIL() << "QEMU as uid " << testing::kGuestUid << " opened a root-only image";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seclabel
