#include "core/trusted_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <deque>
#include <optional>
#include <vector>

#include "core/error.h"

namespace seclabel {
namespace {

// The kernel's limit on symbolic links followed in one resolution.
constexpr int kMaxSymlinks = 40;

std::function<void(const std::string&)>& walkHook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

std::string octalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
  return text;
}

std::string joinPath(const std::string& directory, std::string_view name) {
  if (directory.empty() || directory.back() == '/') return directory + std::string(name);
  return directory + "/" + std::string(name);
}

// Root and the process's effective uid are the only owners that cannot be
// the attacker: root is who we are, the effective uid is who asked.
bool trustedOwner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

std::string ownerRule() {
  return ::geteuid() == 0 ? std::string("root")
                          : "root or uid " + std::to_string(::geteuid());
}

[[noreturn]] void refuse(std::string_view what, const std::string& path,
                         const std::string& reason) {
  throw Error(ExitCode::PermissionDenied, std::string(what) + " " + path + ": " + reason, EPERM);
}

[[noreturn]] void systemError(std::string_view what, const std::string& path,
                              const std::string& action, int err) {
  throw Error::fromErrno(std::string(what) + " " + path + ": " + action, err);
}

enum class DirectoryRole {
  Ancestor,    // on the way: sticky root-owned directories pass
  Private,     // the state directory: the caller's alone
};

void checkOwner(std::string_view what, const std::string& original, const std::string& path,
                const struct stat& st) {
  if (!trustedOwner(st.st_uid))
    refuse(what, original, path + " is owned by uid " + std::to_string(st.st_uid) +
                               " (only " + ownerRule() + " may own it)");
}

void checkDirectory(std::string_view what, const std::string& original, const std::string& path,
                    const struct stat& st, DirectoryRole role) {
  checkOwner(what, original, path, st);
  if (role == DirectoryRole::Private && st.st_uid != ::geteuid())
    refuse(what, original, path + " is owned by uid " + std::to_string(st.st_uid) +
                               ", not by uid " + std::to_string(::geteuid()));
  if ((st.st_mode & 022) == 0) return;
  // Sticky and root-owned: only an entry's owner may rename or remove it,
  // and the entry we go on to is checked to be root's or the caller's.
  if (role == DirectoryRole::Ancestor && (st.st_mode & S_ISVTX) && st.st_uid == 0) return;
  refuse(what, original, path + " is writable by group or others (mode " +
                             octalMode(st.st_mode) + ")");
}

// One verified directory of a walk.
struct VerifiedDirectory {
  UniqueFd fd;  // O_PATH
  std::string path;
};

// The object a walk ended on: opened O_PATH|O_NOFOLLOW relative to
// `parent`, or missing (fd invalid) when only the last component is absent.
struct WalkEnd {
  VerifiedDirectory parent;
  std::string name;
  std::string path;
  UniqueFd fd;
  struct stat st {};
};

std::deque<std::string> splitComponents(std::string_view path) {
  std::deque<std::string> components;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) components.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return components;
}

// Walks `path` from "/" (a relative path from the current directory, itself
// walked from "/"), checking every directory before going on from its fd.
// Stops on the last component, which it opens but does not check: that is
// the caller's rule (a private directory, a trusted file...).
class Walk {
 public:
  Walk(std::string path, SymlinkRule rule, std::string_view what)
      : original_(std::move(path)), rule_(rule), what_(what) {}

  WalkEnd run() {
    if (original_.empty()) throw Error::invalidInput(what_ + ": empty path");
    std::string absolute = original_;
    if (absolute.front() != '/') {
      char cwd[PATH_MAX];
      if (!::getcwd(cwd, sizeof cwd)) systemError(what_, original_, "cannot get the current directory", errno);
      absolute = joinPath(cwd, absolute);
    }
    pending_ = splitComponents(absolute);
    startAtRoot();
    while (true) {
      if (pending_.empty()) return endOnDirectory();
      std::string name = std::move(pending_.front());
      pending_.pop_front();
      if (name == ".") continue;
      if (name == "..") {
        if (directories_.size() > 1) directories_.pop_back();
        continue;
      }
      const VerifiedDirectory& parent = directories_.back();
      std::string path = joinPath(parent.path, name);
      UniqueFd fd(::openat(parent.fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) {
        int err = errno;
        if (err == ENOENT && pending_.empty()) return endMissing(std::move(name), std::move(path));
        systemError(what_, original_, "cannot open " + path, err);
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) systemError(what_, original_, "cannot stat " + path, errno);
      if (S_ISLNK(st.st_mode)) {
        followSymlink(fd.get(), path, st);
        continue;
      }
      if (pending_.empty()) {
        WalkEnd end;
        end.parent = takeParent();
        end.name = std::move(name);
        end.path = std::move(path);
        end.fd = std::move(fd);
        end.st = st;
        return end;
      }
      if (!S_ISDIR(st.st_mode))
        systemError(what_, original_, "cannot open " + path, ENOTDIR);
      checkDirectory(what_, original_, path, st, DirectoryRole::Ancestor);
      directories_.push_back({std::move(fd), path});
      if (walkHook()) walkHook()(path);
    }
  }

 private:
  void startAtRoot() {
    directories_.clear();
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) systemError(what_, original_, "cannot open /", errno);
    struct stat st;
    if (::fstat(root.get(), &st) != 0) systemError(what_, original_, "cannot stat /", errno);
    checkDirectory(what_, original_, "/", st, DirectoryRole::Ancestor);
    directories_.push_back({std::move(root), "/"});
  }

