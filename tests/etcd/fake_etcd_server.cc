#include "tests/etcd/fake_etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace seclabel::testing {
namespace {

std::string statusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

FakeEtcdServer::Reply FakeEtcdServer::Reply::json(int status, const std::string& body) {
  return Reply{Action::Send,
               "HTTP/1.1 " + std::to_string(status) + " " + statusText(status) +
                   "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body,
               0};
}

FakeEtcdServer::Reply FakeEtcdServer::Reply::verbatim(std::string raw, Action action) {
  return Reply{action, std::move(raw), 0};
}

FakeEtcdServer::FakeEtcdServer(Handler handler) : handler_(std::move(handler)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listenFd_, 16) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      ::pipe2(stopPipe_, O_CLOEXEC) != 0)
    throw std::runtime_error("fake etcd server: cannot listen on 127.0.0.1");
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeEtcdServer::~FakeEtcdServer() {
  char byte = 0;
  (void)!::write(stopPipe_[1], &byte, 1);
  thread_.join();
  ::close(listenFd_);
  ::close(stopPipe_[0]);
  ::close(stopPipe_[1]);
}

std::string FakeEtcdServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool FakeEtcdServer::waitFor(int fd, short events) {
  pollfd fds[2] = {{fd, events, 0}, {stopPipe_[0], POLLIN, 0}};
  while (true) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents) return false;
    if (fds[0].revents) return true;
  }
}

void FakeEtcdServer::serve() {
  while (waitFor(listenFd_, POLLIN)) {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    serveConnection(fd);
    ::close(fd);
  }
}

void FakeEtcdServer::serveConnection(int fd) {
  std::string buffer;
  char chunk[65536];
  auto writeAll = [&](const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      if (!waitFor(fd, POLLOUT)) return false;
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += size_t(n);
    }
    return true;
  };
  while (true) {
    // Read one request: headers, then Content-Length bytes of body.
    size_t headerEnd;
    while ((headerEnd = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!waitFor(fd, POLLIN)) return;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, size_t(n));
    }
    std::string headers = buffer.substr(0, headerEnd);
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      auto at = headers.find(name);
      if (at != std::string::npos) length = std::stoul(headers.substr(at + std::string(name).size()));
    }
    while (buffer.size() < headerEnd + 4 + length) {
      if (!waitFor(fd, POLLIN)) return;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, size_t(n));
    }
    Request request;
    auto space = headers.find(' ');
    request.path = headers.substr(space + 1, headers.find(' ', space + 1) - space - 1);
    request.body = buffer.substr(headerEnd + 4, length);
    buffer.erase(0, headerEnd + 4 + length);
    ++requests_;
    Reply reply = handler_(request);
    using Action = Reply::Action;
    switch (reply.action) {
      case Action::Send:
        if (!writeAll(reply.raw)) return;
        break;
      case Action::SendAndClose:
        writeAll(reply.raw);
        return;
      case Action::Close:
        return;
      case Action::Hang:
        // Until the client gives up (or the server stops).
        while (waitFor(fd, POLLIN) && ::recv(fd, chunk, sizeof chunk, 0) > 0) {
        }
        return;
      case Action::Flood: {
        if (!writeAll("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"))
          return;
        std::string piece(60000, 'x');
        char size[32];
        snprintf(size, sizeof size, "%zx\r\n", piece.size());
        std::string frame = size + piece + "\r\n";
        for (size_t sent = 0; sent < reply.floodBytes; sent += piece.size())
          if (!writeAll(frame)) return;
        return;
      }
    }
  }
}

}  // namespace seclabel::testing
