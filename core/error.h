// The one error channel of libseclabel.
//
// Every failure the library reports is a seclabel::Error: the exit code the
// command line maps it to (seclabel(1), EXIT STATUS), the message naming the object and the
// reason, and errno when a system call was the cause. Library code throws it;
// tools/ catches it once and prints `seclabel: <message>`.
// Code between clone() and execve() never throws (see process/process.h).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/export.h"

namespace seclabel {

// Exit codes of the seclabel command: the one table, documented in
// seclabel(1) EXIT STATUS (tests/core/exit_code_doc_test.cc compares them).
enum class ExitCode : int {
  Ok = 0,
  Failed = 1,            // an operation failed
  InvalidInput = 2,      // usage, XML, config, unknown guest
  NoIdentity = 3,        // no free identity, or a label/resource conflict
  PermissionDenied = 4,  // the caller may not do this
  // `exec` and `run` only, as shells use them: the guest command exists but
  // execve() refused it (EACCES, ENOEXEC, ...), or it does not exist. Every
  // other failure of a launch keeps its own code above, so a caller can tell
  // "the command could not start" from "seclabel could not do its part".
  CannotExecute = 126,
  CommandNotFound = 127,
};

class SECLABEL_API Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message, int errnum = 0);

  // "<what>: <strerror(errnum)>", with code Failed unless told otherwise.
  static Error fromErrno(const std::string& what, int errnum,
                         ExitCode code = ExitCode::Failed);
  static Error invalidInput(const std::string& message) {
    return Error(ExitCode::InvalidInput, message);
  }
  static Error conflict(const std::string& message) {
    return Error(ExitCode::NoIdentity, message);
  }

  ExitCode code() const noexcept { return code_; }
  int exitCode() const noexcept { return static_cast<int>(code_); }
  // errno of the failed system call, 0 when the error is not a system one.
  int errnum() const noexcept { return errnum_; }

  // The same error with "<prefix>: " in front, keeping code and errno.
  Error withContext(const std::string& prefix) const;

 private:
  ExitCode code_;
  int errnum_;
};

// `value` as an error message may quote it: control characters shown as
// \xNN, so a hostile value cannot add a line to stderr or forge one.
SECLABEL_API std::string printableValue(std::string_view value);

}  // namespace seclabel