  // The link lies in a verified directory: only root or the caller can have
  // made it, or re-point it, if it is theirs.
  void followSymlink(int fd, const std::string& path, const struct stat& st) {
    if (rule_ == SymlinkRule::Refuse)
      refuse(what_, original_, path + " is a symbolic link (refused: it could point anywhere)");
    checkOwner(what_, original_, path, st);
    if (++links_ > kMaxSymlinks) systemError(what_, original_, "cannot resolve " + path, ELOOP);
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(fd, "", target, sizeof target - 1);
    if (n < 0) systemError(what_, original_, "cannot read the link " + path, errno);
    std::string_view text(target, std::size_t(n));
    std::deque<std::string> components = splitComponents(text);
    pending_.insert(pending_.begin(), components.begin(), components.end());
    if (!text.empty() && text.front() == '/') startAtRoot();
  }

  VerifiedDirectory takeParent() {
    VerifiedDirectory parent = std::move(directories_.back());
    directories_.pop_back();
    return parent;
  }

  // The path ended on a directory already walked ("/a/b/.." or "/"; the
  // root has no parent, and needs none: it is not created or opened by name).
  WalkEnd endOnDirectory() {
    WalkEnd end;
    VerifiedDirectory last = takeParent();
    if (!directories_.empty()) end.parent = takeParent();
    end.path = last.path;
    end.name = last.path.substr(last.path.rfind('/') + 1);
    end.fd = std::move(last.fd);
    if (::fstat(end.fd.get(), &end.st) != 0) systemError(what_, original_, "cannot stat " + end.path, errno);
    return end;
  }

  WalkEnd endMissing(std::string name, std::string path) {
    WalkEnd end;
    end.parent = takeParent();
    end.name = std::move(name);
    end.path = std::move(path);
    return end;
  }

  std::string original_;
  SymlinkRule rule_;
  std::string what_;
  std::deque<std::string> pending_;
  std::vector<VerifiedDirectory> directories_;
  int links_ = 0;
};

// An O_RDONLY|O_DIRECTORY fd of the directory held as O_PATH `fd`: "." of
// the held inode, so nothing can be swapped in between.
UniqueFd reopenDirectory(int fd, std::string_view what, const std::string& path) {
  UniqueFd directory(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory) systemError(what, path, "cannot open it", errno);
  return directory;
}

}  // namespace

