// Adding elements to a parsed document so that the result reads as if it had
// been written by hand: a new element gets the line break and indentation of
// its siblings, and a document written on one line stays on one line. Private
// to xml/.
#pragma once

#include <pugixml.hpp>

namespace seclabel {

// Inserts a new element `name` into `parent`: before `before` (a child of
// `parent`) or, when `before` is empty, after the last child. Indentation
// comes from the whitespace in front of `parent`'s first element child; an
// empty parent indents one level (the step between `parent` and its own
// parent, two spaces when that cannot be told) deeper than itself. Inserting
// the same elements into the result again finds them present, so formatting
// is idempotent.
pugi::xml_node insertChildElement(pugi::xml_node parent, const char* name,
                                  pugi::xml_node before = pugi::xml_node());

// Removes the line break and indentation in front of `node` (the text before
// it loses its last "\n[ \t]*"; it goes away if nothing else is left), and
// returns the node now in front of `node`. Inserting an element there again
// (insertChildElement) puts the same break back, which keeps formatting
// idempotent.
pugi::xml_node trimIndentBefore(pugi::xml_node parent, pugi::xml_node node);

// The first element child of `parent`, or an empty node.
pugi::xml_node firstElementChild(pugi::xml_node parent);

// The next element sibling of `node`, or an empty node.
pugi::xml_node nextElementSibling(pugi::xml_node node);

// The node right after `node` that is not blank text (an element, a comment,
// ...), or an empty node: inserting before it puts a new element right
// after `node`.
pugi::xml_node nextNonBlankSibling(pugi::xml_node node);

}  // namespace seclabel
