// formatDomainXml: the parsed document with <uuid>, the domain-level
// <seclabel> elements and each interface's MAC address, target dev and alias
// rewritten from the model; every other node is written back as it was read
// (whitespace included).
#include <sstream>
#include <string_view>
#include <vector>

#include "xml/document.h"
#include "xml/interface_format.h"
#include "xml/tree_edit.h"
#include "xml/xml.h"

namespace seclabel {

namespace {

bool isBlank(pugi::xml_node node) {
  if (node.type() != pugi::node_pcdata) return false;
  std::string_view text = node.value();
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The indentation of the root's children ("  " in a libvirt-formatted file),
// or nullopt for a document written without line breaks.
std::optional<std::string> childIndent(pugi::xml_node root) {
  for (auto child : root.children()) {
    if (!isBlank(child)) continue;
    std::string_view text = child.value();
    auto newline = text.rfind('\n');
    if (newline != std::string_view::npos) return std::string(text.substr(newline + 1));
  }
  return std::nullopt;
}

class Writer {
 public:
  explicit Writer(pugi::xml_node root) : root_(root), indent_(childIndent(root)) {}

  // Inserts `element` after `anchor` (or first when `anchor` is empty),
  // preceded by a line break and indentation when the document has them.
  pugi::xml_node insertElementAfter(pugi::xml_node anchor, const char* name) {
    if (indent_) {
      auto blank = anchor ? root_.insert_child_after(pugi::node_pcdata, anchor)
                          : root_.prepend_child(pugi::node_pcdata);
      blank.set_value(("\n" + *indent_).c_str());
      anchor = blank;
    }
    return anchor ? root_.insert_child_after(name, anchor) : root_.prepend_child(name);
  }

  void appendTextChild(pugi::xml_node parent, const char* name, const std::string& text) {
    if (indent_) parent.append_child(pugi::node_pcdata).set_value(("\n" + *indent_ + *indent_).c_str());
    parent.append_child(name).append_child(pugi::node_pcdata).set_value(text.c_str());
  }

  void closeChildren(pugi::xml_node parent) {
    if (indent_ && parent.first_child()) {
      parent.append_child(pugi::node_pcdata).set_value(("\n" + *indent_).c_str());
    }
  }

 private:
  pugi::xml_node root_;
  std::optional<std::string> indent_;
};

void writeUuid(pugi::xml_node root, const std::string& uuid) {
  auto node = root.child("uuid");
  if (!node) {
    Writer writer(root);
    node = writer.insertElementAfter(root.child("name"), "uuid");
  }
  if (node.text().get() == uuid && !node.first_child().next_sibling()) return;
  while (node.first_child()) node.remove_child(node.first_child());
  node.append_child(pugi::node_pcdata).set_value(uuid.c_str());
}

// Which labels a form carries (libvirt's virSecurityLabelDefFormat, with an
// inactive definition never holding generated labels).
void fillSeclabel(Writer& writer, pugi::xml_node element, const Seclabel& seclabel,
                  XmlForm form) {
  element.append_attribute("type").set_value(toString(seclabel.type));
  if (!seclabel.model.empty()) element.append_attribute("model").set_value(seclabel.model.c_str());
  if (seclabel.type == SeclabelType::None) return;
  element.append_attribute("relabel").set_value(seclabel.relabel ? "yes" : "no");
  bool live = form == XmlForm::Live;
  if (seclabel.label && (live || seclabel.type == SeclabelType::Static)) {
    writer.appendTextChild(element, "label", *seclabel.label);
  }
  if (seclabel.imagelabel && live && seclabel.relabel) {
    writer.appendTextChild(element, "imagelabel", *seclabel.imagelabel);
  }
  if (seclabel.baselabel && seclabel.type == SeclabelType::Dynamic) {
    writer.appendTextChild(element, "baselabel", *seclabel.baselabel);
  }
  writer.closeChildren(element);
}

// Replaces the domain-level <seclabel> elements where the first one stood,
// or, when there were none, right after <devices> (libvirt's order).
void writeSeclabels(pugi::xml_node root, const std::vector<Seclabel>& seclabels, XmlForm form) {
  Writer writer(root);
  std::vector<pugi::xml_node> existing;
  for (auto node : root.children("seclabel")) existing.push_back(node);
  // Trim every indentation first, remove afterwards: each trim then sees the
  // original neighbours, and the anchor is never a node removed later.
  pugi::xml_node anchor;
  for (std::size_t i = 0; i < existing.size(); ++i) {
    auto before = trimIndentBefore(root, existing[i]);
    if (i == 0) anchor = before;
  }
  for (auto node : existing) root.remove_child(node);
  if (existing.empty()) {
    anchor = root.child("devices");
    if (!anchor) {
      for (auto child = root.last_child(); child; child = child.previous_sibling()) {
        if (child.type() == pugi::node_element) {
          anchor = child;
          break;
        }
      }
    }
    if (!anchor) anchor = root.last_child();
  }
  for (const auto& seclabel : seclabels) {
    auto element = writer.insertElementAfter(anchor, "seclabel");
    fillSeclabel(writer, element, seclabel, form);
    anchor = element;
  }
}

// A Domain built in code has no document: start from the modelled basics.
void buildSkeleton(pugi::xml_document& tree, const Domain& domain) {
  auto root = tree.append_child("domain");
  root.append_attribute("type").set_value(domain.type.c_str());
  root.append_child(pugi::node_pcdata).set_value("\n  ");
  root.append_child("name").append_child(pugi::node_pcdata).set_value(domain.name.c_str());
  root.append_child(pugi::node_pcdata).set_value("\n");
}

}  // namespace

std::string formatDomainXml(const Domain& domain, XmlForm form) {
  pugi::xml_document tree;
  if (domain.document) {
    tree.reset(domain.document->tree);
  } else {
    buildSkeleton(tree, domain);
  }
  pugi::xml_node root = tree.document_element();
  writeUuid(root, domain.uuid);
  writeInterfaces(root, domain.interfaces);
  writeSeclabels(root, domain.seclabels, form);

  std::ostringstream out;
  tree.save(out, "", pugi::format_raw | pugi::format_no_declaration |
                         pugi::format_attribute_single_quote, pugi::encoding_utf8);
  std::string text = out.str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace seclabel
