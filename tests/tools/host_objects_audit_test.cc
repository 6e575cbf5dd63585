// The cgroup ACL records of one `seclabel run` as the kernel logs them, read
// back with `ausearch -i`: deny all, each allow with its rdev (a read-write
// and a <readonly/> loop disk, the configured /dev/null), the pty major as
// libvirt prints it (maj=88); no record for a file-backed disk. Real auditd
// (the `auditd` CTest fixture, RESOURCE_LOCK auditd), real loop devices, the
// host's cgroup v1 devices hierarchy under a parent cgroup of the test's own.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "cgroup/device_controller.h"
#include "tests/audit/auditd_helpers.h"
#include "tests/cgroup/test_support.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

constexpr char kCgroupV1Mount[] = "/sys/fs/cgroup/devices";

std::string rdevText(dev_t rdev) {
  char text[16];
  std::snprintf(text, sizeof text, "%02X:%02X", major(rdev), minor(rdev));
  return text;
}

// The `ausearch -i` lines of the guest's cgroup records, polled until `count`
// are there or ~10 s passed (auditd writes asynchronously).
std::vector<std::string> cgroupRecords(const std::string& uuid, size_t count) {
  std::vector<std::string> found;
  for (int attempt = 0; attempt < 100; ++attempt) {
    found.clear();
    for (const std::string& line :
         seclabel::testing::waitForRecords("VIRT_RESOURCE", uuid, 1, true))
      if (line.find(" resrc=cgroup ") != std::string::npos) found.push_back(line);
    if (found.size() >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return found;
}

TEST(HostObjectsAudit, OneRunLogsDenyAllEachAllowWithItsRdevAndThePtyMajorAndNoFileDisk) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: cgroups, loop devices, audit";
  if (auto reason = seclabel::testing::kernelAuditUnavailable())
    GTEST_SKIP() << "kernel audit log not available: " << *reason;
  auto controller = detectDeviceController(CgroupVersion::V1);
  if (!controller || controller->mountPoint != kCgroupV1Mount)
    GTEST_SKIP() << "no cgroup v1 devices controller at " << kCgroupV1Mount;
  std::string why;
  auto rwDisk = seclabel::testing::LoopDevice::attach(why);
  if (!rwDisk) GTEST_SKIP() << why;
  auto roDisk = seclabel::testing::LoopDevice::attach(why);
  if (!roDisk) GTEST_SKIP() << why;
  seclabel::testing::TestParent parent(*controller);

  TempDir dir;
  const std::string config = dir / "seclabel.toml", state = dir / "state";
  const std::string image = dir / "image.raw";
  std::ofstream(image) << std::string(4096, '\0');
  {
    std::ofstream out(config);
    out << "security_driver = [\"dac\"]\nfdpass = \"never\"\n\n[dac]\nrange = \""
        << testDacRange() << "\"\n\n[audit]\nsink = \"kernel\"\nrequired = true\n\n"
        << "[cgroup]\ndevices = \"required\"\nparent = \"" << parent.name()
        << "\"\ndevice_acl = [\"/dev/null\"]\n";
  }
  const std::string uuid = seclabel::testing::freshUuid();
  {
    std::ofstream out(dir / "g.xml");
    out << "<domain type='qemu'>\n  <name>cg-audit</name>\n  <uuid>" << uuid
        << "</uuid>\n  <memory unit='MiB'>64</memory>\n  <devices>\n"
        << "    <disk type='block' device='disk'><source dev='" << rwDisk->path()
        << "'/><target dev='vda' bus='virtio'/></disk>\n"
        << "    <disk type='block' device='disk'><source dev='" << roDisk->path()
        << "'/><target dev='vdb' bus='virtio'/><readonly/></disk>\n"
        << "    <disk type='file' device='disk'><source file='" << image
        << "'/><target dev='vdc' bus='virtio'/></disk>\n"
        << "  </devices>\n  <seclabel type='dynamic' model='dac' relabel='yes'/>\n</domain>\n";
  }
  Finished done = runSeclabel(config, state, {"run", dir / "g.xml", "--", "/bin/true"});
  ASSERT_EQ(done.code(), 0) << done.err;
  EXPECT_FALSE(std::filesystem::exists(parent.path() + "/" + uuid)) << "removed at stop";

  const std::string cgroup = parent.path() + "/" + uuid;
  const std::string who = " vm=cg-audit uuid=" + uuid + " cgroup=" + cgroup;
  const std::string prefix = "resrc=cgroup reason=";
  const std::vector<std::string> expected = {
      prefix + "deny" + who + " class=all ",
      prefix + "allow" + who + " class=path path=" + rwDisk->path() +
          " rdev=" + rdevText(rwDisk->rdev()) + " acl=rw ",
      prefix + "allow" + who + " class=path path=" + roDisk->path() +
          " rdev=" + rdevText(roDisk->rdev()) + " acl=r ",
      prefix + "allow" + who + " class=major category=pty maj=88 acl=rw ",
      prefix + "allow" + who + " class=path path=/dev/null rdev=01:03 acl=rw ",
  };
  std::vector<std::string> lines = cgroupRecords(uuid, expected.size());
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NE(lines[i].find(expected[i]), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find(" res=success"), std::string::npos) << lines[i];
  }
  // The file-backed disk was never a device: no record of the guest names it.
  for (const std::string& line : seclabel::testing::waitForRecords("VIRT_RESOURCE", uuid, 1, true)) {
    if (line.find(" resrc=cgroup ") == std::string::npos) continue;
    EXPECT_EQ(line.find(image), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace seclabel::e2e
