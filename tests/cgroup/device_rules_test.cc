// The rules a guest's device ACL gets from what it uses and the configured
// default list: by number, each device once, kinds kept apart, paths that
// are not devices (or do not exist) leaving no trace.
#include "cgroup/device_rules.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/config.h"
#include "core/error.h"

namespace seclabel {
namespace {

// The host's /dev as the test describes it: the kinds of node the kernel
// has, without needing those nodes on the machine running the test.
NodeLookup fakeDev(std::map<std::string, NodeInfo> nodes) {
  return [nodes = std::move(nodes)](const std::string& path) -> std::optional<NodeInfo> {
    auto it = nodes.find(path);
    if (it == nodes.end()) return std::nullopt;
    return it->second;
  };
}
NodeInfo block(unsigned major, unsigned minor) { return {S_IFBLK, makedev(major, minor)}; }
NodeInfo chr(unsigned major, unsigned minor) { return {S_IFCHR, makedev(major, minor)}; }
NodeInfo file() { return {S_IFREG, 0}; }

std::vector<std::string> lines(const std::vector<DeviceRule>& rules) {
  std::vector<std::string> text;
  for (const DeviceRule& rule : rules) text.push_back(rule.kernelLine());
  return text;
}

TEST(DeviceRules, PtyMajorIsAlwaysAllowedReadWriteByCategory) {
  auto rules = guestDeviceRules({}, {}, fakeDev({}));
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].kernelLine(), "c 136:* rw");
  EXPECT_TRUE(rules[0].anyMinor());
  EXPECT_EQ(rules[0].category, "pty");
  EXPECT_EQ(rules[0].path, "");
}

TEST(DeviceRules, LibvirtsOrderDisksPtyDefaultsChardevsNetwork) {
  GuestDeviceUse use;
  use.disks = {{"/dev/loop3", DeviceAccess::readWrite()}};
  use.chardevs = {"/dev/ttyS1"};
  use.netDevices = {"/dev/net/tun", "/dev/vhost-net"};
  auto rules = guestDeviceRules(use, {"/dev/null", "/dev/kvm"},
                                fakeDev({{"/dev/loop3", block(7, 3)},
                                         {"/dev/null", chr(1, 3)},
                                         {"/dev/kvm", chr(10, 232)},
                                         {"/dev/ttyS1", chr(4, 65)},
                                         {"/dev/net/tun", chr(10, 200)},
                                         {"/dev/vhost-net", chr(10, 238)}}));
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"b 7:3 rw", "c 136:* rw", "c 1:3 rw",
                                                    "c 10:232 rw", "c 4:65 rw", "c 10:200 rw",
                                                    "c 10:238 rw"}));
  EXPECT_EQ(rules[0].path, "/dev/loop3");
  EXPECT_EQ(rules[2].path, "/dev/null");
}

TEST(DeviceRules, ReadonlyDiskAndBackingLayersGetReadOnly) {
  GuestDeviceUse use;
  use.disks = {{"/dev/loop4", DeviceAccess::read()}};
  auto rules = guestDeviceRules(use, {}, fakeDev({{"/dev/loop4", block(7, 4)}}));
  EXPECT_EQ(rules[0].kernelLine(), "b 7:4 r");
}

TEST(DeviceRules, FileBackedDiskAndMissingPathsLeaveNoRule) {
  GuestDeviceUse use;
  use.disks = {{"/var/lib/guests/a.qcow2", DeviceAccess::readWrite()},
               {"/dev/gone", DeviceAccess::readWrite()}};
  use.chardevs = {"/var/log/guest-serial.log", "/tmp/not-yet"};
  auto rules = guestDeviceRules(use, {"/dev/kvm", "/dev/userfaultfd"},
                                fakeDev({{"/var/lib/guests/a.qcow2", file()},
                                         {"/var/log/guest-serial.log", file()}}));
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"c 136:* rw"}));
}

TEST(DeviceRules, EachKindAdmitsOnlyItsKindOfNode) {
  // A character device named as a disk (/dev/mem) or a block device named
  // as a serial port gets nothing: QEMU's block layer opens block devices,
  // chardevs open character devices.
  GuestDeviceUse use;
  use.disks = {{"/dev/mem", DeviceAccess::readWrite()}};
  use.chardevs = {"/dev/sda"};
  use.netDevices = {"/dev/sdb"};
  auto rules = guestDeviceRules(
      use, {}, fakeDev({{"/dev/mem", chr(1, 1)}, {"/dev/sda", block(8, 0)}, {"/dev/sdb", block(8, 16)}}));
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"c 136:* rw"}));
}

