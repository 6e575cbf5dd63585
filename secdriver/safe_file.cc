#include "secdriver/safe_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "secdriver/selinux_host.h"

namespace seclabel {
namespace {

int openNoSymlinks(const std::string& path) {
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: the last component at least must not be a link.
    fd = ::open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
  }
  return static_cast<int>(fd);
}

std::string procFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace

std::string resolvePathOnce(const std::string& path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved))
    throw Error::fromErrno("cannot resolve " + path, errno);
  return resolved;
}

bool isRefusedByFilesystem(int errnum) {
  return errnum == EPERM || errnum == ENOTSUP || errnum == EOPNOTSUPP ||
         errnum == EROFS || errnum == EACCES;
}

bool isOnNfs(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == NFS_SUPER_MAGIC;
}

SafeFile SafeFile::open(const std::string& resolvedPath) {
  UniqueFd fd(openNoSymlinks(resolvedPath));
  if (!fd) {
    int err = errno;
    if (err == ELOOP)
      throw Error(ExitCode::Failed,
                  "refusing " + resolvedPath + ": it became a symlink after it was resolved", err);
    throw Error::fromErrno("cannot open " + resolvedPath, err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw Error::fromErrno("cannot stat " + resolvedPath, errno);
  // O_PATH|O_NOFOLLOW opens a final-component symlink itself instead of
  // failing with ELOOP: a path swapped for a symlink ends up here.
  if (S_ISLNK(st.st_mode))
    throw Error(ExitCode::Failed,
                "refusing " + resolvedPath + ": it became a symlink after it was resolved", ELOOP);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    throw Error::invalidInput("refusing " + resolvedPath +
                              ": not a regular file or block device");
  return SafeFile(resolvedPath, std::move(fd), st);
}

RememberedResource SafeFile::captureOriginal(const SelinuxHost& selinux) const {
  RememberedResource original;
  original.dev = stat_.st_dev;
  original.ino = stat_.st_ino;
  original.path = path_;
  original.uid = stat_.st_uid;
  original.gid = stat_.st_gid;
  original.mode = stat_.st_mode & 07777;
  try {
    original.selinuxLabel = selinux.getFileLabel(fd_.get());
  } catch (const Error& e) {
    if (e.errnum() != ENOTSUP && e.errnum() != EOPNOTSUPP) throw e.withContext(path_);
    original.selinuxXattrSupported = false;
  }
  return original;
}

void SafeFile::changeOwner(uid_t uid, gid_t gid) {
  if (::fchownat(fd_.get(), "", uid, gid, AT_EMPTY_PATH) != 0)
    throw Error::fromErrno("cannot chown " + path_ + " to +" + std::to_string(uid) + ":+" +
                               std::to_string(gid),
                           errno);
}

void SafeFile::setSelinuxLabel(SelinuxHost& selinux, const std::string& label) {
  try {
    selinux.setFileLabel(fd_.get(), label);
  } catch (const Error& e) {
    throw Error(e.code(), "cannot label " + path_ + " " + label + ": " +
                              std::strerror(e.errnum()), e.errnum());
  }
}

void SafeFile::restore(SelinuxHost& selinux, const RememberedResource& original) {
  if (::fchownat(fd_.get(), "", original.uid, original.gid, AT_EMPTY_PATH) != 0)
    throw Error::fromErrno("cannot restore owner of " + path_, errno);
  // chown may clear setuid/setgid bits: put the exact mode back afterwards.
  // chmod through the magic link reaches the inode the O_PATH fd holds.
  if (::chmod(procFdPath(fd_.get()).c_str(), original.mode) != 0)
    throw Error::fromErrno("cannot restore mode of " + path_, errno);
  if (!original.selinuxXattrSupported) return;
  try {
    if (original.selinuxLabel) {
      selinux.setFileLabel(fd_.get(), *original.selinuxLabel);
    } else {
      selinux.removeFileLabel(fd_.get());
    }
  } catch (const Error& e) {
    throw e.withContext("cannot restore security.selinux of " + path_);
  }
}

}  // namespace seclabel
