#include "secdriver/file_identity.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "secdriver/guest_path.h"

namespace seclabel {
namespace {

// The kernel's MAX_HANDLE_SZ.
constexpr std::size_t kMaxHandleBytes = 128;

uint64_t filesystemIdOf(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) throw Error::fromErrno("cannot statfs", errno);
  uint64_t id = 0;
  static_assert(sizeof fs.f_fsid == sizeof id);
  std::memcpy(&id, &fs.f_fsid, sizeof id);
  return id;
}

bool onReadOnlyMount(int fd) {
  struct statvfs vfs;
  return ::fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

struct HandleBuffer {
  struct file_handle header;
  unsigned char bytes[kMaxHandleBytes];
};

bool sameFile(int fd, const struct stat& status, const RememberedResource& original) {
  if (status.st_dev != original.dev || status.st_ino != original.ino) return false;
  if (!original.handle) return true;
  // The inode number may have been reused by a new file: the handle carries
  // the generation too.
  std::optional<FileHandle> now = fileHandleOf(fd);
  return now && now->type == original.handle->type && now->bytes == original.handle->bytes;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountPath(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (std::size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

struct MountOfDevice {
  std::string mountPoint;
  bool readOnly = false;
};

// The mounts of device `dev` (major:minor, field 3 of mountinfo), writable
// ones first.
std::vector<MountOfDevice> mountsOf(dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) throw Error::fromErrno("cannot read /proc/self/mountinfo", errno);
  const std::string wanted = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  std::vector<MountOfDevice> writable, readOnly;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mountPoint, options;
    if (!(fields >> id >> parent >> device >> root >> mountPoint >> options)) continue;
    if (device != wanted) continue;
    bool ro = options == "ro" || options.rfind("ro,", 0) == 0;
    (ro ? readOnly : writable).push_back({unescapeMountPath(mountPoint), ro});
  }
  writable.insert(writable.end(), readOnly.begin(), readOnly.end());
  return writable;
}

}  // namespace

std::optional<FileHandle> fileHandleOf(int fd) {
  HandleBuffer buffer{};
  buffer.header.handle_bytes = kMaxHandleBytes;
  int mountId = 0;
  if (::name_to_handle_at(fd, "", &buffer.header, &mountId, AT_EMPTY_PATH) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOTSUP || errno == EOVERFLOW) return std::nullopt;
    throw Error::fromErrno("cannot get a file handle", errno);
  }
  FileHandle handle;
  handle.type = buffer.header.handle_type;
  handle.bytes.assign(reinterpret_cast<const char*>(buffer.header.f_handle),
                      buffer.header.handle_bytes);
  handle.filesystemId = filesystemIdOf(fd);
  return handle;
}

std::optional<LocatedFile> locateRememberedFile(const RememberedResource& original) {
  std::vector<std::string> why;
  std::optional<LocatedFile> readOnlyCandidate;

  // The common case: nothing moved. The remembered path is walked with the
  // same rules as at prepare (it was resolved then: no symlink in it).
  try {
    GuestPath found = resolveGuestPath(original.path);
    if (sameFile(found.fd.get(), found.status, original)) {
      LocatedFile located{std::move(found.fd), found.status, original.path};
      if (!onReadOnlyMount(located.fd.get())) return located;
      readOnlyCandidate = std::move(located);
    } else {
      why.push_back(original.path + " is now another file");
    }
  } catch (const Error& e) {
    why.push_back(e.what());
  }

  if (!original.handle) {
    if (readOnlyCandidate) return readOnlyCandidate;
    throw Error(ExitCode::Failed,
                "cannot find " + original.path + ", the file that was labeled: " +
                    (why.empty() ? std::string("no file handle") : why.front()) +
                    " (its file system gives no file handles to find it elsewhere)");
  }

  HandleBuffer buffer{};
  buffer.header.handle_bytes = static_cast<unsigned int>(original.handle->bytes.size());
  buffer.header.handle_type = original.handle->type;
  if (original.handle->bytes.size() > kMaxHandleBytes)
    throw Error(ExitCode::Failed, "the remembered file handle of " + original.path +
                                      " is too long");
  std::memcpy(buffer.header.f_handle, original.handle->bytes.data(),
              original.handle->bytes.size());

  bool stale = false;
  bool anyMount = false;
  for (const MountOfDevice& mount : mountsOf(static_cast<dev_t>(original.dev))) {
    // open_by_handle_at wants a real fd, not O_PATH. Opening a directory
    // read-only has no side effect; O_NOFOLLOW so a mount point path that
    // became a symlink is not followed elsewhere.
    UniqueFd mountFd(::open(mount.mountPoint.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!mountFd) continue;
    struct stat mountStatus;
    if (::fstat(mountFd.get(), &mountStatus) != 0 || mountStatus.st_dev != original.dev) continue;
    if (original.handle->filesystemId != 0 &&
        filesystemIdOf(mountFd.get()) != original.handle->filesystemId)
      continue;  // the same device number, another file system
    anyMount = true;
    UniqueFd fd(::open_by_handle_at(mountFd.get(), &buffer.header, O_PATH | O_CLOEXEC));
    if (!fd) {
      if (errno == ESTALE) {
        stale = true;
        break;
      }
      why.push_back("by its file handle on " + mount.mountPoint + ": " + std::strerror(errno));
      continue;
    }
    struct stat status;
    if (::fstat(fd.get(), &status) != 0 || status.st_dev != original.dev ||
        status.st_ino != original.ino) {
      why.push_back("its file handle on " + mount.mountPoint + " leads to another file");
      continue;
    }
    char where[4096];
    std::string link = "/proc/self/fd/" + std::to_string(fd.get());
    ssize_t length = ::readlink(link.c_str(), where, sizeof where - 1);
    LocatedFile located{std::move(fd), status,
                        length > 0 ? std::string(where, static_cast<std::size_t>(length))
                                   : original.path};
    if (!mount.readOnly && !onReadOnlyMount(located.fd.get())) return located;
    if (!readOnlyCandidate) readOnlyCandidate = std::move(located);
  }
  if (readOnlyCandidate) return readOnlyCandidate;
  if (stale) return std::nullopt;
  if (!anyMount)
    why.push_back("its file system (device " + std::to_string(major(original.dev)) + ":" +
                  std::to_string(minor(original.dev)) + ") is not mounted");
  std::string reasons;
  for (const std::string& reason : why) reasons += (reasons.empty() ? "" : "; ") + reason;
  throw Error(ExitCode::Failed,
              "cannot find " + original.path + ", the file that was labeled: " + reasons);
}

}  // namespace seclabel
