// What the client does against a real 3-member etcd cluster on 127.0.0.1:
// the semantics the store backend relies on.
#include "alloc/etcd/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "alloc/etcd/keys.h"
#include "tests/etcd/etcd_cluster.h"

namespace seclabel::etcd {
namespace {

using seclabel::testing::EtcdCluster;

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (EtcdCluster::available()) cluster_ = EtcdCluster::start(3).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!cluster_) GTEST_SKIP() << "etcd is not installed (Debian: etcd-server)";
    // Each test under its own prefix: the cluster is shared by the suite.
    prefix_ = "/test/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/";
  }
  EtcdClient client() { return EtcdClient(cluster_->clientOptions()); }
  std::string key(const std::string& name) const { return prefix_ + name; }

  static EtcdCluster* cluster_;
  std::string prefix_;
};

EtcdCluster* EtcdClientTest::cluster_ = nullptr;

TEST_F(EtcdClientTest, PutThenRangeReturnsTheValueWithItsRevisions) {
  EtcdClient c = client();
  PutResult put = c.put(PutRequest{key("a"), "value-a", 0});
  RangeResult read = c.range(RangeRequest::single(key("a")));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].key, key("a"));
  EXPECT_EQ(read.kvs[0].value, "value-a");
  EXPECT_EQ(read.kvs[0].createRevision, put.header.revision);
  EXPECT_EQ(read.kvs[0].modRevision, put.header.revision);
  EXPECT_EQ(read.kvs[0].version, 1);
  EXPECT_EQ(read.count, 1);
  EXPECT_GE(read.header.revision, put.header.revision);
  EXPECT_NE(read.header.clusterId, 0u);
}

TEST_F(EtcdClientTest, RangeOfAMissingKeyIsEmpty) {
  RangeResult read = client().range(RangeRequest::single(key("missing")));
  EXPECT_TRUE(read.kvs.empty());
  EXPECT_EQ(read.count, 0);
}

TEST_F(EtcdClientTest, KeysAndValuesAreBytes) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EtcdClient c = client();
  c.put(PutRequest{key(bytes.substr(1)), bytes, 0});
  RangeResult read = c.range(RangeRequest::single(key(bytes.substr(1))));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, bytes);
}

TEST_F(EtcdClientTest, PrefixRangeSeesOnlyItsKeysInByteOrder) {
  EtcdClient c = client();
  for (const char* name : {"dir/b", "dir/a", "dir/c", "dir0", "dis"}) c.put(PutRequest{key(name), name, 0});
  RangeResult read = c.range(RangeRequest::prefix(key("dir/")));
  ASSERT_EQ(read.kvs.size(), 3u);
  EXPECT_EQ(read.kvs[0].key, key("dir/a"));
  EXPECT_EQ(read.kvs[1].key, key("dir/b"));
  EXPECT_EQ(read.kvs[2].key, key("dir/c"));
}

TEST_F(EtcdClientTest, LimitCutsTheRangeAndSaysThereIsMore) {
  EtcdClient c = client();
  for (int i = 0; i < 5; ++i) c.put(PutRequest{key(std::to_string(i)), "x", 0});
  RangeResult read = c.range(RangeRequest::prefix(prefix_).withLimit(2));
  EXPECT_EQ(read.kvs.size(), 2u);
  EXPECT_TRUE(read.more);
  EXPECT_EQ(read.count, 5);
}

TEST_F(EtcdClientTest, DescendingSortWithLimitOneFindsTheLastKey) {
  EtcdClient c = client();
  for (const char* name : {"m", "z", "a"}) c.put(PutRequest{key(name), name, 0});
  RangeResult read = c.range(
      RangeRequest::prefix(prefix_).sortedBy(SortTarget::Key, SortOrder::Descend).withLimit(1));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].key, key("z"));
}

TEST_F(EtcdClientTest, KeysOnlyAndCountOnlyLeaveOutWhatTheySay) {
  EtcdClient c = client();
  c.put(PutRequest{key("k1"), "big value", 0});
  c.put(PutRequest{key("k2"), "big value", 0});
  RangeResult keys = c.range(RangeRequest::prefix(prefix_).keysOnly());
  ASSERT_EQ(keys.kvs.size(), 2u);
  EXPECT_EQ(keys.kvs[0].value, "");
  EXPECT_GT(keys.kvs[0].modRevision, 0);
  RangeResult count = c.range(RangeRequest::prefix(prefix_).countOnly());
  EXPECT_TRUE(count.kvs.empty());
  EXPECT_EQ(count.count, 2);
}

