#include "secdriver/safe_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "secdriver/file_identity.h"
#include "secdriver/file_xattrs.h"
#include "secdriver/selinux_host.h"

namespace seclabel {
namespace {

constexpr const char* kSelinuxXattr = "security.selinux";
constexpr const char* kAclAccessXattr = "system.posix_acl_access";
constexpr const char* kAclDefaultXattr = "system.posix_acl_default";
constexpr const char* kCapabilityXattr = "security.capability";

std::string procFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// An xattr as found, treating "this file system has none of these" as
// absent: there is then nothing to remember and nothing to restore.
std::optional<std::string> readOptionalXattr(int fd, const char* name, const std::string& path) {
  try {
    return readXattr(fd, name);
  } catch (const Error& e) {
    if (isXattrUnsupported(e.errnum())) return std::nullopt;
    throw e.withContext(path);
  }
}

// Makes xattr `name` exactly `wanted` (absent when nullopt), writing only
// when it differs.
void restoreXattr(int fd, const char* name, const std::optional<std::string>& wanted,
                  const std::string& path) {
  std::optional<std::string> current;
  try {
    current = readXattr(fd, name);
  } catch (const Error& e) {
    // No such xattrs on this file system: the original had none either.
    if (isXattrUnsupported(e.errnum()) && !wanted) return;
    throw e.withContext("cannot restore " + std::string(name) + " of " + path);
  }
  if (current == wanted) return;
  try {
    if (wanted) {
      writeXattr(fd, name, *wanted);
    } else {
      removeXattr(fd, name);
    }
  } catch (const Error& e) {
    throw e.withContext("cannot restore " + std::string(name) + " of " + path);
  }
}

}  // namespace

bool isRefusedByFilesystem(int errnum) {
  return errnum == EPERM || errnum == ENOTSUP || errnum == EOPNOTSUPP ||
         errnum == EROFS || errnum == EACCES;
}

bool isOnNfs(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == NFS_SUPER_MAGIC;
}

SafeFile SafeFile::open(const std::string& path, GuestObject object) {
  GuestPath found = openGuestPath(path, object);
  return SafeFile(found.resolved, std::move(found.fd), found.status);
}

std::optional<SafeFile> SafeFile::locate(const RememberedResource& original) {
  std::optional<LocatedFile> located = locateRememberedFile(original);
  if (!located) return std::nullopt;
  return SafeFile(located->where, std::move(located->fd), located->status);
}

RememberedResource SafeFile::captureOriginal() const {
  RememberedResource original;
  original.dev = stat_.st_dev;
  original.ino = stat_.st_ino;
  original.path = path_;
  original.uid = stat_.st_uid;
  original.gid = stat_.st_gid;
  original.mode = stat_.st_mode & 07777;
  AccessXattrs xattrs;
  try {
    xattrs.selinux = readXattr(fd_.get(), kSelinuxXattr);
  } catch (const Error& e) {
    if (!isXattrUnsupported(e.errnum())) throw e.withContext(path_);
    original.selinuxXattrSupported = false;
  }
  if (xattrs.selinux) {
    // The label as text (audit records, dominfo): without the trailing NUL
    // the kernel usually stores. The exact bytes stay in xattrs.
    std::string label = *xattrs.selinux;
    while (!label.empty() && label.back() == '\0') label.pop_back();
    original.selinuxLabel = label;
  }
  xattrs.aclAccess = readOptionalXattr(fd_.get(), kAclAccessXattr, path_);
  xattrs.aclDefault = readOptionalXattr(fd_.get(), kAclDefaultXattr, path_);
  xattrs.capability = readOptionalXattr(fd_.get(), kCapabilityXattr, path_);
  original.xattrs = std::move(xattrs);
  try {
    original.handle = fileHandleOf(fd_.get());
  } catch (const Error& e) {
    throw e.withContext(path_);
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

nlink_t SafeFile::currentLinkCount() const {
  struct stat now;
  if (::fstat(fd_.get(), &now) != 0) throw Error::fromErrno("cannot stat " + path_, errno);
  return now.st_nlink;
}

void SafeFile::restore(SelinuxHost& selinux, const RememberedResource& original) {
  struct stat now;
  if (::fstat(fd_.get(), &now) != 0) throw Error::fromErrno("cannot stat " + path_, errno);
  // chown drops setuid/setgid bits and security.capability even when the
  // owner does not change: only when it must, and the rest is put back
  // after it.
  if (now.st_uid != original.uid || now.st_gid != original.gid) {
    if (::fchownat(fd_.get(), "", original.uid, original.gid, AT_EMPTY_PATH) != 0)
      throw Error::fromErrno("cannot restore owner of " + path_, errno);
  }
  if (original.xattrs) {
    // Before the mode: setting an ACL rewrites the group bits from its
    // mask, and chmod then leaves an ACL consistent with the mode.
    restoreXattr(fd_.get(), kAclAccessXattr, original.xattrs->aclAccess, path_);
    restoreXattr(fd_.get(), kAclDefaultXattr, original.xattrs->aclDefault, path_);
  }
  // chmod through the magic link reaches the inode the O_PATH fd holds.
  if (::chmod(procFdPath(fd_.get()).c_str(), original.mode) != 0)
    throw Error::fromErrno("cannot restore mode of " + path_, errno);
  if (original.xattrs) {
    restoreXattr(fd_.get(), kCapabilityXattr, original.xattrs->capability, path_);
    if (original.selinuxXattrSupported)
      restoreXattr(fd_.get(), kSelinuxXattr, original.xattrs->selinux, path_);
    return;
  }
  // An original from a store before exact xattrs: the label as text.
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
