#include "xml/node_util.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace seclabel {

namespace {

bool isRepeatableElement(std::string_view name) {
  return name == "seclabel" || name == "disk" || name == "serial" || name == "console" ||
         name == "interface";
}

}  // namespace

std::string elementPath(pugi::xml_node node) {
  std::vector<std::string> parts;
  for (auto n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    std::size_t index = 1;
    std::size_t count = 0;
    for (auto sibling = n.parent().child(n.name()); sibling;
         sibling = sibling.next_sibling(n.name())) {
      ++count;
      if (sibling == n) index = count;
    }
    std::string part = n.name();
    if (isRepeatableElement(part) || count > 1) part += "[" + std::to_string(index) + "]";
    parts.push_back(std::move(part));
  }
  std::reverse(parts.begin(), parts.end());
  std::string path;
  for (const auto& part : parts) path += "/" + part;
  return path.empty() ? "/" : path;
}

void failAt(pugi::xml_node node, const std::string& reason) {
  throw Error::invalidInput(elementPath(node) + ": " + reason);
}

std::optional<std::string_view> attributeValue(pugi::xml_node node, const char* name) {
  auto attribute = node.attribute(name);
  if (!attribute) return std::nullopt;
  return std::string_view(attribute.value());
}

std::string elementText(pugi::xml_node node) {
  std::string text;
  for (auto child : node.children()) {
    switch (child.type()) {
      case pugi::node_pcdata:
      case pugi::node_cdata:
        text += child.value();
        break;
      case pugi::node_element:
        failAt(node, std::string("unexpected element <") + child.name() + "> inside <" +
                         node.name() + ">");
      default:
        break;  // comments and processing instructions carry no text
    }
  }
  return text;
}

std::string quote(std::string_view value) { return "'" + std::string(value) + "'"; }

std::string quoteShort(std::string_view value) {
  constexpr std::size_t kLongest = 64;
  bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    auto uc = static_cast<unsigned char>(c);
    return uc >= 0x20 && uc != 0x7f;
  });
  if (printable && value.size() <= kLongest) return quote(value);
  return "a value of " + std::to_string(value.size()) + " bytes";
}

}  // namespace seclabel
