// Small helpers over pugixml nodes shared by the parser files: element paths
// for error messages, attribute and text access. Private to xml/.
#pragma once

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

namespace seclabel {

// "/domain/devices/disk[1]/source/seclabel[2]": repeatable elements (disk,
// seclabel, serial, console, interface) and any element with same-named siblings carry a
// 1-based index. Computed only when an error is reported.
std::string elementPath(pugi::xml_node node);

// Throws Error(InvalidInput) "<elementPath(node)>: <reason>".
[[noreturn]] void failAt(pugi::xml_node node, const std::string& reason);

// Runs `check`; an Error it throws gets "<elementPath(node)>: " in front.
template <class Check>
void checkAt(pugi::xml_node node, Check&& check);

// The attribute's value, or nullopt when the attribute is absent.
std::optional<std::string_view> attributeValue(pugi::xml_node node, const char* name);

// The element's text (its text and CDATA children joined, like XPath
// string() over a text-only element); an element child is an error.
std::string elementText(pugi::xml_node node);

// "'value'" for messages.
std::string quote(std::string_view value);

// quote(value) when the value is short and printable; otherwise its size
// ("a value of 70000 bytes"), so that hostile input cannot make an error
// line huge or carry control characters to a terminal.
std::string quoteShort(std::string_view value);

}  // namespace seclabel

#include "core/error.h"

template <class Check>
void seclabel::checkAt(pugi::xml_node node, Check&& check) {
  try {
    check();
  } catch (const Error& e) {
    throw e.withContext(elementPath(node));
  }
}
