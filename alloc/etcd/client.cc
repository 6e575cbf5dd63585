#include "alloc/etcd/client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <thread>

#include "alloc/etcd/wire.h"
#include "core/config.h"

namespace seclabel::etcd {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// May a request be sent again, to the next endpoint, after it may have
// reached a server?
enum class Replay {
  Anywhere,       // yes: it changes nothing (reads), or nothing that matters
  OnlyIfNotSent,  // no: a write; sent twice it could land twice
};

struct Rpc {
  const char* name;  // in messages: "etcd txn: ..."
  const char* path;  // the gateway's path for the call
  Replay replay;
};

constexpr Rpc kRange{"range", "/v3/kv/range", Replay::Anywhere};
constexpr Rpc kPut{"put", "/v3/kv/put", Replay::OnlyIfNotSent};
constexpr Rpc kDelete{"delete", "/v3/kv/deleterange", Replay::OnlyIfNotSent};
constexpr Rpc kTxn{"txn", "/v3/kv/txn", Replay::OnlyIfNotSent};
constexpr Rpc kReadOnlyTxn{"txn", "/v3/kv/txn", Replay::Anywhere};
constexpr Rpc kLeaseGrant{"lease grant", "/v3/lease/grant", Replay::Anywhere};
constexpr Rpc kLeaseKeepAlive{"lease keep-alive", "/v3/lease/keepalive", Replay::Anywhere};
constexpr Rpc kStatus{"status", "/v3/maintenance/status", Replay::Anywhere};

// Pause between two rounds over every endpoint (a leader election takes
// about a second; a member restarting, a few).
constexpr milliseconds kFirstBackoff{25};
constexpr milliseconds kMaxBackoff{400};

// Text from the network or from a server, fit for a one-line message.
std::string oneLine(std::string_view text, size_t limit = 200) {
  std::string out;
  for (unsigned char c : text.substr(0, limit)) out += (c < 0x20 || c == 0x7f) ? '?' : char(c);
  if (text.size() > limit) out += "...";
  return out;
}

// What an etcd error reply means for the request.
enum class ErrorMeaning {
  TryElsewhere,  // not applied, and another member (or a moment later) may do it
  Ambiguous,     // a write may have been applied
  Rejected,      // not applied, and asking again will not change that
};

ErrorMeaning meaningOf(const wire::ErrorReply& error, Replay replay) {
  // Refused before anything was proposed to the cluster.
  for (const char* notProposed :
       {"etcdserver: no leader", "etcdserver: not capable", "etcdserver: too many requests"})
    if (error.message == notProposed) return ErrorMeaning::TryElsewhere;
  switch (error.code) {
    case 3:   // InvalidArgument
    case 5:   // NotFound (lease)
    case 6:   // AlreadyExists
    case 7:   // PermissionDenied
    case 8:   // ResourceExhausted (no space)
    case 9:   // FailedPrecondition
    case 11:  // OutOfRange (compacted)
    case 12:  // Unimplemented
    case 16:  // Unauthenticated
      return ErrorMeaning::Rejected;
    default:
      // Unavailable ("request timed out", "leader changed", "server
      // stopped"), DeadlineExceeded, Canceled, Internal, Unknown, anything
      // else: a proposal may have been committed.
      return replay == Replay::Anywhere ? ErrorMeaning::TryElsewhere : ErrorMeaning::Ambiguous;
  }
}

std::string errorText(const wire::ErrorReply& error) {
  return "'" + oneLine(error.message) + "' (gRPC code " + std::to_string(error.code) + ")";
}

// The failures of one call, endpoint by endpoint, for its error message.
class Attempts {
 public:
  Attempts(const Rpc& rpc, milliseconds timeout, size_t endpoints)
      : rpc_(rpc), timeout_(timeout), reasons_(endpoints) {}

  void record(size_t index, std::string reason) {
    if (reasons_[index].empty()) order_.push_back(index);
    reasons_[index] = std::move(reason);
  }
  void sawTimeout() { timedOut_ = true; }
  void sawBadReply() { badReply_ = true; }

  [[noreturn]] void fail(const std::vector<std::unique_ptr<HttpEndpoint>>& endpoints) const {
    EtcdFailure failure = timedOut_ ? EtcdFailure::Timeout
                          : badReply_ ? EtcdFailure::BadReply
                                      : EtcdFailure::Unavailable;
    std::string message = std::string("etcd ") + rpc_.name + ": ";
    if (failure == EtcdFailure::Timeout)
      message += "no answer within " + std::to_string(timeout_.count()) + " ms: ";
    else if (failure == EtcdFailure::BadReply)
      message += "no usable answer: ";
    else
      message += "no endpoint reachable within " + std::to_string(timeout_.count()) + " ms: ";
    for (size_t i = 0; i < order_.size(); ++i) {
      if (i) message += "; ";
      message += endpoints[order_[i]]->url() + ": " + reasons_[order_[i]];
    }
    throw EtcdError(failure, message);
  }

