// Finding the device controller in mountinfo text, on each kind of host,
// and what [cgroup] devices makes of it; the uuid that names a cgroup.
#include "cgroup/device_controller.h"

#include <gtest/gtest.h>

#include "cgroup/guest_cgroup.h"
#include "core/error.h"

namespace seclabel {
namespace {

// This machine: systemd's hybrid layout, devices on v1.
constexpr std::string_view kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A current distribution: the unified hierarchy alone, with optional fields.
constexpr std::string_view kUnified =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "26 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(DeviceController, V1DevicesMountIsFound) {
  auto found = findDeviceController(kHybrid);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, CgroupVersion::V1);
  EXPECT_EQ(found->mountPoint, "/sys/fs/cgroup/devices");
}

TEST(DeviceController, HybridHostUsesV1EvenWhenTheV2TreeComesFirst) {
  std::string text =
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n";
  auto found = findDeviceController(text);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, CgroupVersion::V1);
}

TEST(DeviceController, EachKindCanBeAskedForOnAHybridHost) {
  auto v2 = findDeviceController(kHybrid, CgroupVersion::V2);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->mountPoint, "/sys/fs/cgroup/unified");
  auto v1 = findDeviceController(kHybrid, CgroupVersion::V1);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->mountPoint, "/sys/fs/cgroup/devices");
  EXPECT_FALSE(findDeviceController(kUnified, CgroupVersion::V1));
}

TEST(DeviceController, UnifiedHostUsesV2) {
  auto found = findDeviceController(kUnified);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, CgroupVersion::V2);
  EXPECT_EQ(found->mountPoint, "/sys/fs/cgroup");
}

TEST(DeviceController, DevicesCoMountedWithOtherControllersCounts) {
  auto found = findDeviceController(
      "30 25 0:26 / /cg/misc rw - cgroup cgroup rw,cpu,devices,freezer\n");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->mountPoint, "/cg/misc");
}

TEST(DeviceController, OnlyTheSuperOptionsNameControllers) {
  // "devices" as a mount option or in a path is not the controller.
  auto found = findDeviceController(
      "30 25 0:26 / /devices rw,devices - cgroup cgroup rw,name=devices-like\n"
      "31 25 0:27 / /x rw - cgroup devices rw,cpu\n");
  EXPECT_FALSE(found);
}

TEST(DeviceController, NoCgroupMountMeansNone) {
  EXPECT_FALSE(findDeviceController(
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"));
  EXPECT_FALSE(findDeviceController(""));
  // cgroup v1 hierarchies without the devices controller, no v2 tree.
  EXPECT_FALSE(findDeviceController(
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"));
}

TEST(DeviceController, EscapedMountPointIsDecoded) {
  auto found = findDeviceController(
      "30 25 0:26 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->mountPoint, "/mnt/my cgroups");
}

TEST(DeviceController, MalformedLinesAreSkipped) {
  auto found = findDeviceController(
      "garbage\n"
      "1 2 3 4 5 6 - cgroup\n"
      "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->mountPoint, "/sys/fs/cgroup");
}

TEST(DeviceController, OffLooksAtNothingAndWarnsNothing) {
  int warnings = 0;
  EXPECT_FALSE(selectDeviceController(CgroupDevices::Off, [&](const std::string&) { ++warnings; }));
  EXPECT_EQ(warnings, 0);
}

TEST(DeviceController, ThisHostHasAController) {
  // This machine mounts the v1 devices controller; a host without any
  // cgroup mount has nothing to find.
  auto found = detectDeviceController();
  if (!found) GTEST_SKIP() << "no cgroup device controller mounted here";
  int warnings = 0;
  auto selected =
      selectDeviceController(CgroupDevices::Required, [&](const std::string&) { ++warnings; });
  ASSERT_TRUE(selected);
  EXPECT_EQ(*selected, *found);
  EXPECT_EQ(warnings, 0);
}

TEST(CgroupName, UuidIsNormalisedToLowerCaseDashed) {
  EXPECT_EQ(cgroupNameForUuid("6D1C5A9E-2B7F-4C1E-9F0A-1D2E3F4A5B6C"),
            "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c");
  EXPECT_EQ(cgroupNameForUuid("6d1c5a9e2b7f4c1e9f0a1d2e3f4a5b6c"),
            "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c");
}

TEST(CgroupName, AnythingButAUuidIsInvalidInput) {
  for (std::string bad :
       {std::string("../../../etc/cron.d"), std::string("a/b"), std::string(""),
        std::string("web1"), std::string("6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6"),
        std::string("6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c/"),
        std::string("6d1c5a9e+2b7f-4c1e-9f0a-1d2e3f4a5b6c"),
        std::string("6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6g"),
        std::string("6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b\n6"),
        std::string("6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b\0" "6", 36),
        std::string("..6d1c5a9e2b7f4c1e9f0a1d2e3f4a5b")}) {
    try {
      cgroupNameForUuid(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::InvalidInput);
      std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find("for a cgroup name"), std::string::npos) << message;
    }
  }
}

TEST(CgroupName, LocationPathIsMountParentUuid) {
  auto location = GuestCgroupLocation::at({CgroupVersion::V1, "/sys/fs/cgroup/devices"},
                                          "machine.slice/seclabel",
                                          "6D1C5A9E2B7F4C1E9F0A1D2E3F4A5B6C");
  EXPECT_EQ(location.path(),
            "/sys/fs/cgroup/devices/machine.slice/seclabel/6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c");
  EXPECT_EQ(location.name(), "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c");
}

TEST(CgroupName, LocationComesBackFromTheRecordedPath) {
  const DeviceController v1{CgroupVersion::V1, "/sys/fs/cgroup/devices"};
  const std::string uuid = "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c";
  auto location = GuestCgroupLocation::fromPath(
      v1, "/sys/fs/cgroup/devices/machine.slice/seclabel/" + uuid, uuid);
  EXPECT_EQ(location.parent(), "machine.slice/seclabel");
  EXPECT_EQ(location.name(), uuid);
  EXPECT_EQ(location.path(), "/sys/fs/cgroup/devices/machine.slice/seclabel/" + uuid);
}

TEST(CgroupName, RecordedPathOfAnotherGuestOrPlaceIsRefused) {
  const DeviceController v1{CgroupVersion::V1, "/sys/fs/cgroup/devices"};
  const std::string uuid = "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c";
  for (const std::string& path :
       {std::string("/sys/fs/cgroup/devices/seclabel/7d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"),
        "/sys/fs/cgroup/unified/seclabel/" + uuid, "/sys/fs/cgroup/devices/" + uuid,
        "/sys/fs/cgroup/devices/../../../etc/" + uuid,
        "/sys/fs/cgroup/devices/a//" + uuid, std::string("")}) {
    try {
      GuestCgroupLocation::fromPath(v1, path, uuid);
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::InvalidInput) << path;
    }
  }
}

TEST(CgroupName, LocationRefusesAParentThatLeavesTheMount) {
  for (const char* parent : {"../x", "/abs", "a//b", "", "a/./b"}) {
    EXPECT_THROW(GuestCgroupLocation::at({CgroupVersion::V2, "/sys/fs/cgroup"}, parent,
                                         "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"),
                 Error)
        << parent;
  }
  EXPECT_THROW(GuestCgroupLocation::at({CgroupVersion::V2, "relative"}, "seclabel",
                                       "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"),
               Error);
}

}  // namespace
}  // namespace seclabel
