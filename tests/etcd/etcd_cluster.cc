#include "tests/etcd/etcd_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace seclabel::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string findInPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return {};
}

// A port nobody listens on, below Linux's ephemeral range (32768-60999) so
// that no outgoing connection takes it between this check and etcd's bind.
int freePort() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> ports(20000, 32000);
  for (int tries = 0; tries < 1000; ++tries) {
    int port = ports(random);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

// Removes /tmp/seclabel-etcd-* directories whose owner process is gone (a
// test killed before its destructor ran; its members died with it).
void removeStaleRoots() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    if (entry.path().filename().string().rfind("seclabel-etcd-", 0) != 0) continue;
    std::ifstream owner(entry.path() / "owner");
    pid_t pid = 0;
    if (owner >> pid && pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH)) continue;
    if (!owner && fs::last_write_time(entry.path(), ec) > fs::file_time_type::clock::now() - 1min)
      continue;  // being created right now
    fs::remove_all(entry.path(), ec);
  }
}

// Runs a command to completion; throws when it fails.
void run(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("command failed: " + argv[0] + " (see " + log + ")");
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

bool EtcdCluster::available(Tls tls) {
  return !findInPath("etcd").empty() && (tls == Tls::None || !findInPath("openssl").empty());
}

std::unique_ptr<EtcdCluster> EtcdCluster::start(size_t members, Tls tls) {
  removeStaleRoots();
  std::string lastError;
  // A port taken between the check and etcd's bind fails the start: take
  // fresh ports and try again.
  for (int tries = 0; tries < 3; ++tries) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
    std::string pattern = fs::temp_directory_path() / "seclabel-etcd-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    cluster->root_ = pattern;
    writeFile(cluster->root_ + "/owner", std::to_string(::getpid()) + "\n");
    cluster->token_ = fs::path(pattern).filename();
    cluster->tls_ = tls;
    if (tls == Tls::ClientCertificates) cluster->makeCertificates();
    for (size_t i = 0; i < members; ++i)
      cluster->members_.push_back(Member{"m" + std::to_string(i), freePort(), freePort(), -1});
    try {
      for (size_t i = 0; i < members; ++i) cluster->launch(i, true);
      cluster->waitHealthy();
      return cluster;
    } catch (const std::exception& e) {
      lastError = e.what();
    }
  }
  throw std::runtime_error("etcd cluster did not start: " + lastError);
}

EtcdCluster::~EtcdCluster() {
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i].pid > 0) terminate(i, SIGKILL);
  std::error_code ignored;
  if (!root_.empty()) fs::remove_all(root_, ignored);
}

std::string EtcdCluster::memberDir(size_t member) const {
  return root_ + "/" + members_.at(member).name;
}

std::string EtcdCluster::clientUrl(size_t member) const {
  return std::string(tls_ == Tls::None ? "http" : "https") + "://127.0.0.1:" +
         std::to_string(members_.at(member).clientPort);
}

std::vector<std::string> EtcdCluster::clientUrls() const {
  std::vector<std::string> urls;
  for (size_t i = 0; i < members_.size(); ++i) urls.push_back(clientUrl(i));
  return urls;
}

etcd::TlsFiles EtcdCluster::tlsFiles() const {
  if (tls_ == Tls::None) return {};
  return etcd::TlsFiles{root_ + "/tls/ca.crt", root_ + "/tls/client.crt", root_ + "/tls/client.key"};
}

etcd::ClientOptions EtcdCluster::clientOptions(std::chrono::milliseconds timeout) const {
  etcd::ClientOptions options;
  options.endpoints = clientUrls();
  options.timeout = timeout;
  options.tls = tlsFiles();
  return options;
}

std::string EtcdCluster::initialCluster() const {
  std::string list;
  for (const auto& m : members_) {
    if (!list.empty()) list += ",";
    list += m.name + "=http://127.0.0.1:" + std::to_string(m.peerPort);
  }
  return list;
}

void EtcdCluster::makeCertificates() {
  std::string dir = root_ + "/tls";
  fs::create_directory(dir);
  std::string log = dir + "/openssl.log";
  const std::vector<std::string> ecKey = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                          "-nodes"};
  auto request = [&](const std::string& name, const std::string& subject,
                     std::vector<std::string> extra) {
    std::vector<std::string> argv = {"openssl", "req"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), ecKey.begin(), ecKey.end());
    argv.insert(argv.end(), {"-keyout", dir + "/" + name + ".key", "-subj", subject});
    run(argv, log);
  };
  request("ca", "/CN=seclabel test CA", {"-x509", "-days", "2", "-out", dir + "/ca.crt"});
  auto sign = [&](const std::string& name, const std::string& extensions) {
    request(name, "/CN=" + name, {"-out", dir + "/" + name + ".csr"});
    writeFile(dir + "/" + name + ".ext", extensions);
    run({"openssl", "x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.crt",
         "-CAkey", dir + "/ca.key", "-CAcreateserial", "-days", "2", "-out",
         dir + "/" + name + ".crt", "-extfile", dir + "/" + name + ".ext"},
        log);
  };
  // clientAuth too: etcd's gateway reaches the member's own gRPC service
  // with the server certificate as its client certificate.
  sign("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  sign("client", "extendedKeyUsage=clientAuth\n");
}

