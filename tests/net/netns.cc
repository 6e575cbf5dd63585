#include "tests/net/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

namespace seclabel::testing {

std::string netnsUnavailableReason() {
  if (::geteuid() != 0) return "network tests need root (network namespaces, taps)";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no usable /dev/net/tun";
  if (::access("/sbin/ip", X_OK) != 0 && ::access("/usr/sbin/ip", X_OK) != 0 &&
      ::access("/usr/bin/ip", X_OK) != 0)
    return "iproute2's ip is not installed (scripts/install-deps)";
  return {};
}

void runInFreshNetns(const std::function<void()>& body) {
  std::cout.flush();
  std::fflush(nullptr);
  pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    int status = 0;
    try {
      if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        std::fprintf(stderr, "unshare(CLONE_NEWNET|CLONE_NEWNS): %s\n", std::strerror(errno));
        ::_exit(3);
      }
      // Private mounts: the sysfs below must not propagate to the host.
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        std::fprintf(stderr, "cannot remount /sys in the test namespace: %s\n",
                     std::strerror(errno));
        ::_exit(3);
      }
      if (!shell("ip link set lo up")) ::_exit(3);
      body();
      status = ::testing::Test::HasFailure() ? 1 : 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exception in the test namespace: %s\n", e.what());
      status = 2;
    }
    std::cout.flush();
    std::fflush(nullptr);
    ::_exit(status);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the test body failed in its network namespace (status " << status
      << "); its failures are printed above";
}

bool shell(const std::string& command) {
  std::string withOutput = command + " 2>&1";
  FILE* pipe = ::popen(withOutput.c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "cannot run: " << command;
    return false;
  }
  std::string output;
  std::array<char, 512> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  int status = ::pclose(pipe);
  if (status != 0) {
    ADD_FAILURE() << "command failed (" << status << "): " << command << "\n" << output;
    return false;
  }
  return true;
}

std::string shellOutput(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {};
  std::string output;
  std::array<char, 512> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  if (::pclose(pipe) != 0) return {};
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

std::string sysNet(const std::string& name, const std::string& attribute) {
  std::ifstream in("/sys/class/net/" + name + "/" + attribute);
  std::string value;
  std::getline(in, value);
  return value;
}

std::string masterOf(const std::string& name) {
  char target[PATH_MAX];
  ssize_t length = ::readlink(("/sys/class/net/" + name + "/master").c_str(), target,
                              sizeof target - 1);
  if (length < 0) return {};
  std::string path(target, static_cast<std::size_t>(length));
  return path.substr(path.rfind('/') + 1);
}

bool linkExists(const std::string& name) {
  struct stat st;
  return ::stat(("/sys/class/net/" + name).c_str(), &st) == 0;
}

}  // namespace seclabel::testing
