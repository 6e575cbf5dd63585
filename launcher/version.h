// The library's version, for a launcher that wants to log what it runs with.
#pragma once

namespace seclabel {

// The library's version, "MAJOR.MINOR.PATCH".
const char* libraryVersion();

}  // namespace seclabel