  [[noreturn]] void outcomeUnknown(const HttpEndpoint& endpoint, const std::string& why) const {
    throw EtcdError(EtcdFailure::OutcomeUnknown,
                    std::string("etcd ") + rpc_.name + ": outcome unknown: " + endpoint.url() +
                        ": " + why + "; it may or may not have been applied");
  }

  [[noreturn]] void rejected(const HttpEndpoint& endpoint, const wire::ErrorReply& error) const {
    throw EtcdError(EtcdFailure::Rejected,
                    std::string("etcd ") + rpc_.name + ": rejected by " + endpoint.url() + ": " +
                        errorText(error),
                    error.code);
  }

 private:
  const Rpc& rpc_;
  milliseconds timeout_;
  std::vector<std::string> reasons_;
  std::vector<size_t> order_;
  bool timedOut_ = false;
  bool badReply_ = false;
};

void checkReadable(const std::string& path, const char* key) {
  if (path.empty()) return;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    throw Error::fromErrno(std::string("cannot read ") + key + " " + path, errno,
                           ExitCode::InvalidInput);
  ::close(fd);
}

bool onlyRanges(const std::vector<TxnOp>& ops) {
  return std::all_of(ops.begin(), ops.end(),
                     [](const TxnOp& op) { return std::holds_alternative<RangeRequest>(op); });
}

}  // namespace

ClientOptions ClientOptions::fromConfig(const StoreConfig& store) {
  ClientOptions options;
  options.endpoints = store.endpoints;
  options.timeout = milliseconds(store.timeoutMs);
  options.tls = TlsFiles{store.caCert, store.cert, store.key};
  return options;
}

struct EtcdClient::Impl {
  ClientOptions options;
  std::vector<std::unique_ptr<HttpEndpoint>> endpoints;
  size_t current = 0;

  // One exchange with endpoint `index`. Returns the decoded result, or
  // nullopt after recording why this endpoint could not serve the call (the
  // caller moves on); throws when the call must end here.
  template <typename Result, typename Decode>
  std::optional<Result> attempt(const Rpc& rpc, const std::string& body, const Decode& decode,
                                size_t index, milliseconds total, milliseconds connect,
                                Attempts& attempts, bool& exclude) {
    HttpEndpoint& endpoint = *endpoints[index];
    HttpExchange exchange = endpoint.post(rpc.path, body, total, connect);
    bool maybeSent = exchange.delivery == Delivery::MaybeSent;
    bool mayRetry = rpc.replay == Replay::Anywhere || !maybeSent;
    using Outcome = HttpExchange::Outcome;

    if (exchange.outcome != Outcome::Answered) {
      std::string why = oneLine(exchange.detail);
      if (!mayRetry) {
        if (exchange.outcome == Outcome::TimedOut)
          attempts.outcomeUnknown(endpoint, "no answer after the request was sent (" + why + ")");
        if (exchange.outcome == Outcome::TooLarge) attempts.outcomeUnknown(endpoint, why);
        attempts.outcomeUnknown(endpoint, "connection lost after the request was sent (" + why + ")");
      }
      if (exchange.outcome == Outcome::TimedOut) attempts.sawTimeout();
      if (exchange.outcome == Outcome::TooLarge) {
        attempts.sawBadReply();
        exclude = true;
      }
      // A certificate that does not verify will not verify a moment later.
      if (exchange.outcome == Outcome::TlsRefused) exclude = true;
      attempts.record(index, why);
      return std::nullopt;
    }

    if (auto error = wire::decodeError(exchange.body)) {
      switch (meaningOf(*error, rpc.replay)) {
        case ErrorMeaning::TryElsewhere:
          attempts.record(index, errorText(*error));
          return std::nullopt;
        case ErrorMeaning::Ambiguous:
          attempts.outcomeUnknown(endpoint, "etcd answered " + errorText(*error));
        case ErrorMeaning::Rejected:
          attempts.rejected(endpoint, *error);
      }
    }
    if (exchange.status != 200) {
      // Not etcd's error format: a proxy, or not etcd at all.
      std::string why = "HTTP status " + std::to_string(exchange.status) + " without an etcd error";
      if (!mayRetry) attempts.outcomeUnknown(endpoint, why);
      attempts.sawBadReply();
      attempts.record(index, why);
      exclude = true;
      return std::nullopt;
    }
    try {
      return decode(exchange.body);
    } catch (const wire::MalformedReply& e) {
      std::string why = std::string("bad reply: ") + oneLine(e.what());
      if (!mayRetry) attempts.outcomeUnknown(endpoint, why);
      attempts.sawBadReply();
      attempts.record(index, why);
      exclude = true;
      return std::nullopt;
    }
  }

