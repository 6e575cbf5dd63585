#include "xml/interface_parse.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <unordered_set>

#include "core/error.h"
#include "xml/node_util.h"

namespace seclabel {

namespace {

// libvirt's NET_MODEL_CHARS: the characters of a model name it does not know.
bool isModelCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// virDomainNetIsVirtioModel: libvirt reads <driver> only for these models.
bool isVirtioModel(std::string_view model) {
  constexpr std::array<std::string_view, 3> kVirtio = {"virtio", "virtio-transitional",
                                                      "virtio-non-transitional"};
  return std::any_of(kVirtio.begin(), kVirtio.end(), [&](std::string_view name) {
    return name.size() == model.size() &&
           std::equal(name.begin(), name.end(), model.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

// libvirt's message for an attribute value outside its set (virXMLPropEnum).
[[noreturn]] void failInvalidValue(pugi::xml_node node, const char* attribute,
                                   std::string_view value) {
  failAt(node, std::string("Invalid value for attribute '") + attribute + "' in element '" +
                   node.name() + "': " + quoteShort(value));
}

InterfaceName parseName(pugi::xml_node node, std::string_view text) {
  try {
    return InterfaceName::parse(text);
  } catch (const Error& e) {
    throw e.withContext(elementPath(node));
  }
}

InterfaceType parseType(pugi::xml_node node) {
  auto text = attributeValue(node, "type");
  if (!text) return InterfaceType::User;  // libvirt's default
  auto type = interfaceTypeFromString(*text);
  if (!type) failInvalidValue(node, "type", *text);
  return *type;
}

// <source> of bridge and direct: the one thing their devices attach to.
void parseSource(pugi::xml_node node, Interface& interface) {
  if (interface.type != InterfaceType::Bridge && interface.type != InterfaceType::Direct) return;
  auto source = node.child("source");
  if (!source) {
    failAt(node, std::string("interface type='") + toString(interface.type) +
                     "' requires a 'source' element");
  }
  const char* attribute = interface.type == InterfaceType::Bridge ? "bridge" : "dev";
  auto name = attributeValue(source, attribute);
  if (!name) {
    failAt(source, std::string("Missing required attribute '") + attribute +
                       "' in element 'source'");
  }
  if (interface.type == InterfaceType::Bridge) {
    interface.bridge = parseName(source, *name);
    return;
  }
  interface.sourceDev = parseName(source, *name);
  if (auto mode = attributeValue(source, "mode")) {
    auto parsed = macvtapModeFromString(*mode);
    if (!parsed) failInvalidValue(source, "mode", *mode);
    interface.macvtapMode = *parsed;
  }
}

// libvirt's prefixes of names it generates (virnetdev.h).
bool isGeneratedName(const InterfaceName& name) {
  const std::string& text = name.str();
  return text.starts_with("vnet") || text.starts_with("macvtap") || text.starts_with("macvlan");
}

void parseTarget(pugi::xml_node node, Interface& interface, XmlForm form) {
  auto target = node.child("target");
  if (!target) return;
  if (auto managed = attributeValue(target, "managed")) {
    if (*managed == "no") {
      interface.tapManagement = TapManagement::Unmanaged;
    } else if (*managed != "yes") {
      failInvalidValue(target, "managed", *managed);
    }
  }
  if (auto dev = attributeValue(target, "dev")) interface.target = parseName(target, *dev);
  if (interface.tapManagement == TapManagement::Unmanaged) {
    if (interface.type != InterfaceType::Ethernet) {
      failAt(target, std::string("unmanaged target dev is not supported on interfaces of type '") +
                         toString(interface.type) + "'");
    }
    if (!interface.target) failAt(target, "target dev must be supplied when managed='no'");
  }
  // virDomainNetDefParseXML: "An auto-generated target name, blank it out".
  if (form == XmlForm::Inactive && interface.tapManagement == TapManagement::Managed &&
      interface.target && isGeneratedName(*interface.target)) {
    interface.target.reset();
  }
}

void parseMac(pugi::xml_node node, Interface& interface) {
  auto mac = node.child("mac");
  auto address = attributeValue(mac, "address");
  if (!address) return;  // generated at prepare (assignInterfaceDefaults)
  try {
    interface.mac = MacAddress::parse(*address);
  } catch (const Error& e) {
    throw e.withContext(elementPath(mac));
  }
}

void parseModel(pugi::xml_node node, Interface& interface) {
  auto model = attributeValue(node.child("model"), "type");
  if (!model || model->empty()) return;  // libvirt: an empty string is no model
  if (!std::all_of(model->begin(), model->end(), isModelCharacter)) {
    failAt(node.child("model"), "Model name contains invalid characters: " + quoteShort(*model));
  }
  interface.model = std::string(*model);
}

// Decimal digits only (no sign, blanks or hex); a value above `ceiling`
// reads as ceiling + 1, however many digits it has.
std::optional<unsigned> parseCount(std::string_view text, unsigned ceiling) {
  if (text.empty()) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min(value * 10 + static_cast<unsigned>(c - '0'), ceiling + 1);
  }
  return value;
}

void parseDriver(pugi::xml_node node, Interface& interface) {
  if (interface.model && !isVirtioModel(*interface.model)) return;  // libvirt ignores it
  auto driver = node.child("driver");
  if (!driver) return;
  if (auto name = attributeValue(driver, "name")) {
    if (*name == "vhost") {
      interface.driver = NetDriverName::Vhost;
    } else if (*name == "qemu") {
      interface.driver = NetDriverName::Qemu;
    } else {
      failInvalidValue(driver, "name", *name);
    }
  }
  if (auto text = attributeValue(driver, "queues")) {
    auto queues = parseCount(*text, kMaxTapQueues);
    if (!queues) {
      failAt(driver, "Invalid value for attribute 'queues' in element 'driver': " +
                         quoteShort(*text) + ". Expected non-negative integer value");
    }
    if (*queues == 0) {
      failAt(driver, "Invalid value for attribute 'queues' in element 'driver': Zero is not permitted");
    }
    if (*queues > kMaxTapQueues) {
      failAt(driver, "queues " + quoteShort(*text) + " is more than the " +
                         std::to_string(kMaxTapQueues) + " queues a tap device can have");
    }
    interface.queues = *queues;
  }
}

// The alias names the -netdev on QEMU's command line, where a ',' or '='
// in it would add options of its own: QEMU's id syntax (id_wellformed: a
// letter, then letters, digits, '-', '.', '_') without the '.', which
// libvirt's user aliases (USER_ALIAS_CHARS) do not allow.
bool isQemuIdentifier(std::string_view text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

void parseAlias(pugi::xml_node node, Interface& interface) {
  auto alias = node.child("alias");
  auto name = attributeValue(alias, "name");
  if (!name) return;
  if (!isQemuIdentifier(*name)) {
    failAt(alias, "alias " + quoteShort(*name) +
                      " is not a QEMU identifier (a letter, then letters, digits, '-' or '_')");
  }
  interface.alias = std::string(*name);
}

Interface parseInterface(pugi::xml_node node, XmlForm form) {
  Interface interface;
  interface.type = parseType(node);
  parseModel(node, interface);
  parseSource(node, interface);
  parseTarget(node, interface, form);
  parseMac(node, interface);
  parseAlias(node, interface);
  parseDriver(node, interface);
  return interface;
}

}  // namespace

std::vector<Interface> parseInterfaces(pugi::xml_node devices, XmlForm form) {
  std::vector<Interface> interfaces;
  std::unordered_set<std::string> aliases;  // hashed: the count is unbounded
  for (auto node : devices.children("interface")) {
    Interface interface = parseInterface(node, form);
    if (interface.alias && !aliases.insert(*interface.alias).second) {
      failAt(node.child("alias"), "non unique alias detected: " + *interface.alias);
    }
    interfaces.push_back(std::move(interface));
  }
  return interfaces;
}

}  // namespace seclabel
