// parseDomainXml / parseDomainFile / resolveSeclabelModels.
#include <uuid/uuid.h>

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/file_read.h"
#include "xml/document.h"
#include "xml/input_check.h"
#include "xml/interface_parse.h"
#include "xml/labels.h"
#include "xml/node_util.h"
#include "xml/seclabel_parse.h"
#include "xml/xml.h"

namespace seclabel {

namespace {

// libvirt's virDomainVirtType names.
constexpr std::array<std::string_view, 17> kDomainTypes = {
    "none", "qemu",   "kqemu", "kvm",    "xen", "lxc",       "uml",  "openvz", "test",
    "vmware", "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "hvf"};

std::size_t lineOfOffset(std::string_view text, std::ptrdiff_t offset) {
  std::size_t line = 1;
  for (std::ptrdiff_t i = 0; i < offset && i < static_cast<std::ptrdiff_t>(text.size()); ++i) {
    line += text[static_cast<std::size_t>(i)] == '\n';
  }
  return line;
}

// pugixml does not reject a repeated attribute; libxml2 (libvirt) does, and
// which of two `type=` values counts must never be a guess. Iterative walk:
// nesting depth is bounded only by the input size.
void checkNoRepeatedAttributes(const pugi::xml_document& tree) {
  std::unordered_set<std::string_view> seen;
  for (auto node = tree.first_child(); node;) {
    if (node.type() == pugi::node_element && node.first_attribute()) {
      seen.clear();
      for (auto attribute : node.attributes()) {
        if (!seen.insert(attribute.name()).second) {
          failAt(node, "attribute " + quote(attribute.name()) + " is given more than once");
        }
      }
    }
    if (node.first_child()) {
      node = node.first_child();
      continue;
    }
    while (node && !node.next_sibling()) node = node.parent();
    if (node) node = node.next_sibling();
  }
}

// The one <domain> root: no second root element, no text beside it.
pugi::xml_node domainRoot(const pugi::xml_document& tree) {
  pugi::xml_node root;
  for (auto child : tree.children()) {
    if (child.type() == pugi::node_declaration && child != tree.first_child()) {
      throw Error::invalidInput("/: the XML declaration is allowed only at the start");
    }
    if (child.type() == pugi::node_element) {
      if (root) throw Error::invalidInput("/: more than one root element");
      root = child;
    } else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      std::string_view text = child.value();
      if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        throw Error::invalidInput("/: text outside the root element");
      }
    }
  }
  if (!root) throw Error::invalidInput("/: the document is empty (no <domain> element)");
  if (std::string_view(root.name()) != "domain") {
    throw Error::invalidInput("/: root element is <" + std::string(root.name()) +
                              ">, expected <domain>");
  }
  return root;
}

void loadDocument(std::string_view text, pugi::xml_document& tree) {
  checkDomainXmlInput(text);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw Error::invalidInput("/: the document is empty");
  }
  auto result = tree.load_buffer(text.data(), text.size(), kXmlParseOptions, pugi::encoding_utf8);
  if (result.status == pugi::status_no_document_element) {
    throw Error::invalidInput("/: the document is empty (no <domain> element)");
  }
  if (!result) {
    throw Error::invalidInput("line " + std::to_string(lineOfOffset(text, result.offset)) +
                              ": malformed XML: " + result.description());
  }
  checkNoRepeatedAttributes(tree);
}

std::string parseDomainType(pugi::xml_node root) {
  auto type = attributeValue(root, "type");
  if (!type) failAt(root, "Missing required attribute 'type' in element 'domain'");
  if (std::find(kDomainTypes.begin(), kDomainTypes.end(), *type) == kDomainTypes.end()) {
    failAt(root, "Invalid value for attribute 'type' in element 'domain': " + quote(*type));
  }
  return std::string(*type);
}

