#include "alloc/etcd/wire.h"

#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "alloc/etcd/base64.h"

namespace seclabel::etcd::wire {
namespace {

using nlohmann::json;

[[noreturn]] void malformed(const std::string& where, const std::string& why) {
  throw MalformedReply(where + ": " + why);
}

std::string path(const std::string& parent, const std::string& field) {
  return parent.empty() ? field : parent + "." + field;
}

// ---- requests ----

std::string number(int64_t n) { return std::to_string(n); }

const char* sortOrderName(SortOrder order) {
  switch (order) {
    case SortOrder::None: return "NONE";
    case SortOrder::Ascend: return "ASCEND";
    case SortOrder::Descend: return "DESCEND";
  }
  return "NONE";
}

const char* sortTargetName(SortTarget target) {
  switch (target) {
    case SortTarget::Key: return "KEY";
    case SortTarget::Version: return "VERSION";
    case SortTarget::CreateRevision: return "CREATE";
    case SortTarget::ModRevision: return "MOD";
    case SortTarget::Value: return "VALUE";
  }
  return "KEY";
}

json rangeJson(const RangeRequest& r) {
  json j = {{"key", base64Encode(r.key)}};
  if (!r.rangeEnd.empty()) j["range_end"] = base64Encode(r.rangeEnd);
  if (r.limit != 0) j["limit"] = number(r.limit);
  if (r.revision != 0) j["revision"] = number(r.revision);
  if (r.sortOrder != SortOrder::None) j["sort_order"] = sortOrderName(r.sortOrder);
  if (r.sortTarget != SortTarget::Key) j["sort_target"] = sortTargetName(r.sortTarget);
  if (r.consistency == ReadConsistency::Serializable) j["serializable"] = true;
  if (r.content == RangeContent::KeysOnly) j["keys_only"] = true;
  if (r.content == RangeContent::CountOnly) j["count_only"] = true;
  return j;
}

json putJson(const PutRequest& r) {
  json j = {{"key", base64Encode(r.key)}, {"value", base64Encode(r.value)}};
  if (r.lease != 0) j["lease"] = number(r.lease);
  return j;
}

json deleteJson(const DeleteRequest& r) {
  json j = {{"key", base64Encode(r.key)}};
  if (!r.rangeEnd.empty()) j["range_end"] = base64Encode(r.rangeEnd);
  return j;
}

json compareJson(const Compare& c) {
  static const char* const kOps[] = {"EQUAL", "NOT_EQUAL", "LESS", "GREATER"};
  json j = {{"key", base64Encode(c.key)}, {"result", kOps[static_cast<int>(c.op)]}};
  switch (c.target) {
    case CompareTarget::Version:
      j["target"] = "VERSION";
      j["version"] = number(c.number);
      break;
    case CompareTarget::CreateRevision:
      j["target"] = "CREATE";
      j["create_revision"] = number(c.number);
      break;
    case CompareTarget::ModRevision:
      j["target"] = "MOD";
      j["mod_revision"] = number(c.number);
      break;
    case CompareTarget::Value:
      j["target"] = "VALUE";
      j["value"] = base64Encode(c.value);
      break;
  }
  return j;
}

json opsJson(const std::vector<TxnOp>& ops) {
  json array = json::array();
  for (const auto& op : ops) {
    if (auto* range = std::get_if<RangeRequest>(&op))
      array.push_back({{"request_range", rangeJson(*range)}});
    else if (auto* put = std::get_if<PutRequest>(&op))
      array.push_back({{"request_put", putJson(*put)}});
    else
      array.push_back({{"request_delete_range", deleteJson(std::get<DeleteRequest>(op))}});
  }
  return array;
}

// ---- replies ----

// Nesting depth of `body`'s arrays and objects, counted before parsing: a
// hostile reply of a million '[' must not become a million-level tree.
void checkDepth(std::string_view body) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxReplyDepth)
        malformed("reply", "nested deeper than " + std::to_string(kMaxReplyDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

json parseObject(std::string_view body) {
  checkDepth(body);
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) malformed("reply", "not valid JSON");
  if (!j.is_object()) malformed("reply", "not a JSON object");
  return j;
}

const json* field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// A protobuf JSON integer: a decimal string (how etcd writes 64-bit ones) or
// a JSON number, within [min, max].
template <typename T>
T integerField(const json& object, const char* name, const std::string& where) {
  const json* value = field(object, name);
  if (!value) return 0;
  std::string at = path(where, name);
  if (value->is_number_integer()) {
    if (value->is_number_unsigned()) {
      auto n = value->get<uint64_t>();
      if (n > uint64_t(std::numeric_limits<T>::max())) malformed(at, "out of range");
      return static_cast<T>(n);
    }
    auto n = value->get<int64_t>();
    if (n < 0 && !std::numeric_limits<T>::is_signed) malformed(at, "negative");
    if (std::numeric_limits<T>::is_signed &&
        (n < int64_t(std::numeric_limits<T>::min()) || n > int64_t(std::numeric_limits<T>::max())))
      malformed(at, "out of range");
    return static_cast<T>(n);
  }
  if (!value->is_string()) malformed(at, "expected an integer");
  const auto& text = value->get_ref<const std::string&>();
  T n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    malformed(at, "expected an integer, got \"" + text.substr(0, 32) + "\"");
  return n;
}

bool boolField(const json& object, const char* name, const std::string& where) {
  const json* value = field(object, name);
  if (!value) return false;
  if (!value->is_boolean()) malformed(path(where, name), "expected true or false");
  return value->get<bool>();
}

std::string stringField(const json& object, const char* name, const std::string& where) {
  const json* value = field(object, name);
  if (!value) return {};
  if (!value->is_string()) malformed(path(where, name), "expected a string");
  return value->get<std::string>();
}

std::string bytesField(const json& object, const char* name, const std::string& where) {
  std::string text = stringField(object, name, where);
  auto bytes = base64Decode(text);
  if (!bytes) malformed(path(where, name), "not valid base64");
  return *bytes;
}

const json* objectField(const json& object, const char* name, const std::string& where) {
  const json* value = field(object, name);
  if (value && !value->is_object()) malformed(path(where, name), "expected an object");
  return value;
}

const json& arrayField(const json& object, const char* name, const std::string& where) {
  static const json kEmpty = json::array();
  const json* value = field(object, name);
  if (!value) return kEmpty;
  if (!value->is_array()) malformed(path(where, name), "expected an array");
  return *value;
}

ResponseHeader headerOf(const json& reply, const std::string& where, bool required) {
  const json* h = objectField(reply, "header", where);
  if (!h) {
    if (required) malformed(path(where, "header"), "missing");
    return {};
  }
  std::string at = path(where, "header");
  ResponseHeader header;
  header.clusterId = integerField<uint64_t>(*h, "cluster_id", at);
  header.memberId = integerField<uint64_t>(*h, "member_id", at);
  header.revision = integerField<int64_t>(*h, "revision", at);
  header.raftTerm = integerField<uint64_t>(*h, "raft_term", at);
  if (header.revision < 0) malformed(path(at, "revision"), "negative");
  return header;
}

KeyValue keyValueOf(const json& kv, const std::string& at) {
  if (!kv.is_object()) malformed(at, "expected an object");
  KeyValue result;
  result.key = bytesField(kv, "key", at);
  if (result.key.empty()) malformed(path(at, "key"), "missing");
  result.value = bytesField(kv, "value", at);
  result.createRevision = integerField<int64_t>(kv, "create_revision", at);
  result.modRevision = integerField<int64_t>(kv, "mod_revision", at);
  result.version = integerField<int64_t>(kv, "version", at);
  result.lease = integerField<int64_t>(kv, "lease", at);
  return result;
}

RangeResult rangeOf(const json& reply, const std::string& where, bool headerRequired) {
  RangeResult result;
  result.header = headerOf(reply, where, headerRequired);
  const json& kvs = arrayField(reply, "kvs", where);
  result.kvs.reserve(kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i)
    result.kvs.push_back(keyValueOf(kvs[i], path(where, "kvs[" + std::to_string(i) + "]")));
  result.more = boolField(reply, "more", where);
  result.count = integerField<int64_t>(reply, "count", where);
  return result;
}

TxnOpResult opResultOf(const json& item, const TxnOp& op, const std::string& at) {
  if (!item.is_object() || item.size() != 1) malformed(at, "expected one response object");
  if (std::holds_alternative<RangeRequest>(op)) {
    const json* r = objectField(item, "response_range", at);
    if (!r) malformed(at, "expected response_range for a range op");
    return rangeOf(*r, path(at, "response_range"), false);
  }
  if (std::holds_alternative<PutRequest>(op)) {
    const json* r = objectField(item, "response_put", at);
    if (!r) malformed(at, "expected response_put for a put op");
    return PutResult{headerOf(*r, path(at, "response_put"), false)};
  }
  const json* r = objectField(item, "response_delete_range", at);
  if (!r) malformed(at, "expected response_delete_range for a delete op");
  std::string inner = path(at, "response_delete_range");
  return DeleteResult{headerOf(*r, inner, false), integerField<int64_t>(*r, "deleted", inner)};
}

}  // namespace

std::string encodeRange(const RangeRequest& request) { return rangeJson(request).dump(); }
std::string encodePut(const PutRequest& request) { return putJson(request).dump(); }
std::string encodeDelete(const DeleteRequest& request) { return deleteJson(request).dump(); }

std::string encodeTxn(const TxnRequest& request) {
  json compare = json::array();
  for (const auto& c : request.compare) compare.push_back(compareJson(c));
  return json{{"compare", compare},
              {"success", opsJson(request.success)},
              {"failure", opsJson(request.failure)}}
      .dump();
}

std::string encodeLeaseGrant(int64_t ttlSeconds) {
  return json{{"TTL", number(ttlSeconds)}}.dump();
}

std::string encodeLeaseKeepAlive(int64_t id) { return json{{"ID", number(id)}}.dump(); }

std::string encodeStatus() { return "{}"; }

std::optional<ErrorReply> decodeError(std::string_view body) {
  json reply;
  try {
    reply = parseObject(body);
  } catch (const MalformedReply&) {
    return std::nullopt;
  }
  const json* error = field(reply, "error");
  if (!error) return std::nullopt;
  try {
    if (error->is_object()) {  // inside a stream
      return ErrorReply{integerField<int>(*error, "grpc_code", "error"),
                        stringField(*error, "message", "error")};
    }
    // A plain reply; a LeaseGrant result also has an "error" string, but
    // never a "code".
    if (!field(reply, "code")) return std::nullopt;
    std::string message = stringField(reply, "message", "");
    if (message.empty()) message = stringField(reply, "error", "");
    return ErrorReply{integerField<int>(reply, "code", ""), message};
  } catch (const MalformedReply&) {
    return std::nullopt;
  }
}

RangeResult decodeRange(std::string_view body) { return rangeOf(parseObject(body), "", true); }

PutResult decodePut(std::string_view body) {
  return PutResult{headerOf(parseObject(body), "", true)};
}

DeleteResult decodeDelete(std::string_view body) {
  json reply = parseObject(body);
  return DeleteResult{headerOf(reply, "", true), integerField<int64_t>(reply, "deleted", "")};
}

TxnResult decodeTxn(std::string_view body, const TxnRequest& request) {
  json reply = parseObject(body);
  TxnResult result;
  result.header = headerOf(reply, "", true);
  result.succeeded = boolField(reply, "succeeded", "");
  const auto& ops = result.succeeded ? request.success : request.failure;
  const json& responses = arrayField(reply, "responses", "");
  if (responses.size() != ops.size())
    malformed("responses", std::to_string(responses.size()) + " responses for " +
                               std::to_string(ops.size()) + " ops of the " +
                               (result.succeeded ? "success" : "failure") + " branch");
  for (size_t i = 0; i < ops.size(); ++i)
    result.responses.push_back(
        opResultOf(responses[i], ops[i], "responses[" + std::to_string(i) + "]"));
  return result;
}

LeaseGrantResult decodeLeaseGrant(std::string_view body) {
  json reply = parseObject(body);
  LeaseGrantResult result{headerOf(reply, "", true), integerField<int64_t>(reply, "ID", ""),
                          integerField<int64_t>(reply, "TTL", "")};
  if (result.id == 0) malformed("ID", "missing");
  return result;
}

LeaseKeepAliveResult decodeLeaseKeepAlive(std::string_view body) {
  // A streaming call: the gateway wraps each message in {"result": ...}.
  json reply = parseObject(body);
  const json* inner = objectField(reply, "result", "");
  if (!inner) malformed("result", "missing");
  return LeaseKeepAliveResult{headerOf(*inner, "result", true),
                              integerField<int64_t>(*inner, "ID", "result"),
                              integerField<int64_t>(*inner, "TTL", "result")};
}

MemberStatus decodeStatus(std::string_view body) {
  json reply = parseObject(body);
  MemberStatus status;
  status.header = headerOf(reply, "", true);
  status.version = stringField(reply, "version", "");
  status.leader = integerField<uint64_t>(reply, "leader", "");
  status.raftTerm = integerField<uint64_t>(reply, "raftTerm", "");
  status.raftIndex = integerField<uint64_t>(reply, "raftIndex", "");
  status.dbSize = integerField<int64_t>(reply, "dbSize", "");
  const json& errors = arrayField(reply, "errors", "");
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].is_string()) malformed("errors[" + std::to_string(i) + "]", "expected a string");
    status.errors.push_back(errors[i].get<std::string>());
  }
  return status;
}

}  // namespace seclabel::etcd::wire
