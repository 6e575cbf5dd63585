// Guest records, remembered resources, fd-passed disks and intents on a real
// SQLite store.
#include <gtest/gtest.h>

#include <limits>

#include "alloc/store.h"
#include "core/error.h"
#include "tests/alloc/store_audit.h"
#include "tests/alloc/temp_state_dir.h"

namespace seclabel {
namespace {

using testing::TempStateDir;

const std::string kUuidA = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
const std::string kUuidB = "c7a5fdbd-cdaf-9455-926a-d65c16db1810";

GuestRecord guestRecord(const std::string& uuid, const std::string& name) {
  GuestRecord guest;
  guest.uuid = uuid;
  guest.name = name;
  guest.domainType = "kvm";
  guest.liveXml = "<domain type='kvm'><name>" + name + "</name></domain>";
  guest.host = "host-a";
  guest.drivers = {"selinux", "dac"};
  return guest;
}

RememberedResource image(uint64_t ino = 4242) {
  RememberedResource resource;
  resource.dev = 0x803;
  resource.ino = ino;
  resource.path = "/var/lib/guests/a.qcow2";
  resource.uid = 107;
  resource.gid = 108;
  resource.mode = 0640;
  resource.selinuxLabel = "system_u:object_r:virt_image_t:s0";
  return resource;
}

class StoreRecords : public ::testing::Test {
 protected:
  TempStateDir dir;
  std::unique_ptr<Store> store = openSqliteStore(dir.stateDir());

