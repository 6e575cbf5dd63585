// cgroup v2: no device files; the kernel asks the BPF_PROG_TYPE_CGROUP_DEVICE
// programs attached to the opener's cgroup (and its ancestors) at every
// open(2) and mknod(2) of a device node, and refuses with EPERM unless each
// returns 1. Ours looks the device up in a hash map keyed by (type, major,
// minor), then by (type, major, any minor), and allows when an entry holds
// every access asked for. The program never changes after it is attached:
// allowing or denying a device later (hotplug) is a map update. An empty
// map denies everything, so attaching the program is the "deny all".
//
// The map lives as long as the program, the program as long as it is
// attached, and the attachment as long as the cgroup: removing the cgroup
// frees all three. A later process finds the map again through the
// program attached to the cgroup (BPF_PROG_QUERY, as libvirt's
// vircgroupv2devices.c does).
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/bpf.h"
#include "cgroup/device_acl.h"
#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {

namespace {

// The map's key and value. The layout is the program's: it stores the key
// at r10-16 as three 32-bit words.
struct DeviceKey {
  uint32_t type;   // BPF_DEVCG_DEV_BLOCK or BPF_DEVCG_DEV_CHAR
  uint32_t major;
  uint32_t minor;  // kAnyMinor: every minor
};
static_assert(sizeof(DeviceKey) == 12);
using AccessBits = uint32_t;  // BPF_DEVCG_ACC_READ | _WRITE | _MKNOD

constexpr char kObjectName[] = "seclabel_dev";  // program and map (15 bytes at most)
// Each guest needs a handful of entries (defaults, pty, its disks and
// chardevs). Without preallocation the kernel allocates an entry when it is
// added, so the bound costs nothing until used; past it an allow fails
// (E2BIG) and is audited as failed.
constexpr uint32_t kMaxEntries = 4096;

DeviceKey keyOf(const DeviceRule& rule) {
  return DeviceKey{rule.type == DeviceType::Block ? uint32_t(BPF_DEVCG_DEV_BLOCK)
                                                  : uint32_t(BPF_DEVCG_DEV_CHAR),
                   rule.major, rule.minor};
}

AccessBits bitsOf(DeviceAccess access) {
  AccessBits bits = 0;
  if (access.mayRead()) bits |= BPF_DEVCG_ACC_READ;
  if (access.mayWrite()) bits |= BPF_DEVCG_ACC_WRITE;
  if (access.mayMknod()) bits |= BPF_DEVCG_ACC_MKNOD;
  return bits;
}

// --- the program, instruction by instruction (linux/bpf.h encoding) ---

constexpr bpf_insn instruction(uint8_t code, uint8_t dst, uint8_t src, int16_t offset,
                               int32_t immediate) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xF;
  insn.src_reg = src & 0xF;
  insn.off = offset;
  insn.imm = immediate;
  return insn;
}
constexpr bpf_insn movReg(uint8_t dst, uint8_t src) {
  return instruction(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn movImm(uint8_t dst, int32_t value) {
  return instruction(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, value);
}
constexpr bpf_insn aluImm(uint8_t op, uint8_t dst, int32_t value) {
  return instruction(BPF_ALU64 | op | BPF_K, dst, 0, 0, value);
}
constexpr bpf_insn aluReg(uint8_t op, uint8_t dst, uint8_t src) {
  return instruction(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn load32(uint8_t dst, uint8_t src, int16_t offset) {
  return instruction(BPF_LDX | BPF_W | BPF_MEM, dst, src, offset, 0);
}
constexpr bpf_insn store32(uint8_t dst, int16_t offset, uint8_t src) {
  return instruction(BPF_STX | BPF_W | BPF_MEM, dst, src, offset, 0);
}
constexpr bpf_insn store32Imm(uint8_t dst, int16_t offset, int32_t value) {
  return instruction(BPF_ST | BPF_W | BPF_MEM, dst, 0, offset, value);
}
constexpr bpf_insn jumpImm(uint8_t op, uint8_t dst, int32_t value, int16_t skip) {
  return instruction(BPF_JMP | op | BPF_K, dst, 0, skip, value);
}
constexpr bpf_insn jumpReg(uint8_t op, uint8_t dst, uint8_t src, int16_t skip) {
  return instruction(BPF_JMP | op | BPF_X, dst, src, skip, 0);
}
constexpr bpf_insn call(int32_t helper) { return instruction(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
constexpr bpf_insn exitProgram() { return instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
// A 64-bit immediate takes two slots; BPF_PSEUDO_MAP_FD makes the verifier
// replace the fd by the map itself.
constexpr bpf_insn loadMapFd(uint8_t dst, int fd) {
  return instruction(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
}
constexpr bpf_insn loadMapFdHigh() { return instruction(0, 0, 0, 0, 0); }

constexpr uint8_t R0 = BPF_REG_0, R1 = BPF_REG_1, R2 = BPF_REG_2, R6 = BPF_REG_6,
                  R7 = BPF_REG_7, R8 = BPF_REG_8, R10 = BPF_REG_10;

// r1 = ctx (struct bpf_cgroup_dev_ctx: access_type, major, minor), r10 =
// frame pointer; r0 is the verdict (1 allow, 0 deny). Calls clobber r1-r5;
// r6-r9 survive them. Jump offsets count instructions after the jump.
std::array<bpf_insn, 35> deviceProgram(int mapFd) {
  return {{
      /*  0 */ movReg(R6, R1),                      // r6 = ctx
      /*  1 */ load32(R7, R6, 0),                   // r7 = access_type
      /*  2 */ movReg(R8, R7),                      //
      /*  3 */ aluImm(BPF_RSH, R8, 16),             // r8 = access asked (ACC_* bits)
      /*  4 */ aluImm(BPF_AND, R7, 0xFFFF),         // r7 = device type (DEV_*)
      /*  5 */ store32(R10, -16, R7),               // key.type
      /*  6 */ load32(R1, R6, 4),                   //
      /*  7 */ store32(R10, -12, R1),               // key.major
      /*  8 */ load32(R1, R6, 8),                   //
      /*  9 */ store32(R10, -8, R1),                // key.minor
      /* 10 */ loadMapFd(R1, mapFd),                // r1 = map
      /* 11 */ loadMapFdHigh(),                     //
      /* 12 */ movReg(R2, R10),                     //
      /* 13 */ aluImm(BPF_ADD, R2, -16),            // r2 = &key
      /* 14 */ call(BPF_FUNC_map_lookup_elem),      // r0 = entry or NULL
      /* 15 */ jumpImm(BPF_JEQ, R0, 0, 5),          // none: to 21
      /* 16 */ load32(R1, R0, 0),                   // r1 = access allowed
      /* 17 */ aluReg(BPF_AND, R1, R8),             //
      /* 18 */ jumpReg(BPF_JNE, R1, R8, 2),         // not all asked: to 21
      /* 19 */ movImm(R0, 1),                       //
      /* 20 */ exitProgram(),                       // allow
      /* 21 */ store32Imm(R10, -8, -1),             // key.minor = kAnyMinor
      /* 22 */ loadMapFd(R1, mapFd),                //
      /* 23 */ loadMapFdHigh(),                     //
      /* 24 */ movReg(R2, R10),                     //
      /* 25 */ aluImm(BPF_ADD, R2, -16),            //
      /* 26 */ call(BPF_FUNC_map_lookup_elem),      //
      /* 27 */ jumpImm(BPF_JEQ, R0, 0, 5),          // none: to 33
      /* 28 */ load32(R1, R0, 0),                   //
      /* 29 */ aluReg(BPF_AND, R1, R8),             //
      /* 30 */ jumpReg(BPF_JNE, R1, R8, 2),         // not all asked: to 33
      /* 31 */ movImm(R0, 1),                       //
      /* 32 */ exitProgram(),                       // allow
      /* 33 */ movImm(R0, 0),                       //
      /* 34 */ exitProgram(),                       // deny
  }};
}
static_assert(kAnyMinor == uint32_t(-1), "instruction 21 stores -1 as the wildcard minor");

// The verifier's last words, for an error message.
std::string lastLogLine(const std::vector<char>& log) {
  std::string_view text(log.data(), ::strnlen(log.data(), log.size()));
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t newline = text.rfind('\n');
  return std::string(newline == std::string_view::npos ? text : text.substr(newline + 1));
}

UniqueFd loadProgram(int mapFd, const std::string& path) {
  const auto program = deviceProgram(mapFd);
  UniqueFd fd(bpf::loadDeviceProgram(kObjectName, program.data(), program.size()));
  if (fd) return fd;
  const int err = errno;
  std::string why = "cannot load the device BPF program for cgroup " + path;
  if (err == EINVAL || err == EACCES) {
    // Ask again with a log: the verifier says which instruction it refused.
    std::vector<char> log(64 * 1024);
    UniqueFd retry(bpf::loadDeviceProgram(kObjectName, program.data(), program.size(),
                                          log.data(), static_cast<uint32_t>(log.size())));
    if (!retry) why += " (verifier: " + lastLogLine(log) + ")";
  }
  throw Error::fromErrno(why, err);
}

class V2DeviceAcl final : public DeviceAcl {
 public:
  V2DeviceAcl(UniqueFd map, const std::string& path) : map_(std::move(map)), path_(path) {}

  void allow(const DeviceRule& rule) override {
    const DeviceKey key = keyOf(rule);
    const AccessBits bits = current(key, rule) | bitsOf(rule.access);
    if (bpf::updateElement(map_.get(), &key, &bits) != 0) fail("allow", rule, errno);
  }

  void deny(const DeviceRule& rule) override {
    const DeviceKey key = keyOf(rule);
    const AccessBits bits = current(key, rule) & ~bitsOf(rule.access);
    const int rc = bits == 0 ? bpf::deleteElement(map_.get(), &key)
                             : bpf::updateElement(map_.get(), &key, &bits);
    if (rc != 0 && !(bits == 0 && errno == ENOENT)) fail("deny", rule, errno);
  }

 private:
  AccessBits current(const DeviceKey& key, const DeviceRule& rule) const {
    AccessBits bits = 0;
    if (bpf::lookupElement(map_.get(), &key, &bits) != 0) {
      if (errno == ENOENT) return 0;
      fail("look up", rule, errno);
    }
    return bits;
  }

  [[noreturn]] void fail(const char* what, const DeviceRule& rule, int err) const {
    throw Error::fromErrno("cannot " + std::string(what) + " '" + rule.kernelLine() +
                               "' in the device map of cgroup " + path_,
                           err);
  }

  UniqueFd map_;
  std::string path_;
};

}  // namespace

namespace v2 {

std::unique_ptr<DeviceAcl> denyAll(int cgroupFd, const std::string& path) {
  UniqueFd map(bpf::createHashMap(kObjectName, sizeof(DeviceKey), sizeof(AccessBits), kMaxEntries,
                                  BPF_F_NO_PREALLOC));
  if (!map) throw Error::fromErrno("cannot create the device BPF map for cgroup " + path, errno);
  UniqueFd program = loadProgram(map.get(), path);
  if (bpf::attachDeviceProgram(cgroupFd, program.get()) != 0)
    throw Error::fromErrno("cannot attach the device BPF program to cgroup " + path, errno);
  // The attachment holds the program, the program the map: our program fd
  // may go; the map fd stays for the allows that follow.
  return std::make_unique<V2DeviceAcl>(std::move(map), path);
}

std::unique_ptr<DeviceAcl> existing(int cgroupFd, const std::string& path) {
  std::optional<std::vector<uint32_t>> ids = bpf::queryDevicePrograms(cgroupFd);
  if (!ids) throw Error::fromErrno("cannot list the device BPF programs of cgroup " + path, errno);
  for (uint32_t id : *ids) {
    UniqueFd program(bpf::programFdById(id));
    if (!program) continue;  // detached meanwhile
    bpf_prog_info info;
    std::array<uint32_t, 4> mapIds{};
    if (bpf::programInfo(program.get(), info, mapIds.data(), mapIds.size()) != 0) continue;
    if (std::strncmp(info.name, kObjectName, sizeof info.name) != 0 || info.nr_map_ids != 1)
      continue;
    UniqueFd map(bpf::mapFdById(mapIds[0]));
    bpf_map_info mapInfo;
    if (!map || bpf::mapInfo(map.get(), mapInfo) != 0) continue;
    if (mapInfo.key_size != sizeof(DeviceKey) || mapInfo.value_size != sizeof(AccessBits)) continue;
    return std::make_unique<V2DeviceAcl>(std::move(map), path);
  }
  throw Error(ExitCode::Failed, "cgroup " + path + " has no seclabel device BPF program attached");
}

}  // namespace v2
}  // namespace seclabel
