#include "tests/fdpass/test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"

namespace seclabel::testing {
namespace {

std::vector<char*> toArgv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Between fork and exec: system calls only.
void dropToUid(uid_t uid) {
  if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
      ::setresuid(uid, uid, uid) != 0) {
    ::_exit(98);
  }
}

bool acceptsConnections(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  std::strcpy(address.sun_path, path.c_str());
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

int runProgram(const std::vector<std::string>& argvIn) {
  std::vector<std::string> args = argvIn;
  std::vector<char*> argv = toArgv(args);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string makeImage(const std::string& path, const std::string& format) {
  int status = runProgram({"qemu-img", "create", "-q", "-f", format, path, "1M"});
  if (status != 0) throw std::runtime_error("qemu-img create " + path + " failed");
  return path;
}

int runAsUid(uid_t uid, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dropToUid(uid);
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int countOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the directory stream's own fd
}

bool runningAsRoot() { return ::geteuid() == 0; }

QemuProcess::QemuProcess(const Options& options) : logPath_(options.logPath) {
  std::vector<std::string> args = {"qemu-system-x86_64", "-machine", "none", "-accel", "tcg",
                                   "-nodefaults",        "-display", "none"};
  for (const auto& socket : options.qmpSockets) {
    args.push_back("-qmp");
    args.push_back("unix:" + socket + ",server=on,wait=off");
  }
  args.insert(args.end(), options.extraArgs.begin(), options.extraArgs.end());
  std::vector<char*> argv = toArgv(args);
  const std::string logPath = options.logPath.empty() ? "/dev/null" : options.logPath;

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (options.uid) dropToUid(*options.uid);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (const auto& socket : options.qmpSockets) {
    // QEMU binds (the file appears) before it listens: wait until a
    // connection is accepted, not only until the file is there.
    while (!acceptsConnections(socket)) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("QEMU exited early: " + log());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("QEMU did not create " + socket + ": " + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

QemuProcess::~QemuProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string QemuProcess::log() const {
  if (logPath_.empty()) return "(no log)";
  std::ifstream in(logPath_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace seclabel::testing
