#include "core/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"
#include "core/trusted_path.h"
#include "core/unique_fd.h"

namespace seclabel {
namespace {

std::string describe(const FileReadRules& rules, const std::string& path) {
  return std::string(rules.what) + " " + path;
}

// O_PATH follows the caller's symlinks (the caller named the file) but
// opens nothing: a device or FIFO is looked at, never opened.
UniqueFd openAnyRegularFile(const std::string& path, const FileReadRules& rules) {
  UniqueFd handle(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!handle) throw Error::fromErrno("cannot open " + path, errno, ExitCode::InvalidInput);
  struct stat st;
  if (::fstat(handle.get(), &st) != 0)
    throw Error::fromErrno("cannot stat " + describe(rules, path), errno, ExitCode::InvalidInput);
  if (!S_ISREG(st.st_mode))
    throw Error::invalidInput(describe(rules, path) + " is not a regular file");
  // The magic link reaches the inode just checked, whatever the name
  // points at by now.
  std::string self = "/proc/self/fd/" + std::to_string(handle.get());
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) throw Error::fromErrno("cannot open " + path, errno, ExitCode::InvalidInput);
  return fd;
}

}  // namespace

std::string readBounded(int fd, const std::string& path, const FileReadRules& rules) {
  std::string text;
  char chunk[65536];
  while (text.size() <= rules.maxBytes) {
    std::size_t want = std::min(sizeof chunk, rules.maxBytes + 1 - text.size());
    ssize_t n = ::read(fd, chunk, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error::fromErrno("cannot read " + describe(rules, path), errno, ExitCode::InvalidInput);
    if (n == 0) return text;
    text.append(chunk, std::size_t(n));
  }
  throw Error::invalidInput(describe(rules, path) + " is larger than " +
                            std::to_string(rules.maxBytes) + " bytes");
}

std::string readRegularFile(const std::string& path, const FileReadRules& rules) {
  UniqueFd fd;
  if (rules.trust == FileTrust::RootOrCaller) {
    try {
      fd = openTrustedFileForReading(path, rules.what);
    } catch (const Error& e) {
      // A file that is missing or unreadable is the caller's input error.
      if (e.code() == ExitCode::Failed && e.errnum() != 0)
        throw Error::fromErrno("cannot read " + describe(rules, path), e.errnum(),
                               ExitCode::InvalidInput);
      if (e.code() == ExitCode::Failed) throw Error(ExitCode::InvalidInput, e.what());
      throw;
    }
  } else {
    fd = openAnyRegularFile(path, rules);
  }
  return readBounded(fd.get(), path, rules);
}

}  // namespace seclabel
