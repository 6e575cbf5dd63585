// The JSON the client writes for etcd's gateway, and how it reads replies:
// every field checked, nothing guessed.
#include "alloc/etcd/wire.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace seclabel::etcd::wire {
namespace {

using nlohmann::json;

std::string malformedReason(const std::function<void()>& decode) {
  try {
    decode();
  } catch (const MalformedReply& e) {
    return e.what();
  }
  ADD_FAILURE() << "no MalformedReply";
  return "";
}

TxnRequest createOneKey() {
  TxnRequest txn;
  txn.compare.push_back(Compare::absent("/k"));
  txn.success.push_back(PutRequest{"/k", "v", 0});
  txn.failure.push_back(RangeRequest::single("/k"));
  return txn;
}

TEST(Wire, RangeRequestCarriesBase64KeysAndStringNumbers) {
  json j = json::parse(encodeRange(RangeRequest::prefix("/p/")
                                       .withLimit(3)
                                       .sortedBy(SortTarget::Key, SortOrder::Descend)
                                       .keysOnly()));
  EXPECT_EQ(j, json::parse(R"({"key":"L3Av","range_end":"L3Aw","limit":"3",
                               "sort_order":"DESCEND","keys_only":true})"));
}

TEST(Wire, TxnRequestNamesCompareTargetsAndOps) {
  TxnRequest txn;
  txn.compare = {Compare::absent("a"), Compare::modRevision("b", CompareOp::Less, 7),
                 Compare::version("c", CompareOp::Greater, 1),
                 Compare::valueOf("d", CompareOp::NotEqual, "x")};
  txn.success = {PutRequest{"a", "1", 0}, DeleteRequest::single("b")};
  txn.failure = {RangeRequest::single("a")};
  json j = json::parse(encodeTxn(txn));
  EXPECT_EQ(j["compare"], json::parse(R"([
    {"key":"YQ==","target":"CREATE","result":"EQUAL","create_revision":"0"},
    {"key":"Yg==","target":"MOD","result":"LESS","mod_revision":"7"},
    {"key":"Yw==","target":"VERSION","result":"GREATER","version":"1"},
    {"key":"ZA==","target":"VALUE","result":"NOT_EQUAL","value":"eA=="}])"));
  EXPECT_EQ(j["success"], json::parse(R"([{"request_put":{"key":"YQ==","value":"MQ=="}},
                                          {"request_delete_range":{"key":"Yg=="}}])"));
  EXPECT_EQ(j["failure"], json::parse(R"([{"request_range":{"key":"YQ=="}}])"));
}

TEST(Wire, DecodesARangeReplyAsEtcdWritesIt) {
  RangeResult r = decodeRange(R"({"header":{"cluster_id":"324952591200643719",
      "member_id":"3319814642761637952","revision":"5","raft_term":"2"},
      "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"YmFy"}],
      "more":true,"count":"7"})");
  EXPECT_EQ(r.header.clusterId, 324952591200643719u);
  EXPECT_EQ(r.header.revision, 5);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].key, "foo");
  EXPECT_EQ(r.kvs[0].value, "bar");
  EXPECT_EQ(r.kvs[0].createRevision, 2);
  EXPECT_EQ(r.kvs[0].modRevision, 4);
  EXPECT_EQ(r.kvs[0].version, 3);
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 7);
}

TEST(Wire, OmittedFieldsAreTheirDefaults) {
  RangeResult r = decodeRange(R"({"header":{"revision":"1"}})");
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.count, 0);
}

TEST(Wire, DecodesATxnReplyForTheBranchThatRan) {
  TxnRequest txn = createOneKey();
  TxnResult won = decodeTxn(R"({"header":{"revision":"3"},"succeeded":true,
      "responses":[{"response_put":{"header":{"revision":"3"}}}]})", txn);
  EXPECT_TRUE(won.succeeded);
  ASSERT_EQ(won.responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutResult>(won.responses[0]));

  TxnResult lost = decodeTxn(R"({"header":{"revision":"3"},
      "responses":[{"response_range":{"header":{"revision":"3"},
                    "kvs":[{"key":"L2s=","create_revision":"2","mod_revision":"2","version":"1"}],
                    "count":"1"}}]})", txn);
  EXPECT_FALSE(lost.succeeded);
  ASSERT_EQ(lost.responses.size(), 1u);
  const auto& range = std::get<RangeResult>(lost.responses[0]);
  ASSERT_EQ(range.kvs.size(), 1u);
  EXPECT_EQ(range.kvs[0].key, "/k");
  EXPECT_EQ(range.kvs[0].value, "");
}

