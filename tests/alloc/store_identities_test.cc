// Allocation, reservation and release on a real SQLite store.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "alloc/mcs_encoding.h"
#include "alloc/store.h"
#include "core/error.h"
#include "tests/alloc/store_audit.h"
#include "tests/alloc/temp_state_dir.h"

namespace seclabel {
namespace {

using testing::TempStateDir;

constexpr uint64_t kFirst = 1879048192;

Owner guest(int n) {
  return Owner{"00000000-0000-0000-0000-00000000000" + std::to_string(n % 10),
               "guest" + std::to_string(n), "host-a"};
}

AllocationSpace dacRange(uint32_t first, uint32_t last) {
  DacConfig config;
  config.range = IdRange{first, last};
  return AllocationSpace::dac(config);
}

class StoreIdentities : public ::testing::Test {
 protected:
  TempStateDir dir;
  std::unique_ptr<Store> store = openSqliteStore(dir.stateDir());
  AllocationSpace tiny = dacRange(kFirst, kFirst + 63);

  void TearDown() override {
    EXPECT_EQ(testing::auditStateDatabase(dir.databasePath()), std::vector<std::string>{});
  }
};

TEST_F(StoreIdentities, AllocatesFromTheStartOfAnEmptySpace) {
  EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst);
  EXPECT_EQ(store->holderOf(IdentityKind::Dac, kFirst), guest(1));
}

TEST_F(StoreIdentities, NextFitDoesNotReuseAReleasedIdUntilTheSpaceWraps) {
  EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst);
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 1);
  store->release(IdentityKind::Dac, kFirst, guest(1).guestUuid);
  EXPECT_EQ(store->allocate(tiny, guest(3)), kFirst + 2);
  for (uint64_t id = kFirst + 3; id <= kFirst + 63; ++id)
    ASSERT_EQ(store->allocate(tiny, guest(4)), id);
  // Past the end: back to the start, where kFirst is free again.
  EXPECT_EQ(store->allocate(tiny, guest(5)), kFirst);
}

TEST_F(StoreIdentities, CursorPersistsAcrossReopening) {
  store->allocate(tiny, guest(1));
  store->release(IdentityKind::Dac, kFirst, guest(1).guestUuid);
  store.reset();
  store = openSqliteStore(dir.stateDir());
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 1);
}

TEST_F(StoreIdentities, GapSearchFindsTheHolesAfterTheCursorInOrder) {
  for (int i = 0; i < 64; ++i) store->allocate(tiny, guest(1));
  for (uint64_t hole : {kFirst + 40, kFirst + 7, kFirst + 41, kFirst + 63})
    store->release(IdentityKind::Dac, hole, guest(1).guestUuid);
  // The cursor wrapped to kFirst after the 64th allocation.
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 7);
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 40);
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 41);
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 63);
  EXPECT_THROW(store->allocate(tiny, guest(2)), Error);
}

TEST_F(StoreIdentities, FullSpaceFailsAtOnceWithExitCodeThreeAndTheCount) {
  for (int i = 0; i < 64; ++i) store->allocate(tiny, guest(1));
  auto started = std::chrono::steady_clock::now();
  try {
    store->allocate(tiny, guest(2));
    FAIL() << "allocated from a full space";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_EQ(error.exitCode(), 3);
    EXPECT_STREQ(error.what(),
                 "no free dac identity in 1879048192-1879048255 (64 of 64 in use)");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

TEST_F(StoreIdentities, FullMcsSpaceNamesTheCategoryRange) {
  AllocationSpace space = AllocationSpace::mcs(CategoryRange{10, 20});
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < space.size(); ++i) {
    uint64_t code = store->allocate(space, guest(1));
    McsPair pair = decodeMcsPair(code);
    ASSERT_GE(pair.first(), 10u);
    ASSERT_LE(pair.second(), 20u);
    ASSERT_TRUE(seen.insert(code).second);
  }
  try {
    store->allocate(space, guest(1));
    FAIL() << "allocated from a full space";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_STREQ(error.what(), "no free selinux category pair in c10.c20 (55 of 55 in use)");
  }
}

TEST_F(StoreIdentities, DacAndMcsIdsAreSeparateNamespaces) {
  AllocationSpace mcs = AllocationSpace::custom(IdentityKind::Mcs, "test", {{kFirst, kFirst + 1}});
  EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst);
  EXPECT_EQ(store->allocate(mcs, guest(2)), kFirst);
}

