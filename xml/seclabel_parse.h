// The <seclabel> rules of DESIGN.md §2, domain level and device level, in
// libvirt's order and, where libvirt has one, in libvirt's words
// (src/conf/domain_conf.c: virSecurityLabelDefParseXML,
// virSecurityLabelDefsParseXML, virSecurityDeviceLabelDefParseXML).
// Private to xml/.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "xml/domain.h"
#include "xml/xml.h"

namespace seclabel {

// Every domain-level <seclabel> child of `domain`, each checked on its own and
// then against each other (duplicate model, missing model).
std::vector<Seclabel> parseDomainSeclabels(pugi::xml_node domain, XmlForm form);

// The <seclabel> overrides inside one <source> (or other resource element).
std::vector<DeviceSeclabel> parseDeviceSeclabels(pugi::xml_node source, XmlForm form);

// Syntax of a label for a model: an SELinux context for "selinux", user:group
// for "dac", otherwise only length and control characters. `what` names the
// element in messages ("label", "imagelabel", "baselabel").
void checkLabelForModel(std::string_view model, std::string_view text, std::string_view what);

// Checks label, imagelabel and baselabel of `seclabel` for its model.
void checkSeclabelLabels(const Seclabel& seclabel);

}  // namespace seclabel
