#include "secdriver/guest_path.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "secdriver/pseudo_filesystems.h"

namespace seclabel {
namespace {

// The kernel's MAXSYMLINKS (include/linux/namei.h).
constexpr int kMaxSymlinks = 40;

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

std::string uidText(uid_t uid) { return std::to_string(uid); }

// fs/namei.c may_follow_link() for a follower whose fsuid is 0, as if
// fs.protected_symlinks were 1: in a sticky world-writable directory a
// symlink is followed only when root or the directory's owner owns it.
bool kernelRuleAllows(const struct stat& directory, const struct stat& link) {
  if (link.st_uid == 0) return true;
  if ((directory.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH)) return true;
  return directory.st_uid == link.st_uid;
}

// A resolution in progress: the directories walked so far, each held open,
// from "/" down to the current one. ".." inside a symlink's target steps
// back along this stack, so it leads where the walk came from.
class Walk {
 public:
  explicit Walk(const std::string& named) : named_(named) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error::fromErrno("cannot open /", errno);
    struct stat status;
    if (::fstat(root.get(), &status) != 0) throw Error::fromErrno("cannot stat /", errno);
    const bool fuse = filesystemKindOf(root.get()).fuse;
    steps_.push_back({std::move(root), "", status, fuse});
  }

  void follow(std::string_view path) {
    if (!path.empty() && path.front() == '/') steps_.resize(1);
    for (std::string_view part : components(path)) {
      if (part == "..") {
        if (steps_.size() > 1) steps_.pop_back();  // "/.." is "/", as in the kernel
        continue;
      }
      step(std::string(part));
    }
  }

  std::string resolved() const {
    if (steps_.size() == 1) return "/";
    std::string path;
    for (std::size_t i = 1; i < steps_.size(); ++i) path += "/" + steps_[i].name;
    return path;
  }

  GuestPath finish() {
    Step& last = steps_.back();
    return GuestPath{named_, resolved(), std::move(last.fd), last.status};
  }

 private:
  struct Step {
    UniqueFd fd;
    std::string name;
    struct stat status;
    bool onFuse = false;
  };

  std::string at(const std::string& name) const {
    std::string here = resolved();
    return (here == "/" ? "" : here) + "/" + name;
  }

  // "refusing NAMED: WHY", naming where the walk was when it differs.
  std::string refusing(const std::string& where, const std::string& why) const {
    if (where == named_) return "refusing " + named_ + ": it " + why;
    return "refusing " + named_ + ": " + where + " " + why;
  }

