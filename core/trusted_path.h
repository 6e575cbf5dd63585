// Opening files and directories that only root (or the caller) can change.
//
// seclabel runs as root and acts on what its state directory, its config and
// its audit file say. If anyone else can write one of them -- or rename,
// replace or re-point any directory on the way to it -- that person decides
// what root does. So such a path is never checked by name and then opened by
// name: it is walked from "/" one component at a time, each opened with
// O_NOFOLLOW relative to the verified fd of its parent and checked on that fd
// (fstat), and the result is used only through the fd.
//
// A directory on the way is trusted, as OpenSSH's StrictModes
// (auth2-pubkeyfile.c, safe_path) has it, when it is owned by root or by the
// caller (the effective uid) and neither group nor others may write it. One
// exception: a root-owned directory with the sticky bit (/tmp). Anybody may
// create names there, but only a name's owner (or root) may rename, remove or
// replace it, and the next component is itself checked to be owned by root
// or the caller: nobody else can change it. (sshd refuses /tmp; libvirt's and
// systemd's tests keep state under /tmp, and the kernel's
// fs.protected_symlinks reasons the same way.) POSIX ACLs need no check of
// their own: with an ACL the group bits of the mode are the mask, which caps
// every named user and group entry, so "group may not write" covers them.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "core/unique_fd.h"

namespace seclabel {

// What a symbolic link on the way means.
enum class SymlinkRule {
  // Refused (exit 4): the state directory, which nothing should redirect.
  Refuse,
  // Followed when the link itself is owned by root or the caller; it lies in
  // a verified directory, so nobody else can re-point it. The target is
  // walked with the same checks (at most 40 links, as the kernel allows).
  FollowTrusted,
};

// A directory that only root or the caller can change, held open. Files in it
// are opened relative to fd(), never by path.
class TrustedDirectory {
 public:
  enum class IfMissing { Fail, Create0700 };

  // The state directory (and anything like it): walked with SymlinkRule::Refuse;
  // every ancestor trusted (see above); the directory itself owned by the
  // caller and writable by nobody else (the sticky exception does not apply).
  // Create0700 makes the last component, mode 0700, relative to its verified
  // parent; the parents must exist.
  // Throws Error(PermissionDenied) "WHAT PATH: REASON" when a check fails, a
  // Failed one naming the errno otherwise (ENOENT: errnum() says so).
  static TrustedDirectory openPrivate(const std::string& path, IfMissing ifMissing,
                                      std::string_view what);

  // A directory a trusted file lives in (the audit file's): walked with
  // SymlinkRule::FollowTrusted; the directory itself may be a sticky
  // root-owned one. Errors as openPrivate.
  static TrustedDirectory openTrusted(const std::string& path, std::string_view what);

  TrustedDirectory(TrustedDirectory&&) noexcept = default;
  TrustedDirectory& operator=(TrustedDirectory&&) noexcept = default;

  // An O_RDONLY|O_DIRECTORY fd of the verified directory (fsync-able).
  int fd() const noexcept { return fd_.get(); }
  // The path it was opened by, for messages only.
  const std::string& path() const noexcept { return path_; }
  // PATH/NAME, for messages only.
  std::string pathOf(std::string_view name) const;
  // "/proc/self/fd/N/NAME": a name the kernel resolves through this very
  // directory (a magic link: the held inode, not a path re-read), for code
  // that can only open by name (SQLite). Valid while this object lives and
  // fd() keeps its number.
  std::string kernelPathOf(std::string_view name) const;

  enum class Create { No, IfMissing };
  // Opens NAME in this directory with `accessFlags` (O_RDONLY, O_RDWR,
  // O_WRONLY, optionally O_APPEND) plus O_NOFOLLOW|O_CLOEXEC|O_NOCTTY|
  // O_NONBLOCK, creating it with `mode` (never widened by the umask's
  // absence: the umask can only narrow it) when asked. The result must be a
  // regular file, owned by the caller, with one link (a hard link would let
  // whoever made it read or grow another file through this name); else
  // Error(PermissionDenied). `created` (optional) says whether it was made.
  UniqueFd openPrivateFile(std::string_view name, int accessFlags, Create create,
                           mode_t mode = 0600, bool* created = nullptr) const;

 private:
  TrustedDirectory(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// Opens the regular file at `path` for reading when it and every directory
// on the way (symlinks followed as SymlinkRule::FollowTrusted) can be
// changed only by root or the caller: the file must be owned by one of them
// and not writable by group or others. Returns an O_RDONLY fd. Errors:
// PermissionDenied for a check that fails, InvalidInput for something that is
// not a regular file, Failed naming the errno otherwise (ENOENT in errnum()).
UniqueFd openTrustedFileForReading(const std::string& path, std::string_view what);

// Test seam (never set in production): called after each directory of a
// walk is verified and before the next component is opened, with the path
// walked so far. Tests swap directories there to prove that the walk goes on
// from the verified fd, whatever the names now point at.
void setTrustedWalkHookForTesting(std::function<void(const std::string& verifiedPath)> hook);

}  // namespace seclabel
