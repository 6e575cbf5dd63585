#include "secdriver/pseudo_filesystems.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace seclabel {
namespace {

// Not in the uapi <linux/magic.h> of every distribution: the values the
// kernel sets in each file system's fill_super.
constexpr uint32_t kConfigfsMagic = 0x62656570;  // fs/configfs/mount.c
constexpr uint32_t kFusectlMagic = 0x65735543;   // fs/fuse/control.c
constexpr uint32_t kMqueueMagic = 0x19800202;    // ipc/mqueue.c

struct PseudoFilesystem {
  uint32_t magic;
  std::string_view name;
};

// Every file system whose files are knobs, counters or views of the kernel,
// of processes or of devices. Kept on purpose: devtmpfs (/dev, TMPFS_MAGIC),
// where disks may be block devices such as /dev/loop0 and serials tty
// devices; tmpfs, ramfs and hugetlbfs, whose files are plain data.
constexpr PseudoFilesystem kPseudoFilesystems[] = {
    {PROC_SUPER_MAGIC, "proc"},
    {SYSFS_MAGIC, "sysfs"},
    {DEBUGFS_MAGIC, "debugfs"},
    {TRACEFS_MAGIC, "tracefs"},
    {SECURITYFS_MAGIC, "securityfs"},
    {SELINUX_MAGIC, "selinuxfs"},
    {SMACK_MAGIC, "smackfs"},
    {CGROUP_SUPER_MAGIC, "cgroup"},
    {CGROUP2_SUPER_MAGIC, "cgroup2"},
    {RDTGROUP_SUPER_MAGIC, "resctrl"},
    {BPF_FS_MAGIC, "bpf"},
    {kConfigfsMagic, "configfs"},
    {PSTOREFS_MAGIC, "pstore"},
    {EFIVARFS_MAGIC, "efivarfs"},
    {BINFMTFS_MAGIC, "binfmt_misc"},
    {kFusectlMagic, "fusectl"},
    {NSFS_MAGIC, "nsfs"},
    {kMqueueMagic, "mqueue"},
    {USBDEVICE_SUPER_MAGIC, "usbfs"},
    {XENFS_SUPER_MAGIC, "xenfs"},
    {OPENPROM_SUPER_MAGIC, "openpromfs"},
    // A pty slave is somebody's terminal session: a guest that owns it can
    // read what they type and push input into their shell. A serial that
    // wants a pty is type='pty', for which QEMU opens its own.
    {DEVPTS_SUPER_MAGIC, "devpts"},
};

constexpr uint32_t kFuseMagic = 0x65735546;  // FUSE_SUPER_MAGIC, fs/fuse/inode.c

}  // namespace

FilesystemKind filesystemKindOf(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) throw Error::fromErrno("cannot statfs", errno);
  const auto type = static_cast<uint32_t>(fs.f_type);
  FilesystemKind kind;
  kind.fuse = type == kFuseMagic;
  for (const PseudoFilesystem& pseudo : kPseudoFilesystems)
    if (pseudo.magic == type) kind.pseudo = pseudo.name;
  return kind;
}

}  // namespace seclabel
