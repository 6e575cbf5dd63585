// Serial and console sources that are not plain files: a FIFO behind a
// `pipe` chardev (PATH, or PATH.in and PATH.out as libvirt does), a unix
// socket behind a `unix` chardev, a tty behind a `dev` chardev. Each is
// labeled like a private disk and restored exactly; what is not a
// terminal, or is one of the "current terminal" aliases, is refused.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

class ChardevTest : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }

  std::string chardevXml(const std::string& type, const std::string& path,
                         const std::string& element = "serial") {
    return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels, {},
                     "    <" + element + " type='" + type + "'><source path='" + path +
                         "'/></" + element + ">\n");
  }

  std::string makeFifo(const std::string& name) {
    std::string path = scratch.path(name);
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    Scratch::setOriginal(path, original);
    return path;
  }

  // A bound unix socket file (the listener is closed: the file stays).
  std::string makeSocket(const std::string& name) {
    std::string path = scratch.path(name);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    Scratch::setOriginal(path, original);
    return path;
  }

  std::string makeCharDevice(const std::string& name, unsigned major, unsigned minor) {
    std::string path = scratch.path(name);
    EXPECT_EQ(::mknod(path.c_str(), S_IFCHR | 0600, makedev(major, minor)), 0);
    Scratch::setOriginal(path, original);
    return path;
  }

  void expectLabeledThenRestored(Harness& harness, const std::vector<std::string>& paths) {
    GuestLabels labels = labelsOf(harness.liveDomain("g1"));
    for (const std::string& path : paths)
      EXPECT_EQ(fileState(path), (FileState{labels.uid, labels.gid, original.mode,
                                            labels.imageContext}))
          << path;
    harness.manager->restore("g1");
    for (const std::string& path : paths) EXPECT_EQ(fileState(path), untouched()) << path;
    EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
  }

  FileState untouched() const {
    return {original.uid, original.gid, original.mode, original.selinux};
  }

  Scratch scratch;
  const Original original;
};

TEST_F(ChardevTest, AFifoBehindAPipeSerialIsLabeledAndRestored) {
  std::string fifo = makeFifo("serial.pipe");
  Harness harness(scratch);
  harness.prepare(chardevXml("pipe", fifo));
  expectLabeledThenRestored(harness, {fifo});
}

TEST_F(ChardevTest, APipeWithInAndOutFifosLabelsBothAndNotThePathItself) {
  std::string in = makeFifo("console.in");
  std::string out = makeFifo("console.out");
  std::string plain = scratch.makeFile("console", original);
  Harness harness(scratch);
  harness.prepare(chardevXml("pipe", scratch.path("console"), "console"));
  EXPECT_EQ(fileState(plain), untouched()) << "QEMU uses .in and .out";
  expectLabeledThenRestored(harness, {in, out});
}

TEST_F(ChardevTest, AUnixSocketBehindAUnixSerialIsLabeledAndRestored) {
  std::string socket = makeSocket("serial.sock");
  Harness harness(scratch);
  harness.prepare(chardevXml("unix", socket));
  expectLabeledThenRestored(harness, {socket});
}

TEST_F(ChardevTest, ATtyBehindADevSerialIsLabeledAndRestored) {
  // A node for ttyS0's device number (4:64), made here so the host's own
  // /dev/ttyS0 is never touched.
  std::string tty = makeCharDevice("ttyS0", 4, 64);
  Harness harness(scratch);
  harness.prepare(chardevXml("dev", tty));
  expectLabeledThenRestored(harness, {tty});
}

TEST_F(ChardevTest, ACharacterDeviceThatIsNotATerminalIsRefused) {
  std::string null = makeCharDevice("null", 1, 3);  // /dev/null's number
  Harness harness(scratch);
  Error error = harness.prepareFailure(chardevXml("dev", null));
  EXPECT_EQ(error.code(), ExitCode::InvalidInput);
  EXPECT_THAT(error.what(), HasSubstr("terminal device"));
  EXPECT_EQ(fileState(null), untouched());
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(ChardevTest, TheCurrentTerminalAliasesAreRefused) {
  for (auto [major, minor] : {std::pair{5u, 0u}, std::pair{5u, 1u}, std::pair{5u, 2u},
                              std::pair{4u, 0u}}) {
    std::string alias = makeCharDevice("alias" + std::to_string(major) + "-" +
                                           std::to_string(minor),
                                       major, minor);
    Harness harness(scratch);
    Error error = harness.prepareFailure(chardevXml("dev", alias));
    EXPECT_EQ(error.code(), ExitCode::InvalidInput) << alias;
    EXPECT_EQ(fileState(alias), untouched()) << alias;
  }
}

TEST_F(ChardevTest, AFifoWithASecondNameIsRefused) {
  std::string fifo = makeFifo("serial.pipe");
  ASSERT_EQ(::link(fifo.c_str(), scratch.path("other-name").c_str()), 0);
  Harness harness(scratch);
  Error error = harness.prepareFailure(chardevXml("pipe", fifo));
  EXPECT_EQ(error.code(), ExitCode::PermissionDenied);
  EXPECT_EQ(fileState(fifo), untouched());
}

TEST_F(ChardevTest, AMissingSocketIsSkippedForQemuToCreate) {
  Harness harness(scratch);
  harness.prepare(chardevXml("unix", scratch.path("not-yet.sock")));
  EXPECT_TRUE(harness.store->resourcesOf(uuidFor(1)).empty());
}

}  // namespace
}  // namespace seclabel::testing