std::string parseName(pugi::xml_node root) {
  auto node = root.child("name");
  if (!node) failAt(root, "missing domain name");
  std::string name = elementText(node);
  if (name.empty()) failAt(node, "missing domain name");
  checkAt(node, [&] { checkLabelText(name, "domain name"); });
  if (name.find('/') != std::string::npos) {
    failAt(node, "name " + quote(name) + " cannot contain '/'");
  }
  return name;
}

// libvirt's virUUIDParse accepts 32 hex digits, dashes anywhere between
// them, and surrounding blanks; we accept the same and store the canonical
// lower-case 8-4-4-4-12 form.
std::optional<std::string> canonicalUuid(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  auto end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return std::nullopt;
  text = text.substr(begin, end - begin + 1);
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '-' && i > 0 && i + 1 < text.size() && text[i - 1] != '-') continue;
    bool isHex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!isHex) return std::nullopt;
    hex += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  if (hex.size() != 32) return std::nullopt;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string generateUuid() {
  uuid_t raw;
  uuid_generate_random(raw);
  char text[37];
  uuid_unparse_lower(raw, text);
  return text;
}

void parseUuid(pugi::xml_node root, Domain& domain) {
  auto node = root.child("uuid");
  if (!node) {
    domain.uuid = generateUuid();
    domain.uuidGenerated = true;
    return;
  }
  std::string text = elementText(node);
  auto uuid = canonicalUuid(text);
  if (!uuid) {
    // The value may be huge or binary; say what it is only when it is short.
    bool printable = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
                       return static_cast<unsigned char>(c) >= 0x20;
                     });
    failAt(node, "malformed uuid element: " + (printable ? quote(text) : std::string("value")) +
                     " is not a UUID");
  }
  domain.uuid = *uuid;
}

// A path seclabel may change the label of: absolute (a relative path would
// depend on the caller's working directory), no control characters.
std::string checkedPath(pugi::xml_node node, std::string_view path, const std::string& what) {
  checkAt(node, [&] { checkLabelText(path, what); });
  if (path[0] != '/') failAt(node, what + " " + quote(path) + " is not absolute");
  return std::string(path);
}

// <source file=...> for a file, <source dev=...> for a block device; nullopt
// when the source names no path (an empty cdrom).
std::optional<DiskSource> parseDiskSource(pugi::xml_node source, DiskSourceKind kind,
                                          const DeviceSeclabelRules& rules) {
  const char* attribute = kind == DiskSourceKind::File ? "file" : "dev";
  auto path = attributeValue(source, attribute);
  if (!path || path->empty()) return std::nullopt;
  DiskSource parsed;
  parsed.kind = kind;
  parsed.path = checkedPath(source, *path, "disk source path");
  parsed.seclabels = parseDeviceSeclabels(source, rules);
  return parsed;
}

// Local storage kinds seclabel labels. Others (network, volume, dir, nvme,
// vhostuser) name no local image file; they stay in the document untouched.
std::optional<DiskSourceKind> storageKind(pugi::xml_node node, std::string_view type) {
  if (type == "file") return DiskSourceKind::File;
  if (type == "block") return DiskSourceKind::Block;
  if (type == "network" || type == "volume" || type == "dir" || type == "nvme" ||
      type == "vhostuser") {
    return std::nullopt;
  }
  failAt(node, "unknown disk type " + quote(type));
}

// <backingStore> layers below the top image, top-most first. An element
// without <source> ends the chain (libvirt writes `<backingStore/>`).
std::vector<DiskSource> parseBackingChain(pugi::xml_node disk, const DeviceSeclabelRules& rules) {
  std::vector<DiskSource> chain;
  for (auto layer = disk.child("backingStore"); layer; layer = layer.child("backingStore")) {
    auto source = layer.child("source");
    if (!source) break;
    auto type = attributeValue(layer, "type");
    if (!type) failAt(layer, "missing disk backing store type");
    auto kind = storageKind(layer, *type);
    if (!kind) break;  // a network layer: nothing local below it to label
    auto format = layer.child("format");
    auto formatType = attributeValue(format, "type");
    if (!formatType) failAt(layer, "missing disk backing store format");
    auto parsed = parseDiskSource(source, *kind, rules);
    if (!parsed) {
      failAt(source, std::string("missing ") + (*kind == DiskSourceKind::File ? "file" : "dev") +
                         " attribute of the backing store source");
    }
    parsed->format = std::string(*formatType);
    chain.push_back(std::move(*parsed));
  }
  return chain;
}