// Next-fit allocation reads "the first held id at or after the cursor" with
// one small range read: zero-padded keys make that numeric order.
TEST_F(EtcdClientTest, ZeroPaddedKeysRangeInNumericOrderFromACursor) {
  EtcdClient c = client();
  for (uint64_t id : {7u, 10u, 100u, 9u, 1000u}) c.put(PutRequest{key(sortableNumber(id)), "", 0});
  RangeResult fromNine = c.range(
      RangeRequest::between(key(sortableNumber(9)), prefixRangeEnd(prefix_)).keysOnly().withLimit(3));
  ASSERT_EQ(fromNine.kvs.size(), 3u);
  EXPECT_EQ(fromNine.kvs[0].key, key(sortableNumber(9)));
  EXPECT_EQ(fromNine.kvs[1].key, key(sortableNumber(10)));
  EXPECT_EQ(fromNine.kvs[2].key, key(sortableNumber(100)));
  EXPECT_TRUE(fromNine.more);
}

TEST_F(EtcdClientTest, DeleteRangeOfAPrefixDeletesOnlyItsKeys) {
  EtcdClient c = client();
  for (const char* name : {"gone/1", "gone/2", "kept"}) c.put(PutRequest{key(name), "x", 0});
  DeleteResult deleted = c.deleteRange(DeleteRequest::prefix(key("gone/")));
  EXPECT_EQ(deleted.deleted, 2);
  EXPECT_EQ(c.range(RangeRequest::prefix(prefix_)).count, 1);
}

TEST_F(EtcdClientTest, TxnGuardedByAbsenceCreatesAKeyOnce) {
  EtcdClient c = client();
  TxnRequest create;
  create.compare = {Compare::absent(key("guest"))};
  create.success = {PutRequest{key("guest"), "first", 0}};
  create.failure = {RangeRequest::single(key("guest"))};
  TxnResult first = c.txn(create);
  EXPECT_TRUE(first.succeeded);
  ASSERT_EQ(first.responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutResult>(first.responses[0]));

  std::get<PutRequest>(create.success[0]).value = "second";
  TxnResult again = c.txn(create);
  EXPECT_FALSE(again.succeeded);
  const auto& holder = std::get<RangeResult>(again.responses.at(0));
  ASSERT_EQ(holder.kvs.size(), 1u);
  EXPECT_EQ(holder.kvs[0].value, "first");
  EXPECT_EQ(holder.kvs[0].createRevision, first.header.revision);
}

TEST_F(EtcdClientTest, TxnIsAllOrNothingAcrossKeys) {
  EtcdClient c = client();
  c.put(PutRequest{key("taken"), "other guest", 0});
  TxnRequest prepare;
  for (const char* name : {"uid", "mcs", "taken"}) {
    prepare.compare.push_back(Compare::absent(key(name)));
    prepare.success.push_back(PutRequest{key(name), "me", 0});
  }
  EXPECT_FALSE(c.txn(prepare).succeeded);
  EXPECT_EQ(c.range(RangeRequest::prefix(prefix_)).count, 1);
}

TEST_F(EtcdClientTest, TxnComparesModRevisionVersionAndValue) {
  EtcdClient c = client();
  PutResult put = c.put(PutRequest{key("cursor"), "17", 0});
  auto holds = [&](Compare compare) {
    TxnRequest t;
    t.compare = {std::move(compare)};
    return c.txn(t).succeeded;
  };
  EXPECT_TRUE(holds(Compare::modRevision(key("cursor"), CompareOp::Equal, put.header.revision)));
  EXPECT_FALSE(holds(Compare::modRevision(key("cursor"), CompareOp::Less, put.header.revision)));
  EXPECT_TRUE(holds(Compare::version(key("cursor"), CompareOp::Equal, 1)));
  EXPECT_TRUE(holds(Compare::createRevision(key("cursor"), CompareOp::Greater, 0)));
  EXPECT_TRUE(holds(Compare::valueOf(key("cursor"), CompareOp::Equal, "17")));
  EXPECT_TRUE(holds(Compare::valueOf(key("cursor"), CompareOp::NotEqual, "18")));
  EXPECT_FALSE(holds(Compare::valueOf(key("missing"), CompareOp::Equal, "")));
}

