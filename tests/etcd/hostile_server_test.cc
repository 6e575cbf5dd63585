// Replies no etcd would send, from a fake member on 127.0.0.1: each ends in
// a clean EtcdError of the right kind, on one line, with bounded memory; a
// write whose fate the reply leaves open is never sent again.
#include "alloc/etcd/client.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>

#include "tests/etcd/fake_etcd_server.h"

namespace seclabel::etcd {
namespace {

using seclabel::testing::FakeEtcdServer;
using Reply = FakeEtcdServer::Reply;
using namespace std::chrono_literals;

const char kRangeReply[] = R"({"header":{"cluster_id":"1","member_id":"2","revision":"9","raft_term":"2"},
  "kvs":[{"key":"L2s=","create_revision":"3","mod_revision":"3","version":"1","value":"dg=="}],"count":"1"})";
const char kTxnWonReply[] = R"({"header":{"revision":"10"},"succeeded":true,
  "responses":[{"response_put":{"header":{"revision":"10"}}}]})";

FakeEtcdServer::Handler always(Reply reply) {
  return [reply](const FakeEtcdServer::Request&) { return reply; };
}

ClientOptions optionsFor(std::vector<std::string> endpoints, std::chrono::milliseconds timeout = 2000ms) {
  ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.timeout = timeout;
  return options;
}

TxnRequest createKey() {
  TxnRequest t;
  t.compare = {Compare::absent("/k")};
  t.success = {PutRequest{"/k", "v", 0}};
  return t;
}

// The EtcdError a call ends with (and that it ends with one).
EtcdError errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const EtcdError& e) {
    EXPECT_EQ(e.exitCode(), 1);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e;
  }
  ADD_FAILURE() << "the call succeeded";
  return EtcdError(EtcdFailure::Rejected, "none");
}

std::string closedPortUrl() {
  // Port 1 on loopback: nothing listens there (and only root could).
  return "http://127.0.0.1:1";
}

TEST(EtcdHostileServer, AnsweringAReadWithGarbageIsABadReplyNamingTheEndpoint) {
  FakeEtcdServer server(always(Reply::json(200, "{\"header\": {\"revision\": ")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({server.url()})).range(RangeRequest::single("/k")); });
  EXPECT_EQ(e.failure(), EtcdFailure::BadReply);
  EXPECT_EQ(std::string(e.what()),
            "etcd range: no usable answer: " + server.url() + ": bad reply: reply: not valid JSON");
  EXPECT_EQ(server.requests(), 1) << "an endpoint that answers nonsense is not asked again";
}

TEST(EtcdHostileServer, WrongBase64InAReplyIsABadReply) {
  FakeEtcdServer server(always(Reply::json(200, R"({"header":{"revision":"1"},"kvs":[{"key":"L2s=","value":"dg="}]})")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({server.url()})).range(RangeRequest::single("/k")); });
  EXPECT_EQ(e.failure(), EtcdFailure::BadReply);
  EXPECT_NE(std::string(e.what()).find("kvs[0].value: not valid base64"), std::string::npos) << e.what();
}

TEST(EtcdHostileServer, AReadMovesOnFromANonsenseReplyToAGoodMember) {
  FakeEtcdServer bad(always(Reply::json(200, "[]")));
  FakeEtcdServer good(always(Reply::json(200, kRangeReply)));
  EtcdClient client(optionsFor({bad.url(), good.url()}));
  EXPECT_EQ(client.range(RangeRequest::single("/k")).kvs.at(0).value, "v");
  EXPECT_EQ(client.currentEndpoint(), 1u);
}

TEST(EtcdHostileServer, AnEndlessReplyIsCutOffAtTheLimitWithBoundedMemory) {
  FakeEtcdServer server(always(Reply::flood(size_t(512) << 20)));
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  EtcdError e = errorOf([&] {
    EtcdClient(optionsFor({server.url()}, 20000ms)).range(RangeRequest::single("/k"));
  });
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(e.failure(), EtcdFailure::BadReply);
  EXPECT_NE(std::string(e.what()).find("reply larger than 33554432 bytes"), std::string::npos) << e.what();
  // ru_maxrss is in KiB: the client held at most about the 32 MiB limit, not
  // the 512 MiB the server was ready to send.
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 128 * 1024);
}