std::optional<Disk> parseDisk(pugi::xml_node node, const DeviceSeclabelRules& rules) {
  auto kind = storageKind(node, attributeValue(node, "type").value_or("file"));
  Disk disk;
  disk.device = std::string(attributeValue(node, "device").value_or("disk"));
  if (disk.device != "disk" && disk.device != "cdrom" && disk.device != "floppy" &&
      disk.device != "lun") {
    failAt(node, "unknown disk device " + quote(disk.device));
  }
  if (!kind) return std::nullopt;
  disk.readonly = static_cast<bool>(node.child("readonly"));
  disk.shareable = static_cast<bool>(node.child("shareable"));
  if (auto source = node.child("source")) {
    disk.source = parseDiskSource(source, *kind, rules);
    if (disk.source) {
      if (auto driverType = attributeValue(node.child("driver"), "type")) {
        disk.source->format = std::string(*driverType);
      }
    }
  }
  auto target = attributeValue(node.child("target"), "dev");
  if (!target || target->empty()) {
    failAt(node, "missing target information for device " +
                     (disk.source ? disk.source->path : std::string("without a source")));
  }
  checkAt(node.child("target"), [&] { checkLabelText(*target, "target dev"); });
  disk.target = std::string(*target);
  disk.backingChain = parseBackingChain(node, rules);
  return disk;
}

std::vector<Disk> parseDisks(pugi::xml_node devices, const DeviceSeclabelRules& rules) {
  std::vector<Disk> disks;
  // Hashed: a 16 MiB document can hold hundreds of thousands of disks.
  std::unordered_map<std::string, std::size_t> diskByTarget;
  for (auto node : devices.children("disk")) {
    auto disk = parseDisk(node, rules);
    if (!disk) continue;
    auto [earlier, added] = diskByTarget.emplace(disk->target, disks.size());
    if (!added) {
      auto sourceOf = [](const Disk& d) { return d.source ? d.source->path : std::string(); };
      failAt(node, "target " + quote(disk->target) + " duplicated for disk sources " +
                       quote(sourceOf(disks[earlier->second])) + " and " + quote(sourceOf(*disk)));
    }
    disks.push_back(std::move(*disk));
  }
  return disks;
}

std::optional<PathResource> parseOsPath(pugi::xml_node os, const char* name) {
  auto node = os.child(name);
  if (!node) return std::nullopt;
  std::string path = elementText(node);
  if (path.empty()) return std::nullopt;
  PathResource resource;
  resource.path = checkedPath(node, path, std::string(name) + " path");
  return resource;
}

// serial/console backed by something on the host file system.
std::vector<PathResource> parseChardevs(pugi::xml_node devices, const DeviceSeclabelRules& rules) {
  std::vector<PathResource> chardevs;
  for (auto node : devices.children()) {
    std::string_view element = node.name();
    if (node.type() != pugi::node_element || (element != "serial" && element != "console")) {
      continue;
    }
    auto type = attributeValue(node, "type").value_or("pty");
    if (type != "file" && type != "dev" && type != "pipe" && type != "unix") continue;
    auto source = node.child("source");
    auto path = attributeValue(source, "path");
    if (!path) failAt(node, "missing source path for character device of type " + quote(type));
    PathResource resource;
    resource.path = checkedPath(source, *path, "character device path");
    resource.seclabels = parseDeviceSeclabels(source, rules);
    resource.chardevType = std::string(type);
    chardevs.push_back(std::move(resource));
  }
  return chardevs;
}