void EtcdCluster::launch(size_t member, bool fresh) {
  Member& m = members_.at(member);
  std::string client = clientUrl(member);
  std::string peer = "http://127.0.0.1:" + std::to_string(m.peerPort);
  std::vector<std::string> argv = {
      findInPath("etcd"),
      "--name", m.name,
      "--data-dir", memberDir(member),
      "--listen-client-urls", client,
      "--advertise-client-urls", client,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", initialCluster(),
      "--initial-cluster-state", fresh ? "new" : "existing",
      "--initial-cluster-token", token_,
      "--logger", "zap",
      "--log-outputs", "stderr",
  };
  if (tls_ == Tls::ClientCertificates) {
    std::string dir = root_ + "/tls/";
    argv.insert(argv.end(), {"--cert-file", dir + "server.crt", "--key-file", dir + "server.key",
                             "--trusted-ca-file", dir + "ca.crt", "--client-cert-auth"});
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string log = root_ + "/" + m.name + ".log";
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec: the test may have threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = ::open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // No test socket or client connection may live on in a member.
    ::close_range(3, ~0u, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  m.pid = pid;
}

void EtcdCluster::terminate(size_t member, int signal) {
  Member& m = members_.at(member);
  if (m.pid <= 0) return;
  ::kill(m.pid, signal);
  if (signal == SIGTERM) ::kill(m.pid, SIGCONT);  // a paused member must run to exit
  auto deadline = Clock::now() + 10s;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(m.pid, &status, WNOHANG);
    if (done == m.pid || (done < 0 && errno == ECHILD)) break;
    if (Clock::now() > deadline) {
      ::kill(m.pid, SIGKILL);
      ::waitpid(m.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  m.pid = -1;
}

bool EtcdCluster::running(size_t member) const { return members_.at(member).pid > 0; }

pid_t EtcdCluster::pid(size_t member) const { return members_.at(member).pid; }

void EtcdCluster::kill(size_t member) { terminate(member, SIGKILL); }

void EtcdCluster::stop(size_t member) { terminate(member, SIGTERM); }

void EtcdCluster::pause(size_t member) {
  if (running(member)) ::kill(pid(member), SIGSTOP);
}

void EtcdCluster::resume(size_t member) {
  if (running(member)) ::kill(pid(member), SIGCONT);
}

void EtcdCluster::restart(size_t member) {
  if (running(member)) throw std::logic_error("member " + std::to_string(member) + " is running");
  launch(member, false);
}

size_t EtcdCluster::leader(std::chrono::milliseconds wait) {
  auto deadline = Clock::now() + wait;
  etcd::EtcdClient client(clientOptions(1000ms));
  std::string last = "no member running";
  while (Clock::now() < deadline) {
    std::map<uint64_t, size_t> memberIndex;
    std::vector<uint64_t> leaders;
    bool allAnswered = true;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!running(i)) continue;
      // A member that exited on its own (bad flags, port taken) fails the wait.
      int exitStatus = 0;
      if (::waitpid(members_[i].pid, &exitStatus, WNOHANG) == members_[i].pid) {
        members_[i].pid = -1;
        throw std::runtime_error("etcd member " + members_[i].name + " exited: " + logTail(i, 5));
      }
      try {
        etcd::MemberStatus memberStatus = client.statusOf(i);
        memberIndex[memberStatus.header.memberId] = i;
        leaders.push_back(memberStatus.leader);
      } catch (const std::exception& e) {
        allAnswered = false;
        last = members_[i].name + ": " + e.what();
      }
    }
    if (allAnswered && !leaders.empty()) {
      bool agree = leaders.front() != 0;
      for (uint64_t l : leaders) agree = agree && l == leaders.front();
      if (agree && memberIndex.count(leaders.front())) return memberIndex[leaders.front()];
      last = "members do not agree on a leader yet";
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("etcd cluster has no leader: " + last);
}

void EtcdCluster::waitHealthy(std::chrono::milliseconds wait) {
  auto deadline = Clock::now() + wait;
  leader(wait);
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!running(i)) continue;
    etcd::ClientOptions options = clientOptions(1000ms);
    options.endpoints = {clientUrl(i)};
    etcd::EtcdClient client(options);
    while (true) {
      try {
        client.range(etcd::RangeRequest::single("/health-probe"));
        break;
      } catch (const std::exception& e) {
        if (Clock::now() > deadline)
          throw std::runtime_error("etcd member " + members_[i].name + " not serving: " + e.what());
        std::this_thread::sleep_for(50ms);
      }
    }
  }
}

std::string EtcdCluster::logTail(size_t member, size_t lines) const {
  std::ifstream in(root_ + "/" + members_.at(member).name + ".log");
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += l + "\n";
  return out;
}

}  // namespace seclabel::testing
