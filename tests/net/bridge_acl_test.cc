// The bridge ACL, read as qemu-bridge-helper reads it; stricter only where
// the helper would widen access on a malformed file. The real helper's
// decisions are compared in bridge_helper_parity_test.cc.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/bridge_acl.h"

namespace seclabel {
namespace {

BridgeAclVerdict decide(std::string_view text, const char* bridge) {
  return BridgeAcl::parse(text, "bridge.conf").decide(InterfaceName::parse(bridge));
}

std::string refusal(std::string_view text) {
  try {
    BridgeAcl::parse(text, "/etc/qemu/bridge.conf");
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2) << e.what();
    return e.what();
  }
  return "accepted";
}

class AclFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/seclabel-acl-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    dir_ = dir;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST(BridgeAcl, AllowNameAllowsThatBridgeOnly) {
  EXPECT_EQ(decide("allow br0\n", "br0"), BridgeAclVerdict::Allowed);
  EXPECT_EQ(decide("allow br0\n", "br1"), BridgeAclVerdict::NotAllowed);
}

TEST(BridgeAcl, AllowAllAllowsEveryBridge) {
  EXPECT_EQ(decide("allow all\n", "anything0"), BridgeAclVerdict::Allowed);
}

TEST(BridgeAcl, DenyWinsOverAllowWhateverTheOrder) {
  EXPECT_EQ(decide("allow all\ndeny br1\n", "br1"), BridgeAclVerdict::Denied);
  EXPECT_EQ(decide("allow all\ndeny br1\n", "br0"), BridgeAclVerdict::Allowed);
  EXPECT_EQ(decide("deny br0\nallow br0\n", "br0"), BridgeAclVerdict::Denied);
  EXPECT_EQ(decide("deny all\nallow br0\n", "br0"), BridgeAclVerdict::Denied);
}

TEST(BridgeAcl, EmptyFileAllowsNothing) {
  EXPECT_EQ(decide("", "br0"), BridgeAclVerdict::NotAllowed);
  EXPECT_EQ(decide("# only a comment\n\n   \n", "br0"), BridgeAclVerdict::NotAllowed);
}

TEST(BridgeAcl, WhitespaceIsReadAsTheHelperReadsIt) {
  EXPECT_EQ(decide("   allow   virbr0   \r\n", "virbr0"), BridgeAclVerdict::Allowed);
  EXPECT_EQ(decide("allow\tvirbr0\r\n", "virbr0"), BridgeAclVerdict::Allowed);
  EXPECT_EQ(decide("\tallow    br0", "br0"), BridgeAclVerdict::Allowed);  // no final newline
  EXPECT_EQ(decide("  # allow br0\n", "br0"), BridgeAclVerdict::NotAllowed);
}

TEST(BridgeAcl, ATabSeparatesOnlyWhenTheLineHasNoSpace) {
  // The helper looks for a space first, anywhere in the line: with a
  // trailing space the keyword becomes "allow\tvirbr0".
  EXPECT_EQ(refusal("allow\tvirbr0 \n"),
            "bridge ACL /etc/qemu/bridge.conf:1: unknown keyword 'allow\\x09virbr0' (allow, deny, "
            "include)");
}

TEST(BridgeAcl, FifteenByteNamesWorkSixteenAreRefused) {
  EXPECT_EQ(decide("allow br-long-name-15\n", "br-long-name-15"), BridgeAclVerdict::Allowed);
  EXPECT_EQ(refusal("allow br-long-name-16x\n"),
            "bridge ACL /etc/qemu/bridge.conf:1: name 'br-long-name-16x' is longer than 15 bytes");
}

TEST(BridgeAcl, MalformedLinesAreInvalidInputNamingFileAndLine) {
  EXPECT_EQ(refusal("allow br0\nallow\n"),
            "bridge ACL /etc/qemu/bridge.conf:2: 'allow' has no argument");
  EXPECT_EQ(refusal("permit br0\n"),
            "bridge ACL /etc/qemu/bridge.conf:1: unknown keyword 'permit' (allow, deny, include)");
  // The helper splits at the first space: the keyword is "allow\tbr0".
  EXPECT_EQ(refusal("allow\tbr0 x\n"),
            "bridge ACL /etc/qemu/bridge.conf:1: unknown keyword 'allow\\x09br0' (allow, deny, "
            "include)");
  EXPECT_EQ(refusal("allow \n"), "bridge ACL /etc/qemu/bridge.conf:1: '' is not an interface name");
  EXPECT_EQ(refusal("include relative.conf\n"),
            "bridge ACL /etc/qemu/bridge.conf:1: include needs an absolute path, not "
            "'relative.conf'");
  EXPECT_EQ(refusal(std::string("allow br0\0\n", 11)),
            "bridge ACL /etc/qemu/bridge.conf: contains a NUL byte");
  EXPECT_EQ(refusal("allow " + std::string(5000, ' ') + "br0\n"),
            "bridge ACL /etc/qemu/bridge.conf:1: line longer than 4094 bytes");
}

TEST(BridgeAcl, ADenyForANameNoInterfaceCanHaveIsRefusedNotIgnored) {
  // The helper keeps "br0 #x" as a name that never matches, so its deny
  // silently does nothing; seclabel refuses the file.
  EXPECT_EQ(refusal("allow all\ndeny br0 #x\n"),
            "bridge ACL /etc/qemu/bridge.conf:2: 'br0 #x' is not an interface name");
}

TEST(BridgeAcl, RefusalIsExit4NamingBridgeAndFile) {
  BridgeAcl acl = BridgeAcl::parse("allow all\ndeny br1\n", "/etc/qemu/bridge.conf");
  try {
    acl.requireAllowed(InterfaceName::parse("br1"));
    ADD_FAILURE() << "br1 allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 4);
    EXPECT_STREQ(e.what(), "bridge br1 is denied by /etc/qemu/bridge.conf");
  }
  EXPECT_NO_THROW(acl.requireAllowed(InterfaceName::parse("br0")));
}

TEST(BridgeAcl, DirectDevicesMustBeListed) {
  EXPECT_NO_THROW(requireDirectDeviceAllowed({"eth0", "eth1"}, InterfaceName::parse("eth1")));
  try {
    requireDirectDeviceAllowed({}, InterfaceName::parse("eth0"));
    ADD_FAILURE() << "an unlisted parent was allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 4);
    EXPECT_STREQ(e.what(),
                 "direct device eth0 is not listed in [network] direct_devices of the configuration");
  }
}

TEST_F(AclFiles, NoFileAllowsNothing) {
  BridgeAcl acl = BridgeAcl::load(dir_ + "/bridge.conf");
  EXPECT_EQ(acl.decide(InterfaceName::parse("br0")), BridgeAclVerdict::NoAclFile);
  try {
    acl.requireAllowed(InterfaceName::parse("br0"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 4);
    EXPECT_EQ(std::string(e.what()),
              "bridge br0 is not allowed: " + dir_ + "/bridge.conf does not exist");
  }
}

TEST_F(AclFiles, IncludesAddTheirRulesAndAMissingIncludeIsSkipped) {
  std::string inner = write("inner.conf", "deny br0\nallow virbr0\n");
  std::string middle = write("middle.conf", "include " + inner + "\nallow br1\n");
  std::string main = write("bridge.conf", "include " + dir_ + "/absent.conf\ninclude " + middle +
                                              "\nallow br0\n");
  BridgeAcl acl = BridgeAcl::load(main);
  EXPECT_EQ(acl.decide(InterfaceName::parse("br0")), BridgeAclVerdict::Denied);
  EXPECT_EQ(acl.decide(InterfaceName::parse("br1")), BridgeAclVerdict::Allowed);
  EXPECT_EQ(acl.decide(InterfaceName::parse("virbr0")), BridgeAclVerdict::Allowed);
  EXPECT_EQ(acl.decide(InterfaceName::parse("br2")), BridgeAclVerdict::NotAllowed);
}

TEST_F(AclFiles, AnIncludeLoopIsRefused) {
  std::string a = dir_ + "/a.conf", b = dir_ + "/b.conf";
  write("a.conf", "allow br0\ninclude " + b + "\n");
  write("b.conf", "include " + a + "\n");
  try {
    BridgeAcl::load(a);
    ADD_FAILURE() << "loop accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2);
    EXPECT_EQ(std::string(e.what()),
              "bridge ACL " + b + ":1: include loop: " + a + " includes itself");
  }
}

TEST_F(AclFiles, IncludesDeeperThanEightAreRefused) {
  // f0 includes f1 ... includes f9: nine levels of include.
  for (int i = 9; i >= 0; --i)
    write("f" + std::to_string(i) + ".conf",
          i == 9 ? "allow br0\n" : "include " + dir_ + "/f" + std::to_string(i + 1) + ".conf\n");
  try {
    BridgeAcl::load(dir_ + "/f0.conf");
    ADD_FAILURE() << "nine levels accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2);
    EXPECT_NE(std::string(e.what()).find("includes nested deeper than 8 files"), std::string::npos)
        << e.what();
  }
  // Eight levels are fine.
  EXPECT_EQ(BridgeAcl::load(dir_ + "/f1.conf").decide(InterfaceName::parse("br0")),
            BridgeAclVerdict::Allowed);
}

TEST_F(AclFiles, AnErrorInAnIncludedFileRefusesTheWholeAcl) {
  // The helper would keep "allow all" and drop the deny after the bad line.
  std::string inner = write("inner.conf", "allow all\nbogus line\ndeny br0\n");
  std::string main = write("bridge.conf", "include " + inner + "\n");
  try {
    BridgeAcl::load(main);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "bridge ACL " + inner +
                                         ":2: unknown keyword 'bogus' (allow, deny, include)");
  }
}

TEST_F(AclFiles, SymlinksAnywhereOnThePathAreRefused) {
  std::string real = write("real.conf", "allow all\n");
  ASSERT_EQ(::symlink(real.c_str(), (dir_ + "/bridge.conf").c_str()), 0);
  try {
    BridgeAcl::load(dir_ + "/bridge.conf");
    ADD_FAILURE() << "followed a symlink";
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2);
    EXPECT_NE(std::string(e.what()).find("a symlink is on its path"), std::string::npos) << e.what();
  }
  std::string main = write("main.conf", "include " + dir_ + "/bridge.conf\n");
  EXPECT_THROW(BridgeAcl::load(main), Error);
}

TEST_F(AclFiles, FilesOthersMayWriteAreRefused) {
  std::string path = write("bridge.conf", "allow all\n", 0666);
  try {
    BridgeAcl::load(path);
    ADD_FAILURE() << "a world-writable ACL was trusted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": writable by group or others");
  }
}

TEST_F(AclFiles, ADirectoryOrFifoIsNotAnAclFile) {
  ASSERT_EQ(::mkdir((dir_ + "/dir.conf").c_str(), 0755), 0);
  EXPECT_THROW(BridgeAcl::load(dir_ + "/dir.conf"), Error);
  ASSERT_EQ(::mkfifo((dir_ + "/fifo.conf").c_str(), 0644), 0);
  EXPECT_THROW(BridgeAcl::load(dir_ + "/fifo.conf"), Error);  // and does not hang
}

TEST_F(AclFiles, AFileOverOneMebibyteIsRefused) {
  std::string path = write("bridge.conf", std::string((1 << 20) + 10, '#'));
  EXPECT_THROW(BridgeAcl::load(path), Error);
}

}  // namespace
}  // namespace seclabel
