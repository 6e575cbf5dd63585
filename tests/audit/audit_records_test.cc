// The record builders: libvirt's fields, in libvirt's order, every user value
// encoded so it cannot forge a field.
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libaudit.h>

#include <gtest/gtest.h>

#include "audit/audit.h"

namespace seclabel {
namespace {

const AuditGuest kGuest{"kvm", "web1", "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"};

TEST(AuditRecords, MachineIdHasLibvirtFieldsInOrder) {
  AuditRecord r = audit::machineId(kGuest, "selinux", "system_u:system_r:svirt_t:s0:c1,c2",
                                   "system_u:object_r:svirt_image_t:s0:c1,c2",
                                   AuditOutcome::Success);
  EXPECT_EQ(r.type, AuditRecordType::MachineId);
  EXPECT_EQ(auditRecordTypeName(r.type), "VIRT_MACHINE_ID");
  EXPECT_EQ(r.message(),
            "virt=kvm vm=\"web1\" uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c "
            "vm-ctx=\"system_u:system_r:svirt_t:s0:c1,c2\" "
            "img-ctx=\"system_u:object_r:svirt_image_t:s0:c1,c2\" model=selinux");
}

TEST(AuditRecords, MachineIdWithoutImageLabelWritesUnset) {
  AuditRecord r = audit::machineId(kGuest, "dac", "+1879048193:+1879048193", std::nullopt,
                                   AuditOutcome::Failure);
  EXPECT_EQ(r.outcome, AuditOutcome::Failure);
  EXPECT_EQ(r.message(),
            "virt=kvm vm=\"web1\" uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c "
            "vm-ctx=\"+1879048193:+1879048193\" img-ctx=? model=dac");
}

TEST(AuditRecords, LabelingGivesTheDiskToTheGuestWithOldAndNewLabel) {
  AuditRecord r = audit::resourceLabel(kGuest, AuditLabelChange::Label, "/var/lib/g/a.qcow2",
                                       "dac", "+0:+0", "+1879048193:+1879048193",
                                       AuditOutcome::Success);
  EXPECT_EQ(r.type, AuditRecordType::Resource);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=disk reason=start vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c old-disk=? "
            "new-disk=\"/var/lib/g/a.qcow2\" model=dac old-label=\"+0:+0\" "
            "new-label=\"+1879048193:+1879048193\"");
}

TEST(AuditRecords, RestoreTakesTheDiskBackFromTheGuest) {
  AuditRecord r = audit::resourceLabel(kGuest, AuditLabelChange::Restore, "/var/lib/g/a.qcow2",
                                       "dac", "+1879048193:+1879048193", "+0:+0",
                                       AuditOutcome::Success);
  EXPECT_EQ(r.field("reason")->value, "stop");
  EXPECT_EQ(r.field("old-disk")->value, "/var/lib/g/a.qcow2");
  EXPECT_EQ(r.field("new-disk")->value, "?");
  EXPECT_EQ(r.field("old-label")->value, "+1879048193:+1879048193");
  EXPECT_EQ(r.field("new-label")->value, "+0:+0");
}

TEST(AuditRecords, LabelFailureBeforeReadingTheOldLabelWritesUnset) {
  AuditRecord r = audit::resourceLabel(kGuest, AuditLabelChange::Label, "/missing.img", "dac",
                                       std::nullopt, "+1879048193:+1879048193",
                                       AuditOutcome::Failure);
  EXPECT_NE(r.message().find(" old-label=? "), std::string::npos) << r.message();
}

TEST(AuditRecords, OpenOfABlockDeviceCarriesHexMajorMinor) {
  AuditRecord r = audit::resourceOpen(kGuest, "/dev/sdb", makedev(8, 16), AuditAccess::ReadWrite,
                                      AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=disk reason=open vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c path=\"/dev/sdb\" rdev=08:10 access=rw");
}

TEST(AuditRecords, OpenOfARegularFileHasNoDeviceNumber) {
  AuditRecord r = audit::resourceOpen(kGuest, "/nfs/a.img", std::nullopt, AuditAccess::ReadOnly,
                                      AuditOutcome::Failure);
  EXPECT_NE(r.message().find(" rdev=? access=ro"), std::string::npos) << r.message();
}

TEST(AuditRecords, RdevComesFromTheOpenFd) {
  int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(nullFd, 0);
  std::optional<dev_t> rdev = auditRdevOf(nullFd);
  ::close(nullFd);
  ASSERT_TRUE(rdev.has_value());
  EXPECT_EQ(major(*rdev), 1u);  // /dev/null is 1:3 on Linux
  EXPECT_EQ(minor(*rdev), 3u);

  int selfFd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(selfFd, 0);
  EXPECT_FALSE(auditRdevOf(selfFd).has_value());
  ::close(selfFd);
}

TEST(AuditRecords, ControlStartAndStop) {
  AuditRecord start = audit::control(kGuest, AuditControlOp::Start, "booted", 4242,
                                     AuditOutcome::Success);
  EXPECT_EQ(start.type, AuditRecordType::Control);
  EXPECT_EQ(start.message(),
            "virt=kvm op=start reason=booted vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c vm-pid=4242");
  AuditRecord failed = audit::control(kGuest, AuditControlOp::Start, "booted", std::nullopt,
                                      AuditOutcome::Failure);
  EXPECT_NE(failed.message().find(" vm-pid=?"), std::string::npos);
  AuditRecord stop = audit::control(kGuest, AuditControlOp::Stop, "shutdown", 4242,
                                    AuditOutcome::Success);
  EXPECT_NE(stop.message().find("op=stop reason=shutdown"), std::string::npos);
}

TEST(AuditRecords, HostileGuestNameIsHexEncoded) {
  AuditGuest evil{"kvm", "evil name \"q\" 'x'", kGuest.uuid};
  AuditRecord r = audit::control(evil, AuditControlOp::Start, "booted", 1, AuditOutcome::Success);
  // hex of the bytes: no space, quote or '=' can reach the log.
  EXPECT_NE(r.message().find(" vm=6576696C206E616D652022712220277827 "), std::string::npos)
      << r.message();
  EXPECT_EQ(r.field("vm")->value, evil.name);  // the record keeps the decoded value
}

TEST(AuditRecords, NewlineInPathCannotStartAFakeRecord) {
  AuditRecord r = audit::resourceOpen(kGuest, "/a\nres=success", std::nullopt,
                                      AuditAccess::ReadOnly, AuditOutcome::Failure);
  EXPECT_NE(r.message().find(" path=2F610A7265733D73756363657373 "), std::string::npos)
      << r.message();
}

TEST(AuditRecords, LabelsAreEncodedToo) {
  AuditRecord r = audit::machineId(kGuest, "selinux", "a b", "c\"d", AuditOutcome::Success);
  EXPECT_NE(r.message().find(" vm-ctx=612062 img-ctx=632264 "), std::string::npos)
      << r.message();
}

TEST(AuditRecords, NulByteInAValueIsHexEncodedWhole) {
  AuditGuest nul{"kvm", std::string("a\0b", 3), kGuest.uuid};
  AuditRecord r = audit::control(nul, AuditControlOp::Stop, "shutdown", 1, AuditOutcome::Success);
  EXPECT_NE(r.message().find(" vm=610062 "), std::string::npos) << r.message();
}

TEST(AuditRecords, TokenThatIsNotATokenIsEncodedNotTrusted) {
  // virt= and reason= come from seclabel, but a domain type like "kvm x=1"
  // must still not add a field.
  AuditGuest odd{"kvm res=success", "g", kGuest.uuid};
  AuditRecord r = audit::control(odd, AuditControlOp::Stop, "a b", 1, AuditOutcome::Failure);
  EXPECT_EQ(r.message().rfind("virt=6B766D207265733D73756363657373 ", 0), 0u) << r.message();
  EXPECT_NE(r.message().find(" reason=612062 "), std::string::npos) << r.message();
}

// Network devices: libvirt's virDomainAuditNetDevice and virDomainAuditNet.

TEST(AuditRecords, NetDeviceOpenCarriesMacPathAndUpperCaseRdev) {
  AuditRecord r = audit::netDeviceOpen(kGuest, "52:54:00:12:34:56", "/dev/net/tun",
                                       makedev(10, 200), AuditOutcome::Success);
  EXPECT_EQ(r.type, AuditRecordType::Resource);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=net reason=open vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c net=52:54:00:12:34:56 "
            "path=\"/dev/net/tun\" rdev=0A:C8");
}

