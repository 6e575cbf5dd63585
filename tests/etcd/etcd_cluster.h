// A throwaway etcd cluster on 127.0.0.1 for tests and benchmarks.
//
// start() runs N members of Debian's etcd (free ports, data under a fresh
// /tmp/seclabel-etcd-XXXXXX) and waits until they agree on a leader. Members
// can be killed (SIGKILL), stopped (SIGTERM), paused (SIGSTOP), resumed and
// restarted on their data. Nothing outlives the cluster:
//   - the destructor kills every member and removes the data;
//   - every member dies with the process that started it (PR_SET_PDEATHSIG),
//     so a test killed by a timeout leaves no etcd running;
//   - data directories left by such a process are removed by the next start().
// Members are started and restarted from the thread that called start(): the
// kernel ties PR_SET_PDEATHSIG to the thread, not the process.
//
// With Tls::ClientCertificates the client URLs are https, served with a
// certificate for 127.0.0.1 from a fresh CA, and a client must present a
// certificate from that CA (tlsFiles()). Peers talk plain HTTP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alloc/etcd/client.h"

namespace seclabel::testing {

class EtcdCluster {
 public:
  enum class Tls { None, ClientCertificates };

  // Whether the etcd executable (and for TLS, openssl) is installed: tests
  // skip when it is not.
  static bool available(Tls tls = Tls::None);

  // Starts `members` members and waits (up to 30 s) until every one serves
  // with the same leader. Throws std::runtime_error with the members' log
  // tails when they do not.
  static std::unique_ptr<EtcdCluster> start(size_t members = 3, Tls tls = Tls::None);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  size_t size() const { return members_.size(); }
  std::string clientUrl(size_t member) const;
  std::vector<std::string> clientUrls() const;
  // Client options for every member (and the TLS files when TLS is on).
  etcd::ClientOptions clientOptions(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;
  etcd::TlsFiles tlsFiles() const;
  const std::string& dataRoot() const { return root_; }

  bool running(size_t member) const;
  pid_t pid(size_t member) const;

  void kill(size_t member);     // SIGKILL, and reaped
  void stop(size_t member);     // SIGTERM, and waits for the exit
  void pause(size_t member);    // SIGSTOP: connections open, nothing answers
  void resume(size_t member);   // SIGCONT
  void restart(size_t member);  // starts a killed or stopped member on its data

  // The member every running member names as leader, waiting up to `wait`
  // for them to agree. Throws std::runtime_error when they do not.
  size_t leader(std::chrono::milliseconds wait = std::chrono::seconds(30));
  // Waits until every running member answers a linearizable read.
  void waitHealthy(std::chrono::milliseconds wait = std::chrono::seconds(30));

  // The last lines of a member's log, for failure messages.
  std::string logTail(size_t member, size_t lines = 20) const;

 private:
  struct Member {
    std::string name;
    int clientPort = 0;
    int peerPort = 0;
    pid_t pid = -1;
  };

  EtcdCluster() = default;
  void launch(size_t member, bool fresh);
  void terminate(size_t member, int signal);
  std::string memberDir(size_t member) const;
  std::string initialCluster() const;
  void makeCertificates();

  std::string root_;
  std::string token_;
  Tls tls_ = Tls::None;
  std::vector<Member> members_;
};

}  // namespace seclabel::testing
