// The library's version, for a launcher that wants to log what it runs with.
#pragma once

#include "core/export.h"

namespace seclabel {

// The library's version, "MAJOR.MINOR.PATCH".
SECLABEL_API const char* libraryVersion();

}  // namespace seclabel
