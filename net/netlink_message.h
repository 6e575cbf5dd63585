// Netlink messages: a builder for requests and a bounded parser for
// attributes. Nothing here talks to the kernel (netlink_socket.h does).
//
// Every length in a reply is checked against the bytes actually received
// before it is used, so a short or malformed message is an Error, never a
// read past the buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seclabel::netlink {

// One request: nlmsghdr, a fixed header (ifinfomsg, ...), attributes.
class Request {
 public:
  Request(std::uint16_t type, std::uint16_t flags);

  // The fixed family header that follows nlmsghdr. Call once, first.
  template <class Header>
  void putHeader(const Header& header) {
    putRaw(&header, sizeof header);
  }
  void putU32(std::uint16_t type, std::uint32_t value);
  void putBytes(std::uint16_t type, std::span<const std::uint8_t> value);
  // A NUL-terminated string attribute (the kernel's NLA_STRING/NLA_NUL_STRING).
  void putString(std::uint16_t type, std::string_view value);
  // Nested attributes: begin returns a mark for end, which fixes the length.
  std::size_t beginNested(std::uint16_t type);
  void endNested(std::size_t mark);

  // Stamps the sequence number and total length; the bytes to send.
  std::span<const std::uint8_t> finish(std::uint32_t sequence);
  std::uint16_t type() const;

 private:
  void putRaw(const void* data, std::size_t size);
  void putAttribute(std::uint16_t type, const void* data, std::size_t size);
  std::vector<std::uint8_t> bytes_;
};

// A parsed run of attributes (rtattr/nlattr share the layout). Views into
// the caller's buffer: it must outlive the Attributes.
class Attributes {
 public:
  // Throws Error when an attribute's length is shorter than its header or
  // runs past `data`.
  static Attributes parse(std::span<const std::uint8_t> data);

  // The last attribute of `type` (the kernel sends each once), nested flag
  // masked off.
  std::optional<std::span<const std::uint8_t>> get(std::uint16_t type) const;
  // A u32 attribute; nullopt when absent, Error when shorter than 4 bytes.
  std::optional<std::uint32_t> u32(std::uint16_t type) const;
  std::optional<std::uint8_t> u8(std::uint16_t type) const;
  // A string attribute up to its first NUL (or its end).
  std::optional<std::string> string(std::uint16_t type) const;
  // The attributes nested in `type`; empty when absent.
  Attributes nested(std::uint16_t type) const;

 private:
  struct Entry {
    std::uint16_t type;
    std::span<const std::uint8_t> value;
  };
  std::vector<Entry> entries_;
};

}  // namespace seclabel::netlink