TEST(EtcdHostileServer, ADeclaredLengthOverTheLimitIsRefusedBeforeReading) {
  FakeEtcdServer server(always(Reply::verbatim(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{")));
  ClientOptions options = optionsFor({server.url()});
  options.maxReplyBytes = 4096;
  EtcdError e = errorOf([&] { EtcdClient(options).range(RangeRequest::single("/k")); });
  EXPECT_EQ(e.failure(), EtcdFailure::BadReply);
  EXPECT_NE(std::string(e.what()).find("reply larger than 4096 bytes"), std::string::npos) << e.what();
}

TEST(EtcdHostileServer, ATxnWhoseConnectionDropsAfterSendingIsUnknownAndNotResent) {
  FakeEtcdServer dropping(always(Reply::close()));
  FakeEtcdServer good(always(Reply::json(200, kTxnWonReply)));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({dropping.url(), good.url()})).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown);
  EXPECT_EQ(std::string(e.what()).rfind("etcd txn: outcome unknown: " + dropping.url() +
                                            ": connection lost after the request was sent",
                                        0),
            0u)
      << e.what();
  EXPECT_EQ(dropping.requests(), 1) << "libcurl resent the txn on its own";
  EXPECT_EQ(good.requests(), 0) << "the txn was resent to the next member";
}

// libcurl sends a request again by itself when a kept-alive connection
// turns out dead before any reply: a txn must not be among them.
TEST(EtcdHostileServer, ATxnOnAKeptAliveConnectionThatDiesIsNotResentByLibcurl) {
  FakeEtcdServer server([](const FakeEtcdServer::Request& request) {
    return request.path == "/v3/kv/range" ? Reply::json(200, kRangeReply) : Reply::close();
  });
  EtcdClient client(optionsFor({server.url()}));
  client.range(RangeRequest::single("/k"));  // opens the connection that is kept
  EtcdError e = errorOf([&] { client.txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown) << e.what();
  // libcurl may open the fresh connection before it asks to rewind the body;
  // what matters is that the txn never arrives on it.
  EXPECT_EQ(server.requests(), 2) << "the txn was sent twice";
}

TEST(EtcdHostileServer, ARangeWhoseConnectionDropsIsAskedOfTheNextMember) {
  FakeEtcdServer dropping(always(Reply::close()));
  FakeEtcdServer good(always(Reply::json(200, kRangeReply)));
  EtcdClient client(optionsFor({dropping.url(), good.url()}));
  EXPECT_EQ(client.range(RangeRequest::single("/k")).kvs.size(), 1u);
  EXPECT_EQ(good.requests(), 1);
}

TEST(EtcdHostileServer, ATxnGoesToTheNextMemberWhenTheFirstRefusesConnections) {
  FakeEtcdServer good(always(Reply::json(200, kTxnWonReply)));
  EXPECT_TRUE(EtcdClient(optionsFor({closedPortUrl(), good.url()})).txn(createKey()).succeeded);
  EXPECT_EQ(good.requests(), 1);
}

TEST(EtcdHostileServer, ATxnWithoutAnAnswerBeforeTheDeadlineIsUnknown) {
  FakeEtcdServer silent(always(Reply::hang()));
  FakeEtcdServer good(always(Reply::json(200, kTxnWonReply)));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({silent.url(), good.url()}, 500ms)).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown);
  EXPECT_NE(std::string(e.what()).find("no answer after the request was sent"), std::string::npos) << e.what();
  EXPECT_EQ(good.requests(), 0);
}

TEST(EtcdHostileServer, ATxnThatEtcdSaysTimedOutIsUnknown) {
  FakeEtcdServer timedOut(always(Reply::json(503, R"({"error":"etcdserver: request timed out",
      "message":"etcdserver: request timed out","code":14})")));
  FakeEtcdServer good(always(Reply::json(200, kTxnWonReply)));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({timedOut.url(), good.url()})).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown);
  EXPECT_EQ(std::string(e.what()),
            "etcd txn: outcome unknown: " + timedOut.url() +
                ": etcd answered 'etcdserver: request timed out' (gRPC code 14); it may or may not "
                "have been applied");
  EXPECT_EQ(good.requests(), 0);
}

