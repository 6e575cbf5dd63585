#include "xml/interface_format.h"

#include <string>

#include "xml/tree_edit.h"

namespace seclabel {

namespace {

// `attribute` of the child `name` of `interface` set to `value`; the child is
// inserted before `before` (at the end when empty) if it is missing. A new
// attribute goes first: it is the one libvirt writes first.
void setChildAttribute(pugi::xml_node interface, const char* name, const char* attribute,
                       const std::string& value, pugi::xml_node before) {
  auto child = interface.child(name);
  if (!child) child = insertChildElement(interface, name, before);
  auto existing = child.attribute(attribute);
  if (!existing) existing = child.prepend_attribute(attribute);
  existing.set_value(value.c_str());
}

// Where libvirt's order puts <target>: after <source>, else after <mac>.
pugi::xml_node placeForTarget(pugi::xml_node interface) {
  for (const char* predecessor : {"source", "mac"}) {
    if (auto node = interface.child(predecessor)) return nextNonBlankSibling(node);
  }
  return firstElementChild(interface);
}

void updateInterface(pugi::xml_node element, const Interface& interface) {
  if (interface.mac) {
    setChildAttribute(element, "mac", "address", interface.mac->format(),
                      firstElementChild(element));
  }
  if (interface.target) {
    setChildAttribute(element, "target", "dev", interface.target->str(), placeForTarget(element));
  } else if (auto target = element.child("target"); target.attribute("dev")) {
    // A name the model does not hold (an inactive definition's generated
    // vnet*/macvtap* name, which the parser ignores) must not come back as
    // the device's name when the live XML is read: drop it, as libvirt's
    // formatter does. The element stays (perhaps empty): removing it would
    // make a second <target> the first, the one the parser reads.
    target.remove_attribute("dev");
  }
  if (interface.alias) {
    setChildAttribute(element, "alias", "name", *interface.alias, element.child("address"));
  }
}

// An interface the document does not have: every modelled value, in
// libvirt's order.
void fillInterface(pugi::xml_node element, const Interface& interface) {
  element.append_attribute("type").set_value(toString(interface.type));
  if (interface.mac) {
    insertChildElement(element, "mac").append_attribute("address").set_value(
        interface.mac->format().c_str());
  }
  if (interface.bridge || interface.sourceDev) {
    auto source = insertChildElement(element, "source");
    if (interface.bridge) source.append_attribute("bridge").set_value(interface.bridge->str().c_str());
    if (interface.sourceDev) {
      source.append_attribute("dev").set_value(interface.sourceDev->str().c_str());
      source.append_attribute("mode").set_value(toString(interface.macvtapMode));
    }
  }
  if (interface.target) {
    auto target = insertChildElement(element, "target");
    target.append_attribute("dev").set_value(interface.target->str().c_str());
    if (interface.tapManagement == TapManagement::Unmanaged) {
      target.append_attribute("managed").set_value("no");
    }
  }
  if (interface.model) {
    insertChildElement(element, "model").append_attribute("type").set_value(interface.model->c_str());
  }
  if (interface.driver || interface.queues) {
    auto driver = insertChildElement(element, "driver");
    if (interface.driver) driver.append_attribute("name").set_value(toString(*interface.driver));
    if (interface.queues) driver.append_attribute("queues").set_value(*interface.queues);
  }
  if (interface.alias) {
    insertChildElement(element, "alias").append_attribute("name").set_value(interface.alias->c_str());
  }
}

}  // namespace

void writeInterfaces(pugi::xml_node root, const std::vector<Interface>& interfaces) {
  auto devices = root.child("devices");
  std::size_t index = 0;
  pugi::xml_node last;
  for (auto element : devices.children("interface")) {
    if (index == interfaces.size()) break;
    updateInterface(element, interfaces[index++]);
    last = element;
  }
  for (; index < interfaces.size(); ++index) {
    if (!devices) devices = insertChildElement(root, "devices");
    auto element = insertChildElement(devices, "interface", last ? nextElementSibling(last) : pugi::xml_node());
    fillInterface(element, interfaces[index]);
    last = element;
  }
}

}  // namespace seclabel
