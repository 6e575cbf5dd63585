#include "cgroup/bpf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace seclabel::bpf {

namespace {

// The whole union, zeroed: the kernel refuses unknown non-zero tail bytes,
// and a newer header's larger union is accepted when its tail is zero.
int call(int command, bpf_attr& attr) {
  return static_cast<int>(::syscall(SYS_bpf, command, &attr, sizeof attr));
}

bpf_attr zeroed() {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  return attr;
}

uint64_t pointer(const void* p) { return reinterpret_cast<uintptr_t>(p); }

void copyName(char (&target)[BPF_OBJ_NAME_LEN], const char* name) {
  std::strncpy(target, name, BPF_OBJ_NAME_LEN - 1);
}

}  // namespace

int createHashMap(const char* name, uint32_t keySize, uint32_t valueSize, uint32_t maxEntries,
                  uint32_t flags) {
  bpf_attr attr = zeroed();
  attr.map_type = BPF_MAP_TYPE_HASH;
  attr.key_size = keySize;
  attr.value_size = valueSize;
  attr.max_entries = maxEntries;
  attr.map_flags = flags;
  copyName(attr.map_name, name);
  return call(BPF_MAP_CREATE, attr);
}

int loadDeviceProgram(const char* name, const bpf_insn* instructions, size_t count, char* log,
                      uint32_t logSize) {
  // The kernel checks the license only against GPL-only helpers; the
  // program calls none (map_lookup_elem is not), so nothing depends on it.
  static const char kLicense[] = "GPL";
  bpf_attr attr = zeroed();
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.expected_attach_type = BPF_CGROUP_DEVICE;
  attr.insns = pointer(instructions);
  attr.insn_cnt = static_cast<uint32_t>(count);
  attr.license = pointer(kLicense);
  if (log != nullptr && logSize > 0) {
    log[0] = '\0';
    attr.log_buf = pointer(log);
    attr.log_size = logSize;
    attr.log_level = 1;
  }
  copyName(attr.prog_name, name);
  return call(BPF_PROG_LOAD, attr);
}

int attachDeviceProgram(int cgroupFd, int programFd) {
  bpf_attr attr = zeroed();
  attr.target_fd = static_cast<uint32_t>(cgroupFd);
  attr.attach_bpf_fd = static_cast<uint32_t>(programFd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  return call(BPF_PROG_ATTACH, attr);
}

std::optional<std::vector<uint32_t>> queryDevicePrograms(int cgroupFd) {
  // Twice at most: the count first, then the ids (a program attached in
  // between makes the second call fail with ENOSPC; the caller retries).
  std::optional<uint32_t> count = queryDeviceProgramCount(cgroupFd);
  if (!count) return std::nullopt;
  std::vector<uint32_t> ids(*count);
  if (ids.empty()) return ids;
  bpf_attr attr = zeroed();
  attr.query.target_fd = static_cast<uint32_t>(cgroupFd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = pointer(ids.data());
  attr.query.prog_cnt = *count;
  if (call(BPF_PROG_QUERY, attr) != 0) return std::nullopt;
  ids.resize(attr.query.prog_cnt);
  return ids;
}

std::optional<uint32_t> queryDeviceProgramCount(int cgroupFd) {
  bpf_attr attr = zeroed();
  attr.query.target_fd = static_cast<uint32_t>(cgroupFd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  if (call(BPF_PROG_QUERY, attr) != 0) return std::nullopt;
  return attr.query.prog_cnt;
}

int programFdById(uint32_t id) {
  bpf_attr attr = zeroed();
  attr.prog_id = id;
  return call(BPF_PROG_GET_FD_BY_ID, attr);
}

int mapFdById(uint32_t id) {
  bpf_attr attr = zeroed();
  attr.map_id = id;
  return call(BPF_MAP_GET_FD_BY_ID, attr);
}

int programInfo(int programFd, bpf_prog_info& info, uint32_t* mapIds, uint32_t mapIdsSize) {
  std::memset(&info, 0, sizeof info);
  info.nr_map_ids = mapIdsSize;
  info.map_ids = pointer(mapIds);
  bpf_attr attr = zeroed();
  attr.info.bpf_fd = static_cast<uint32_t>(programFd);
  attr.info.info_len = sizeof info;
  attr.info.info = pointer(&info);
  return call(BPF_OBJ_GET_INFO_BY_FD, attr);
}

int mapInfo(int mapFd, bpf_map_info& info) {
  std::memset(&info, 0, sizeof info);
  bpf_attr attr = zeroed();
  attr.info.bpf_fd = static_cast<uint32_t>(mapFd);
  attr.info.info_len = sizeof info;
  attr.info.info = pointer(&info);
  return call(BPF_OBJ_GET_INFO_BY_FD, attr);
}

int lookupElement(int mapFd, const void* key, void* value) {
  bpf_attr attr = zeroed();
  attr.map_fd = static_cast<uint32_t>(mapFd);
  attr.key = pointer(key);
  attr.value = pointer(value);
  return call(BPF_MAP_LOOKUP_ELEM, attr);
}

int updateElement(int mapFd, const void* key, const void* value) {
  bpf_attr attr = zeroed();
  attr.map_fd = static_cast<uint32_t>(mapFd);
  attr.key = pointer(key);
  attr.value = pointer(value);
  attr.flags = BPF_ANY;
  return call(BPF_MAP_UPDATE_ELEM, attr);
}

int deleteElement(int mapFd, const void* key) {
  bpf_attr attr = zeroed();
  attr.map_fd = static_cast<uint32_t>(mapFd);
  attr.key = pointer(key);
  return call(BPF_MAP_DELETE_ELEM, attr);
}

}  // namespace seclabel::bpf
