// What a guest's cgroup adds to starting it, in-process (docs/performance.md,
// "Device ACL"). Each iteration is one guest: its cgroup created with
// libvirt's default device list and the pty major (deny-all plus the
// allows, one audit record each to a `none` sink), a child started the way
// the launcher starts it (clone(CLONE_VM|CLONE_VFORK), enterCgroup() in the
// child, execve /bin/true), reaped, the cgroup removed. Against the same
// child without a cgroup.
//
//   BM_GuestStart/none         clone + exec /bin/true + wait: the floor
//   BM_GuestStart/v1           + cgroup v1 devices set-up and removal
//   BM_GuestStart/v2           + cgroup v2 BPF program and map (this
//                              host's cgroup2 tree; skipped without one)
//   BM_CgroupSetUpTeardown/v1  create + ACL + remove, no process
//   BM_CgroupSetUpTeardown/v2
//
// The variants run interleaved in random order, repeated (defaults
// below), so load drift on a shared machine hits all alike.
//
// Run (root): build/bench/cgroup/cgroup_bench
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "audit/audit.h"
#include "cgroup/device_controller.h"
#include "cgroup/device_rules.h"
#include "cgroup/enter_cgroup.h"
#include "cgroup/guest_cgroup.h"
#include "core/config.h"
#include "core/unique_fd.h"

namespace seclabel {
namespace {

struct Child {
  int procsFd;
  char* const* argv;
};

int childMain(void* raw) {
  const Child& child = *static_cast<const Child*>(raw);
  if (child.procsFd >= 0 && enterCgroup(child.procsFd) != 0) ::_exit(126);
  ::execv(child.argv[0], child.argv);
  ::_exit(127);
}

// As the launcher: the child shares our memory until it execs.
void startAndReap(int procsFd) {
  static char truePath[] = "/bin/true";
  static char* const argv[] = {truePath, nullptr};
  static void* stack = ::mmap(nullptr, 64 * 1024, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  Child child{procsFd, argv};
  pid_t pid = ::clone(childMain, static_cast<char*>(stack) + 64 * 1024,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string uuidNumber(uint64_t n) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return text;
}

class BenchParent {
 public:
  explicit BenchParent(const DeviceController& controller)
      : controller_(controller), name_("seclabel-bench-" + std::to_string(::getpid())) {}
  ~BenchParent() { ::rmdir((controller_.mountPoint + "/" + name_).c_str()); }
  GuestCgroupLocation next() {
    return GuestCgroupLocation::at(controller_, name_, uuidNumber(++counter_));
  }

 private:
  DeviceController controller_;
  std::string name_;
  uint64_t counter_ = 0;
};

std::optional<DeviceController> controllerFor(benchmark::State& state) {
  const auto version = state.range(0) == 1 ? CgroupVersion::V1 : CgroupVersion::V2;
  std::optional<DeviceController> controller = detectDeviceController(version);
  if (!controller) state.SkipWithError("this host has no such device controller");
  return controller;
}

const std::vector<DeviceRule>& defaultRules() {
  static const std::vector<DeviceRule> rules =
      guestDeviceRules({}, defaultCgroupDeviceAcl());
  return rules;
}

void BM_GuestStart(benchmark::State& state) {
  if (state.range(0) == 0) {
    for (auto _ : state) startAndReap(-1);
    return;
  }
  std::optional<DeviceController> controller = controllerFor(state);
  if (!controller) return;
  BenchParent parent(*controller);
  std::unique_ptr<AuditLog> log = makeAuditLog(AuditConfig{AuditSink::None, {}, false});
  const AuditGuest guest{"kvm", "bench", "?"};
  for (auto _ : state) {
    GuestCgroupLocation location = parent.next();
    {
      GuestCgroup cgroup = GuestCgroup::create(location, defaultRules(), *log, guest);
      UniqueFd procs = cgroup.openProcsForChild();
      startAndReap(procs.get());
    }
    removeGuestCgroup(location);
  }
  state.counters["rules"] = double(defaultRules().size());
}
BENCHMARK(BM_GuestStart)->ArgName("cgroup")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5)->UseRealTime();

void BM_CgroupSetUpTeardown(benchmark::State& state) {
  std::optional<DeviceController> controller = controllerFor(state);
  if (!controller) return;
  BenchParent parent(*controller);
  std::unique_ptr<AuditLog> log = makeAuditLog(AuditConfig{AuditSink::None, {}, false});
  const AuditGuest guest{"kvm", "bench", "?"};
  for (auto _ : state) {
    GuestCgroupLocation location = parent.next();
    { GuestCgroup cgroup = GuestCgroup::create(location, defaultRules(), *log, guest); }
    removeGuestCgroup(location);
  }
}
BENCHMARK(BM_CgroupSetUpTeardown)->ArgName("v")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5)->UseRealTime();

}  // namespace
}  // namespace seclabel

// Interleaved, repeated, aggregates only, unless the command line says
// otherwise.
int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  static char repetitions[] = "--benchmark_repetitions=12";
  static char aggregates[] = "--benchmark_report_aggregates_only=true";
  for (char* flag : {interleave, repetitions, aggregates}) {
    const std::string name(flag, std::strchr(flag, '=') - flag);
    bool given = false;
    for (int i = 1; i < argc; ++i) given = given || std::strncmp(argv[i], name.c_str(), name.size()) == 0;
    if (!given) args.push_back(flag);
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
