// Checks on the raw bytes of a domain document, before pugixml sees them.
//
// pugixml is fast and lenient: it does not validate UTF-8, accepts control
// characters, leaves undefined entity references as literal text and never
// expands a DTD. libvirt's parser (libxml2) rejects all of that, and a
// document seclabel accepts must be one libvirt accepts, so these rules are
// enforced here, in one linear pass.
#pragma once

#include <cstddef>
#include <string_view>

namespace seclabel {

// Largest domain document accepted. Real definitions are a few KiB.
inline constexpr std::size_t kMaxDomainXmlSize = 16 * 1024 * 1024;

// Throws Error(InvalidInput) "line N: <reason>" (or "/: <reason>" for the size)
// when the document is too large, is not UTF-8, contains a character XML 1.0
// forbids, has a DOCTYPE (no DTD, hence no entity expansion at all), or
// references an entity other than the five predefined ones or a valid
// character reference.
void checkDomainXmlInput(std::string_view text);

}  // namespace seclabel
