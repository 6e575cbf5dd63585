// A client for etcd's v3 API through its JSON gateway (HTTP/1.1, libcurl).
//
// Why the gateway and not gRPC, and the failover rules in full:
// docs/store.md, "The etcd client". In short:
//
// - Every call has one deadline, ClientOptions::timeout, counted across all
//   endpoints it tries. It starts with the endpoint that last answered and
//   moves on to the next on a connection failure, a timeout, or an etcd error
//   that means "not here, not now" (no leader, ...). When every endpoint
//   failed it waits a little and goes round again, until the deadline.
// - Reads (range, status) and lease calls may be sent again anywhere: they
//   change nothing (a granted lease that is lost expires by itself).
// - Writes (put, deleteRange, txn) are sent again only when they surely never
//   reached a server (the connection was never made). Once the request may
//   have arrived, a lost answer is EtcdFailure::OutcomeUnknown, never a
//   retry: the caller reads back and decides.
//
// Every failure is an EtcdError (etcd_error.h): exit code 1, one line naming
// the call, the endpoints and the reasons.
//
// Thread safety: none; one client per thread. A client keeps one connection
// per endpoint open between calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alloc/etcd/etcd_error.h"
#include "alloc/etcd/http_endpoint.h"
#include "alloc/etcd/types.h"

namespace seclabel {
struct StoreConfig;
}

namespace seclabel::etcd {

// Longest reply the client accepts by default: a page of guest records with
// their live XML fits many times over; a hostile server cannot make the
// client buffer more.
inline constexpr size_t kDefaultMaxReplyBytes = 32u << 20;

struct ClientOptions {
  std::vector<std::string> endpoints;  // http(s)://host:port of each member
  std::chrono::milliseconds timeout{5000};  // per call, across all endpoints
  TlsFiles tls;
  size_t maxReplyBytes = kDefaultMaxReplyBytes;

  // endpoints, timeout_ms, cacert, cert and key of [store].
  static ClientOptions fromConfig(const StoreConfig& store);
};

class EtcdClient {
 public:
  // Checks the options (Error(InvalidInput), exit 2: no endpoint, a URL that
  // is not http(s)://HOST[:PORT], a timeout of 0, a TLS file that cannot be
  // read, naming it). Makes no request: the cluster is first asked by the
  // first call.
  explicit EtcdClient(ClientOptions options);
  ~EtcdClient();
  EtcdClient(EtcdClient&&) noexcept;
  EtcdClient& operator=(EtcdClient&&) noexcept;

  const std::vector<std::string>& endpoints() const;
  // Index of the endpoint the next call tries first: the last that answered.
  size_t currentEndpoint() const;

  // Reads. Sent again to the next endpoint on any failure, within the deadline.
  RangeResult range(const RangeRequest& request);

  // Writes. An EtcdFailure::OutcomeUnknown error means it may have been applied.
  PutResult put(const PutRequest& request);
  DeleteResult deleteRange(const DeleteRequest& request);
  // The result's responses match the branch that ran (checked).
  TxnResult txn(const TxnRequest& request);

  // A lease of `ttlSeconds`; keys put with it vanish when it expires.
  LeaseGrantResult leaseGrant(int64_t ttlSeconds);
  // Refreshes a lease once; ttlSeconds 0 in the result: it has expired.
  LeaseKeepAliveResult leaseKeepAlive(int64_t id);

  // The status of whichever member answers first.
  MemberStatus status();
  // The status of endpoint `index` itself, with no failover (to find the
  // leader, or to check one member). Throws std::out_of_range for a bad index.
  MemberStatus statusOf(size_t index);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seclabel::etcd