TEST(Wire, RefusesATxnReplyThatDoesNotMatchItsBranch) {
  TxnRequest txn = createOneKey();
  EXPECT_EQ(malformedReason([&] {
              decodeTxn(R"({"header":{"revision":"3"},"succeeded":true,"responses":[]})", txn);
            }),
            "responses: 0 responses for 1 ops of the success branch");
  EXPECT_EQ(malformedReason([&] {
              decodeTxn(R"({"header":{"revision":"3"},"succeeded":true,
                  "responses":[{"response_range":{}}]})", txn);
            }),
            "responses[0]: expected response_put for a put op");
}

TEST(Wire, RefusesWhatIsNotAJsonObject) {
  EXPECT_EQ(malformedReason([] { decodeRange("{\"header\":"); }), "reply: not valid JSON");
  EXPECT_EQ(malformedReason([] { decodeRange("<html>502</html>"); }), "reply: not valid JSON");
  EXPECT_EQ(malformedReason([] { decodeRange("[1,2]"); }), "reply: not a JSON object");
  EXPECT_EQ(malformedReason([] { decodeRange(""); }), "reply: not valid JSON");
}

TEST(Wire, RefusesAReplyWithoutAHeader) {
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"kvs":[]})"); }), "header: missing");
}

TEST(Wire, RefusesFieldsOfTheWrongType) {
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"header":{"revision":{}}})"); }),
            "header.revision: expected an integer");
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"header":{"revision":"12abc"}})"); }),
            "header.revision: expected an integer, got \"12abc\"");
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"header":{"revision":"1"},"kvs":{}})"); }),
            "kvs: expected an array");
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"header":{"revision":"1"},"more":"yes"})"); }),
            "more: expected true or false");
  EXPECT_EQ(malformedReason([] { decodeRange(R"({"header":{"member_id":"-1"}})"); }),
            "header.member_id: expected an integer, got \"-1\"");
  EXPECT_EQ(malformedReason([] {
              decodeRange(R"({"header":{"revision":"99999999999999999999"}})");
            }),
            "header.revision: expected an integer, got \"99999999999999999999\"");
}

TEST(Wire, RefusesKeysAndValuesThatAreNotStrictBase64) {
  EXPECT_EQ(malformedReason([] {
              decodeRange(R"({"header":{"revision":"1"},"kvs":[{"key":"Zm9v"},{"key":"!!!!"}]})");
            }),
            "kvs[1].key: not valid base64");
  EXPECT_EQ(malformedReason([] {
              decodeRange(R"({"header":{"revision":"1"},"kvs":[{"key":"Zm9v","value":"Zh=="}]})");
            }),
            "kvs[0].value: not valid base64");
  EXPECT_EQ(malformedReason([] {
              decodeRange(R"({"header":{"revision":"1"},"kvs":[{"value":"Zm9v"}]})");
            }),
            "kvs[0].key: missing");
}

TEST(Wire, RefusesDeepNestingBeforeParsing) {
  std::string deep = R"({"header":{"revision":"1"},"x":)" + std::string(100000, '[');
  EXPECT_EQ(malformedReason([&] { decodeRange(deep); }), "reply: nested deeper than 16 levels");
  // Brackets inside strings do not count.
  std::string quoted = R"({"header":{"revision":"1"},"x":")" + std::string(100, '[') + "\"}";
  EXPECT_NO_THROW(decodeRange(quoted));
}

TEST(Wire, ReadsBothShapesOfEtcdErrors) {
  auto plain = decodeError(R"({"error":"etcdserver: request timed out",
                               "message":"etcdserver: request timed out","code":14})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->code, 14);
  EXPECT_EQ(plain->message, "etcdserver: request timed out");
  auto streamed = decodeError(R"({"error":{"grpc_code":5,"http_code":404,
      "message":"etcdserver: requested lease not found","http_status":"Not Found"}})");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->code, 5);
  EXPECT_EQ(streamed->message, "etcdserver: requested lease not found");
}

TEST(Wire, AResultIsNoError) {
  EXPECT_FALSE(decodeError(R"({"header":{"revision":"1"}})"));
  EXPECT_FALSE(decodeError(R"({"header":{"revision":"1"},"ID":"5","TTL":"10","error":""})"));
  EXPECT_FALSE(decodeError("not json"));
}

TEST(Wire, DecodesMemberStatus) {
  MemberStatus s = decodeStatus(R"({"header":{"cluster_id":"1","member_id":"42","revision":"3",
      "raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"42","raftIndex":"7",
      "raftTerm":"2","raftAppliedIndex":"7","dbSizeInUse":"16384"})");
  EXPECT_EQ(s.version, "3.4.23");
  EXPECT_TRUE(s.isLeader());
  EXPECT_EQ(s.raftIndex, 7u);
  MemberStatus alone = decodeStatus(R"({"header":{"member_id":"42","revision":"1"},
      "errors":["etcdserver: no leader"]})");
  EXPECT_FALSE(alone.isLeader());
  EXPECT_EQ(alone.errors, std::vector<std::string>{"etcdserver: no leader"});
}

}  // namespace
}  // namespace seclabel::etcd::wire
