// Finding a remembered file again at restore time, wherever it went.
//
// The path a file was labeled under proves nothing later: it may have been
// renamed, moved to another directory, its directory renamed, or another
// file put in its place. The remembered file is the inode, identified by a
// file handle (name_to_handle_at: inode number and generation, so a reused
// inode number is a different file) plus st_dev and st_ino.
//
// How the file system is found again: mount ids change across remounts, so
// the handle is kept with st_dev and the file system's f_fsid. At restore
// the mounts of that device are taken from /proc/self/mountinfo (writable
// ones first); each candidate is checked to be that device and that fsid
// before the handle is decoded on it (a handle means nothing on another file
// system).
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "alloc/store.h"
#include "core/unique_fd.h"

namespace seclabel {

// The handle of the object `fd` (O_PATH fine) refers to; nullopt when its
// file system gives none (FUSE without export support, ...). Throws Error
// for other failures.
std::optional<FileHandle> fileHandleOf(int fd);

// The remembered file, found again.
struct LocatedFile {
  UniqueFd fd;          // O_PATH|O_CLOEXEC
  struct stat status;
  std::string where;    // its path now when known, else the remembered one
};

// Finds the inode `original` remembers: by its remembered path when that
// still leads to it (same handle, or same st_dev/st_ino when there is no
// handle) on a writable mount, else by the handle on each mount of its
// device. Returns nullopt when the file provably no longer exists (the
// handle is stale on its own file system: ESTALE). Throws Error(Failed)
// naming the path and why when it cannot be found: no handle and the path
// leads elsewhere or nowhere, its file system is not mounted, ...
// A file found only on read-only mounts is returned (restoring it then
// fails with EROFS, which the caller reports).
std::optional<LocatedFile> locateRememberedFile(const RememberedResource& original);

}  // namespace seclabel
