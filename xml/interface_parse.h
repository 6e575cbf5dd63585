// Reading <devices><interface> as libvirt does (src/conf/domain_conf.c,
// virDomainNetDefParseXML; domain_validate.c, virDomainNetDefValidate), in
// libvirt's words where it has them. Private to xml/.
#pragma once

#include <pugixml.hpp>
#include <vector>

#include "xml/domain.h"
#include "xml/xml.h"

namespace seclabel {

// Every <interface> child of `devices`, in document order. Throws
// Error(InvalidInput) "<element path>: <reason>" for the first one that is
// malformed: an unknown type, a missing <source> for bridge or direct, a bad
// MAC address, link name, model, driver name, queue count or alias, an
// unmanaged target on a type other than ethernet, a duplicated alias.
std::vector<Interface> parseInterfaces(pugi::xml_node devices, XmlForm form);

}  // namespace seclabel
