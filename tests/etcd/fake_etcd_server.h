// A stand-in for an etcd member that answers what a test tells it to:
// garbage, huge bodies, broken connections, silence. One thread, one
// connection at a time, on 127.0.0.1. HTTP here is the least needed to talk
// to libcurl (a request line, headers, a Content-Length body; replies written
// verbatim): it is the hostile peer, not a server.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>

namespace seclabel::testing {

class FakeEtcdServer {
 public:
  struct Request {
    std::string path;  // "/v3/kv/txn"
    std::string body;
  };

  struct Reply {
    enum class Action {
      Send,          // write `raw` and keep the connection for the next request
      SendAndClose,  // write `raw`, then close
      Close,         // close the connection without a reply
      Hang,          // never answer; keep the connection open
      Flood,         // a 200 reply whose body never ends (until the client leaves or `floodBytes`)
    };
    Action action = Action::Send;
    std::string raw;
    size_t floodBytes = 0;

    // A whole HTTP/1.1 reply with this status and body.
    static Reply json(int status, const std::string& body);
    static Reply verbatim(std::string raw, Action action = Action::SendAndClose);
    static Reply close() { return Reply{Action::Close, {}, 0}; }
    static Reply hang() { return Reply{Action::Hang, {}, 0}; }
    static Reply flood(size_t bytes) { return Reply{Action::Flood, {}, bytes}; }
  };

  using Handler = std::function<Reply(const Request&)>;

  // Listens on a free port of 127.0.0.1 and serves every request with `handler`
  // (called on the server's thread).
  explicit FakeEtcdServer(Handler handler);
  ~FakeEtcdServer();
  FakeEtcdServer(const FakeEtcdServer&) = delete;
  FakeEtcdServer& operator=(const FakeEtcdServer&) = delete;

  std::string url() const;
  int requests() const { return requests_; }
  int connections() const { return connections_; }

 private:
  void serve();
  void serveConnection(int fd);
  // Waits until `fd` is readable (or writable); false when stopping.
  bool waitFor(int fd, short events);

  Handler handler_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace seclabel::testing
