// Typed requests and results of the etcd v3 API calls seclabel makes.
//
// These mirror etcd's protocol messages (etcdserverpb) for the fields
// seclabel uses; keys and values are raw bytes in std::string. Revisions are
// etcd's: every change to the store increments the store's revision, and a key
// remembers the revision that created it (createRevision; 0 for a key that
// does not exist, which is how "create only if absent" is written) and the
// one that last changed it (modRevision).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace seclabel::etcd {

// On every reply: which cluster and member answered, at which revision.
struct ResponseHeader {
  uint64_t clusterId = 0;
  uint64_t memberId = 0;
  int64_t revision = 0;
  uint64_t raftTerm = 0;
};

struct KeyValue {
  std::string key;
  std::string value;  // empty in a keys-only read
  int64_t createRevision = 0;
  int64_t modRevision = 0;
  int64_t version = 0;  // number of changes since the key was created
  int64_t lease = 0;    // 0: the key is attached to no lease
};

enum class SortOrder { None, Ascend, Descend };
enum class SortTarget { Key, Version, CreateRevision, ModRevision, Value };
// What a range read returns for each key.
enum class RangeContent { KeysAndValues, KeysOnly, CountOnly };
// Linearizable reads go through the leader and see every committed write;
// serializable ones are served by the member asked, possibly stale, and work
// without a quorum.
enum class ReadConsistency { Linearizable, Serializable };

// A read of one key, or of the keys in [key, rangeEnd).
struct RangeRequest {
  std::string key;
  std::string rangeEnd;  // empty: the one key `key`
  int64_t limit = 0;     // 0: no limit
  SortOrder sortOrder = SortOrder::None;
  SortTarget sortTarget = SortTarget::Key;
  RangeContent content = RangeContent::KeysAndValues;
  ReadConsistency consistency = ReadConsistency::Linearizable;
  int64_t revision = 0;  // 0: the latest

  static RangeRequest single(std::string key);
  // Every key that starts with `prefix` (keys.h, prefixRangeEnd).
  static RangeRequest prefix(std::string_view prefix);
  // The keys from `from` (inclusive) to `end` (exclusive).
  static RangeRequest between(std::string from, std::string end);

  RangeRequest& withLimit(int64_t n) { limit = n; return *this; }
  RangeRequest& sortedBy(SortTarget target, SortOrder order) {
    sortTarget = target;
    sortOrder = order;
    return *this;
  }
  RangeRequest& keysOnly() { content = RangeContent::KeysOnly; return *this; }
  RangeRequest& countOnly() { content = RangeContent::CountOnly; return *this; }
  RangeRequest& serializable() { consistency = ReadConsistency::Serializable; return *this; }
  RangeRequest& atRevision(int64_t r) { revision = r; return *this; }
};

struct RangeResult {
  ResponseHeader header;
  std::vector<KeyValue> kvs;
  bool more = false;  // the limit cut the result short
  int64_t count = 0;  // keys in the whole range, whatever the limit
};

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;  // attach the key to this lease (0: none)
};

struct PutResult {
  ResponseHeader header;
};

// A delete of one key, or of the keys in [key, rangeEnd).
struct DeleteRequest {
  std::string key;
  std::string rangeEnd;  // empty: the one key `key`

  static DeleteRequest single(std::string key);
  static DeleteRequest prefix(std::string_view prefix);
};

struct DeleteResult {
  ResponseHeader header;
  int64_t deleted = 0;
};

enum class CompareTarget { Version, CreateRevision, ModRevision, Value };
enum class CompareOp { Equal, NotEqual, Less, Greater };

// One condition of a transaction: `target` of `key`, compared with `number`
// (Version, CreateRevision, ModRevision) or `value` (Value). A key that does
// not exist has version, createRevision and modRevision 0; a Value compare on
// a missing key is false.
struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::CreateRevision;
  CompareOp op = CompareOp::Equal;
  int64_t number = 0;
  std::string value;

  // createRevision == 0: the key does not exist. The guard on every key a
  // transaction creates, so two racing creators cannot both succeed.
  static Compare absent(std::string key);
  static Compare createRevision(std::string key, CompareOp op, int64_t revision);
  static Compare modRevision(std::string key, CompareOp op, int64_t revision);
  static Compare version(std::string key, CompareOp op, int64_t version);
  static Compare valueOf(std::string key, CompareOp op, std::string value);
};

using TxnOp = std::variant<RangeRequest, PutRequest, DeleteRequest>;
using TxnOpResult = std::variant<RangeResult, PutResult, DeleteResult>;

// If every compare holds, the success ops run, else the failure ops: one
// atomic step at one revision.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  ResponseHeader header;
  bool succeeded = false;  // every compare held: the success ops ran
  // One result per op of the branch that ran, in order, of the op's type.
  std::vector<TxnOpResult> responses;
};

struct LeaseGrantResult {
  ResponseHeader header;
  int64_t id = 0;
  int64_t ttlSeconds = 0;
};

struct LeaseKeepAliveResult {
  ResponseHeader header;
  int64_t id = 0;
  int64_t ttlSeconds = 0;  // 0: the lease has expired (or never existed)
};

// One member's view of the cluster.
struct MemberStatus {
  ResponseHeader header;  // header.memberId: the member that answered
  std::string version;    // etcd's version, "3.4.23"
  uint64_t leader = 0;    // member id of the leader it knows; 0: none
  uint64_t raftTerm = 0;
  uint64_t raftIndex = 0;
  int64_t dbSize = 0;
  std::vector<std::string> errors;  // "etcdserver: no leader", alarms, ...

  bool isLeader() const { return leader != 0 && leader == header.memberId; }
};

}  // namespace seclabel::etcd
