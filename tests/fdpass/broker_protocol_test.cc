// The broker's request parser is strict: anyone on the host can write to it.
#include "fdpass/broker_protocol.h"

#include <gtest/gtest.h>

namespace seclabel {
namespace {

void expectRefused(const std::string& text, const std::string& because) {
  try {
    parseBrokerRequest(text);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(e.what()).find(because), std::string::npos)
        << "for " << text << ": " << e.what();
  }
}

TEST(BrokerRequest, ParsesAWellFormedRequest) {
  BrokerRequest r =
      parseBrokerRequest(R"({"op":"open","guest":"web1","disk":"vda","access":"rw"})");
  EXPECT_EQ(r.guest, "web1");
  EXPECT_EQ(r.disk, "vda");
  EXPECT_EQ(r.access, DiskAccess::ReadWrite);
}

TEST(BrokerRequest, RoundTripsThroughItsFormatter) {
  BrokerRequest r{"5f0c2e1a-8d5c-4c1b-9d8e-0a1b2c3d4e5f", "sdb", DiskAccess::ReadOnly};
  BrokerRequest back = parseBrokerRequest(formatBrokerRequest(r));
  EXPECT_EQ(back.guest, r.guest);
  EXPECT_EQ(back.disk, r.disk);
  EXPECT_EQ(back.access, r.access);
}

TEST(BrokerRequest, RefusesWhatIsNotAnObject) {
  expectRefused("", "not JSON");
  expectRefused("{", "not JSON");
  expectRefused("[1,2]", "not a JSON object");
  expectRefused("\"open\"", "not a JSON object");
}

TEST(BrokerRequest, RefusesUnknownAndMissingFields) {
  expectRefused(R"({"op":"open","guest":"a","disk":"vda","access":"ro","uid":0})",
                "unknown field \"uid\"");
  expectRefused(R"({"op":"open","guest":"a","access":"ro"})", "missing \"disk\"");
}

TEST(BrokerRequest, RefusesDuplicateFields) {
  expectRefused(R"({"op":"open","guest":"a","guest":"b","disk":"vda","access":"ro"})",
                "duplicate field");
}

TEST(BrokerRequest, RefusesWrongTypes) {
  expectRefused(R"({"op":"open","guest":7,"disk":"vda","access":"ro"})",
                "\"guest\" must be a string");
  expectRefused(R"({"op":"open","guest":"a","disk":["vda"],"access":"ro"})",
                "\"disk\" must be a string");
  expectRefused(R"({"op":"open","guest":"a","disk":"vda","access":true})",
                "\"access\" must be a string");
}

TEST(BrokerRequest, RefusesUnknownOpAndAccess) {
  expectRefused(R"({"op":"unlink","guest":"a","disk":"vda","access":"ro"})",
                "\"op\" must be \"open\"");
  expectRefused(R"({"op":"open","guest":"a","disk":"vda","access":"wo"})",
                "\"access\" must be \"ro\" or \"rw\"");
}

TEST(BrokerRequest, RefusesEmptyOverlongAndControlCharacters) {
  expectRefused(R"({"op":"open","guest":"","disk":"vda","access":"ro"})", "is empty");
  expectRefused(R"({"op":"open","guest":"a","disk":")" + std::string(65, 'x') +
                    R"(","access":"ro"})",
                "longer than 64");
  expectRefused(R"({"op":"open","guest":"a\nb","disk":"vda","access":"ro"})",
                "control character");
  expectRefused(R"({"op":"open","guest":"a\u0000b","disk":"vda","access":"ro"})",
                "control character");
}

TEST(BrokerRequest, RefusesOversizedText) {
  std::string big = R"({"op":"open","guest":"a","disk":"vda","access":"ro","pad":")" +
                    std::string(kMaxBrokerRequestBytes, ' ') + "\"}";
  expectRefused(big, "larger than");
}

TEST(BrokerRequest, RefusesInvalidUtf8) {
  expectRefused("{\"op\":\"open\",\"guest\":\"\xff\",\"disk\":\"vda\",\"access\":\"ro\"}",
                "not JSON");
}

TEST(BrokerReplyFormat, GrantRoundTrips) {
  BrokerGrantDescription grant{"web1",
                               "uuid-1",
                               "vda",
                               "/img/web1.qcow2",
                               DiskAccess::ReadWrite,
                               {{FdMode::ReadWrite, "rdwr:/img/web1.qcow2"},
                                {FdMode::ReadOnly, "rdonly:/img/web1.qcow2"}}};
  BrokerReply reply = parseBrokerReply(formatBrokerGrant(grant));
  ASSERT_TRUE(reply.ok);
  EXPECT_EQ(reply.grant.path, "/img/web1.qcow2");
  ASSERT_EQ(reply.grant.fdset.size(), 2u);
  EXPECT_EQ(reply.grant.fdset[0].mode, FdMode::ReadWrite);
  EXPECT_EQ(reply.grant.fdset[1].opaque, "rdonly:/img/web1.qcow2");
}

TEST(BrokerReplyFormat, RefusalKeepsItsCodeAndReason) {
  BrokerReply reply =
      parseBrokerReply(formatBrokerRefusal(ExitCode::PermissionDenied, "not yours"));
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.refusalCode, ExitCode::PermissionDenied);
  EXPECT_EQ(reply.refusalReason, "not yours");
}

TEST(BrokerReplyFormat, PathThatIsNotUtf8DoesNotBreakTheReply) {
  BrokerGrantDescription grant{"g", "u", "vda", "/img/\xff.raw", DiskAccess::ReadOnly,
                               {{FdMode::ReadOnly, "rdonly:/img/\xff.raw"}}};
  EXPECT_TRUE(parseBrokerReply(formatBrokerGrant(grant)).ok);
}

}  // namespace
}  // namespace seclabel
