#include "launcher/version.h"

namespace seclabel {

const char* libraryVersion() { return SECLABEL_VERSION; }

}  // namespace seclabel
