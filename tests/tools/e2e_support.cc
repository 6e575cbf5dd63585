#include "tests/tools/e2e_support.h"
#include "tests/support/dac_slice.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace seclabel::e2e {

using Clock = std::chrono::steady_clock;

int Finished::code() const {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return -1;
}

Child::Child(const std::vector<std::string>& argv, const SpawnOptions& options) {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (options.pipeStdout && !options.stdoutFile && ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe");
  if (options.pipeStderr && ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::setpgid(0, 0);  // its own group: a stray terminal signal never hits the test
    if (out[1] >= 0) ::dup2(out[1], 1);
    if (options.stdoutFile) {
      int fd = ::open(options.stdoutFile->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
    }
    if (err[1] >= 0) ::dup2(err[1], 2);
    if (options.closeFrom >= 0) ::closefrom(options.closeFrom);
    for (int n : options.openDevNullAt) {
      int fd = ::open("/dev/null", O_RDONLY);
      if (fd != n) {
        ::dup2(fd, n);
        ::close(fd);
      }
    }
    for (int n : options.closeFds) ::close(n);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(126);
  }
  if (out[1] >= 0) ::close(out[1]);
  if (err[1] >= 0) ::close(err[1]);
  outFd_ = out[0];
  errFd_ = err[0];
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (outFd_ >= 0) ::close(outFd_);
  if (errFd_ >= 0) ::close(errFd_);
}

namespace {

// Reads what is available on the fds within `ms`; false once all are at EOF.
bool pump(int& outFd, std::string& out, int& errFd, std::string& err, int ms) {
  pollfd fds[2] = {{outFd, POLLIN, 0}, {errFd, POLLIN, 0}};
  if (outFd < 0 && errFd < 0) return false;
  int n = ::poll(fds, 2, ms);
  if (n <= 0) return true;
  char buffer[4096];
  auto readOne = [&](int& fd, std::string& into, short revents) {
    if (fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) {
      into.append(buffer, static_cast<size_t>(got));
    } else {
      ::close(fd);
      fd = -1;
    }
  };
  readOne(outFd, out, fds[0].revents);
  readOne(errFd, err, fds[1].revents);
  return true;
}

bool hasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

}  // namespace

bool Child::waitForLine(const std::string& line, int timeoutMs) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!hasLine(out_, line)) {
    if (Clock::now() > deadline || outFd_ < 0) return hasLine(out_, line);
    pump(outFd_, out_, errFd_, err_, 100);
  }
  return true;
}

Finished Child::wait(int timeoutMs) {
  Finished result;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  // Until the process is reaped; a guest it left behind may hold the pipes.
  for (;;) {
    pid_t done = ::waitpid(pid_, &result.waitStatus, WNOHANG);
    if (done == pid_) break;
    if (Clock::now() > deadline) ::kill(pid_, SIGKILL);
    if (!pump(outFd_, out_, errFd_, err_, 20))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reaped_ = true;
  // What it wrote before it ended: read until EOF, or 200 ms without EOF.
  auto drainUntil = Clock::now() + std::chrono::milliseconds(200);
  while ((outFd_ >= 0 || errFd_ >= 0) && Clock::now() < drainUntil)
    pump(outFd_, out_, errFd_, err_, 20);
  result.out = out_;
  result.err = err_;
  return result;
}

std::string seclabelBinary() {
  if (const char* env = std::getenv("SECLABEL_BINARY_OVERRIDE")) return env;
  return SECLABEL_BINARY;
}

std::vector<std::string> seclabelArgv(const std::string& config, const std::string& stateDir,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {seclabelBinary(), "--config", config, "--state-dir", stateDir};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Finished runSeclabel(const std::string& config, const std::string& stateDir,
                     const std::vector<std::string>& args, const SpawnOptions& options) {
  Child child(seclabelArgv(config, stateDir, args), options);
  return child.wait();
}

namespace {

std::string tomlList(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", \"" : "\"") + items[i] + "\"";
  return s + "]";
}

std::string xmlEscape(const std::string& text) {
  std::string s;
  for (char c : text) {
    switch (c) {
      case '&': s += "&amp;"; break;
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '"': s += "&quot;"; break;
      case '\'': s += "&apos;"; break;
      case '\n': s += "&#10;"; break;
      default: s += c;
    }
  }
  return s;
}

}  // namespace

void writeConfig(const std::string& path, const ConfigOptions& o) {
  std::ofstream out(path);
  out << "security_driver = " << tomlList(o.drivers) << "\n"
      << "fdpass = \"" << o.fdpass << "\"\n\n"
      << "[dac]\nrange = \"" << o.dacRange << "\"\ngroups = " << tomlList(o.groups) << "\n\n"
      << "[audit]\nsink = \"" << o.auditSink << "\"\nrequired = "
      << (o.auditRequired ? "true" : "false") << "\n\n"
      << "[process]\nno_new_privs = true\n";
  if (!o.processEnv.empty()) out << "env = " << tomlList(o.processEnv) << "\n";
  out << "\n[cgroup]\ndevices = \"" << o.cgroupDevices << "\"\n";
}

void writeDomain(const std::string& path, const std::string& name, const std::string& uuid,
                 const std::vector<DiskSpec>& disks, const std::vector<std::string>& drivers) {
  std::ofstream out(path);
  out << "<domain type='qemu'>\n  <name>" << xmlEscape(name) << "</name>\n  <uuid>" << uuid
      << "</uuid>\n  <memory unit='MiB'>64</memory>\n"
      << "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n";
  for (const auto& d : disks)
    out << "    <disk type='file' device='disk'>\n"
        << "      <driver name='qemu' type='qcow2'/>\n"
        << "      <source file='" << xmlEscape(d.path) << "'/>\n"
        << "      <target dev='" << d.target << "' bus='virtio'/>\n    </disk>\n";
  out << "  </devices>\n";
  for (const auto& d : drivers)
    out << "  <seclabel type='dynamic' model='" << d << "' relabel='yes'/>\n";
  out << "</domain>\n";
}

void makeImage(const std::string& path) {
  Child child({"/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", path, "1M"});
  Finished f = child.wait();
  if (f.code() != 0) throw std::runtime_error("qemu-img create " + path + ": " + f.err);
  if (::chown(path.c_str(), 0, 0) != 0 || ::chmod(path.c_str(), 0600) != 0)
    throw std::runtime_error("chown/chmod " + path);
}

std::string freshUuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string uuid;
  std::getline(in, uuid);
  return uuid;
}