TEST(AuditRecords, NetDeviceOpenThatFailedBeforeAnFdHasNoRdev) {
  AuditRecord r = audit::netDeviceOpen(kGuest, "52:54:00:12:34:56", "/dev/vhost-net",
                                       std::nullopt, AuditOutcome::Failure);
  EXPECT_EQ(r.outcome, AuditOutcome::Failure);
  EXPECT_NE(r.message().find(" path=\"/dev/vhost-net\" rdev=?"), std::string::npos)
      << r.message();
}

TEST(AuditRecords, NetDeviceOpenRdevOfALargeMinorIsNotTruncated) {
  // A macvtap's /dev/tapN has a dynamic major and minors past 0xFF.
  AuditRecord r = audit::netDeviceOpen(kGuest, "52:54:00:12:34:56", "/dev/tap7",
                                       makedev(246, 300), AuditOutcome::Success);
  EXPECT_EQ(r.field("rdev")->value, "F6:12C");
}

TEST(AuditRecords, NetStartGivesTheInterfaceToTheGuest) {
  AuditRecord r = audit::netInterface(kGuest, AuditNetChange::Start, "52:54:00:12:34:56",
                                      AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=net reason=start vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c old-net=? new-net=\"52:54:00:12:34:56\"");
}

TEST(AuditRecords, NetStopTakesItBack) {
  AuditRecord r = audit::netInterface(kGuest, AuditNetChange::Stop, "52:54:00:12:34:56",
                                      AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=net reason=stop vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c old-net=\"52:54:00:12:34:56\" new-net=?");
}

