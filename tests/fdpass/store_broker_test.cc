// fdpass/store_broker.h: the broker's view of the store (which guests, which
// disks, which uid) and its audit trail, without a socket or a server.
#include "fdpass/store_broker.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/temp_dir.h"

namespace seclabel {
namespace {

const char kUuid[] = "5ec1abe1-0000-4000-8000-000000000b01";

class RecordingAuditLog final : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord& record) override { records.push_back(record); }
  std::vector<AuditRecord> records;
};

std::string value(const AuditRecord& record, std::string_view name) {
  const AuditField* field = record.field(name);
  return field ? field->value : "<none>";
}

class StoreBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    // The state directory must be one only root can change.
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the store's trusted state directory";
    store_ = openSqliteStore(dir_.file("state"));
    GuestRecord guest;
    guest.uuid = kUuid;
    guest.name = "brokered";
    guest.domainType = "qemu";
    guest.liveXml =
        "<domain type='qemu'><name>brokered</name><uuid>" + std::string(kUuid) +
        "</uuid><seclabel type='dynamic' model='dac' relabel='yes'><label>+1879048200:+1879048200"
        "</label><imagelabel>+1879048200:+1879048200</imagelabel></seclabel><devices>"
        "<disk type='file' device='disk'><source file='/images/a.img'/><target dev='vda'/></disk>"
        "<disk type='file' device='disk'><source file='/images/b.iso'/><target dev='vdb'/>"
        "<readonly/></disk></devices></domain>";
    store_->putGuest(guest);
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreBroker, DirectoryGivesTheGuestsUidAndEachDiskWithItsAccess) {
  StoreGuestDirectory directory(*store_);
  for (const std::string& key : {std::string("brokered"), std::string(kUuid)}) {
    auto guest = directory.find(key);
    ASSERT_TRUE(guest.has_value()) << key;
    EXPECT_EQ(guest->uuid, kUuid);
    EXPECT_EQ(guest->name, "brokered");
    ASSERT_TRUE(guest->uid.has_value());
    EXPECT_EQ(*guest->uid, 1879048200u);
    ASSERT_EQ(guest->disks.size(), 2u);
    EXPECT_EQ(guest->disks.at("vda").path, "/images/a.img");
    EXPECT_EQ(guest->disks.at("vda").access, DiskAccess::ReadWrite);
    EXPECT_EQ(guest->disks.at("vdb").access, DiskAccess::ReadOnly);
  }
  EXPECT_FALSE(directory.find("unknown").has_value());
}

TEST_F(StoreBroker, AGuestWithoutLiveXmlIsNotFound) {
  GuestRecord record = *store_->findGuest(kUuid);
  record.liveXml.clear();
  store_->updateGuest(record);
  StoreGuestDirectory directory(*store_);
  EXPECT_FALSE(directory.find("brokered").has_value());
}

TEST_F(StoreBroker, AuditorRecordsPassedFdsAndDenialsWithTheCallersIds) {
  RecordingAuditLog log;
  AuditingBrokerAuditor auditor(log, *store_);
  StoreGuestDirectory directory(*store_);
  const PeerCredentials caller{4321, 1879048200, 1879048200};
  auditor.fdPassed(caller, *directory.find("brokered"), "vda", "/images/a.img", std::nullopt,
                   DiskAccess::ReadWrite, true);
  auditor.denied(caller, "brokered", "vdb", DiskAccess::ReadWrite, "read-only disk");
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[0].outcome, AuditOutcome::Success);
  EXPECT_EQ(value(log.records[0], "virt"), "qemu") << "the guest's domain type";
  EXPECT_EQ(value(log.records[0], "uuid"), kUuid);
  EXPECT_NE(log.records[0].message().find("/images/a.img"), std::string::npos)
      << log.records[0].message();
  EXPECT_EQ(log.records[1].outcome, AuditOutcome::Failure);
  // A denial names the disk's path from the live XML, not just its target.
  EXPECT_NE(log.records[1].message().find("/images/b.iso"), std::string::npos)
      << log.records[1].message();
  for (const AuditRecord& record : log.records)
    EXPECT_NE(record.message().find("4321"), std::string::npos) << "the caller's pid";
}

TEST_F(StoreBroker, AuditorNamesAnUnknownGuestAsTheCallerGaveIt) {
  RecordingAuditLog log;
  AuditingBrokerAuditor auditor(log, *store_);
  auditor.denied({1, 1000, 1000}, "nobody-knows", "vda", DiskAccess::ReadOnly, "no such guest");
  ASSERT_EQ(log.records.size(), 1u);
  EXPECT_EQ(log.records[0].outcome, AuditOutcome::Failure);
  EXPECT_NE(log.records[0].message().find("nobody-knows"), std::string::npos)
      << log.records[0].message();
}

TEST(BrokerLimits, TakeBrokerSectionOfTheConfig) {
  BrokerConfig config;
  config.maxConnectionsPerUid = 3;
  config.maxConnections = 40;
  config.idleTimeoutSeconds = 9;
  config.refusalAuditRate = 2;
  config.refusalAuditBurst = 5;
  const BrokerLimits limits = brokerLimits(config);
  EXPECT_EQ(limits.maxConnectionsPerUid, 3u);
  EXPECT_EQ(limits.maxConnections, 40u);
  EXPECT_EQ(limits.idleTimeout, std::chrono::seconds(9));
  EXPECT_EQ(limits.refusalAudit.ratePerSecond, 2.0);
  EXPECT_EQ(limits.refusalAudit.burst, 5u);
}

}  // namespace
}  // namespace seclabel