TEST_F(StoreIdentities, OverlappingSpacesNeverHandOutTheSameId) {
  // A config change shifted the range: ids are unique by value, not by space.
  AllocationSpace before = dacRange(kFirst, kFirst + 9);
  AllocationSpace after = dacRange(kFirst + 5, kFirst + 14);
  for (int i = 0; i < 10; ++i) store->allocate(before, guest(1));
  for (uint64_t expected = kFirst + 10; expected <= kFirst + 14; ++expected)
    EXPECT_EQ(store->allocate(after, guest(2)), expected);
  EXPECT_THROW(store->allocate(after, guest(2)), Error);
}

TEST_F(StoreIdentities, SkipsIdsPresentInThePasswdOrGroupDatabase) {
  // 65534 is nobody/nogroup on Debian; the range straddles it.
  ASSERT_TRUE(uidExists(65534)) << "this test needs the nobody account";
  AllocationSpace space = dacRange(65530, 65537);
  std::set<uint64_t> expected;
  for (uint64_t id = 65530; id <= 65537; ++id)
    if (!uidExists(uint32_t(id)) && !gidExists(uint32_t(id))) expected.insert(id);
  ASSERT_FALSE(expected.count(65534));

  std::set<uint64_t> allocated;
  for (std::size_t i = 0; i < expected.size(); ++i) allocated.insert(store->allocate(space, guest(1)));
  EXPECT_EQ(allocated, expected);
  try {
    store->allocate(space, guest(1));
    FAIL() << "allocated more ids than the space has free";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    std::string expectedMessage = "no free dac identity in 65530-65537 (" +
                                  std::to_string(expected.size()) + " of 8 in use, " +
                                  std::to_string(8 - expected.size()) +
                                  " present in the passwd or group database)";
    EXPECT_EQ(error.what(), expectedMessage);
  }
}

TEST_F(StoreIdentities, SkipsAnIdWhoseGidIsAGroupEvenIfNoUserHasIt) {
  // gid_range maps the first uid onto gid 65534 (nogroup), the second onto 65535.
  DacConfig config;
  config.range = IdRange{uint32_t(kFirst), uint32_t(kFirst + 1)};
  config.gidRange = IdRange{65534, 65535};
  ASSERT_TRUE(gidExists(65534));
  ASSERT_FALSE(gidExists(65535));
  ASSERT_FALSE(uidExists(uint32_t(kFirst)));
  EXPECT_EQ(store->allocate(AllocationSpace::dac(config), guest(1)), kFirst + 1);
}

TEST_F(StoreIdentities, ReserveSucceedsWhenFreeAndAgainForTheSameGuest) {
  store->reserve(IdentityKind::Dac, kFirst + 5, guest(1));
  store->reserve(IdentityKind::Dac, kFirst + 5, guest(1));
  EXPECT_EQ(store->identitiesOf(guest(1).guestUuid).size(), 1u);
}

TEST_F(StoreIdentities, ReserveOfAnotherGuestsIdNamesTheHolder) {
  store->reserve(IdentityKind::Mcs, encodeMcsPair(3, 9), guest(1));
  try {
    store->reserve(IdentityKind::Mcs, encodeMcsPair(3, 9), guest(2));
    FAIL() << "two guests hold one pair";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
    EXPECT_STREQ(error.what(),
                 "selinux category pair c3,c9 is already held by guest guest1 "
                 "(00000000-0000-0000-0000-000000000001) on host host-a");
  }
  EXPECT_EQ(store->holderOf(IdentityKind::Mcs, encodeMcsPair(3, 9)), guest(1));
}

