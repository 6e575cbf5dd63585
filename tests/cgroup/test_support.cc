#include "tests/cgroup/test_support.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cgroup/enter_cgroup.h"
#include "core/unique_fd.h"

namespace seclabel::testing {

namespace {

std::string commandOutput(const std::string& command, int* status = nullptr) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

// What the child needs, laid out before clone: it allocates nothing.
struct ChildPlan {
  int procsFd;       // -1: stay where the parent is
  int outputFd;      // becomes stdout
  const char* path;
  char* const* argv;
};

int childMain(void* raw) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(raw);
  if (plan.procsFd >= 0) {
    const int err = enterCgroup(plan.procsFd);
    if (err != 0) {
      char line[] = "enter-failed errno=000\n";
      line[19] = char('0' + err / 100 % 10);
      line[20] = char('0' + err / 10 % 10);
      line[21] = char('0' + err % 10);
      (void)!::write(plan.outputFd, line, sizeof line - 1);
      ::_exit(126);
    }
  }
  if (::dup2(plan.outputFd, 1) < 0) ::_exit(125);
  ::execv(plan.path, plan.argv);
  ::_exit(127);
}

// clone(CLONE_VM|CLONE_VFORK) as process/process_spawn.cc does: we sleep
// until the child has exec'd or exited.
pid_t startChild(ChildPlan& plan) {
  constexpr size_t kStack = 64 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  pid_t pid = ::clone(childMain, static_cast<char*>(stack) + kStack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  ::munmap(stack, kStack);
  return pid;
}

}  // namespace

std::optional<LoopDevice> LoopDevice::attach(std::string& why) {
  char file[] = "/tmp/seclabel-loop-XXXXXX";
  int fd = ::mkstemp(file);
  if (fd < 0) {
    why = "cannot create a backing file";
    return std::nullopt;
  }
  // A marker at offset 0 (the probe writes at 4096 only).
  std::string content(1 << 20, '\0');
  content.replace(0, 8, "seclabel");
  bool written = ::write(fd, content.data(), content.size()) == ssize_t(content.size());
  ::close(fd);
  int status = -1;
  std::string device =
      written ? commandOutput(std::string("losetup -f --show ") + file + " 2>/dev/null", &status)
              : std::string();
  if (status != 0 || device.rfind("/dev/loop", 0) != 0) {
    ::unlink(file);
    why = "losetup cannot attach a loop device here";
    return std::nullopt;
  }
  return LoopDevice(device, file);
}

LoopDevice::LoopDevice(LoopDevice&& other) noexcept
    : path_(std::move(other.path_)), file_(std::move(other.file_)) {
  other.path_.clear();
  other.file_.clear();
}

LoopDevice::~LoopDevice() {
  if (!path_.empty()) commandOutput("losetup -d " + path_ + " 2>/dev/null");
  if (!file_.empty()) ::unlink(file_.c_str());
}

dev_t LoopDevice::rdev() const {
  struct stat st {};
  ::stat(path_.c_str(), &st);
  return st.st_rdev;
}

TestParent::TestParent(DeviceController controller) : controller_(std::move(controller)) {
  static std::atomic<int> counter{0};
  name_ = "seclabel-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

TestParent::~TestParent() {
  // Guest cgroups a failed test left, then the parent itself.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path(), ec))
    if (entry.is_directory()) ::rmdir(entry.path().c_str());
  ::rmdir(path().c_str());
}

std::vector<std::string> runProbe(const GuestCgroup* cgroup, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CGROUP_PROBE};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& a : argv) pointers.push_back(a.data());
  pointers.push_back(nullptr);

  UniqueFd procs = cgroup ? cgroup->openProcsForChild() : UniqueFd();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {"pipe-failed"};
  UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  ChildPlan plan{procs ? procs.get() : -1, writeEnd.get(), CGROUP_PROBE, pointers.data()};
  pid_t pid = startChild(plan);
  writeEnd.reset();
  if (pid < 0) return {"clone-failed"};

  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) output.append(buffer, size_t(n));
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

SleepingChild::SleepingChild(const GuestCgroup& cgroup) {
  static char sleepPath[] = "/bin/sleep";
  static char sleepName[] = "sleep";
  static char seconds[] = "600";
  static char* const argv[] = {sleepName, seconds, nullptr};
  UniqueFd procs = cgroup.openProcsForChild();
  UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  ChildPlan plan{procs.get(), devnull.get(), sleepPath, argv};
  pid_ = startChild(plan);
}

SleepingChild::~SleepingChild() { release(); }

void SleepingChild::release() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace seclabel::testing