Owner ownerOf(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("stat " + path);
  return {st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
}

nlohmann::json listGuests(const std::string& config, const std::string& stateDir) {
  Finished f = runSeclabel(config, stateDir, {"list", "--json"});
  if (f.code() != 0) throw std::runtime_error("seclabel list --json failed: " + f.err);
  return nlohmann::json::parse(f.out);
}

nlohmann::json findGuest(const nlohmann::json& list, const std::string& uuid) {
  for (const auto& g : list)
    if (g.value("uuid", "") == uuid) return g;
  return nullptr;
}

std::pair<uid_t, gid_t> dacIds(const nlohmann::json& guest) {
  std::string label = guest.at("labels").at("dac").at("label").get<std::string>();
  // "+U:+G"
  size_t colon = label.find(':');
  if (label.size() < 4 || label[0] != '+' || colon == std::string::npos || label[colon + 1] != '+')
    throw std::runtime_error("unexpected dac label " + label);
  return {static_cast<uid_t>(std::stoul(label.substr(1, colon - 1))),
          static_cast<gid_t>(std::stoul(label.substr(colon + 2)))};
}

std::string categories(const nlohmann::json& guest) {
  std::string label = guest.at("labels").at("selinux").at("label").get<std::string>();
  size_t level = label.find(":s0:");
  return level == std::string::npos ? std::string() : label.substr(level + 4);
}

std::string statusField(const std::string& statusText, const std::string& name) {
  std::istringstream in(statusText);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::istringstream words(line.substr(name.size() + 1));
    std::string value, word;
    while (words >> word) value += (value.empty() ? "" : " ") + word;
    return value;
  }
  return "(missing)";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string testDacRange() { return seclabel::testing::dacSliceRange(); }

bool processExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

bool eventually(const std::function<bool()>& pred, int timeoutMs) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!pred()) {
    if (Clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

nlohmann::json runningGuestWithPid(const std::string& config, const std::string& stateDir,
                                   const std::string& uuid, int timeoutMs) {
  nlohmann::json guest;
  const bool recorded = eventually(
      [&] {
        guest = findGuest(listGuests(config, stateDir), uuid);
        return !guest.is_null() && guest.value("state", "") == "running" &&
               guest["pid"].is_number();
      },
      timeoutMs);
  return recorded ? guest : nlohmann::json();
}

int openErrnoAs(uid_t uid, gid_t gid, const std::string& path, int flags) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      ::_exit(255);
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    ::_exit(fd >= 0 ? 0 : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace seclabel::e2e
