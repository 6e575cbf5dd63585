#include "net/bounded_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {
namespace {

// Reads at most limit + 1 bytes, so "larger than the limit" is detected
// without trusting st_size (sysfs reports 4096 for every attribute).
std::string readAll(int fd, std::size_t limit, const std::string& path) {
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error::fromErrno("cannot read " + path, errno);
    }
    if (got == 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > limit)
      throw Error::invalidInput(path + ": larger than " + std::to_string(limit) + " bytes");
  }
}

}  // namespace

std::optional<std::string> readAdminFile(const std::string& path, std::size_t limit) {
  if (path.empty() || path.front() != '/')
    throw Error::invalidInput("'" + path + "' is not an absolute path");
  open_how how{};
  // O_NONBLOCK: a FIFO put in the file's place must not hang the launcher.
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int raw = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
  if (raw < 0) {
    int err = errno;
    if (err == ENOENT) return std::nullopt;
    if (err == ELOOP)
      throw Error::fromErrno("cannot read " + path + " (a symlink is on its path)", err,
                             ExitCode::InvalidInput);
    throw Error::fromErrno("cannot read " + path, err, ExitCode::InvalidInput);
  }
  UniqueFd fd(raw);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    throw Error::fromErrno("cannot stat " + path, errno, ExitCode::InvalidInput);
  if (!S_ISREG(st.st_mode)) throw Error::invalidInput(path + ": not a regular file");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    throw Error::invalidInput(path + ": owned by uid " + std::to_string(st.st_uid) +
                              ", not by root");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    throw Error::invalidInput(path + ": writable by group or others");
  return readAll(fd.get(), limit, path);
}

std::string readSysfsFile(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) throw Error::fromErrno("cannot read " + path, errno);
  return readAll(fd.get(), limit, path);
}

}  // namespace seclabel