TEST(EtcdHostileServer, ATxnRefusedForWantOfALeaderGoesToTheNextMember) {
  FakeEtcdServer leaderless(always(Reply::json(503, R"({"error":"etcdserver: no leader",
      "message":"etcdserver: no leader","code":14})")));
  FakeEtcdServer good(always(Reply::json(200, kTxnWonReply)));
  EXPECT_TRUE(EtcdClient(optionsFor({leaderless.url(), good.url()})).txn(createKey()).succeeded);
}

TEST(EtcdHostileServer, ATxnRejectedByEtcdIsRejectedWithItsCode) {
  FakeEtcdServer refusing(always(Reply::json(400, R"({"error":"etcdserver: too many operations in txn request",
      "message":"etcdserver: too many operations in txn request","code":3})")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({refusing.url()})).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::Rejected);
  EXPECT_EQ(e.grpcCode(), 3);
}

TEST(EtcdHostileServer, AGarbledAnswerToATxnIsUnknown) {
  FakeEtcdServer garbling(always(Reply::json(200, R"({"header":{"revision":"10"},"succeeded":"yes"})")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({garbling.url()})).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown);
  EXPECT_NE(std::string(e.what()).find("bad reply: succeeded: expected true or false"), std::string::npos)
      << e.what();
}

TEST(EtcdHostileServer, ATxnResultForTheWrongBranchIsUnknown) {
  FakeEtcdServer lying(always(Reply::json(200, R"({"header":{"revision":"10"},"succeeded":true,
      "responses":[{"response_range":{"header":{"revision":"10"}}}]})")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({lying.url()})).txn(createKey()); });
  EXPECT_EQ(e.failure(), EtcdFailure::OutcomeUnknown);
}

TEST(EtcdHostileServer, AnErrorPageThatIsNotEtcdsIsUnknownForATxnAndSkippedForARead) {
  Reply page = Reply::verbatim(
      "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 18\r\n\r\n<h1>upstream</h1>\n",
      Reply::Action::Send);
  FakeEtcdServer proxy(always(page));
  FakeEtcdServer good(always(Reply::json(200, kRangeReply)));
  EtcdClient client(optionsFor({proxy.url(), good.url()}));
  EXPECT_EQ(errorOf([&] { client.txn(createKey()); }).failure(), EtcdFailure::OutcomeUnknown);
  EXPECT_EQ(client.range(RangeRequest::single("/k")).kvs.size(), 1u);
}

TEST(EtcdHostileServer, ARedirectIsNotFollowed) {
  FakeEtcdServer redirecting(always(Reply::verbatim(
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/v3/kv/range\r\n"
      "Content-Length: 0\r\n\r\n",
      Reply::Action::Send)));
  EtcdError e = errorOf([&] {
    EtcdClient(optionsFor({redirecting.url()}, 300ms)).range(RangeRequest::single("/k"));
  });
  EXPECT_NE(std::string(e.what()).find("HTTP status 307 without an etcd error"), std::string::npos) << e.what();
}

TEST(EtcdHostileServer, ServerTextInAnErrorStaysOneShortLine) {
  std::string message = "line one\nline two\r\x1b[31m" + std::string(100000, 'x');
  FakeEtcdServer refusing(always(Reply::json(
      400, R"({"error":"x","code":9,"message":")" + [&] {
        std::string escaped;
        for (char c : message) {
          if (c == '\n') escaped += "\\n";
          else if (c == '\r') escaped += "\\r";
          else if (c == '\x1b') escaped += "\\u001b";
          else escaped += c;
        }
        return escaped;
      }() + "\"}")));
  EtcdError e = errorOf([&] { EtcdClient(optionsFor({refusing.url()})).range(RangeRequest::single("/k")); });
  EXPECT_EQ(e.failure(), EtcdFailure::Rejected);
  EXPECT_LT(std::string(e.what()).size(), 400u);
  EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("line one?line two??[31m"), std::string::npos) << e.what();
}

TEST(EtcdHostileServer, ManyCallsShareOneKeptAliveConnection) {
  FakeEtcdServer server(always(Reply::json(200, kRangeReply)));
  EtcdClient client(optionsFor({server.url()}));
  for (int i = 0; i < 20; ++i) client.range(RangeRequest::single("/k"));
  EXPECT_EQ(server.requests(), 20);
  EXPECT_EQ(server.connections(), 1);
}

TEST(EtcdHostileServer, ProxyVariablesInTheEnvironmentAreIgnored) {
  FakeEtcdServer server(always(Reply::json(200, kRangeReply)));
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    ::setenv(name, "http://127.0.0.1:1", 1);
  EtcdClient client(optionsFor({server.url()}));
  EXPECT_NO_THROW(client.range(RangeRequest::single("/k")));
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    ::unsetenv(name);
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace seclabel::etcd
