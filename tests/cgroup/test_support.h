// What the cgroup tests need from the host: the controllers it mounts, loop
// devices (always detached again), a parent cgroup of their own (removed
// again), and a guest-like child put into a cgroup between clone and exec,
// the way the launcher does it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "cgroup/device_controller.h"
#include "cgroup/guest_cgroup.h"
#include "tests/audit/auditd_helpers.h"  // freshUuid

namespace seclabel::testing {

// A loop device over a fresh 1 MiB temporary file (losetup), detached and
// its file removed when the object goes away.
class LoopDevice {
 public:
  // nullopt with `why` set when losetup cannot attach one here.
  static std::optional<LoopDevice> attach(std::string& why);
  LoopDevice(LoopDevice&& other) noexcept;
  LoopDevice& operator=(LoopDevice&&) = delete;
  ~LoopDevice();
  const std::string& path() const { return path_; }  // /dev/loopN
  dev_t rdev() const;

 private:
  LoopDevice(std::string path, std::string file) : path_(std::move(path)), file_(std::move(file)) {}
  std::string path_;
  std::string file_;
};

// A parent cgroup of the test's own ("seclabel-test-PID-N"), so tests never
// touch the host's "seclabel"; removed with whatever is left in it.
class TestParent {
 public:
  explicit TestParent(DeviceController controller);
  TestParent(const TestParent&) = delete;
  TestParent& operator=(const TestParent&) = delete;
  ~TestParent();
  const std::string& name() const { return name_; }
  std::string path() const { return controller_.mountPoint + "/" + name_; }
  GuestCgroupLocation location(const std::string& uuid) const {
    return GuestCgroupLocation::at(controller_, name_, uuid);
  }

 private:
  DeviceController controller_;
  std::string name_;
};

// Starts the device probe (tests/cgroup/device_probe.c) with `args` as the
// launcher starts a guest: clone(CLONE_VM|CLONE_VFORK), and in the child,
// before execve, enterCgroup() on the cgroup's cgroup.procs (none when
// `cgroup` is null: the control). Returns what the probe printed, one
// entry per line; a child that could not enter the cgroup yields
// {"enter-failed errno=N"}.
std::vector<std::string> runProbe(const GuestCgroup* cgroup, const std::vector<std::string>& args);

// Like runProbe, but the child stays in the cgroup until `release()`: for
// tests that need a live process inside.
class SleepingChild {
 public:
  explicit SleepingChild(const GuestCgroup& cgroup);
  ~SleepingChild();
  pid_t pid() const { return pid_; }
  void release();  // kill and reap

 private:
  pid_t pid_ = -1;
};

}  // namespace seclabel::testing
