// What the end-to-end fd-passing tests share: an NFS root_squash emulation
// with bindfs, opens as another uid, and domains whose disks may be
// read-only. The `seclabel` binary itself is run with tests/tools/e2e_support.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace seclabel::fdpass_e2e {

inline constexpr uid_t kNobody = 65534;
inline constexpr gid_t kNogroup = 65534;

// Adds `user_allow_other` to /etc/fuse.conf when no line says it (bindfs run
// by a user may use -o allow_other only then). Returns false and a reason if
// the file cannot be written.
bool ensureUserAllowOther(std::string& why);

// NFS with root_squash, emulated: bindfs running AS nobody:nogroup (no
// groups) with --xattr-none -o allow_other,default_permissions mirrors
// `backing` at `mountpoint`. Through the mount every file operation is done
// by nobody, so root can chown nothing (EPERM), labels nothing (ENOTSUP),
// and reads what nobody may read; the kernel checks permissions of other
// users against the file modes (default_permissions).
//
// `mountpoint` must exist; it is handed to nobody (fusermount3 wants the
// mounting user to own it). The destructor unmounts (fusermount3 -u, lazily
// if busy), so a failing test never leaves the mount behind; declare it
// after the directory that holds it.
class RootSquashMount {
 public:
  RootSquashMount(const std::string& backing, const std::string& mountpoint);
  ~RootSquashMount();
  RootSquashMount(const RootSquashMount&) = delete;
  RootSquashMount& operator=(const RootSquashMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }  // why not mounted
  const std::string& path() const { return mountpoint_; }

 private:
  std::string mountpoint_;
  bool mounted_ = false;
  std::string error_;
};

// Is `path` a mount point of a FUSE file system (/proc/self/mountinfo)?
bool isFuseMountPoint(const std::string& path);

// The names of the extended attributes of `path` (llistxattr).
std::vector<std::string> xattrNames(const std::string& path);

// The whole content of a file, as bytes.
std::string fileBytes(const std::string& path);

struct Disk {
  std::string path;
  std::string target;
  bool readonly = false;
  std::string format = "qcow2";
};
// A domain with one dynamic seclabel per driver (selinux, dac).
void writeDomain(const std::string& path, const std::string& name, const std::string& uuid,
                 const std::vector<Disk>& disks);

}  // namespace seclabel::fdpass_e2e
