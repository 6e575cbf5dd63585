// The netlink builder's layout and the parser's bounds checks.
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/netlink_message.h"
#include "net/rtnetlink.h"

namespace seclabel::netlink {
namespace {

TEST(NetlinkMessage, RequestCarriesLengthSequenceAndAlignedAttributes) {
  Request request(RTM_NEWLINK, NLM_F_CREATE);
  ifinfomsg info{};
  info.ifi_index = 7;
  request.putHeader(info);
  request.putString(IFLA_IFNAME, "br0");
  request.putU32(IFLA_MTU, 1400);
  auto bytes = request.finish(42);
  nlmsghdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  EXPECT_EQ(header.nlmsg_len, bytes.size());
  EXPECT_EQ(header.nlmsg_seq, 42u);
  EXPECT_EQ(header.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(bytes.size() % 4, 0u);
  // "br0\0" is 4 bytes: header 16 + ifinfomsg 16 + (4+4) + (4+4).
  EXPECT_EQ(bytes.size(), 16u + 16u + 8u + 8u);
  auto attributes = Attributes::parse(bytes.subspan(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof info)));
  EXPECT_EQ(attributes.string(IFLA_IFNAME), "br0");
  EXPECT_EQ(attributes.u32(IFLA_MTU), 1400u);
  EXPECT_FALSE(attributes.u32(IFLA_MASTER).has_value());
}

TEST(NetlinkMessage, NestedAttributesGetTheirLengthAndFlag) {
  Request request(RTM_NEWLINK, 0);
  request.putHeader(ifinfomsg{});
  std::size_t outer = request.beginNested(IFLA_LINKINFO);
  request.putString(IFLA_INFO_KIND, "macvtap");
  std::size_t inner = request.beginNested(IFLA_INFO_DATA);
  request.putU32(IFLA_MACVLAN_MODE, MACVLAN_MODE_VEPA);
  request.endNested(inner);
  request.endNested(outer);
  auto bytes = request.finish(1);
  auto top = Attributes::parse(bytes.subspan(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg))));
  auto linkInfo = top.nested(IFLA_LINKINFO);
  EXPECT_EQ(linkInfo.string(IFLA_INFO_KIND), "macvtap");
  EXPECT_EQ(linkInfo.nested(IFLA_INFO_DATA).u32(IFLA_MACVLAN_MODE), unsigned(MACVLAN_MODE_VEPA));
}

TEST(NetlinkMessage, AttributeRunningPastTheBufferIsAnError) {
  std::uint8_t bytes[8] = {};
  nlattr attribute{};
  attribute.nla_len = 200;  // claims more than there is
  attribute.nla_type = IFLA_IFNAME;
  std::memcpy(bytes, &attribute, sizeof attribute);
  EXPECT_THROW(Attributes::parse(bytes), Error);
  attribute.nla_len = 2;  // shorter than its own header
  std::memcpy(bytes, &attribute, sizeof attribute);
  EXPECT_THROW(Attributes::parse(bytes), Error);
}

TEST(NetlinkMessage, ShortU32IsAnErrorNotARead) {
  Request request(RTM_NEWLINK, 0);
  request.putHeader(ifinfomsg{});
  std::uint8_t two[2] = {1, 2};
  request.putBytes(IFLA_MTU, two);
  auto bytes = request.finish(1);
  auto attributes = Attributes::parse(bytes.subspan(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg))));
  EXPECT_THROW(attributes.u32(IFLA_MTU), Error);
}

TEST(NetlinkMessage, TruncatedLinkMessageIsAnError) {
  Reply reply(NLMSG_HDRLEN + 4, 0);
  EXPECT_THROW(decodeLinkMessage(reply), Error);
}

}  // namespace
}  // namespace seclabel::netlink
