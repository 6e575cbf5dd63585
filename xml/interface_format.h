// Writing the modelled <interface> values back into the document. Private to
// xml/.
#pragma once

#include <pugixml.hpp>
#include <vector>

#include "xml/domain.h"

namespace seclabel {

// interfaces[i] belongs to the i-th <interface> of the first <devices>, as
// parseInterfaces read them. Into each, writes the values seclabel may have
// filled in since (the live form libvirt writes too): <mac address>,
// <target dev> and <alias name>, creating the element when it is missing
// and leaving every other attribute and element as it was. An interface
// beyond the document's own (a Domain built in code) is written whole after
// the last one, with <devices> created when needed.
void writeInterfaces(pugi::xml_node root, const std::vector<Interface>& interfaces);

}  // namespace seclabel
