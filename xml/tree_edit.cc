#include "xml/tree_edit.h"

#include <optional>
#include <string>
#include <string_view>

namespace seclabel {

namespace {

bool isBlank(pugi::xml_node node) {
  if (node.type() != pugi::node_pcdata) return false;
  std::string_view text = node.value();
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The indentation of `node`: what follows the last line break in the blank
// text right before it; nullopt when no line break precedes it.
std::optional<std::string> indentOf(pugi::xml_node node) {
  auto before = node.previous_sibling();
  if (!isBlank(before)) return std::nullopt;
  std::string_view text = before.value();
  auto newline = text.rfind('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(newline + 1));
}

// How deep `parent`'s children are indented; nullopt for a document without
// line breaks there.
std::optional<std::string> indentOfChildren(pugi::xml_node parent) {
  if (auto first = firstElementChild(parent)) return indentOf(first);
  auto own = indentOf(parent);
  if (!own) return std::nullopt;
  std::string outer = parent.parent().type() == pugi::node_element
                          ? indentOf(parent.parent()).value_or("")
                          : std::string();
  bool nested = own->size() > outer.size() && own->compare(0, outer.size(), outer) == 0;
  return *own + (nested ? own->substr(outer.size()) : std::string("  "));
}

pugi::xml_node insertBlankBefore(pugi::xml_node parent, pugi::xml_node node, const std::string& indent) {
  auto blank = parent.insert_child_before(pugi::node_pcdata, node);
  blank.set_value(("\n" + indent).c_str());
  return blank;
}

}  // namespace

pugi::xml_node trimIndentBefore(pugi::xml_node parent, pugi::xml_node node) {
  auto before = node.previous_sibling();
  if (before.type() != pugi::node_pcdata) return before;
  std::string text = before.value();
  auto newline = text.rfind('\n');
  if (newline == std::string::npos ||
      text.find_first_not_of(" \t", newline + 1) != std::string::npos) {
    return before;
  }
  text.resize(newline);
  if (!text.empty()) {
    before.set_value(text.c_str());
    return before;
  }
  auto earlier = before.previous_sibling();
  parent.remove_child(before);
  return earlier;
}

pugi::xml_node firstElementChild(pugi::xml_node parent) {
  for (auto child = parent.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element) return child;
  }
  return {};
}

pugi::xml_node nextElementSibling(pugi::xml_node node) {
  for (auto next = node.next_sibling(); next; next = next.next_sibling()) {
    if (next.type() == pugi::node_element) return next;
  }
  return {};
}

pugi::xml_node nextNonBlankSibling(pugi::xml_node node) {
  auto next = node.next_sibling();
  while (next && isBlank(next)) next = next.next_sibling();
  return next;
}

pugi::xml_node insertChildElement(pugi::xml_node parent, const char* name, pugi::xml_node before) {
  const auto indent = indentOfChildren(parent);
  if (before) {
    // [blank][before] -> [blank][element][blank'][before]
    auto element = parent.insert_child_before(name, before);
    if (indent) insertBlankBefore(parent, before, *indent);
    return element;
  }
  auto last = parent.last_child();
  if (indent && isBlank(last)) {
    // [...][closing blank] -> [...][blank'][element][closing blank]
    auto element = parent.insert_child_before(name, last);
    insertBlankBefore(parent, element, *indent);
    return element;
  }
  if (indent && !last) {
    // An empty parent: open a line for the child, close one for the end tag.
    parent.append_child(pugi::node_pcdata).set_value(("\n" + *indent).c_str());
    auto element = parent.append_child(name);
    parent.append_child(pugi::node_pcdata).set_value(("\n" + indentOf(parent).value_or("")).c_str());
    return element;
  }
  return parent.append_child(name);
}

}  // namespace seclabel
