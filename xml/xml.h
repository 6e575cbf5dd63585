// Reading and writing libvirt domain XML (pugixml stays inside xml/).
//
// Errors are Error(InvalidInput) whose message is "<where>: <reason>", where
// <where> is an element path such as `/domain/seclabel[2]`. parseDomainFile
// puts the file name in front: "<file>: <where>: <reason>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/export.h"
#include "xml/domain.h"

namespace seclabel {

enum class XmlForm {
  Inactive,  // the definition: dynamic <label>/<imagelabel> are dropped
  Live,      // a running/prepared guest: generated labels are kept and written
};

// Parses and validates a domain (every rule of docs/labels.md, "Domain XML rules"). With
// XmlForm::Inactive, dynamic labels in the input are ignored, as libvirt does
// for an inactive definition; XmlForm::Live keeps them (reading back a live
// XML). A missing <uuid> is generated and Domain::uuidGenerated is set.
SECLABEL_API Domain parseDomainXml(std::string_view text, XmlForm form = XmlForm::Inactive);
SECLABEL_API Domain parseDomainFile(const std::string& path, XmlForm form = XmlForm::Inactive);

// Gives a seclabel without a model the first configured driver's model and
// checks that every seclabel names a configured driver ("none" always
// allowed). Throws Error(InvalidInput).
SECLABEL_API void resolveSeclabelModels(Domain& domain, const std::vector<std::string>& drivers);

// Writes the domain back. Everything not modelled survives untouched; the
// <uuid> is written (also a generated one); <seclabel> elements are written
// from Domain::seclabels; each interface's <mac address>, <target dev> and
// <alias name> are written from Domain::interfaces (interfaces[i] is the
// i-th <interface> element; one the document lacks is added whole).
// parse(format(d)) == d.
SECLABEL_API std::string formatDomainXml(const Domain& domain, XmlForm form);

// The canonical form (lower case, 8-4-4-4-12) of a uuid in any form the
// XML's <uuid> accepts (libvirt's: upper case, dashes anywhere between
// digits, blanks around); nullopt when `text` is no uuid. Every uuid in the
// store is canonical, so a caller's form is looked up as this.
std::optional<std::string> normalizeUuid(std::string_view text);

}  // namespace seclabel
