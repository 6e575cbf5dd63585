// libFuzzer target for everything that reads untrusted text in xml/: the
// domain XML parser (both forms), the formatter, the label parsers and the
// network values (MAC address, link name).
//
// Besides "no crash, no sanitizer report", it checks the properties the
// tests check on the case files, on every input the parser accepts:
//   parse -> format -> parse gives the same model, formatting is idempotent,
//   and a parsed SELinux context formats back to its input;
// and on what prepare does with <interface>s: after assignInterfaceDefaults
// every interface has an alias and a MAC, no two share either, and the live
// XML reads back to the same model.
// Errors the library reports (seclabel::Error) are expected; any other
// exception escapes and counts as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "xml/interfaces.h"
#include "xml/labels.h"
#include "xml/net_types.h"
#include "xml/xml.h"

namespace {

using namespace seclabel;

void require(bool condition) {
  if (!condition) __builtin_trap();
}

bool sameModel(const Domain& a, const Domain& b) {
  return a.type == b.type && a.name == b.name && a.uuid == b.uuid && a.seclabels == b.seclabels &&
         a.disks == b.disks && a.kernel == b.kernel && a.initrd == b.initrd &&
         a.chardevs == b.chardevs && a.interfaces == b.interfaces;
}

// What prepare does to the interfaces, with a deterministic random source
// (a counter: no repeat within one input) and a store in which every other
// candidate address is taken.
void fuzzInterfaceDefaults(Domain domain) {
  try {
    requireSupportedInterfaces(domain);
  } catch (const Error&) {
    // Refused at prepare; the defaults are still defined for such interfaces.
  }
  std::uint32_t counter = 0;
  RandomBytes random = [&](std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(counter >> (8 * i));
    ++counter;
  };
  MacAddressTaken taken = [](const MacAddress& mac) { return (mac.bytes()[3] & 1) == 0; };
  std::vector<bool> hadMac;
  std::multiset<MacAddress> given;
  for (const auto& interface : domain.interfaces) {
    hadMac.push_back(interface.mac.has_value());
    if (interface.mac) given.insert(*interface.mac);
  }
  try {
    assignInterfaceDefaults(domain, random, taken);
  } catch (const Error&) {
    return;  // no free address within the tries: a documented outcome
  }
  std::set<std::string> aliases;
  std::set<MacAddress> generated;
  for (std::size_t i = 0; i < domain.interfaces.size(); ++i) {
    const Interface& interface = domain.interfaces[i];
    require(interface.alias && interface.mac);
    require(aliases.insert(*interface.alias).second);
    if (hadMac[i]) continue;
    require(!taken(*interface.mac) && !given.count(*interface.mac));
    require(generated.insert(*interface.mac).second);
  }
  std::string live = formatDomainXml(domain, XmlForm::Live);
  Domain again = parseDomainXml(live, XmlForm::Live);  // must not throw
  require(again.interfaces == domain.interfaces);
  require(formatDomainXml(again, XmlForm::Live) == live);
}

void fuzzDomain(std::string_view text, XmlForm form) {
  Domain domain;
  try {
    domain = parseDomainXml(text, form);
  } catch (const Error&) {
    return;
  }
  std::string formatted = formatDomainXml(domain, form);
  Domain again = parseDomainXml(formatted, form);  // must not throw
  require(sameModel(domain, again));
  require(formatDomainXml(again, form) == formatted);

  // What the manager does: resolve against a driver stack, then write live XML.
  try {
    resolveSeclabelModels(domain, {"selinux", "dac"});
  } catch (const Error&) {
    return;
  }
  Domain live = parseDomainXml(formatDomainXml(domain, XmlForm::Live), XmlForm::Live);
  require(live.seclabels.size() == domain.seclabels.size());
  fuzzInterfaceDefaults(std::move(domain));
}

void fuzzLabels(std::string_view text) {
  try {
    auto spec = DacLabelSpec::parse(text);
    require(spec.user.number || !spec.user.name.empty());
    require(!spec.user.number || *spec.user.number != UINT32_MAX);
    require(!spec.group.number || *spec.group.number != UINT32_MAX);
  } catch (const Error&) {
  }
  try {
    auto context = SelinuxContext::parse(text);
    require(context.format() == text);
    if (auto pair = context.mcsPair()) require(pair->first() < pair->second());
    SelinuxContext::parse(context.atSystemLow().format());
  } catch (const Error&) {
  }
  try {
    checkMlsRange(text);
  } catch (const Error&) {
  }
  try {
    checkLabelText(text, "label");
  } catch (const Error&) {
  }
  try {
    auto mac = MacAddress::parse(text);
    require((mac.bytes()[0] & 1) == 0);
    require(MacAddress::parse(mac.format()) == mac);
  } catch (const Error&) {
  }
  try {
    auto name = InterfaceName::parse(text);
    require(!name.str().empty() && name.str().size() <= InterfaceName::kMaxLength);
    require(name.str().find_first_of("/: %") == std::string::npos);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzzDomain(text, XmlForm::Inactive);
  fuzzDomain(text, XmlForm::Live);
  if (size <= 8192) fuzzLabels(text);
  return 0;
}
