#include "alloc/etcd/types.h"

#include <utility>

#include "alloc/etcd/keys.h"

namespace seclabel::etcd {

RangeRequest RangeRequest::single(std::string key) {
  RangeRequest request;
  request.key = std::move(key);
  return request;
}

RangeRequest RangeRequest::prefix(std::string_view prefix) {
  RangeRequest request;
  // etcd reads an empty key as "no key at all"; "\0" is the smallest key.
  request.key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  request.rangeEnd = prefixRangeEnd(prefix);
  return request;
}

RangeRequest RangeRequest::between(std::string from, std::string end) {
  RangeRequest request;
  request.key = std::move(from);
  request.rangeEnd = std::move(end);
  return request;
}

DeleteRequest DeleteRequest::single(std::string key) {
  return DeleteRequest{std::move(key), {}};
}

DeleteRequest DeleteRequest::prefix(std::string_view prefix) {
  return DeleteRequest{prefix.empty() ? std::string(1, '\0') : std::string(prefix),
                       prefixRangeEnd(prefix)};
}

Compare Compare::absent(std::string key) {
  return createRevision(std::move(key), CompareOp::Equal, 0);
}

Compare Compare::createRevision(std::string key, CompareOp op, int64_t revision) {
  return Compare{std::move(key), CompareTarget::CreateRevision, op, revision, {}};
}

Compare Compare::modRevision(std::string key, CompareOp op, int64_t revision) {
  return Compare{std::move(key), CompareTarget::ModRevision, op, revision, {}};
}

Compare Compare::version(std::string key, CompareOp op, int64_t version) {
  return Compare{std::move(key), CompareTarget::Version, op, version, {}};
}

Compare Compare::valueOf(std::string key, CompareOp op, std::string value) {
  return Compare{std::move(key), CompareTarget::Value, op, 0, std::move(value)};
}

}  // namespace seclabel::etcd