// Two hosts preparing at once, each with its own client: for every key
// exactly one of the two racing transactions wins.
TEST_F(EtcdClientTest, TwoRacingCreatorsNeverBothWin) {
  constexpr int kKeys = 100;
  std::atomic<int> wins[kKeys] = {};
  auto race = [&](const std::string& who) {
    EtcdClient c = client();
    for (int i = 0; i < kKeys; ++i) {
      TxnRequest t;
      t.compare = {Compare::absent(key(sortableNumber(i)))};
      t.success = {PutRequest{key(sortableNumber(i)), who, 0}};
      if (c.txn(t).succeeded) ++wins[i];
    }
  };
  std::thread a(race, "a"), b(race, "b");
  a.join();
  b.join();
  EtcdClient c = client();
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(wins[i], 1) << "key " << i;
    EXPECT_EQ(c.range(RangeRequest::single(key(sortableNumber(i)))).kvs.at(0).version, 1);
  }
}

TEST_F(EtcdClientTest, TxnThatEtcdRefusesIsRejectedWithItsCode) {
  TxnRequest t;
  t.success = {PutRequest{key("twice"), "1", 0}, PutRequest{key("twice"), "2", 0}};
  try {
    client().txn(t);
    FAIL() << "etcd accepted a txn that puts one key twice";
  } catch (const EtcdError& e) {
    EXPECT_EQ(e.failure(), EtcdFailure::Rejected);
    EXPECT_EQ(e.grpcCode(), 3);
    EXPECT_EQ(e.exitCode(), 1);
    EXPECT_NE(std::string(e.what()).find("duplicate key given in txn request"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(client().range(RangeRequest::single(key("twice"))).count, 0);
}

TEST_F(EtcdClientTest, LeaseKeepsItsKeysUntilRevoked) {
  EtcdClient c = client();
  LeaseGrantResult lease = c.leaseGrant(60);
  EXPECT_NE(lease.id, 0);
  EXPECT_EQ(lease.ttlSeconds, 60);
  c.put(PutRequest{key("alive"), "h1", lease.id});
  EXPECT_EQ(c.range(RangeRequest::single(key("alive"))).kvs.at(0).lease, lease.id);
  LeaseKeepAliveResult refreshed = c.leaseKeepAlive(lease.id);
  EXPECT_EQ(refreshed.id, lease.id);
  EXPECT_EQ(refreshed.ttlSeconds, 60);
}

TEST_F(EtcdClientTest, KeepAliveOfAnUnknownLeaseSaysItHasExpired) {
  EXPECT_EQ(client().leaseKeepAlive(0x7eadbeef).ttlSeconds, 0);
}

TEST_F(EtcdClientTest, StatusOfEachMemberNamesTheSameLeader) {
  EtcdClient c = client();
  int leaders = 0;
  uint64_t leader = c.statusOf(0).leader;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    MemberStatus s = c.statusOf(i);
    EXPECT_EQ(s.leader, leader);
    EXPECT_EQ(s.version, "3.4.23");
    leaders += s.isLeader();
  }
  EXPECT_EQ(leaders, 1);
}

TEST_F(EtcdClientTest, ClientRefusesOptionsItCannotUse) {
  auto refused = [](ClientOptions o) {
    try {
      EtcdClient c(std::move(o));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::InvalidInput) << e.what();
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted";
    return std::string();
  };
  ClientOptions none;
  EXPECT_EQ(refused(none), "etcd client: no endpoint given");
  ClientOptions ftp = cluster_->clientOptions();
  ftp.endpoints = {"ftp://127.0.0.1:2379"};
  EXPECT_EQ(refused(ftp),
            "etcd endpoint: invalid value 'ftp://127.0.0.1:2379': the scheme must be http or https");
  ClientOptions unreadable = cluster_->clientOptions();
  unreadable.tls.caCert = "/nonexistent/ca.crt";
  EXPECT_EQ(refused(unreadable),
            "cannot read store.cacert /nonexistent/ca.crt: No such file or directory");
}

}  // namespace
}  // namespace seclabel::etcd