TrustedDirectory TrustedDirectory::openPrivate(const std::string& path, IfMissing ifMissing,
                                               std::string_view what) {
  WalkEnd end = Walk(path, SymlinkRule::Refuse, what).run();
  if (!end.fd) {
    if (ifMissing == IfMissing::Fail) systemError(what, path, "cannot open " + end.path, ENOENT);
    // Relative to the verified parent: nobody can have redirected the name.
    if (::mkdirat(end.parent.fd.get(), end.name.c_str(), 0700) != 0 && errno != EEXIST)
      systemError(what, path, "cannot create " + end.path, errno);
    end.fd = UniqueFd(::openat(end.parent.fd.get(), end.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!end.fd) systemError(what, path, "cannot open " + end.path, errno);
    if (::fstat(end.fd.get(), &end.st) != 0) systemError(what, path, "cannot stat " + end.path, errno);
  }
  if (S_ISLNK(end.st.st_mode))
    refuse(what, path, end.path + " is a symbolic link (refused: it could point anywhere)");
  // Something else where the directory should be is a broken setup, not an
  // attack to deny: a failure (ENOTDIR), as for a file on the way.
  if (!S_ISDIR(end.st.st_mode))
    throw Error(ExitCode::Failed, std::string(what) + " " + path + ": " + end.path +
                                      " is not a directory", ENOTDIR);
  checkDirectory(what, path, end.path, end.st, DirectoryRole::Private);
  return TrustedDirectory(reopenDirectory(end.fd.get(), what, path), path);
}

TrustedDirectory TrustedDirectory::openTrusted(const std::string& path, std::string_view what) {
  // A trailing "." makes the walk go through a final symlink like any other.
  WalkEnd end = Walk(path + "/.", SymlinkRule::FollowTrusted, what).run();
  if (!S_ISDIR(end.st.st_mode)) refuse(what, path, end.path + " is not a directory");
  checkDirectory(what, path, end.path, end.st, DirectoryRole::Ancestor);
  return TrustedDirectory(reopenDirectory(end.fd.get(), what, path), path);
}

std::string TrustedDirectory::pathOf(std::string_view name) const { return joinPath(path_, name); }

std::string TrustedDirectory::kernelPathOf(std::string_view name) const {
  return "/proc/self/fd/" + std::to_string(fd_.get()) + "/" + std::string(name);
}

UniqueFd TrustedDirectory::openPrivateFile(std::string_view nameView, int accessFlags,
                                           Create create, mode_t mode, bool* created) const {
  const std::string name(nameView);
  const std::string path = pathOf(name);
  const int flags = accessFlags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  UniqueFd fd;
  bool madeHere = false;
  if (create == Create::IfMissing) {
    // O_EXCL: a new, empty inode of ours, or nothing (any existing name,
    // a symlink included, fails with EEXIST).
    fd = UniqueFd(::openat(fd_.get(), name.c_str(), flags | O_CREAT | O_EXCL, mode));
    madeHere = bool(fd);
    if (!fd && errno != EEXIST) throw Error::fromErrno("cannot create " + path, errno);
  }
  if (created) *created = madeHere;
  struct stat st {};
  if (!fd) {
    // Look before opening: a device or FIFO planted here is never opened.
    UniqueFd probe(::openat(fd_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!probe) throw Error::fromErrno("cannot open " + path, errno);
    if (::fstat(probe.get(), &st) != 0) throw Error::fromErrno("cannot stat " + path, errno);
    if (S_ISLNK(st.st_mode))
      throw Error(ExitCode::PermissionDenied, path + " is a symbolic link (refused)", ELOOP);
    if (!S_ISREG(st.st_mode))
      throw Error(ExitCode::PermissionDenied, path + " is not a regular file (refused)");
    fd = UniqueFd(::openat(fd_.get(), name.c_str(), flags | O_NONBLOCK));
    if (!fd) throw Error::fromErrno("cannot open " + path, errno);
  }
  struct stat opened;
  if (::fstat(fd.get(), &opened) != 0) throw Error::fromErrno("cannot stat " + path, errno);
  if (!madeHere && (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino))
    throw Error(ExitCode::PermissionDenied, path + " changed while it was being opened");
  if (!S_ISREG(opened.st_mode))
    throw Error(ExitCode::PermissionDenied, path + " is not a regular file (refused)");
  if (opened.st_nlink != 1)
    throw Error(ExitCode::PermissionDenied,
                path + " has " + std::to_string(opened.st_nlink) +
                    " hard links (refused: another name may reach the same file)");
  if (opened.st_uid != ::geteuid())
    throw Error(ExitCode::PermissionDenied, path + " is owned by uid " +
                                                std::to_string(opened.st_uid) + ", not by uid " +
                                                std::to_string(::geteuid()));
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK)) ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

UniqueFd openTrustedFileForReading(const std::string& path, std::string_view what) {
  WalkEnd end = Walk(path, SymlinkRule::FollowTrusted, what).run();
  if (!end.fd) systemError(what, path, "cannot open " + end.path, ENOENT);
  if (!S_ISREG(end.st.st_mode))
    throw Error::invalidInput(std::string(what) + " " + path + ": " + end.path +
                              " is not a regular file");
  checkOwner(what, path, end.path, end.st);
  if (end.st.st_mode & 022)
    refuse(what, path, end.path + " is writable by group or others (mode " +
                           octalMode(end.st.st_mode) + ")");
  // By name in the verified parent (only root or the caller can change
  // names there), then proven to be the inode just checked.
  UniqueFd fd(::openat(end.parent.fd.get(), end.name.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) systemError(what, path, "cannot open " + end.path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) systemError(what, path, "cannot stat " + end.path, errno);
  if (st.st_dev != end.st.st_dev || st.st_ino != end.st.st_ino)
    refuse(what, path, end.path + " changed while it was being opened");
  return fd;
}

void setTrustedWalkHookForTesting(std::function<void(const std::string& verifiedPath)> hook) {
  walkHook() = std::move(hook);
}

}  // namespace seclabel
