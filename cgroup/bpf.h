// The few bpf(2) commands a cgroup v2 device ACL needs, as thin wrappers
// (cgroup/ only; docs/devices.md says why not libbpf). Each returns what the
// system call returns (an fd, 0, or -1 with errno set) and throws nothing:
// the caller words the error, naming the cgroup.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace seclabel::bpf {

// BPF_MAP_CREATE of a BPF_MAP_TYPE_HASH named `name` (up to 15 bytes).
int createHashMap(const char* name, uint32_t keySize, uint32_t valueSize, uint32_t maxEntries,
                  uint32_t flags);

// BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program. With a `log`
// buffer the verifier writes why it refused the program there.
int loadDeviceProgram(const char* name, const bpf_insn* instructions, size_t count,
                      char* log = nullptr, uint32_t logSize = 0);

// BPF_PROG_ATTACH as BPF_CGROUP_DEVICE with BPF_F_ALLOW_MULTI: the programs
// of the ancestors (systemd's, say) still run, and every one must allow.
int attachDeviceProgram(int cgroupFd, int programFd);

// BPF_PROG_QUERY of the device programs attached to this cgroup itself (not
// inherited ones): their ids, or nullopt with errno set.
std::optional<std::vector<uint32_t>> queryDevicePrograms(int cgroupFd);
// The number alone (a probe: EINVAL where the kernel has no cgroup BPF).
std::optional<uint32_t> queryDeviceProgramCount(int cgroupFd);

int programFdById(uint32_t id);  // BPF_PROG_GET_FD_BY_ID
int mapFdById(uint32_t id);      // BPF_MAP_GET_FD_BY_ID

// BPF_OBJ_GET_INFO_BY_FD of a program: its name and up to `mapIdsSize` ids
// of the maps it uses (info.nr_map_ids says how many there are).
int programInfo(int programFd, bpf_prog_info& info, uint32_t* mapIds, uint32_t mapIdsSize);
int mapInfo(int mapFd, bpf_map_info& info);

int lookupElement(int mapFd, const void* key, void* value);  // -1/ENOENT: absent
int updateElement(int mapFd, const void* key, const void* value);
int deleteElement(int mapFd, const void* key);              // -1/ENOENT: absent

}  // namespace seclabel::bpf