TEST(AuditRecords, NetAttachAndDetachForHotplug) {
  AuditRecord attach = audit::netInterface(kGuest, AuditNetChange::Attach, "52:54:00:aa:bb:cc",
                                           AuditOutcome::Failure);
  EXPECT_EQ(attach.field("reason")->value, "attach");
  EXPECT_EQ(attach.field("old-net")->value, "?");
  EXPECT_EQ(attach.field("new-net")->value, "52:54:00:aa:bb:cc");
  AuditRecord detach = audit::netInterface(kGuest, AuditNetChange::Detach, "52:54:00:aa:bb:cc",
                                           AuditOutcome::Success);
  EXPECT_EQ(detach.field("reason")->value, "detach");
  EXPECT_EQ(detach.field("old-net")->value, "52:54:00:aa:bb:cc");
  EXPECT_EQ(detach.field("new-net")->value, "?");
}

TEST(AuditRecords, DiskAttachAndDetachInLibvirtsWords) {
  AuditRecord attach = audit::diskHotplug(kGuest, AuditDiskChange::Attach, "/images/data.qcow2",
                                          AuditOutcome::Success);
  EXPECT_EQ(attach.message(),
            "virt=kvm resrc=disk reason=attach vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c old-disk=? new-disk=\"/images/data.qcow2\"");
  AuditRecord detach = audit::diskHotplug(kGuest, AuditDiskChange::Detach, "/images/data.qcow2",
                                          AuditOutcome::Failure);
  EXPECT_EQ(detach.outcome, AuditOutcome::Failure);
  EXPECT_EQ(detach.message(),
            "virt=kvm resrc=disk reason=detach vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c old-disk=\"/images/data.qcow2\" new-disk=?");
  // A path that is not a token cannot forge a field.
  AuditRecord forged = audit::diskHotplug(kGuest, AuditDiskChange::Attach, "/x res=success",
                                          AuditOutcome::Failure);
  EXPECT_EQ(forged.field("new-disk")->value, "/x res=success");
  EXPECT_EQ(forged.message().find(" res=success"), std::string::npos) << forged.message();
}

TEST(AuditRecords, NetFailedStartAfterAnAclRefusal) {
  AuditRecord r = audit::netInterface(kGuest, AuditNetChange::Start, "52:54:00:12:34:56",
                                      AuditOutcome::Failure);
  EXPECT_EQ(r.outcome, AuditOutcome::Failure);
  EXPECT_EQ(r.field("new-net")->value, "52:54:00:12:34:56");
}

