#include "net/netlink_message.h"

#include <linux/netlink.h>

#include <cstring>

#include "core/error.h"

namespace seclabel::netlink {
namespace {

constexpr std::size_t align(std::size_t size) { return NLA_ALIGN(size); }

}  // namespace

Request::Request(std::uint16_t type, std::uint16_t flags) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  putRaw(&header, sizeof header);
}

void Request::putRaw(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
  bytes_.resize(align(bytes_.size()), 0);
}

void Request::putAttribute(std::uint16_t type, const void* data, std::size_t size) {
  nlattr attribute{};
  attribute.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + size);
  attribute.nla_type = type;
  std::size_t start = bytes_.size();
  bytes_.resize(start + align(NLA_HDRLEN + size), 0);
  std::memcpy(bytes_.data() + start, &attribute, sizeof attribute);
  if (size != 0) std::memcpy(bytes_.data() + start + NLA_HDRLEN, data, size);
}

void Request::putU32(std::uint16_t type, std::uint32_t value) {
  putAttribute(type, &value, sizeof value);
}

void Request::putBytes(std::uint16_t type, std::span<const std::uint8_t> value) {
  putAttribute(type, value.data(), value.size());
}

void Request::putString(std::uint16_t type, std::string_view value) {
  std::string terminated(value);
  putAttribute(type, terminated.c_str(), terminated.size() + 1);
}

std::size_t Request::beginNested(std::uint16_t type) {
  std::size_t mark = bytes_.size();
  putAttribute(type | NLA_F_NESTED, nullptr, 0);
  return mark;
}

void Request::endNested(std::size_t mark) {
  nlattr attribute;
  std::memcpy(&attribute, bytes_.data() + mark, sizeof attribute);
  attribute.nla_len = static_cast<std::uint16_t>(bytes_.size() - mark);
  std::memcpy(bytes_.data() + mark, &attribute, sizeof attribute);
}

std::span<const std::uint8_t> Request::finish(std::uint32_t sequence) {
  nlmsghdr header;
  std::memcpy(&header, bytes_.data(), sizeof header);
  header.nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
  header.nlmsg_seq = sequence;
  std::memcpy(bytes_.data(), &header, sizeof header);
  return bytes_;
}

std::uint16_t Request::type() const {
  nlmsghdr header;
  std::memcpy(&header, bytes_.data(), sizeof header);
  return header.nlmsg_type;
}

Attributes Attributes::parse(std::span<const std::uint8_t> data) {
  Attributes result;
  std::size_t offset = 0;
  while (data.size() - offset >= NLA_HDRLEN) {
    nlattr attribute;
    std::memcpy(&attribute, data.data() + offset, sizeof attribute);
    if (attribute.nla_len < NLA_HDRLEN || attribute.nla_len > data.size() - offset)
      throw Error(ExitCode::Failed, "malformed netlink attribute in a kernel reply");
    result.entries_.push_back(
        {static_cast<std::uint16_t>(attribute.nla_type & NLA_TYPE_MASK),
         data.subspan(offset + NLA_HDRLEN, attribute.nla_len - NLA_HDRLEN)});
    offset += align(attribute.nla_len);
    if (offset > data.size()) break;  // the last attribute needs no padding
  }
  return result;
}

std::optional<std::span<const std::uint8_t>> Attributes::get(std::uint16_t type) const {
  std::optional<std::span<const std::uint8_t>> found;
  for (const Entry& entry : entries_)
    if (entry.type == type) found = entry.value;
  return found;
}

std::optional<std::uint32_t> Attributes::u32(std::uint16_t type) const {
  auto value = get(type);
  if (!value) return std::nullopt;
  if (value->size() < sizeof(std::uint32_t))
    throw Error(ExitCode::Failed, "short u32 netlink attribute " + std::to_string(type));
  std::uint32_t result;
  std::memcpy(&result, value->data(), sizeof result);
  return result;
}

std::optional<std::uint8_t> Attributes::u8(std::uint16_t type) const {
  auto value = get(type);
  if (!value) return std::nullopt;
  if (value->empty())
    throw Error(ExitCode::Failed, "empty u8 netlink attribute " + std::to_string(type));
  return (*value)[0];
}

std::optional<std::string> Attributes::string(std::uint16_t type) const {
  auto value = get(type);
  if (!value) return std::nullopt;
  std::string text(reinterpret_cast<const char*>(value->data()), value->size());
  return text.substr(0, text.find('\0'));
}

Attributes Attributes::nested(std::uint16_t type) const {
  auto value = get(type);
  return value ? parse(*value) : Attributes{};
}

}  // namespace seclabel::netlink