  // Sends `body` for `rpc` under one deadline, with the failover rules of
  // client.h, and decodes the reply. `only`: that endpoint, once.
  template <typename Result, typename Decode>
  Result call(const Rpc& rpc, const std::string& body, const Decode& decode,
              std::optional<size_t> only = std::nullopt) {
    const auto deadline = Clock::now() + options.timeout;
    auto remaining = [&] {
      return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    };
    const size_t n = endpoints.size();
    Attempts attempts(rpc, options.timeout, n);
    std::vector<bool> excluded(n, false);  // answered with nonsense: not asked again
    milliseconds backoff = kFirstBackoff;
    while (true) {
      std::vector<size_t> round;
      if (only) {
        round.push_back(*only);
      } else {
        for (size_t k = 0; k < n; ++k)
          if (!excluded[(current + k) % n]) round.push_back((current + k) % n);
      }
      for (size_t k = 0; k < round.size(); ++k) {
        milliseconds left = remaining();
        if (left.count() <= 0) attempts.fail(endpoints);
        // Each endpoint still to try in this round gets its share of the
        // time left for connecting, and for a read also for answering (one
        // member that hangs must not eat the whole deadline). A write gets
        // all the time left once connected: cut off, it would be unknown.
        milliseconds share = left / milliseconds::rep(round.size() - k);
        milliseconds total = rpc.replay == Replay::Anywhere ? share : left;
        bool exclude = false;
        auto result = attempt<Result>(rpc, body, decode, round[k], total, share, attempts, exclude);
        if (result) {
          if (!only) current = round[k];
          return std::move(*result);
        }
        if (exclude) excluded[round[k]] = true;
      }
      if (only || std::find(excluded.begin(), excluded.end(), false) == excluded.end())
        attempts.fail(endpoints);
      milliseconds left = remaining();
      if (left.count() <= 0) attempts.fail(endpoints);
      std::this_thread::sleep_for(std::min(backoff, left));
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
};

EtcdClient::EtcdClient(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.endpoints.empty())
    throw Error::invalidInput("etcd client: no endpoint given");
  for (const auto& url : options.endpoints) checkEtcdEndpoint(url, "etcd endpoint");
  if (options.timeout.count() < 1)
    throw Error::invalidInput("etcd client: timeout must be at least 1 ms");
  if (options.tls.cert.empty() != options.tls.key.empty())
    throw Error::invalidInput("etcd client: a client certificate needs its key and the key its certificate");
  checkReadable(options.tls.caCert, "store.cacert");
  checkReadable(options.tls.cert, "store.cert");
  checkReadable(options.tls.key, "store.key");
  for (const auto& url : options.endpoints)
    impl_->endpoints.push_back(
        std::make_unique<HttpEndpoint>(url, options.tls, options.maxReplyBytes));
  impl_->options = std::move(options);
}

EtcdClient::~EtcdClient() = default;
EtcdClient::EtcdClient(EtcdClient&&) noexcept = default;
EtcdClient& EtcdClient::operator=(EtcdClient&&) noexcept = default;

const std::vector<std::string>& EtcdClient::endpoints() const { return impl_->options.endpoints; }

size_t EtcdClient::currentEndpoint() const { return impl_->current; }

RangeResult EtcdClient::range(const RangeRequest& request) {
  return impl_->call<RangeResult>(kRange, wire::encodeRange(request), wire::decodeRange);
}

PutResult EtcdClient::put(const PutRequest& request) {
  return impl_->call<PutResult>(kPut, wire::encodePut(request), wire::decodePut);
}

DeleteResult EtcdClient::deleteRange(const DeleteRequest& request) {
  return impl_->call<DeleteResult>(kDelete, wire::encodeDelete(request), wire::decodeDelete);
}

TxnResult EtcdClient::txn(const TxnRequest& request) {
  const Rpc& rpc = onlyRanges(request.success) && onlyRanges(request.failure) ? kReadOnlyTxn : kTxn;
  return impl_->call<TxnResult>(rpc, wire::encodeTxn(request), [&](std::string_view body) {
    return wire::decodeTxn(body, request);
  });
}

LeaseGrantResult EtcdClient::leaseGrant(int64_t ttlSeconds) {
  return impl_->call<LeaseGrantResult>(kLeaseGrant, wire::encodeLeaseGrant(ttlSeconds),
                                       wire::decodeLeaseGrant);
}

LeaseKeepAliveResult EtcdClient::leaseKeepAlive(int64_t id) {
  return impl_->call<LeaseKeepAliveResult>(kLeaseKeepAlive, wire::encodeLeaseKeepAlive(id),
                                           wire::decodeLeaseKeepAlive);
}

MemberStatus EtcdClient::status() {
  return impl_->call<MemberStatus>(kStatus, wire::encodeStatus(), wire::decodeStatus);
}

MemberStatus EtcdClient::statusOf(size_t index) {
  if (index >= impl_->endpoints.size())
    throw std::out_of_range("etcd endpoint index " + std::to_string(index));
  return impl_->call<MemberStatus>(kStatus, wire::encodeStatus(), wire::decodeStatus, index);
}

}  // namespace seclabel::etcd
