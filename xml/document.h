// Domain::Document: the parsed pugixml tree behind a Domain. Private to xml/.
#pragma once

#include <pugixml.hpp>

#include "xml/domain.h"

namespace seclabel {

struct Domain::Document {
  pugi::xml_document tree;
};

// Comments, processing instructions, the declaration and whitespace-only
// text are all kept, so that formatting writes the unmodelled parts back as
// they were. parse_fragment keeps what lies outside the root element too
// (line breaks, and stray text, which the parser then rejects).
inline constexpr unsigned kXmlParseOptions =
    pugi::parse_default | pugi::parse_comments | pugi::parse_pi |
    pugi::parse_declaration | pugi::parse_ws_pcdata | pugi::parse_fragment;

}  // namespace seclabel