TEST(DeviceRules, DefaultListMayNameEitherKind) {
  auto rules = guestDeviceRules({}, {"/dev/sdc"}, fakeDev({{"/dev/sdc", block(8, 32)}}));
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"c 136:* rw", "b 8:32 rw"}));
}

TEST(DeviceRules, DeviceNamedTwiceGetsOneRuleWithTheUnionOfAccess) {
  GuestDeviceUse use;
  use.disks = {{"/dev/loop5", DeviceAccess::read()},
               {"/dev/disk/by-id/same-loop", DeviceAccess::readWrite()}};
  auto rules = guestDeviceRules(use, {"/dev/null", "/dev/null"},
                                fakeDev({{"/dev/loop5", block(7, 5)},
                                         {"/dev/disk/by-id/same-loop", block(7, 5)},
                                         {"/dev/null", chr(1, 3)}}));
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"b 7:5 rw", "c 136:* rw", "c 1:3 rw"}));
  EXPECT_EQ(rules[0].path, "/dev/loop5");  // the first name it was given
}

TEST(DeviceRules, RealDevNodesAreFoundThroughStat) {
  auto rules = guestDeviceRules({}, {"/dev/null", "/dev/zero", "/dev/does-not-exist"});
  EXPECT_EQ(lines(rules), (std::vector<std::string>{"c 136:* rw", "c 1:3 rw", "c 1:5 rw"}));
}

TEST(DeviceRules, RealRegularFileIsNotADevice) {
  char path[] = "/tmp/seclabel-rules-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  GuestDeviceUse use;
  use.disks = {{path, DeviceAccess::readWrite()}};
  EXPECT_EQ(guestDeviceRules(use, {}).size(), 1u);  // the pty major alone
  unlink(path);
}

TEST(DeviceRules, DefaultConfigListMatchesLibvirts) {
  EXPECT_EQ(CgroupConfig{}.deviceAcl,
            (std::vector<std::string>{"/dev/null", "/dev/full", "/dev/zero", "/dev/random",
                                      "/dev/urandom", "/dev/ptmx", "/dev/kvm", "/dev/userfaultfd"}));
}

TEST(DeviceRules, StatFailureOtherThanMissingIsAnErrorNamingThePath) {
  // A path through a loop of symlinks: ELOOP, not "missing".
  char dir[] = "/tmp/seclabel-rules-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string link = std::string(dir) + "/loop";
  ASSERT_EQ(symlink(link.c_str(), link.c_str()), 0);
  try {
    statNode(link);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ELOOP);
    EXPECT_NE(std::string(e.what()).find(link), std::string::npos) << e.what();
  }
  unlink(link.c_str());
  rmdir(dir);
}

TEST(DeviceAccess, ParsesTheKernelsLetters) {
  EXPECT_EQ(DeviceAccess::parse("r"), DeviceAccess::read());
  EXPECT_EQ(DeviceAccess::parse("wr"), DeviceAccess::readWrite());
  EXPECT_EQ(DeviceAccess::parse("mrw").text(), "rwm");
  for (const char* bad : {"", "rr", "x", "rwmx", "r w"}) {
    EXPECT_THROW(DeviceAccess::parse(bad), Error) << bad;
  }
}

TEST(DeviceRule, MajorRuleChecksItsNumbersAndCategory) {
  EXPECT_THROW(DeviceRule::forMajor("pty", DeviceType::Char, 4096, DeviceAccess::readWrite()), Error);
  EXPECT_THROW(DeviceRule::forMajor("p ty", DeviceType::Char, 136, DeviceAccess::readWrite()), Error);
  EXPECT_THROW(DeviceRule::forMajor("", DeviceType::Char, 136, DeviceAccess::readWrite()), Error);
  EXPECT_EQ(DeviceRule::forMajor("pty", DeviceType::Char, 136, DeviceAccess::read()).kernelLine(),
            "c 136:* r");
}

TEST(DeviceRule, NodeRuleRefusesNumbersTheKernelCannotHave) {
  EXPECT_THROW(DeviceRule::forNode("/dev/x", DeviceType::Block, makedev(5000, 0),
                                   DeviceAccess::read()),
               Error);
  EXPECT_EQ(DeviceRule::forNode("/dev/x", DeviceType::Block, makedev(259, 1048575),
                                DeviceAccess::read())
                .kernelLine(),
            "b 259:1048575 r");
}

}  // namespace
}  // namespace seclabel
