// The <seclabel> rules of docs/labels.md ("Domain XML rules"), domain
// level and device level, in libvirt's order and, where libvirt has one, in libvirt's words
// (src/conf/domain_conf.c: virSecurityLabelDefParseXML,
// virSecurityLabelDefsParseXML, virSecurityDeviceLabelDefParseXML).
// Private to xml/.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "xml/domain.h"
#include "xml/xml.h"

namespace seclabel {

// Every domain-level <seclabel> child of `domain`, each checked on its own and
// then against each other (duplicate model, missing model).
std::vector<Seclabel> parseDomainSeclabels(pugi::xml_node domain, XmlForm form);

// What the device-level overrides of one document are read against: its form
// and the domain-level seclabels already parsed.
struct DeviceSeclabelRules {
  XmlForm form = XmlForm::Inactive;
  // Models whose domain-level seclabel has relabel='no'. libvirt refuses any
  // override for such a model ("label overrides require relabeling to be
  // enabled at the domain level", domain_validate.c): the domain said not to
  // touch resources for it, so an override could only contradict that.
  // libvirt compares the model strings, so an override without a model never
  // matches a domain seclabel with one. A lone seclabel without a model is
  // not here: its model is known only once resolveSeclabelModels has run,
  // which applies the same rule then.
  std::unordered_set<std::string> modelsWithoutRelabel;

  static DeviceSeclabelRules of(const std::vector<Seclabel>& domainSeclabels, XmlForm form);
};

// The <seclabel> overrides inside one <source> (or other resource element).
std::vector<DeviceSeclabel> parseDeviceSeclabels(pugi::xml_node source,
                                                 const DeviceSeclabelRules& rules);

// libvirt's text for an override under a domain seclabel that does not relabel.
inline constexpr const char* kOverrideNeedsRelabel =
    "label overrides require relabeling to be enabled at the domain level";

// Syntax of a label for a model: an SELinux context for "selinux", user:group
// for "dac", otherwise only length and control characters. `what` names the
// element in messages ("label", "imagelabel", "baselabel").
void checkLabelForModel(std::string_view model, std::string_view text, std::string_view what);

// Checks label, imagelabel and baselabel of `seclabel` for its model.
void checkSeclabelLabels(const Seclabel& seclabel);

}  // namespace seclabel