// The first resource with an override for `model`, named for a message.
std::optional<std::string> resourceOverriding(const Domain& domain, const std::string& model) {
  auto overrides = [&](const std::vector<DeviceSeclabel>& seclabels) {
    return std::any_of(seclabels.begin(), seclabels.end(),
                       [&](const DeviceSeclabel& seclabel) { return seclabel.model == model; });
  };
  for (const auto& disk : domain.disks) {
    if (disk.source && overrides(disk.source->seclabels)) return "disk " + disk.target;
    for (const auto& layer : disk.backingChain) {
      if (overrides(layer.seclabels)) return "backing store " + layer.path + " of disk " + disk.target;
    }
  }
  for (const auto& chardev : domain.chardevs) {
    if (overrides(chardev.seclabels)) return "character device " + chardev.path;
  }
  return std::nullopt;
}

}  // namespace

Domain parseDomainXml(std::string_view text, XmlForm form) {
  Domain domain;
  domain.document = std::make_unique<Domain::Document>();
  pugi::xml_document& tree = domain.document->tree;
  loadDocument(text, tree);
  pugi::xml_node root = domainRoot(tree);

  domain.type = parseDomainType(root);
  domain.name = parseName(root);
  parseUuid(root, domain);
  if (auto os = root.child("os")) {
    domain.kernel = parseOsPath(os, "kernel");
    domain.initrd = parseOsPath(os, "initrd");
  }
  // Domain-level seclabels first, as libvirt does: the device-level
  // overrides are checked against them.
  domain.seclabels = parseDomainSeclabels(root, form);
  if (auto devices = root.child("devices")) {
    const auto rules = DeviceSeclabelRules::of(domain.seclabels, form);
    domain.disks = parseDisks(devices, rules);
    domain.chardevs = parseChardevs(devices, rules);
    domain.interfaces = parseInterfaces(devices, form);
  }
  return domain;
}

Domain parseDomainFile(const std::string& path, XmlForm form) {
  // Regular files only, read up to the limit and one byte more: a FIFO or
  // /dev/zero named as the domain is refused, not read forever.
  std::string text = readRegularFile(path, {"domain XML", kMaxDomainXmlSize, FileTrust::Any});
  try {
    return parseDomainXml(text, form);
  } catch (const Error& e) {
    throw e.withContext(path);
  }
}

void resolveSeclabelModels(Domain& domain, const std::vector<std::string>& drivers) {
  auto where = [](std::size_t i) { return "/domain/seclabel[" + std::to_string(i + 1) + "]"; };
  if (domain.seclabels.size() == 1 && domain.seclabels[0].model.empty()) {
    Seclabel& only = domain.seclabels[0];
    if (drivers.empty()) {
      throw Error::invalidInput(where(0) +
                                ": no security driver is configured to take a seclabel "
                                "without a model");
    }
    only.model = drivers.front();
    only.modelImplicit = true;
    if (only.model == "none") {
      only.type = SeclabelType::None;
      only.relabel = false;
      only.label.reset();
      only.imagelabel.reset();
      only.baselabel.reset();
    }
    try {
      checkSeclabelLabels(only);
    } catch (const Error& e) {
      throw e.withContext(where(0));
    }
    // The parser could not apply libvirt's override rule to this seclabel
    // (DeviceSeclabelRules): its model is known only now.
    if (!only.relabel) {
      if (auto resource = resourceOverriding(domain, only.model)) {
        throw Error::invalidInput(where(0) + ": " + kOverrideNeedsRelabel + ": " + *resource +
                                  " overrides model " + only.model);
      }
    }
  }
  for (std::size_t i = 0; i < domain.seclabels.size(); ++i) {
    const std::string& model = domain.seclabels[i].model;
    if (model.empty()) {
      throw Error::invalidInput(where(i) + ": missing security model when using multiple labels");
    }
    if (model == "none") continue;
    if (std::find(drivers.begin(), drivers.end(), model) == drivers.end()) {
      throw Error::invalidInput(where(i) + ": Unable to find security driver for model " + model);
    }
  }
}

std::optional<std::string> normalizeUuid(std::string_view text) { return canonicalUuid(text); }

}  // namespace seclabel
