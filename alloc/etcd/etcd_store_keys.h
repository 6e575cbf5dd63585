// Where the etcd store keeps what (docs/store.md, "Key layout"). Every key
// starts with [store] prefix P:
//   P guests/UUID              the guest record (JSON)
//   P names/NAME               the uuid holding NAME
//   P hosts/HOST/UUID          HOST's index of its guests (value: the name)
//   P ids/dac/N, P ids/mcs/N   an identity held (N: 20 digits); value: owner JSON
//   P held/UUID/dac/N, .../mcs/N   the same, listed under the guest
//   P cursors/SPACE            next-fit cursor of an allocation space
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "alloc/allocation_space.h"
#include "alloc/etcd/keys.h"

namespace seclabel::etcd {

class StoreKeys {
 public:
  explicit StoreKeys(std::string prefix) : p_(std::move(prefix)) {}

  std::string guest(const std::string& uuid) const { return p_ + "guests/" + uuid; }
  std::string guests() const { return p_ + "guests/"; }
  std::string name(const std::string& name) const { return p_ + "names/" + name; }
  std::string hostIndex(const std::string& host) const { return p_ + "hosts/" + host + "/"; }
  std::string hostEntry(const std::string& host, const std::string& uuid) const {
    return hostIndex(host) + uuid;
  }
  std::string ids(IdentityKind kind) const {
    return p_ + "ids/" + identityKindName(kind) + "/";
  }
  std::string id(IdentityKind kind, uint64_t id) const { return ids(kind) + sortableNumber(id); }
  std::string heldBy(const std::string& uuid) const { return p_ + "held/" + uuid + "/"; }
  std::string held(const std::string& uuid, IdentityKind kind, uint64_t id) const {
    return heldBy(uuid) + identityKindName(kind) + "/" + sortableNumber(id);
  }
  std::string cursors() const { return p_ + "cursors/"; }
  std::string cursor(const AllocationSpace& space) const { return cursors() + space.key(); }

  // "dac/000..123" after heldBy(uuid): the kind and the id; nullopt if foreign.
  static std::optional<std::pair<IdentityKind, uint64_t>> parseHeld(std::string_view rest) {
    for (IdentityKind kind : {IdentityKind::Dac, IdentityKind::Mcs}) {
      std::string head = std::string(identityKindName(kind)) + "/";
      if (rest.substr(0, head.size()) == head)
        if (auto n = parseSortableNumber(rest.substr(head.size()))) return std::pair(kind, *n);
    }
    return std::nullopt;
  }

 private:
  std::string p_;
};

}  // namespace seclabel::etcd
