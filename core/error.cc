#include "core/error.h"

#include <cstring>

namespace seclabel {

Error::Error(ExitCode code, const std::string& message, int errnum)
    : std::runtime_error(message), code_(code), errnum_(errnum) {}

Error Error::fromErrno(const std::string& what, int errnum, ExitCode code) {
  return Error(code, what + ": " + std::strerror(errnum), errnum);
}

Error Error::withContext(const std::string& prefix) const {
  return Error(code_, prefix + ": " + what(), errnum_);
}

}  // namespace seclabel
