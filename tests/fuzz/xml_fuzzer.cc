// libFuzzer target for everything that reads untrusted text in xml/: the
// domain XML parser (both forms), the formatter, and the label parsers.
//
// Besides "no crash, no sanitizer report", it checks the properties the
// tests check on the case files, on every input the parser accepts:
//   parse -> format -> parse gives the same model, formatting is idempotent,
//   and a parsed SELinux context formats back to its input.
// Errors the library reports (seclabel::Error) are expected; any other
// exception escapes and counts as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "xml/labels.h"
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
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzzDomain(text, XmlForm::Inactive);
  fuzzDomain(text, XmlForm::Live);
  if (size <= 8192) fuzzLabels(text);
  return 0;
}
