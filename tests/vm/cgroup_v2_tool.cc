// cgroup_v2_tool: the in-VM side of the cgroup v2 proof (init-cgroup-v2.sh).
// The library's cgroup code, as the launcher will call it, on a kernel whose
// only device controller is cgroup v2's BPF hook. Static: the initramfs has
// no libc of its own.
//
//   cgroup_v2_tool PARENT UUID DEVICE... -- PROG ARG...
//
// Finds the device controller in /proc/self/mountinfo, creates the guest
// cgroup PARENT/UUID allowing DEVICE... (the default list; no disks) and the
// pty major, prints each audit record, starts PROG in the cgroup (the child
// moves itself in with enterCgroup() between fork and execve), waits for
// it, and removes the cgroup. Every line it prints is a marker:
//   SECLABEL-VM: controller v2 /sys/fs/cgroup
//   SECLABEL-VM: record virt=kvm resrc=cgroup reason=deny ... res=success
//   SECLABEL-VM: exit 0
//   SECLABEL-VM: removed
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "cgroup/device_controller.h"
#include "cgroup/device_rules.h"
#include "cgroup/enter_cgroup.h"
#include "cgroup/guest_cgroup.h"
#include "core/error.h"

namespace {

using namespace seclabel;

class PrintingLog final : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord& record) override {
    std::printf("SECLABEL-VM: record %s res=%s\n", record.message().c_str(),
                record.outcome == AuditOutcome::Success ? "success" : "failed");
    std::fflush(stdout);
  }
};

int run(const std::string& parent, const std::string& uuid, const std::vector<std::string>& devices,
        std::vector<char*> argv) {
  std::optional<DeviceController> controller = detectDeviceController();
  if (!controller) {
    std::printf("SECLABEL-VM: controller none\n");
    return 1;
  }
  std::printf("SECLABEL-VM: controller %s %s\n",
              controller->version == CgroupVersion::V2 ? "v2" : "v1",
              controller->mountPoint.c_str());
  std::fflush(stdout);

  PrintingLog log;
  AuditGuest guest{"kvm", "vm-guest", uuid};
  GuestCgroupLocation location = GuestCgroupLocation::at(*controller, parent, uuid);
  int status = 0;
  {
    GuestCgroup cgroup = GuestCgroup::create(location, guestDeviceRules({}, devices), log, guest);
    UniqueFd procs = cgroup.openProcsForChild();
    argv.push_back(nullptr);
    std::fflush(stdout);  // the child must not print our buffer again
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (enterCgroup(procs.get()) != 0) ::_exit(126);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::waitpid(pid, &status, 0);
  }
  std::printf("SECLABEL-VM: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
  if (removeGuestCgroup(location) == CgroupRemoval::Removed) std::printf("SECLABEL-VM: removed\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> devices;
  int i = 3;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) devices.push_back(argv[i]);
  if (argc < 3 || i + 1 >= argc) {
    std::fprintf(stderr, "usage: cgroup_v2_tool PARENT UUID DEVICE... -- PROG ARG...\n");
    return 2;
  }
  try {
    return run(argv[1], argv[2], devices, std::vector<char*>(argv + i + 1, argv + argc));
  } catch (const seclabel::Error& e) {
    std::printf("SECLABEL-VM: error %s\n", e.what());
    return 1;
  }
}