TEST(AuditRecords, NetValuesThatAreNotTokensCannotForgeFields) {
  AuditRecord r = audit::netDeviceOpen(kGuest, "x res=success", "/dev/tap1 rdev=01:03",
                                       std::nullopt, AuditOutcome::Failure);
  EXPECT_EQ(r.message().find("res=success"), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find("rdev=01:03"), std::string::npos) << r.message();
  EXPECT_EQ(r.field("net")->value, "x res=success");
}

TEST(AuditRecords, SingleQuoteCannotEndTheMessageAndForgeAUuid) {
  // A stranger asks the broker for this guest name; quoted as before, the
  // kernel log read `vm="x'uuid=<victim>'res=success'"` and ausearch filed
  // the refusal under the victim's uuid.
  AuditGuest forged{"kvm", "x'uuid=11111111-1111-1111-1111-111111111111'res=success'", "?"};
  AuditRecord r = audit::resourceOpen(forged, "vda", std::nullopt, AuditAccess::ReadOnly,
                                      AuditOutcome::Failure);
  EXPECT_EQ(r.message().find('\''), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find("uuid=1111"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(" vm=78277575"), std::string::npos) << r.message();
}

// The words of a message: each must be exactly one name=value with a known
// name, and the value bare, "quoted" without anything that ends quotes, or hex.
std::vector<std::string> fieldNamesOf(const std::string& message) {
  std::vector<std::string> names;
  size_t begin = 0;
  while (begin <= message.size()) {
    size_t end = message.find(' ', begin);
    if (end == std::string::npos) end = message.size();
    std::string word = message.substr(begin, end - begin);
    size_t eq = word.find('=');
    names.push_back(eq == std::string::npos ? "<no '=' in " + word + ">" : word.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
    EXPECT_EQ(value.find('='), std::string::npos) << word;
    if (!value.empty() && value.front() == '"') {
      EXPECT_EQ(value.back(), '"') << word;
      EXPECT_EQ(value.substr(1, value.size() - 2).find_first_of("\"'\\"), std::string::npos)
          << word;
    }
    begin = end + 1;
  }
  return names;
}

TEST(AuditRecords, HostileValuesAreOneFieldEachWithNothingThatEndsAQuote) {
  const std::vector<std::string> hostile = {
      "x'uuid=11111111-1111-1111-1111-111111111111'res=success'",
      "a \"b\" c",
      "web res=success",
      "a=b",
      "msg='",
      "res=success",
      "a\ntype=VIRT_CONTROL msg=audit(1.0:1): res=success",
      "tab\tcr\r",
      "del\x7f",
      "\x1b[31mred\x1b[0m",
      "g\xc3\xa4st-\xe5\x90\x8d",
      "\xff\xfe",
      "back\\slash\\012",
      std::string("nul\0uuid=x", 10),
      std::string(1024, '\''),
  };
  const std::vector<std::string> expected = {"virt", "resrc", "reason", "vm",  "uuid",
                                             "path", "rdev",  "access"};
  for (const std::string& value : hostile) {
    SCOPED_TRACE(::testing::PrintToString(value));
    AuditRecord r = audit::resourceOpen({"kvm", value, "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"},
                                        value, std::nullopt, AuditAccess::ReadOnly,
                                        AuditOutcome::Failure);
    const std::string message = r.message();
    EXPECT_EQ(fieldNamesOf(message), expected) << message;
    for (unsigned char c : message) {
      EXPECT_TRUE(c > 0x20 || c == ' ') << "control byte in " << message;
      EXPECT_LT(c, 0x7f) << "non-ASCII byte in " << message;
      EXPECT_NE(c, '\'') << message;
    }
    EXPECT_EQ(r.field("vm")->value, value);
  }
}

TEST(AuditRecords, EncodesEveryByteLibauditWouldAndQuotesEqualsBackslashToo) {
  for (int byte = 1; byte < 256; ++byte) {
    const std::string value = std::string("a") + static_cast<char>(byte) + "b";
    const std::string message =
        audit::control({"kvm", value, "u"}, AuditControlOp::Stop, "shutdown", 1,
                       AuditOutcome::Success)
            .message();
    const bool hex = message.find(" vm=\"") == std::string::npos;
    if (audit_value_needs_encoding(value.c_str(), static_cast<unsigned>(value.size()))) {
      EXPECT_TRUE(hex) << "libaudit encodes byte " << byte << " and so must we: " << message;
    }
    const bool safe = byte > 0x20 && byte < 0x7f && byte != '"' && byte != '\'' &&
                      byte != '=' && byte != '\\';
    EXPECT_EQ(hex, !safe) << "byte " << byte << ": " << message;
  }
}

TEST(AuditRecords, TokenWithAQuoteOrSpaceIsHexNeverBare) {
  AuditGuest odd{"kvm", "g", "x'y z"};
  AuditRecord r = audit::control(odd, AuditControlOp::Stop, "it's", 1, AuditOutcome::Failure);
  EXPECT_NE(r.message().find(" uuid=782779207A"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(" reason=69742773 "), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find('\''), std::string::npos) << r.message();
}


constexpr std::string_view kCgroup = "/sys/fs/cgroup/devices/seclabel/6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c";

TEST(AuditRecords, CgroupDenyAllHasLibvirtsFieldsInOrder) {
  AuditRecord r = audit::cgroupAll(kGuest, AuditCgroupChange::Deny, kCgroup, AuditOutcome::Success);
  EXPECT_EQ(r.type, AuditRecordType::Resource);
  EXPECT_EQ(r.outcome, AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=cgroup reason=deny vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c "
            "cgroup=\"/sys/fs/cgroup/devices/seclabel/6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c\" "
            "class=all");
}

TEST(AuditRecords, CgroupAllowOfADeviceCarriesPathRdevAndAcl) {
  AuditRecord r = audit::cgroupPath(kGuest, AuditCgroupChange::Allow, kCgroup, "/dev/loop3",
                                    makedev(7, 3), "rw", AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=cgroup reason=allow vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c "
            "cgroup=\"/sys/fs/cgroup/devices/seclabel/6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c\" "
            "class=path path=\"/dev/loop3\" rdev=07:03 acl=rw");
}

TEST(AuditRecords, CgroupRdevIsHexLikeLibvirts) {
  // 259:16 (an NVMe partition) is 103:10.
  AuditRecord r = audit::cgroupPath(kGuest, AuditCgroupChange::Allow, kCgroup, "/dev/nvme0n1p1",
                                    makedev(259, 16), "r", AuditOutcome::Success);
  EXPECT_EQ(r.field("rdev")->value, "103:10");
  EXPECT_EQ(r.field("acl")->value, "r");
}

TEST(AuditRecords, CgroupMajorPrintsTheMajorInHex) {
  AuditRecord r = audit::cgroupMajor(kGuest, AuditCgroupChange::Allow, kCgroup, "pty", 136, "rw",
                                     AuditOutcome::Success);
  EXPECT_EQ(r.message(),
            "virt=kvm resrc=cgroup reason=allow vm=\"web1\" "
            "uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c "
            "cgroup=\"/sys/fs/cgroup/devices/seclabel/6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c\" "
            "class=major category=pty maj=88 acl=rw");
}

TEST(AuditRecords, CgroupFailureIsCarriedAsTheOutcome) {
  AuditRecord r = audit::cgroupPath(kGuest, AuditCgroupChange::Deny, kCgroup, "/dev/loop3",
                                    makedev(7, 3), "rwm", AuditOutcome::Failure);
  EXPECT_EQ(r.outcome, AuditOutcome::Failure);
  EXPECT_EQ(r.field("reason")->value, "deny");
}

TEST(AuditRecords, CgroupAndDevicePathAreEncodedLikeUserValues) {
  AuditRecord r = audit::cgroupPath(kGuest, AuditCgroupChange::Allow, "/cg/a b", "/dev/x y",
                                    makedev(1, 3), "rw", AuditOutcome::Success);
  EXPECT_NE(r.message().find(" cgroup=2F63672F612062 class=path path=2F6465762F782079 "),
            std::string::npos)
      << r.message();
}

}  // namespace
}  // namespace seclabel