TEST_F(StoreIdentities, ReservedIdsAreSkippedByAllocation) {
  store->reserve(IdentityKind::Dac, kFirst, guest(1));
  store->reserve(IdentityKind::Dac, kFirst + 1, guest(1));
  EXPECT_EQ(store->allocate(tiny, guest(2)), kFirst + 2);
}

TEST_F(StoreIdentities, AllocatedIdCannotBeReservedByAnotherGuest) {
  uint64_t id = store->allocate(tiny, guest(1));
  EXPECT_THROW(store->reserve(IdentityKind::Dac, id, guest(2)), Error);
}

TEST_F(StoreIdentities, ReleaseIsIdempotent) {
  uint64_t id = store->allocate(tiny, guest(1));
  store->release(IdentityKind::Dac, id, guest(1).guestUuid);
  store->release(IdentityKind::Dac, id, guest(1).guestUuid);
  EXPECT_EQ(store->holderOf(IdentityKind::Dac, id), std::nullopt);
}

TEST_F(StoreIdentities, ReleaseByAnotherGuestLeavesTheIdHeld) {
  uint64_t id = store->allocate(tiny, guest(1));
  store->release(IdentityKind::Dac, id, guest(2).guestUuid);
  EXPECT_EQ(store->holderOf(IdentityKind::Dac, id), guest(1));
}

TEST_F(StoreIdentities, ReleaseAllOfFreesEveryIdentityOfOneGuestOnly) {
  store->allocate(tiny, guest(1));
  store->allocate(tiny, guest(2));
  store->reserve(IdentityKind::Mcs, 77, guest(1));
  store->releaseAllOf(guest(1).guestUuid);
  EXPECT_TRUE(store->identitiesOf(guest(1).guestUuid).empty());
  EXPECT_EQ(store->identitiesOf(guest(2).guestUuid).size(), 1u);
}

TEST_F(StoreIdentities, CountInUseCountsOnlyTheSpace) {
  store->allocate(tiny, guest(1));
  store->allocate(tiny, guest(1));
  store->reserve(IdentityKind::Dac, kFirst + 100, guest(1));
  EXPECT_EQ(store->countInUse(tiny), 2u);
}

TEST_F(StoreIdentities, UncommittedTransactionLeavesNoIdentityAndNoCursorMove) {
  {
    auto transaction = store->begin();
    EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst);
    EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst + 1);
  }
  EXPECT_TRUE(store->identitiesOf(guest(1).guestUuid).empty());
  EXPECT_EQ(store->allocate(tiny, guest(1)), kFirst);
}

TEST_F(StoreIdentities, CommittedTransactionKeepsAllItsWork) {
  auto transaction = store->begin();
  store->allocate(tiny, guest(1));
  store->reserve(IdentityKind::Mcs, 5, guest(1));
  transaction->commit();
  transaction.reset();
  EXPECT_EQ(store->identitiesOf(guest(1).guestUuid).size(), 2u);
}

TEST_F(StoreIdentities, AFailedCallInsideATransactionUndoesOnlyItself) {
  store->reserve(IdentityKind::Dac, kFirst + 9, guest(2));
  auto transaction = store->begin();
  store->allocate(tiny, guest(1));
  EXPECT_THROW(store->reserve(IdentityKind::Dac, kFirst + 9, guest(1)), Error);
  transaction->commit();
  transaction.reset();
  EXPECT_EQ(store->identitiesOf(guest(1).guestUuid).size(), 1u);
}

TEST_F(StoreIdentities, OneTransactionAtATimePerStore) {
  auto transaction = store->begin();
  EXPECT_THROW(store->begin(), Error);
}

}  // namespace
}  // namespace seclabel
