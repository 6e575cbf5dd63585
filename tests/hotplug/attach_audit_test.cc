// The audit trail of `seclabel attach` / `detach`, read back from a real
// auditd (the `auditd` CTest fixture of tests/audit): libvirt's
// virDomainAuditDisk records, reason=attach and reason=detach, with
// res=failed for an attach QEMU refused.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "tests/audit/auditd_helpers.h"
#include "tests/fdpass/test_support.h"
#include "tests/net/netns.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;
using Fields = std::map<std::string, std::string>;

std::vector<Fields> diskRecords(const std::string& uuid, std::size_t count) {
  auto collect = [&] {
    std::vector<Fields> found;
    for (const auto& line : testing::waitForRecords("VIRT_RESOURCE", uuid, count)) {
      Fields fields = testing::decodedFields(line);
      if (fields["resrc"] == "disk" &&
          (fields["reason"] == "attach" || fields["reason"] == "detach"))
        found.push_back(fields);
    }
    return found;
  };
  for (int i = 0; i < 50 && collect().size() < count; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a late extra one is seen too
  return collect();
}

TEST(AttachAudit, KernelRecordsForAttachDetachAndARefusedAttach) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (auto why = testing::kernelAuditUnavailable()) GTEST_SKIP() << *why;
  TempDir dir;
  std::string config = dir / "seclabel.toml", state = dir / "state";
  ConfigOptions options;
  options.auditSink = "kernel";
  writeConfig(config, options);
  std::string image = dir / "data.qcow2";
  makeImage(image);
  std::string uuid = testing::freshUuid();
  writeDomain(dir / "guest.xml", "audited", uuid, {});
  ASSERT_EQ(runSeclabel(config, state, {"prepare", dir / "guest.xml"}).code(), 0);
  std::ofstream(dir / "disk.xml") << "<disk type='file'><driver name='qemu' type='qcow2'/>"
                                     "<source file='" + image + "'/>"
                                     "<target dev='sdb' bus='scsi'/></disk>";
  std::string qmp = dir / "qmp.sock";
  {
    // No scsi controller: QEMU refuses the device_add.
    testing::QemuProcess qemu({{qmp}, {"-machine", "q35"}, std::nullopt, dir / "qemu1.log"});
    EXPECT_EQ(runSeclabel(config, state, {"attach", "audited", dir / "disk.xml", "--qmp", qmp})
                  .code(),
              1);
  }
  ::unlink(qmp.c_str());
  testing::QemuProcess qemu({{qmp},
                             {"-machine", "q35", "-device", "virtio-scsi-pci,id=scsi0"},
                             std::nullopt,
                             dir / "qemu2.log"});
  Finished attached =
      runSeclabel(config, state, {"attach", "audited", dir / "disk.xml", "--qmp", qmp});
  ASSERT_EQ(attached.code(), 0) << attached.err;
  Finished detached =
      runSeclabel(config, state, {"detach", "audited", "--target", "sdb", "--qmp", qmp});
  ASSERT_EQ(detached.code(), 0) << detached.err;

  std::vector<Fields> records = diskRecords(uuid, 3);
  ASSERT_EQ(records.size(), 3u);
  // In the order they happened: the refused attach, the attach, the detach.
  EXPECT_EQ(records[0]["reason"], "attach");
  EXPECT_EQ(records[0]["res"], "failed");
  EXPECT_EQ(records[0]["new-disk"], image);
  EXPECT_EQ(records[1]["reason"], "attach");
  EXPECT_EQ(records[1]["res"], "success");
  EXPECT_EQ(records[1]["old-disk"], "?");
  EXPECT_EQ(records[1]["new-disk"], image);
  EXPECT_EQ(records[2]["reason"], "detach");
  EXPECT_EQ(records[2]["res"], "success");
  EXPECT_EQ(records[2]["old-disk"], image);
  EXPECT_EQ(records[2]["new-disk"], "?");
  for (auto& record : records) {
    EXPECT_EQ(record["vm"], "audited");
    EXPECT_EQ(record["uuid"], uuid);
    EXPECT_EQ(record["virt"], "qemu");
  }
  EXPECT_EQ(runSeclabel(config, state, {"restore", "audited"}).code(), 0);
}

std::vector<Fields> netRecords(const std::string& uuid, std::size_t count) {
  auto collect = [&] {
    std::vector<Fields> found;
    for (const auto& line : testing::waitForRecords("VIRT_RESOURCE", uuid, count)) {
      Fields fields = testing::decodedFields(line);
      if (fields["resrc"] == "net" &&
          (fields["reason"] == "attach" || fields["reason"] == "detach"))
        found.push_back(fields);
    }
    return found;
  };
  for (int i = 0; i < 50 && collect().size() < count; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return collect();
}

// An interface in a network namespace of the test's own: resrc=net records
// with the MAC, and the per-open record of the tap.
TEST(AttachAudit, KernelRecordsForAnInterface) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (auto why = testing::kernelAuditUnavailable()) GTEST_SKIP() << *why;
  if (auto reason = testing::netnsUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  TempDir dir;
  std::string config = dir / "seclabel.toml", state = dir / "state";
  ConfigOptions options;
  options.auditSink = "kernel";
  writeConfig(config, options);
  std::string uuid = testing::freshUuid();
  writeDomain(dir / "guest.xml", "audited-net", uuid, {});
  ASSERT_EQ(runSeclabel(config, state, {"prepare", dir / "guest.xml"}).code(), 0);
  std::ofstream(dir / "nic.xml") << "<interface type='ethernet'><mac address='52:54:00:aa:bb:09'/>"
                                    "<target dev='hpa0'/><model type='usb-net'/>"
                                    "<alias name='ua-net1'/></interface>";
  std::string qmp = dir / "qmp.sock";
  testing::QemuProcess qemu({{qmp},
                             {"-machine", "q35", "-device", "qemu-xhci,id=xhci0"},
                             std::nullopt,
                             dir / "qemu.log"});
  testing::runInFreshNetns([&] {
    Finished attached =
        runSeclabel(config, state, {"attach", "audited-net", dir / "nic.xml", "--qmp", qmp});
    ASSERT_EQ(attached.code(), 0) << attached.err;
    Finished detached = runSeclabel(
        config, state, {"detach", "audited-net", "--alias", "ua-net1", "--qmp", qmp});
    ASSERT_EQ(detached.code(), 0) << detached.err;
  });
  std::vector<Fields> records = netRecords(uuid, 2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["reason"], "attach");
  EXPECT_EQ(records[0]["res"], "success");
  EXPECT_EQ(records[0]["old-net"], "?");
  EXPECT_EQ(records[0]["new-net"], "52:54:00:aa:bb:09");
  EXPECT_EQ(records[1]["reason"], "detach");
  EXPECT_EQ(records[1]["old-net"], "52:54:00:aa:bb:09");
  EXPECT_EQ(records[1]["new-net"], "?");
  bool tapOpen = false;
  for (const auto& line : testing::waitForRecords("VIRT_RESOURCE", uuid, 3)) {
    Fields fields = testing::decodedFields(line);
    if (fields["resrc"] == "net" && fields["reason"] == "open" &&
        fields["path"] == "/dev/net/tun" && fields["res"] == "success")
      tapOpen = true;
  }
  EXPECT_TRUE(tapOpen);
  EXPECT_EQ(runSeclabel(config, state, {"restore", "audited-net"}).code(), 0);
}

}  // namespace
}  // namespace seclabel
