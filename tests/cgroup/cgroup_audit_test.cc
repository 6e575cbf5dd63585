// The cgroup records as the kernel logs them, read back with ausearch -i:
// deny all, each allow with its rdev, the pty major; no record for a
// file-backed disk. Runs under the `auditd` CTest fixture (RESOURCE_LOCK
// auditd), as root on a host with a cgroup device controller.
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>

#include "audit/audit.h"
#include "cgroup/device_rules.h"
#include "cgroup/guest_cgroup.h"
#include "tests/audit/auditd_helpers.h"
#include "tests/cgroup/test_support.h"

namespace seclabel {
namespace {

TEST(CgroupKernelAudit, AusearchShowsDenyAllEachAllowWithItsRdevAndThePtyMajor) {
  if (auto reason = seclabel::testing::kernelAuditUnavailable())
    GTEST_SKIP() << "kernel audit log not available: " << *reason;
  auto controller = detectDeviceController(CgroupVersion::V1);
  if (!controller) controller = detectDeviceController(CgroupVersion::V2);
  if (!controller) GTEST_SKIP() << "no cgroup device controller";
  std::string why;
  std::optional<testing::LoopDevice> disk = testing::LoopDevice::attach(why);
  if (!disk) GTEST_SKIP() << why;

  testing::TestParent parent(*controller);
  AuditGuest guest{"kvm", "cgroup-audit", testing::freshUuid()};
  std::unique_ptr<AuditLog> log = makeAuditLog(AuditConfig{});
  log->ensureUsable();
  char image[] = "/tmp/seclabel-image-XXXXXX";
  int fd = ::mkstemp(image);
  ASSERT_GE(fd, 0);
  ::close(fd);
  GuestDeviceUse use;
  use.disks = {{disk->path(), DeviceAccess::readWrite()}, {image, DeviceAccess::readWrite()}};
  GuestCgroup cgroup =
      GuestCgroup::create(parent.location(guest.uuid), guestDeviceRules(use, {"/dev/null"}), *log, guest);
  ::unlink(image);

  auto lines = seclabel::testing::waitForRecords("VIRT_RESOURCE", guest.uuid, 4, true);
  ASSERT_EQ(lines.size(), 4u);
  char rdev[16];
  std::snprintf(rdev, sizeof rdev, "%02X:%02X", major(disk->rdev()), minor(disk->rdev()));
  const std::string prefix = "virt=kvm resrc=cgroup reason=";
  const std::string who = " vm=cgroup-audit uuid=" + guest.uuid + " cgroup=" + cgroup.path();
  const std::vector<std::string> expected = {
      prefix + "deny" + who + " class=all ",
      prefix + "allow" + who + " class=path path=" + disk->path() + " rdev=" + rdev + " acl=rw ",
      prefix + "allow" + who + " class=major category=pty maj=88 acl=rw ",
      prefix + "allow" + who + " class=path path=/dev/null rdev=01:03 acl=rw ",
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NE(lines[i].find(expected[i]), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find(" res=success"), std::string::npos) << lines[i];
  }
  // The file-backed disk was never a device: no record names it.
  for (const std::string& line : lines) EXPECT_EQ(line.find(image), std::string::npos) << line;

  removeGuestCgroup(cgroup.location());
}

}  // namespace
}  // namespace seclabel