  void TearDown() override {
    EXPECT_EQ(testing::auditStateDatabase(dir.databasePath()), std::vector<std::string>{});
  }
};

// ---- guests ----

TEST_F(StoreRecords, GuestIsFoundByUuidAndByNameWithEveryField) {
  GuestRecord guest = guestRecord(kUuidA, "web");
  guest.state = GuestState::Running;
  guest.pid = 4321;
  guest.pidStartTime = 987654321;
  store->putGuest(guest);
  guest.generation = 1;  // the store numbers instances, from 1
  EXPECT_EQ(store->findGuest(kUuidA), guest);
  EXPECT_EQ(store->findGuest("web"), guest);
  EXPECT_EQ(store->findGuest("nope"), std::nullopt);
}

TEST_F(StoreRecords, PreparingAUuidTwiceIsAConflictNamingTheGuest) {
  store->putGuest(guestRecord(kUuidA, "web"));
  try {
    store->putGuest(guestRecord(kUuidA, "web2"));
    FAIL() << "same uuid stored twice";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_EQ(std::string(error.what()), "guest web (" + kUuidA + ") is already prepared");
  }
}

TEST_F(StoreRecords, GuestNamesAreUnique) {
  store->putGuest(guestRecord(kUuidA, "web"));
  try {
    store->putGuest(guestRecord(kUuidB, "web"));
    FAIL() << "same name stored twice";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_EQ(std::string(error.what()), "guest web (" + kUuidA + ") is already prepared");
  }
}

TEST_F(StoreRecords, UpdateReplacesTheRecordAndClearsThePid) {
  GuestRecord guest = guestRecord(kUuidA, "web");
  guest.pid = 10;
  store->putGuest(guest);
  guest.generation = 1;  // an update keeps the instance's number
  guest.state = GuestState::Failed;
  guest.pid.reset();
  guest.liveXml = "<domain/>";
  store->updateGuest(guest);
  EXPECT_EQ(store->findGuest(kUuidA), guest);
}

TEST_F(StoreRecords, UpdatingAnUnknownGuestIsInvalidInput) {
  try {
    store->updateGuest(guestRecord(kUuidA, "web"));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_EQ(std::string(error.what()), "no such guest: " + kUuidA);
  }
}

TEST_F(StoreRecords, ListIsOrderedByNameAndDeleteForgetsTheGuest) {
  store->putGuest(guestRecord(kUuidA, "zeta"));
  store->putGuest(guestRecord(kUuidB, "alpha"));
  auto guests = store->listGuests();
  ASSERT_EQ(guests.size(), 2u);
  EXPECT_EQ(guests[0].name, "alpha");
  EXPECT_EQ(guests[1].name, "zeta");
  store->deleteGuest(kUuidB);
  store->deleteGuest(kUuidB);
  EXPECT_EQ(store->listGuests().size(), 1u);
  EXPECT_EQ(store->findGuest("alpha"), std::nullopt);
}

TEST_F(StoreRecords, ForEachGuestVisitsEveryGuestInNameOrderWithEveryField) {
  GuestRecord running = guestRecord(kUuidA, "zeta");
  running.state = GuestState::Running;
  running.pid = 4321;
  running.pidStartTime = 99;
  store->putGuest(running);
  store->putGuest(guestRecord(kUuidB, "alpha"));
  // The store numbers each instance (GuestRecord::generation): the
  // expected records carry the numbers it gave.
  GuestRecord alpha = guestRecord(kUuidB, "alpha");
  alpha.generation = store->findGuest(kUuidB)->generation;
  running.generation = store->findGuest(kUuidA)->generation;
  EXPECT_NE(alpha.generation, running.generation);
  std::vector<GuestRecord> visited;
  store->forEachGuest([&](const GuestRecord& guest) { visited.push_back(guest); });
  EXPECT_EQ(visited, (std::vector<GuestRecord>{alpha, running}));
  EXPECT_EQ(visited, store->listGuests());
}

TEST_F(StoreRecords, AnExceptionFromTheVisitorEndsForEachGuestAndTheStoreGoesOn) {
  store->putGuest(guestRecord(kUuidA, "zeta"));
  store->putGuest(guestRecord(kUuidB, "alpha"));
  int visits = 0;
  EXPECT_THROW(store->forEachGuest([&](const GuestRecord&) {
    ++visits;
    throw std::runtime_error("stop");
  }),
               std::runtime_error);
  EXPECT_EQ(visits, 1);
  store->deleteGuest(kUuidB);
  EXPECT_EQ(store->listGuests().size(), 1u);
}

TEST_F(StoreRecords, RunningGuestsAreThoseInStateRunningWithoutTheirLiveXml) {
  GuestRecord running = guestRecord(kUuidA, "web");
  running.state = GuestState::Running;
  running.pid = 4321;
  running.pidStartTime = 99;
  store->putGuest(running);
  store->putGuest(guestRecord(kUuidB, "db"));  // prepared
  GuestRecord failed = guestRecord("c7a5fdbd-cdaf-9455-926a-d65c16db1811", "cache");
  failed.state = GuestState::Failed;
  store->putGuest(failed);
  GuestRecord expected = running;
  expected.liveXml.clear();
  EXPECT_EQ(store->runningGuests(), std::vector<GuestRecord>{expected});
  running.state = GuestState::Prepared;
  running.pid.reset();
  running.pidStartTime.reset();
  store->updateGuest(running);
  EXPECT_TRUE(store->runningGuests().empty());
}

TEST_F(StoreRecords, InFlightIntentsAreThePendingPreparesAndRestoresOldestFirst) {
  store->recordIntent(kUuidA, IntentKind::Supervise, "{}");
  int64_t restore = store->recordIntent(kUuidA, IntentKind::Restore, "{}");
  store->recordIntent(kUuidA, IntentKind::LabelResource, "{}");
  int64_t prepare = store->recordIntent(kUuidB, IntentKind::Prepare, R"({"pid":1})");
  auto inFlight = store->inFlightIntents();
  ASSERT_EQ(inFlight.size(), 2u);
  EXPECT_EQ(inFlight[0].id, restore);
  EXPECT_EQ(inFlight[0].kind, IntentKind::Restore);
  EXPECT_EQ(inFlight[0].guestUuid, kUuidA);
  EXPECT_EQ(inFlight[1].id, prepare);
  EXPECT_EQ(inFlight[1].payloadJson, R"({"pid":1})");
  store->completeIntent(restore);
  ASSERT_EQ(store->inFlightIntents().size(), 1u);
  EXPECT_EQ(store->pendingIntents().size(), 3u);
}

// ---- remembered resources ----

TEST_F(StoreRecords, FirstReferenceStoresTheOriginalAndLastReturnsIt) {
  EXPECT_TRUE(store->remember(image(), kUuidA, ResourceUse::Exclusive));
  auto restored = store->forget(image().dev, image().ino, kUuidA);
  EXPECT_EQ(restored, image());
  EXPECT_TRUE(store->resourcesOf(kUuidA).empty());
}

TEST_F(StoreRecords, AbsentSelinuxXattrStaysAbsentNotEmpty) {
  RememberedResource original = image();
  original.selinuxLabel.reset();
  original.selinuxXattrSupported = false;
  store->remember(original, kUuidA, ResourceUse::Exclusive);
  EXPECT_EQ(store->forget(original.dev, original.ino, kUuidA), original);
}

TEST_F(StoreRecords, DeviceAndInodeNumbersKeepAllSixtyFourBits) {
  RememberedResource original = image(std::numeric_limits<uint64_t>::max() - 1);
  original.dev = (uint64_t(1) << 63) | 5;
  store->remember(original, kUuidA, ResourceUse::Shared);
  ASSERT_EQ(store->holdersOf(original.dev, original.ino).size(), 1u);
  EXPECT_EQ(store->resourcesOf(kUuidA).at(0).original, original);
}

TEST_F(StoreRecords, ExactXattrsAndTheFileHandleKeepEveryByte) {
  RememberedResource original = image();
  original.xattrs = AccessXattrs{std::string("system_u:object_r:x_t:s0"),  // no trailing NUL
                                 std::string("\x02\0\0\0\x01\0\x06\0\xff\xff\xff\xff", 12),
                                 std::nullopt, std::string("", 0)};
  original.handle = FileHandle{1, std::string("\0\x01\0\xfe\0", 5), ~uint64_t(0) - 7};
  store->remember(original, kUuidA, ResourceUse::Exclusive);
  EXPECT_EQ(store->resourcesOf(kUuidA).at(0).original, original);
  EXPECT_EQ(store->forget(original.dev, original.ino, kUuidA), original);
}

TEST_F(StoreRecords, AnOriginalWithoutHandleOrExactXattrsStaysWithout) {
  RememberedResource original = image();
  ASSERT_FALSE(original.xattrs || original.handle);
  store->remember(original, kUuidA, ResourceUse::Exclusive);
  EXPECT_EQ(store->resourcesOf(kUuidA).at(0).original, original);
}

TEST_F(StoreRecords, SharedImageIsRestoredOnlyWhenTheLastGuestForgetsIt) {
  store->putGuest(guestRecord(kUuidB, "db"));
  EXPECT_TRUE(store->remember(image(), kUuidA, ResourceUse::Shared));
  RememberedResource alreadyRelabeled = image();
  alreadyRelabeled.selinuxLabel = "system_u:object_r:svirt_image_t:s0";
  EXPECT_FALSE(store->remember(alreadyRelabeled, kUuidB, ResourceUse::Shared));
  auto holders = store->holdersOf(image().dev, image().ino);
  ASSERT_EQ(holders.size(), 2u);
  EXPECT_EQ(holders[1].guestName, "db");

  EXPECT_EQ(store->forget(image().dev, image().ino, kUuidA), std::nullopt);
  // The original is the first guest's view, not the relabeled one.
  EXPECT_EQ(store->forget(image().dev, image().ino, kUuidB), image());
}

TEST_F(StoreRecords, SameGuestCountsItsReferences) {
  EXPECT_TRUE(store->remember(image(), kUuidA, ResourceUse::Exclusive));
  EXPECT_FALSE(store->remember(image(), kUuidA, ResourceUse::Exclusive));
  EXPECT_EQ(store->resourcesOf(kUuidA).at(0).references, 2u);
  EXPECT_EQ(store->forget(image().dev, image().ino, kUuidA), std::nullopt);
  EXPECT_EQ(store->forget(image().dev, image().ino, kUuidA), image());
  EXPECT_EQ(store->forget(image().dev, image().ino, kUuidA), std::nullopt);
}

TEST_F(StoreRecords, PrivateImageOfAnotherGuestIsAConflictNamingBothGuests) {
  store->putGuest(guestRecord(kUuidA, "web"));
  store->putGuest(guestRecord(kUuidB, "db"));
  store->remember(image(), kUuidA, ResourceUse::Exclusive);
  try {
    store->remember(image(), kUuidB, ResourceUse::Exclusive);
    FAIL() << "two guests hold one private image";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_EQ(std::string(error.what()),
              "/var/lib/guests/a.qcow2 is in use by guest web (" + kUuidA +
                  ") as a private disk; guest db (" + kUuidB +
                  ") cannot use it as a private disk");
  }
  EXPECT_THROW(store->remember(image(), kUuidB, ResourceUse::Shared), Error);
  EXPECT_EQ(store->holdersOf(image().dev, image().ino).size(), 1u);
}

TEST_F(StoreRecords, SharedImageCannotBecomeAnotherGuestsPrivateImage) {
  store->remember(image(), kUuidA, ResourceUse::Shared);
  EXPECT_THROW(store->remember(image(), kUuidB, ResourceUse::Exclusive), Error);
}

// ---- fd-passed disks ----

TEST_F(StoreRecords, FdPassedDisksArePerGuestAndReplacedByTarget) {
  store->addFdPassedDisk(kUuidA, {"vda", "/nfs/a.img", DiskAccess::ReadWrite});
  store->addFdPassedDisk(kUuidA, {"vdb", "/nfs/b.iso", DiskAccess::ReadOnly});
  store->addFdPassedDisk(kUuidA, {"vda", "/nfs/a2.img", DiskAccess::ReadWrite});
  store->addFdPassedDisk(kUuidB, {"vda", "/nfs/other.img", DiskAccess::ReadWrite});
  EXPECT_EQ(store->fdPassedDisksOf(kUuidA),
            (std::vector<FdPassedDisk>{{"vda", "/nfs/a2.img", DiskAccess::ReadWrite},
                                       {"vdb", "/nfs/b.iso", DiskAccess::ReadOnly}}));
  store->removeFdPassedDisks(kUuidA);
  EXPECT_TRUE(store->fdPassedDisksOf(kUuidA).empty());
  EXPECT_EQ(store->fdPassedDisksOf(kUuidB).size(), 1u);
}

// ---- host objects of guests (cgroup, links, MAC addresses) ----

TEST_F(StoreRecords, CgroupPathIsKeptPerGuestUntilRemoved) {
  EXPECT_EQ(store->guestCgroupOf(kUuidA), std::nullopt);
  store->setGuestCgroup(kUuidA, "/sys/fs/cgroup/devices/seclabel/" + kUuidA);
  store.reset();
  store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(store->guestCgroupOf(kUuidA), "/sys/fs/cgroup/devices/seclabel/" + kUuidA);
  EXPECT_EQ(store->guestCgroupOf(kUuidB), std::nullopt);
  EXPECT_TRUE(store->forgottenGuestsWithHostObjects().empty()) << "its guest is not deleted";
  store->removeGuestCgroup(kUuidA);
  EXPECT_EQ(store->guestCgroupOf(kUuidA), std::nullopt);
  EXPECT_TRUE(store->forgottenGuestsWithHostObjects().empty());
}

TEST_F(StoreRecords, LinkIntentIsCompletedInPlaceOnceTheKernelMadeTheLink) {
  const std::string tag = "seclabel:" + kUuidA + ":net0";
  GuestLinkRecord intent{tag, "52:54:00:00:00:01", std::nullopt, "", "macvtap", std::nullopt,
                         std::nullopt};
  store->recordGuestLink(kUuidA, intent);
  EXPECT_EQ(store->guestLinksOf(kUuidA), std::vector<GuestLinkRecord>{intent});
  GuestLinkRecord made = intent;
  made.ifindex = 7;
  made.name = "macvtap0";
  made.parentIndex = 3;
  made.parentAddress = "02:00:00:00:00:03";
  store->recordGuestLink(kUuidA, made);
  EXPECT_EQ(store->guestLinksOf(kUuidA), std::vector<GuestLinkRecord>{made});
  EXPECT_TRUE(store->guestLinksOf(kUuidB).empty());
  // Kept apart from the guest record: deleting the guest leaves it for recover.
  store->putGuest(guestRecord(kUuidA, "web"));
  store->setGuestCgroup(kUuidA, "/sys/fs/cgroup/devices/seclabel/" + kUuidA);
  store->deleteGuest(kUuidA);
  EXPECT_EQ(store->guestLinksOf(kUuidA).size(), 1u);
  EXPECT_EQ(store->forgottenGuestsWithHostObjects(), std::vector<std::string>{kUuidA});
  store->removeGuestLink(kUuidA, tag);
  store->removeGuestCgroup(kUuidA);
  EXPECT_TRUE(store->guestLinksOf(kUuidA).empty());
  EXPECT_TRUE(store->forgottenGuestsWithHostObjects().empty());
}

TEST_F(StoreRecords, AMacAddressIsTakenOnlyByAnotherGuestUntilItIsDeleted) {
  store->putGuest(guestRecord(kUuidA, "web"));
  store->recordGuestMacs(kUuidA, {"52:54:00:00:00:01", "52:54:00:00:00:02"});
  EXPECT_TRUE(store->macAddressTaken("52:54:00:00:00:02", kUuidB));
  EXPECT_FALSE(store->macAddressTaken("52:54:00:00:00:02", kUuidA));
  EXPECT_FALSE(store->macAddressTaken("52:54:00:00:00:03", kUuidB));
  store->deleteGuest(kUuidA);
  EXPECT_FALSE(store->macAddressTaken("52:54:00:00:00:01", kUuidB));
}

// ---- intents ----

TEST_F(StoreRecords, PendingIntentsSurviveReopeningUntilCompleted) {
  int64_t prepare = store->recordIntent(kUuidA, IntentKind::Prepare, R"({"name":"web"})");
  int64_t label = store->recordIntent(kUuidA, IntentKind::LabelResource, R"({"path":"/a"})");
  store->recordIntent(kUuidB, IntentKind::Restore, "{}");
  store.reset();
  store = openSqliteStore(dir.stateDir());
  auto pending = store->pendingIntents();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].id, prepare);
  EXPECT_EQ(pending[0].kind, IntentKind::Prepare);
  EXPECT_EQ(pending[0].payloadJson, R"({"name":"web"})");
  EXPECT_EQ(pending[1].kind, IntentKind::LabelResource);
  store->completeIntent(label);
  store->completeIntent(label);
  EXPECT_EQ(store->pendingIntentsOf(kUuidA).size(), 1u);
  EXPECT_EQ(store->pendingIntentsOf(kUuidB).at(0).kind, IntentKind::Restore);
}

TEST_F(StoreRecords, WorkInARolledBackTransactionLeavesNoTrace) {
  {
    auto transaction = store->begin();
    store->putGuest(guestRecord(kUuidA, "web"));
    store->remember(image(), kUuidA, ResourceUse::Exclusive);
    store->recordIntent(kUuidA, IntentKind::Prepare, "{}");
  }
  EXPECT_TRUE(store->listGuests().empty());
  EXPECT_TRUE(store->resourcesOf(kUuidA).empty());
  EXPECT_TRUE(store->pendingIntents().empty());
}

}  // namespace
}  // namespace seclabel
