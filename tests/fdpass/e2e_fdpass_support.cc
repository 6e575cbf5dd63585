#include "tests/fdpass/e2e_fdpass_support.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/tools/e2e_support.h"

namespace seclabel::fdpass_e2e {

bool ensureUserAllowOther(std::string& why) {
  {
    std::ifstream in("/etc/fuse.conf");
    for (std::string line; std::getline(in, line);) {
      size_t begin = line.find_first_not_of(" \t");
      size_t end = line.find_last_not_of(" \t\r");
      if (begin != std::string::npos && line.substr(begin, end - begin + 1) == "user_allow_other")
        return true;
    }
  }
  // One O_APPEND write: two tests adding it at once give two lines, never a
  // torn one.
  int fd = ::open("/etc/fuse.conf", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = std::string("cannot open /etc/fuse.conf: ") + std::strerror(errno);
    return false;
  }
  const char line[] = "\nuser_allow_other\n";
  bool ok = ::write(fd, line, sizeof line - 1) == static_cast<ssize_t>(sizeof line - 1);
  if (!ok) why = std::string("cannot write /etc/fuse.conf: ") + std::strerror(errno);
  ::close(fd);
  return ok;
}

bool isFuseMountPoint(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // id parent major:minor root mountpoint options ... - fstype source ...
    std::istringstream words(line);
    std::string id, parent, device, root, mountpoint;
    words >> id >> parent >> device >> root >> mountpoint;
    if (mountpoint != path) continue;
    size_t dash = line.find(" - ");
    if (dash != std::string::npos && line.compare(dash + 3, 4, "fuse") == 0) return true;
  }
  return false;
}

RootSquashMount::RootSquashMount(const std::string& backing, const std::string& mountpoint)
    : mountpoint_(mountpoint) {
  if (!ensureUserAllowOther(error_)) return;
  if (::chown(mountpoint.c_str(), kNobody, kNogroup) != 0) {
    error_ = "chown " + mountpoint + ": " + std::strerror(errno);
    return;
  }
  // bindfs forks into the background once the mount is there.
  e2e::Finished f = e2e::Child({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                "--clear-groups", "/usr/bin/bindfs", "--xattr-none", "-o",
                                "allow_other,default_permissions", backing, mountpoint})
                        .wait(20000);
  mounted_ = isFuseMountPoint(mountpoint);
  if (!mounted_)
    error_ = "bindfs as nobody exited " + std::to_string(f.code()) + ": " + f.err;
}

RootSquashMount::~RootSquashMount() {
  if (!isFuseMountPoint(mountpoint_)) return;
  if (e2e::Child({"/usr/bin/fusermount3", "-u", mountpoint_}).wait(10000).code() != 0)
    e2e::Child({"/usr/bin/fusermount3", "-u", "-z", mountpoint_}).wait(10000);
  e2e::eventually([&] { return !isFuseMountPoint(mountpoint_); }, 5000);
}

std::vector<std::string> xattrNames(const std::string& path) {
  char buffer[4096];
  ssize_t n = ::llistxattr(path.c_str(), buffer, sizeof buffer);
  std::vector<std::string> names;
  for (ssize_t at = 0; n > 0 && at < n;) {
    names.emplace_back(buffer + at);
    at += static_cast<ssize_t>(names.back().size()) + 1;
  }
  return names;
}

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeDomain(const std::string& path, const std::string& name, const std::string& uuid,
                 const std::vector<Disk>& disks) {
  std::ofstream out(path);
  out << "<domain type='kvm'>\n  <name>" << name << "</name>\n  <uuid>" << uuid
      << "</uuid>\n  <memory unit='MiB'>64</memory>\n"
      << "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n";
  for (const auto& d : disks)
    out << "    <disk type='file' device='disk'>\n"
        << "      <driver name='qemu' type='" << d.format << "'/>\n"
        << "      <source file='" << d.path << "'/>\n"
        << "      <target dev='" << d.target << "' bus='virtio'/>\n"
        << (d.readonly ? "      <readonly/>\n" : "") << "    </disk>\n";
  out << "  </devices>\n"
      << "  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n"
      << "  <seclabel type='dynamic' model='dac' relabel='yes'/>\n</domain>\n";
}

}  // namespace seclabel::fdpass_e2e
