#include "tests/net/qemu_net_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "core/error.h"

namespace seclabel::testing {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";
constexpr int kFirstGuestFd = 10;

std::string joined(const std::vector<int>& fds) {
  std::string text;
  for (int fd : fds) text += (text.empty() ? "" : ":") + std::to_string(fd);
  return text;
}

}  // namespace

std::string qemuUnavailableReason() {
  if (::access(kQemu, X_OK) != 0) return "qemu-system-x86_64 is not installed";
  return {};
}

QemuGuest QemuGuest::start(const std::string& dir, const std::string& name,
                           const std::vector<QemuNic>& nics) {
  std::string qmpPath = dir + "/" + name + ".qmp";
  std::vector<std::string> args{kQemu, "-accel", "tcg", "-machine", "pc", "-m", "64",
                                "-nodefaults", "-no-user-config", "-display", "none",
                                "-serial", "none", "-name", name,
                                "-qmp", "unix:" + qmpPath + ",server=on,wait=off"};
  // Where each source fd goes in the guest, in order.
  std::vector<std::pair<int, int>> moves;
  int next = kFirstGuestFd;
  for (const QemuNic& nic : nics) {
    std::vector<int> tap, vhost;
    for (int fd : nic.tapFds) moves.push_back({fd, next}), tap.push_back(next++);
    for (int fd : nic.vhostFds) moves.push_back({fd, next}), vhost.push_back(next++);
    std::string netdev = "tap,id=" + nic.id + (tap.size() > 1 ? ",fds=" : ",fd=") + joined(tap);
    if (!vhost.empty())
      netdev += std::string(",vhost=on") + (vhost.size() > 1 ? ",vhostfds=" : ",vhostfd=") +
                joined(vhost);
    args.insert(args.end(), {"-netdev", netdev, "-device",
                             // romfile= : no PXE ROM, so the only frames are announce-self's.
                             "virtio-net-pci,netdev=" + nic.id + ",mac=" + nic.mac.format() +
                                 ",romfile=" + (tap.size() > 1 ? ",mq=on" : "")});
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string logPath = dir + "/" + name + ".log";

  pid_t pid = ::fork();
  if (pid < 0) throw Error::fromErrno("cannot fork QEMU", errno);
  if (pid == 0) {
    // First out of the way (above every target), then into place without
    // CLOEXEC: exactly these fds are inherited.
    std::vector<int> staged;
    for (auto [from, to] : moves) {
      int copy = ::fcntl(from, F_DUPFD_CLOEXEC, 1000);
      if (copy < 0) ::_exit(126);
      staged.push_back(copy);
    }
    for (std::size_t i = 0; i < moves.size(); ++i)
      if (::dup2(staged[i], moves[i].second) < 0) ::_exit(126);
    int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log >= 0) ::dup2(log, 1), ::dup2(log, 2);
    ::execv(kQemu, argv.data());
    ::_exit(127);
  }
  QemuGuest guest;
  guest.pid_ = pid;
  // QMP answers once QEMU is up; give it time on a loaded machine.
  for (int attempt = 0;; ++attempt) {
    try {
      guest.qmp_ = std::make_unique<QmpClient>(QmpClient::connect(qmpPath));
      break;
    } catch (const Error&) {
      int status;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        guest.pid_ = -1;
        throw std::runtime_error("QEMU " + name + " exited at start; see " + logPath);
      }
      if (attempt > 600) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return guest;
}

QemuGuest::QemuGuest(QemuGuest&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), qmp_(std::move(other.qmp_)) {}

QemuGuest::~QemuGuest() {
  if (pid_ <= 0) return;
  try {
    if (qmp_) qmp_->execute("quit");
  } catch (...) {
  }
  qmp_.reset();
  for (int i = 0; i < 100; ++i) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

void QemuGuest::announceSelf() {
  qmp_->execute("announce-self",
                {{"initial", 50}, {"max", 550}, {"rounds", 5}, {"step", 50}});
}

std::vector<int> QemuGuest::openFds() const {
  std::vector<int> fds;
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str());
  if (!dir) return fds;
  while (dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') fds.push_back(std::atoi(entry->d_name));
  ::closedir(dir);
  return fds;
}

PacketCapture PacketCapture::open(const std::string& interfaceName) {
  UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!fd) throw Error::fromErrno("cannot open a packet socket", errno);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(::if_nametoindex(interfaceName.c_str()));
  if (address.sll_ifindex == 0) throw Error::fromErrno("no interface " + interfaceName, errno);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw Error::fromErrno("cannot bind a packet socket to " + interfaceName, errno);
  return PacketCapture(std::move(fd));
}

int PacketCapture::countFrames(const MacAddress& mac, unsigned ethertype, int wanted,
                               std::chrono::milliseconds timeout) {
  int seen = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seen < wanted) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd waiting{fd_.get(), POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) continue;
    unsigned char frame[2048];
    ssize_t got = ::recv(fd_.get(), frame, sizeof frame, 0);
    if (got < 14) continue;
    unsigned type = (unsigned(frame[12]) << 8) | frame[13];
    if (std::memcmp(frame + 6, mac.bytes().data(), 6) == 0 && type == ethertype) ++seen;
  }
  return seen;
}

}  // namespace seclabel::testing
