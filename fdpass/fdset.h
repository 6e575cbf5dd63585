// QEMU fd sets for disks served by fd passing.
//
// QEMU opens "/dev/fdset/N" by picking, from set N, an fd whose access mode
// (O_RDONLY / O_RDWR) equals the one it wants; it never opens the file itself.
// So a disk gets one fd per access mode QEMU will ask for: a read-only disk
// O_RDONLY only (it must never hold a writable fd), a writable disk O_RDWR
// and O_RDONLY (-drive and blockdev probing open read-only first). Each fd is
// tagged with the opaque string "MODE:PATH" ("rdonly:/img", "rdwr:/img"),
// which QEMU only stores and shows back in query-fdsets.
//
// Images are opened as root on behalf of a guest that may not open them, so
// the open must not be steered elsewhere: the path is found by the same
// rules as every path seclabel changes for a guest (secdriver/guest_path.h:
// symlinks only as root may follow them whatever fs.protected_symlinks
// says, no pseudo file system such as /proc, one name only, a regular file
// or a block device), checked on an O_PATH fd before anything is opened (a
// FIFO or device node is never opened), then reopened through that fd.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "alloc/store.h"
#include "core/unique_fd.h"

namespace seclabel {

// DiskAccess (what the guest may do with a disk) is the store's: alloc/store.h.

// The access mode of one fd in a set; QEMU matches on it.
enum class FdMode { ReadOnly, ReadWrite };

// "ro" / "rw" (the broker protocol's words); Error for anything else.
DiskAccess parseDiskAccess(std::string_view word);
std::string_view diskAccessName(DiskAccess access);  // "ro" / "rw"
std::string_view fdModeName(FdMode mode);             // "rdonly" / "rdwr"

// The fds QEMU needs for a disk, in the order they are handed over
// (read-write first, so a writable disk's primary fd comes first).
std::vector<FdMode> fdModesFor(DiskAccess access);

// "rdonly:/path" / "rdwr:/path".
std::string fdsetOpaque(FdMode mode, std::string_view path);

// An image opened for a guest, with what fstat() said about that very fd.
struct OpenedImage {
  FdMode mode;
  UniqueFd fd;
  struct stat status;
  bool isBlockDevice() const { return S_ISBLK(status.st_mode); }
};

// Finds `path` by openGuestPath(path, GuestObject::Image) and opens it in
// `mode`, O_CLOEXEC|O_NOCTTY, blocking. Errors name the path; every refusal
// of the rules is PermissionDenied (the reason in the message).
OpenedImage openImage(const std::string& path, FdMode mode);

// One fd per mode of fdModesFor(access), all of the same file: the path is
// found once and each fd reopened from it.
std::vector<OpenedImage> openDiskImages(const std::string& path, DiskAccess access);

// ---- QEMU command line ----------------------------------------------------

// A new fd >= 3 for `fd`, without FD_CLOEXEC, so it survives execve() and
// QEMU's -add-fd accepts it (QEMU refuses 0-2 and close-on-exec fds).
// Call it right before fork/exec: the new fd leaks into every child spawned
// from now on, so keep the window short and close it after the exec.
UniqueFd inheritableCopy(int fd);

// One fd handed to QEMU on its command line.
struct CommandLineFd {
  int fd;              // inheritable, >= 3 (see inheritableCopy)
  std::string opaque;  // fdsetOpaque(...)
};

// A disk served through fd set `fdsetId` on the command line.
struct CommandLineFdset {
  int fdsetId;
  std::vector<CommandLineFd> fds;
};

// {"-add-fd", "fd=F,set=N,opaque=O"} for each fd of the set; commas in the
// opaque are doubled, as QEMU's option parser wants.
std::vector<std::string> addFdArguments(const CommandLineFdset& fdset);

// "/dev/fdset/N".
std::string fdsetPath(int fdsetId);

// Where a disk comes from in a QEMU argv: its own path (QEMU opens it), or an
// fd set (QEMU gets fds).
using DiskArgument = std::variant<std::string, CommandLineFdset>;

// Expands every "{disk:TARGET}" in `argv` (argv[0] is the program and is left
// alone) with the source of disk TARGET: the path itself, or /dev/fdset/N.
// Replacement text is escaped for where it lands, as QEMU will read it:
// inside a JSON argument (one starting with '{' other than a placeholder,
// e.g. -blockdev '{"driver":...}') it is JSON-string escaped; in QEMU's
// key=value,... syntax (an argument with '=' or ',' outside its
// placeholders) commas are doubled; anywhere else (a bare "{disk:vda}") it
// is inserted as it is.
// For an fd set, its -add-fd arguments are inserted once, right before the
// first argument that uses it; when that argument is the value of an option
// ("-drive" "file={disk:vda},..."), before the option. Unused entries of
// `disks` add nothing. An unknown TARGET or an unterminated "{disk:" is
// InvalidInput.
std::vector<std::string> expandDiskPlaceholders(
    const std::vector<std::string>& argv,
    const std::map<std::string, DiskArgument>& disks);

}  // namespace seclabel
