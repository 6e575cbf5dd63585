#include "cgroup/device_controller.h"

#include <fcntl.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "cgroup/bpf.h"
#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The kernel writes space, tab, newline and backslash in mountinfo paths as
// a backslash and three octal digits (fs/proc_namespace.c, mangle()).
std::string unescapeMountPath(std::string_view text) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string path;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && octal(text[i + 1]) && octal(text[i + 2]) &&
        octal(text[i + 3])) {
      path += static_cast<char>(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) |
                                (text[i + 3] - '0'));
      i += 3;
    } else {
      path += text[i];
    }
  }
  return path;
}

struct CgroupMount {
  std::string fsType;  // "cgroup" or "cgroup2"
  std::string mountPoint;
  std::string superOptions;
};

// One mountinfo line (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS
// [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS", fields separated by one
// space (an empty source is an empty field).
std::optional<CgroupMount> parseLine(std::string_view line) {
  std::vector<std::string_view> fields = split(line, ' ');
  size_t dash = 6;
  while (dash < fields.size() && fields[dash] != "-") ++dash;
  if (dash + 3 >= fields.size()) return std::nullopt;
  if (fields[dash + 1] != "cgroup" && fields[dash + 1] != "cgroup2") return std::nullopt;
  return CgroupMount{std::string(fields[dash + 1]), unescapeMountPath(fields[4]),
                     std::string(fields[dash + 3])};
}

bool namesDevicesController(std::string_view superOptions) {
  for (std::string_view option : split(superOptions, ','))
    if (option == "devices") return true;
  return false;
}

// Whether the kernel attaches BPF device programs to this cgroup2 tree:
// BPF_PROG_QUERY fails with EINVAL where it has no cgroup BPF.
bool runsBpfDevicePrograms(const std::string& mountPoint) {
  UniqueFd root(::open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return false;
  return bpf::queryDeviceProgramCount(root.get()).has_value();
}

}  // namespace

std::optional<DeviceController> findDeviceController(std::string_view mountinfo,
                                                     CgroupVersion version) {
  for (std::string_view line : split(mountinfo, '\n')) {
    std::optional<CgroupMount> mount = parseLine(line);
    if (!mount) continue;
    if (version == CgroupVersion::V1 && mount->fsType == "cgroup" &&
        namesDevicesController(mount->superOptions))
      return DeviceController{CgroupVersion::V1, mount->mountPoint};
    if (version == CgroupVersion::V2 && mount->fsType == "cgroup2")
      return DeviceController{CgroupVersion::V2, mount->mountPoint};
  }
  return std::nullopt;
}

std::optional<DeviceController> findDeviceController(std::string_view mountinfo) {
  if (auto v1 = findDeviceController(mountinfo, CgroupVersion::V1)) return v1;
  return findDeviceController(mountinfo, CgroupVersion::V2);
}

namespace {

std::string readMountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) throw Error::fromErrno("cannot read /proc/self/mountinfo", errno);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<DeviceController> usable(std::optional<DeviceController> found) {
  if (found && found->version == CgroupVersion::V2 && !runsBpfDevicePrograms(found->mountPoint))
    return std::nullopt;
  return found;
}

}  // namespace

std::optional<DeviceController> detectDeviceController() {
  return usable(findDeviceController(readMountinfo()));
}

std::optional<DeviceController> detectDeviceController(CgroupVersion version) {
  return usable(findDeviceController(readMountinfo(), version));
}

std::optional<DeviceController> selectDeviceController(CgroupDevices mode,
                                                        const CgroupWarning& warn) {
  if (mode == CgroupDevices::Off) return std::nullopt;
  std::optional<DeviceController> found = detectDeviceController();
  if (found) return found;
  const std::string why =
      "no usable cgroup device controller (neither a cgroup v1 devices mount nor a cgroup2 "
      "mount with BPF device programs in /proc/self/mountinfo)";
  if (mode == CgroupDevices::Required)
    throw Error(ExitCode::Failed, why + "; [cgroup] devices = \"required\"");
  if (warn) warn(why + ": guests run without a device ACL");
  return std::nullopt;
}

}  // namespace seclabel