  void step(const std::string& name) {
    const Step& directory = steps_.back();
    const std::string where = at(name);
    if (!S_ISDIR(directory.status.st_mode))
      throw Error::fromErrno("cannot resolve " + named_ + ": " + resolved(), ENOTDIR);
    // O_NOFOLLOW with O_PATH opens a symlink itself: we look at it, and
    // decide, before anything it points to is touched.
    UniqueFd fd(::openat(directory.fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      int err = errno;
      throw Error::fromErrno(
          "cannot open " + named_ + (where == named_ ? std::string() : " (at " + where + ")"), err);
    }
    struct stat status;
    if (::fstat(fd.get(), &status) != 0)
      throw Error::fromErrno("cannot stat " + where, errno);
    if (!S_ISLNK(status.st_mode)) {
      // A symlink is on its directory's file system; anything else may be
      // the root of another mount.
      FilesystemKind kind;
      try {
        kind = filesystemKindOf(fd.get());
      } catch (const Error& e) {
        throw e.withContext(where);
      }
      if (kind.pseudo)
        throw Error::invalidInput(refusing(
            where, "is on " + std::string(*kind.pseudo) +
                       ", a kernel interface file system: it is not a guest's file"));
      steps_.push_back({std::move(fd), name, status, kind.fuse});
      return;
    }

    if (++links_ > kMaxSymlinks)
      throw Error::fromErrno("cannot resolve " + named_ + ": more than " +
                                 std::to_string(kMaxSymlinks) + " symbolic links",
                             ELOOP);
    // A second name for a symlink is a root-owned link someone hard-linked
    // into a directory of theirs (possible with fs.protected_hardlinks=0):
    // it would pass for root's own link here.
    if (status.st_nlink > 1)
      throw Error(ExitCode::PermissionDenied,
                  refusing(where, "is a symbolic link with " + std::to_string(status.st_nlink) +
                                      " hard links"),
                  EACCES);
    // On FUSE the link's owner and target are whatever the daemon says: a
    // user's daemon would answer "root".
    if (directory.onFuse)
      throw Error(ExitCode::PermissionDenied,
                  refusing(where, "is a symbolic link on a FUSE file system, whose owner and "
                                  "target its daemon chooses"),
                  EACCES);
    if (!kernelRuleAllows(directory.status, status))
      throw Error(ExitCode::PermissionDenied,
                  refusing(where, "is a symbolic link owned by uid " + uidText(status.st_uid) +
                                      " in a sticky world-writable directory owned by uid " +
                                      uidText(directory.status.st_uid) +
                                      " (the kernel's protected_symlinks rule)"),
                  EACCES);
    char target[PATH_MAX];
    ssize_t length = ::readlinkat(fd.get(), "", target, sizeof target);
    if (length < 0) throw Error::fromErrno("cannot read symbolic link " + where, errno);
    if (static_cast<std::size_t>(length) >= sizeof target)
      throw Error::fromErrno("cannot read symbolic link " + where, ENAMETOOLONG);
    if (length == 0) throw Error::fromErrno("cannot resolve " + named_ + ": " + where, ENOENT);
    const uid_t linkOwner = status.st_uid;
    follow(std::string_view(target, static_cast<std::size_t>(length)));
    // The owner of any directory could plant this link: it may lead only to
    // what its owner could have put there without it.
    const struct stat& reached = steps_.back().status;
    if (linkOwner != 0 && reached.st_uid != linkOwner)
      throw Error(ExitCode::PermissionDenied,
                  refusing(where, "is a symbolic link owned by uid " + uidText(linkOwner) +
                                      " that leads to " + resolved() + ", owned by uid " +
                                      uidText(reached.st_uid)),
                  EACCES);
  }

  std::string named_;
  std::vector<Step> steps_;
  int links_ = 0;
};

// A tty the kernel's tty layer drives (sysfs class "tty"), other than the
// aliases for "the current terminal": /dev/tty, /dev/console, /dev/ptmx
// (major 5) and /dev/tty0 (4:0).
bool isTerminalDevice(dev_t rdev) {
  const unsigned int majorNumber = major(rdev), minorNumber = minor(rdev);
  if (majorNumber == 5 || (majorNumber == 4 && minorNumber == 0)) return false;
  std::string link = "/sys/dev/char/" + std::to_string(majorNumber) + ":" +
                     std::to_string(minorNumber) + "/subsystem";
  char target[PATH_MAX];
  ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
  if (length <= 0) return false;
  std::string_view subsystem(target, static_cast<std::size_t>(length));
  return subsystem.size() >= 4 && subsystem.substr(subsystem.size() - 4) == "/tty";
}

}  // namespace

GuestPath resolveGuestPath(const std::string& path) {
  if (path.empty() || path.front() != '/')
    throw Error::invalidInput("refusing " + path + ": not an absolute path");
  for (std::string_view part : components(path))
    if (part == "..")
      throw Error::invalidInput("refusing " + path +
                                ": it has a \"..\" component (write the path without it)");
  Walk walk(path);
  walk.follow(path);
  return walk.finish();
}

void requireGuestObject(const GuestPath& found, GuestObject object) {
  const struct stat& status = found.status;
  const mode_t type = status.st_mode & S_IFMT;
  bool suits = false;
  const char* expected = "";
  switch (object) {
    case GuestObject::Image:
      suits = type == S_IFREG || type == S_IFBLK;
      expected = "not a regular file or block device";
      break;
    case GuestObject::CharDevice:
      suits = type == S_IFREG || type == S_IFIFO || type == S_IFSOCK ||
              (type == S_IFCHR && isTerminalDevice(status.st_rdev));
      expected = "not a regular file, FIFO, unix socket or terminal device";
      break;
  }
  std::string what = found.named == found.resolved ? found.named
                                                   : found.named + " (" + found.resolved + ")";
  if (!suits) throw Error::invalidInput("refusing " + what + ": " + expected);
  if (status.st_nlink > 1)
    throw Error(ExitCode::PermissionDenied,
                "refusing " + what + ": it has " + std::to_string(status.st_nlink) +
                    " hard links, and another name may be a link to a file the guest must "
                    "not get");
}

GuestPath openGuestPath(const std::string& path, GuestObject object) {
  GuestPath found = resolveGuestPath(path);
  requireGuestObject(found, object);
  return found;
}

UniqueFd reopenGuestPath(const GuestPath& found, int accessFlags) {
  // The magic link reaches the inode the O_PATH fd holds, whatever its
  // names have become since.
  std::string link = "/proc/self/fd/" + std::to_string(found.fd.get());
  UniqueFd fd(::open(link.c_str(), accessFlags | O_CLOEXEC | O_NOCTTY));
  if (!fd) throw Error::fromErrno("cannot open " + found.resolved, errno);
  struct stat status;
  if (::fstat(fd.get(), &status) != 0) throw Error::fromErrno("cannot stat " + found.resolved, errno);
  if (status.st_dev != found.status.st_dev || status.st_ino != found.status.st_ino)
    throw Error(ExitCode::PermissionDenied,
                "refusing " + found.resolved + ": it changed while being opened");
  return fd;
}

}  // namespace seclabel
