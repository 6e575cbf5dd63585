#include "xml/device.h"

#include <sstream>

#include <pugixml.hpp>

#include "core/error.h"
#include "core/file_read.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

constexpr std::size_t kMaxDeviceXmlSize = 1024 * 1024;
// Everything kept (comments, whitespace), so a saved document reads as its
// input did.
constexpr unsigned kKeepAll = pugi::parse_full;

void load(std::string_view text, pugi::xml_document& tree, const char* what) {
  auto result = tree.load_buffer(text.data(), text.size(), kKeepAll, pugi::encoding_utf8);
  if (!result)
    throw Error::invalidInput(std::string(what) + ": malformed XML: " + result.description());
}

std::string save(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw);
  return out.str();
}

pugi::xml_node devicesOf(pugi::xml_document& tree) {
  pugi::xml_node domain = tree.child("domain");
  if (!domain) throw Error::invalidInput("the live XML has no <domain> element");
  return domain.child("devices");
}

pugi::xml_node diskNode(pugi::xml_document& tree, std::string_view target) {
  for (pugi::xml_node disk : devicesOf(tree).children("disk"))
    if (std::string_view(disk.child("target").attribute("dev").value()) == target) return disk;
  throw Error::invalidInput("the guest has no disk with target " + std::string(target));
}

pugi::xml_node interfaceNode(pugi::xml_document& tree, std::string_view alias) {
  for (pugi::xml_node interface : devicesOf(tree).children("interface"))
    if (std::string_view(interface.child("alias").attribute("name").value()) == alias)
      return interface;
  throw Error::invalidInput("the guest has no interface with alias " + std::string(alias));
}

// Drops `node` and the blank text in front of it (its indentation).
void removeWithIndent(pugi::xml_node node) {
  pugi::xml_node parent = node.parent();
  pugi::xml_node before = node.previous_sibling();
  if (before && before.type() == pugi::node_pcdata &&
      std::string_view(before.value()).find_first_not_of(" \t\r\n") == std::string_view::npos)
    parent.remove_child(before);
  parent.remove_child(node);
}

}  // namespace

DeviceElement parseDeviceXml(std::string_view text) {
  if (text.size() > kMaxDeviceXmlSize)
    throw Error::invalidInput("device XML larger than " + std::to_string(kMaxDeviceXmlSize) +
                              " bytes");
  pugi::xml_document tree;
  load(text, tree, "device XML");
  pugi::xml_node root;
  for (pugi::xml_node child : tree.children()) {
    if (child.type() != pugi::node_element) continue;
    if (root) throw Error::invalidInput("device XML: more than one element");
    root = child;
  }
  if (!root) throw Error::invalidInput("device XML: no element (expected <disk> or <interface>)");
  const std::string name = root.name();
  if (name != "disk" && name != "interface")
    throw Error::invalidInput("device XML: <" + name + "> is not a device seclabel attaches "
                              "(expected <disk> or <interface>)");

  // Validated as a device of a domain, by the domain's own rules.
  pugi::xml_document wrapper;
  pugi::xml_node domain = wrapper.append_child("domain");
  domain.append_attribute("type") = "kvm";
  domain.append_child("name").text() = "device";
  domain.append_child("uuid").text() = "00000000-0000-4000-8000-000000000000";
  domain.append_child("devices").append_copy(root);
  Domain parsed = parseDomainXml(save(wrapper), XmlForm::Inactive);

  DeviceElement device;
  device.xml = save(root);
  if (auto alias = root.child("alias").attribute("name"); alias) device.alias = alias.value();
  if (name == "disk") {
    if (parsed.disks.size() != 1) throw Error::invalidInput("device XML: <disk> not understood");
    device.kind = DeviceKind::Disk;
    device.disk = parsed.disks.front();
    device.bus = root.child("target").attribute("bus").value();
  } else {
    if (parsed.interfaces.size() != 1)
      throw Error::invalidInput("device XML: <interface> not understood");
    device.kind = DeviceKind::Interface;
    device.interface = parsed.interfaces.front();
  }
  return device;
}

DeviceElement parseDeviceFile(const std::string& path) {
  std::string text = readRegularFile(path, {"device XML", kMaxDeviceXmlSize, FileTrust::Any});
  try {
    return parseDeviceXml(text);
  } catch (const Error& e) {
    throw e.withContext(path);
  }
}

std::string domainXmlWithDevice(std::string_view domainXml, std::string_view deviceXml) {
  pugi::xml_document tree, device;
  load(domainXml, tree, "live XML");
  load(deviceXml, device, "device XML");
  pugi::xml_node devices = devicesOf(tree);
  if (!devices) devices = tree.child("domain").append_child("devices");
  devices.append_copy(device.document_element());
  return save(tree);
}

std::string domainXmlWithoutDisk(std::string_view domainXml, std::string_view target) {
  pugi::xml_document tree;
  load(domainXml, tree, "live XML");
  removeWithIndent(diskNode(tree, target));
  return save(tree);
}

std::string domainXmlWithoutInterface(std::string_view domainXml, std::string_view alias) {
  pugi::xml_document tree;
  load(domainXml, tree, "live XML");
  removeWithIndent(interfaceNode(tree, alias));
  return save(tree);
}

std::string interfaceXmlWith(std::string_view interfaceXml, const std::string& mac,
                             const std::string& alias, const std::string& targetDev) {
  pugi::xml_document tree;
  load(interfaceXml, tree, "device XML");
  pugi::xml_node interface = tree.document_element();
  auto set = [&](const char* element, const char* attribute, const std::string& value) {
    pugi::xml_node node = interface.child(element);
    if (!node) node = interface.append_child(element);
    pugi::xml_attribute attr = node.attribute(attribute);
    if (!attr) attr = node.append_attribute(attribute);
    attr.set_value(value.c_str());
  };
  set("mac", "address", mac);
  set("target", "dev", targetDev);
  set("alias", "name", alias);
  return save(interface);
}

std::string diskElementOf(std::string_view domainXml, std::string_view target) {
  pugi::xml_document tree;
  load(domainXml, tree, "live XML");
  return save(diskNode(tree, target));
}

std::string interfaceElementOf(std::string_view domainXml, std::string_view alias) {
  pugi::xml_document tree;
  load(domainXml, tree, "live XML");
  return save(interfaceNode(tree, alias));
}

}  // namespace seclabel
