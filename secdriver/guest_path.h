// Finding the file a domain names, as root, without being steered to another.
//
// Every path seclabel changes or opens for a guest -- a disk, its backing
// layers, kernel, initrd, a serial or console source, and the images the
// broker and the launcher open for fd passing -- goes through
// openGuestPath(), and only through it. The attacker is any local user who
// owns a directory on the way, or can write to a sticky world-writable one
// such as /tmp; what they may plant is there before we look and may change
// between two system calls. So:
//
//  - The path is walked one component at a time, each opened with
//    O_PATH|O_NOFOLLOW relative to the directory fd before it; every check is
//    made on the fd, and the result is an fd, never a path to look up again.
//  - A symlink is followed only where the kernel's fs.protected_symlinks rule
//    would let root follow it, whatever that sysctl is set to: in a sticky
//    world-writable directory, only a link owned by root or by the
//    directory's owner. And, beyond the kernel: a symlink owned by anyone but
//    root must lead to something its owner owns (the owner of a plain
//    directory can plant a link too, and the kernel rule does not look there).
//    At most 40 links, as the kernel.
//  - ".." is refused in the path the domain writes (a reader of the XML
//    cannot tell where it leads); inside a symlink's target it goes back
//    along the walk itself, to the directory the walk came through.
//  - No component may be on a kernel-interface file system
//    (secdriver/pseudo_filesystems.h): no /proc, /sys, cgroup, debugfs ...
//    and no /proc magic links, which name objects rather than paths.
//  - The object found must have exactly one name (st_nlink == 1): a second
//    name may be a hard link to a file the guest must not get.
//  - Its type must suit what the domain says it is (GuestObject).
#pragma once

#include <sys/stat.h>

#include <string>

#include "core/unique_fd.h"

namespace seclabel {

// What the domain says a path is; decides which objects are acceptable.
enum class GuestObject {
  // A disk image, backing layer, kernel or initrd: a regular file or a block
  // device (a disk may be /dev/loopN on devtmpfs).
  Image,
  // A serial or console source: a regular file (type='file', a log), a FIFO
  // (type='pipe'), a unix socket (type='unix') or a terminal device
  // (type='dev': a tty such as /dev/ttyS0; not /dev/tty, /dev/console,
  // /dev/ptmx or /dev/tty0, which stand for whatever terminal is current).
  CharDevice,
};

// An object found by resolveGuestPath.
struct GuestPath {
  std::string named;     // the path as the domain wrote it (for messages)
  std::string resolved;  // absolute, no symlink, no "." or ".." component
  UniqueFd fd;           // O_PATH|O_CLOEXEC, to the object itself
  struct stat status;    // fstat of fd
};

// Walks `path` with the rules above, except the last two (links and type).
// Throws Error naming `path`: InvalidInput for a relative path, a ".."
// component or a pseudo file system; PermissionDenied (EACCES) for a symlink
// the rules do not follow; Failed with errno for what the kernel refuses
// (ENOENT, ENOTDIR, ELOOP after 40 links, ...).
GuestPath resolveGuestPath(const std::string& path);

// Throws Error naming the path unless `found` suits `object`:
// PermissionDenied when it has more than one name, InvalidInput for a type
// that does not suit.
void requireGuestObject(const GuestPath& found, GuestObject object);

// resolveGuestPath + requireGuestObject: the one way to find a guest's file.
GuestPath openGuestPath(const std::string& path, GuestObject object);

// An fd of the object `found` holds, opened with `accessFlags` (O_RDONLY or
// O_RDWR) plus O_CLOEXEC|O_NOCTTY, through /proc/self/fd: the very inode
// that was checked, with no path lookup in between. Throws Error.
UniqueFd reopenGuestPath(const GuestPath& found, int accessFlags);

}  // namespace seclabel
