// Changing a guest's file without being tricked into changing another one.
//
// The path was resolved once, fully (realpath), when the prepare started.
// Here it is opened with O_PATH and no symlink anywhere (openat2
// RESOLVE_NO_SYMLINKS): a path swapped for a symlink since then fails with
// ELOOP instead of leading us to its target. Every check and every change
// then goes through that one fd, so the object checked is the object changed.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "alloc/store.h"
#include "core/unique_fd.h"

namespace seclabel {

class SelinuxHost;

class SafeFile {
 public:
  // Opens `resolvedPath` (absolute, symlink-free) with O_PATH. Throws Error
  // naming the path: ENOENT, ELOOP (a symlink appeared), and a type other
  // than a regular file or block device (Error InvalidInput).
  static SafeFile open(const std::string& resolvedPath);

  const std::string& path() const { return path_; }
  const struct stat& status() const { return stat_; }
  int fd() const { return fd_.get(); }
  bool isBlockDevice() const { return S_ISBLK(stat_.st_mode); }

  // The owner, mode and security.selinux as they are now (ENOTSUP on the
  // xattr is recorded, not an error).
  RememberedResource captureOriginal(const SelinuxHost& selinux) const;

  // fchownat(fd, "", AT_EMPTY_PATH): the inode we opened, whatever the path
  // points to now. Throws Error with errno.
  void changeOwner(uid_t uid, gid_t gid);
  void setSelinuxLabel(SelinuxHost& selinux, const std::string& label);

  // Puts back exactly what `original` recorded: owner, mode, and the
  // security.selinux value or its absence. Throws Error on failure.
  void restore(SelinuxHost& selinux, const RememberedResource& original);

 private:
  SafeFile(std::string path, UniqueFd fd, const struct stat& st)
      : path_(std::move(path)), fd_(std::move(fd)), stat_(st) {}
  std::string path_;
  UniqueFd fd_;
  struct stat stat_;
};

// realpath(3) of `path`, naming the path in the error (ENOENT etc.).
std::string resolvePathOnce(const std::string& path);

// True for errno values that mean "this file system will not let root label
// this file": EPERM (root_squash), ENOTSUP/EOPNOTSUPP (no xattrs), EROFS,
// EACCES (squashed root reading).
bool isRefusedByFilesystem(int errnum);

// True when `path`'s file system is NFS (statfs NFS_SUPER_MAGIC).
bool isOnNfs(int fd);

}  // namespace seclabel
