// Changing a guest's file without being tricked into changing another one.
//
// The file is found once, by the kernel-side walk of secdriver/guest_path.h
// (or, at restore, by its file handle: secdriver/file_identity.h), and held
// as an O_PATH fd. Every check and every change then goes through that one
// fd, so the object checked is the object changed, whatever happens to its
// names meanwhile.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "alloc/store.h"
#include "core/unique_fd.h"
#include "secdriver/guest_path.h"

namespace seclabel {

class SelinuxHost;

class SafeFile {
 public:
  // openGuestPath(path, object): every rule of guest_path.h. Throws Error
  // naming the path.
  static SafeFile open(const std::string& path, GuestObject object);

  // The file `original` remembers, wherever it is now
  // (locateRememberedFile); nullopt when it no longer exists. Throws Error
  // when it cannot be found.
  static std::optional<SafeFile> locate(const RememberedResource& original);

  // The path it was found under (resolved: no symlink in it).
  const std::string& path() const { return path_; }
  const struct stat& status() const { return stat_; }
  int fd() const { return fd_.get(); }
  bool isBlockDevice() const { return S_ISBLK(stat_.st_mode); }

  // Its owner, mode, the exact bytes of security.selinux, of the POSIX ACLs
  // and of security.capability, and its file handle, as they are now. A
  // file system without xattrs of some kind records them as absent
  // (selinuxXattrSupported = false for security.selinux).
  RememberedResource captureOriginal() const;

  // fchownat(fd, "", AT_EMPTY_PATH): the inode we opened, whatever the path
  // points to now. Throws Error with errno.
  void changeOwner(uid_t uid, gid_t gid);
  void setSelinuxLabel(SelinuxHost& selinux, const std::string& label);

  // Puts back exactly what `original` recorded: owner, group, mode (setuid
  // and setgid bits included), and, for an original with exact xattrs, the
  // bytes of security.selinux, the access and default ACLs and
  // security.capability, each removed when the original had none (an ACL
  // the guest added goes). An original from an older store puts back owner,
  // mode and the selinux label as before. Throws Error on failure.
  void restore(SelinuxHost& selinux, const RememberedResource& original);

  // st_nlink now (the guest may have added names since it was opened).
  nlink_t currentLinkCount() const;

 private:
  SafeFile(std::string path, UniqueFd fd, const struct stat& st)
      : path_(std::move(path)), fd_(std::move(fd)), stat_(st) {}
  std::string path_;
  UniqueFd fd_;
  struct stat stat_;
};

// True for errno values that mean "this file system will not let root label
// this file": EPERM (root_squash), ENOTSUP/EOPNOTSUPP (no xattrs), EROFS,
// EACCES (squashed root reading).
bool isRefusedByFilesystem(int errnum);

// True when `path`'s file system is NFS (statfs NFS_SUPER_MAGIC).
bool isOnNfs(int fd);

}  // namespace seclabel
