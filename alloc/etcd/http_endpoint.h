// One etcd member's HTTP endpoint: a libcurl easy handle kept for every
// request to that member, so its connection stays open between requests
// (HTTP/1.1 keep-alive: one TCP and TLS handshake per process, not per call).
//
// libcurl does all of HTTP and TLS; this class only sets it up for the
// gateway and reports, for each POST, whether the request may have reached the
// server. That is the fact the failover rules need (client.h): a request that
// never left may be sent elsewhere, one that may have arrived may not.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

struct curl_slist;

namespace seclabel::etcd {

// TLS files for https endpoints; an empty path is not used (the system's CA
// store verifies the server; no client certificate is offered).
struct TlsFiles {
  std::string caCert;
  std::string cert;
  std::string key;
};

// Whether any byte of the request body was handed to the connection. A body
// not handed over cannot have been acted on; one that was may have been, even
// when no reply came.
enum class Delivery { NotSent, MaybeSent };

struct HttpExchange {
  enum class Outcome {
    Answered,       // a whole HTTP reply arrived (any status)
    ConnectFailed,  // no connection (refused, unresolvable, TLS handshake broken off)
    TlsRefused,     // the TLS peer is not who it must be, or our TLS files are unusable
    TimedOut,       // the time given ran out (while connecting, if NotSent)
    Lost,           // the connection broke, or the server closed it without a reply
    TooLarge,       // the reply body was longer than the endpoint's limit; cut off
  };
  Outcome outcome = Outcome::ConnectFailed;
  Delivery delivery = Delivery::NotSent;
  long status = 0;     // HTTP status, when Answered
  std::string body;    // the reply body, when Answered
  std::string detail;  // libcurl's reason, when not Answered
};

class HttpEndpoint {
 public:
  // `baseUrl` is http(s)://host[:port] (the config checked it). Replies longer
  // than `maxReplyBytes` are cut off, so a hostile server cannot make the
  // client buffer without bound.
  HttpEndpoint(std::string baseUrl, const TlsFiles& tls, size_t maxReplyBytes);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  const std::string& url() const { return baseUrl_; }

  // POSTs the JSON `body` to baseUrl + `path` and waits for the whole reply,
  // for at most `total`, of which connecting takes at most `connect`. Never
  // throws for what the network or the server does (that is the result); the
  // body is never sent twice (libcurl's own retry on a reused connection that
  // turned out dead is allowed only while nothing has been handed over).
  // Throws Error only when libcurl itself cannot be set up.
  HttpExchange post(std::string_view path, std::string_view body,
                    std::chrono::milliseconds total, std::chrono::milliseconds connect);

 private:
  std::string baseUrl_;
  size_t maxReplyBytes_;
  void* curl_ = nullptr;  // CURL (libcurl declares it as void)
  curl_slist* headers_ = nullptr;
};

}  // namespace seclabel::etcd
