#include "alloc/etcd/etcd_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "alloc/etcd/client.h"
#include "alloc/etcd/cluster_store.h"
#include "alloc/etcd/etcd_store_keys.h"
#include "alloc/store_conflict.h"
#include "core/error.h"

namespace seclabel {
namespace {

using etcd::Compare;
using etcd::CompareOp;
using etcd::CompareTarget;
using etcd::DeleteRequest;
using etcd::EtcdClient;
using etcd::EtcdError;
using etcd::EtcdFailure;
using etcd::KeyValue;
using etcd::PutRequest;
using etcd::RangeRequest;
using etcd::RangeResult;
using etcd::StoreKeys;
using etcd::TxnRequest;
using etcd::TxnResult;
using nlohmann::json;

// Ids asked for per range read of the gap search: one read of at most this
// many keys (etcd 3.4 gathers the whole range before it applies a limit, so
// the range itself is bounded, docs/store.md "Keys").
constexpr uint64_t kWindow = 64;

// Test seam: a prepare killed after its cluster commit and before its local
// one, exactly there (tests/etcd/etcd_store_cli_test.cc). Only ever kills
// this process.
constexpr const char* kKillAfterClusterCommit = "SECLABEL_TEST_KILL_AFTER_CLUSTER_COMMIT";

std::string ownerJson(const Owner& owner, const char* how) {
  return json{{"uuid", owner.guestUuid}, {"name", owner.guestName}, {"host", owner.host},
              {"how", how}}
      .dump();
}

Owner parseOwner(const std::string& value) {
  json j = json::parse(value, nullptr, false);
  if (!j.is_object() || !j.contains("uuid") || !j["uuid"].is_string())
    throw Error(ExitCode::Failed, "etcd store: damaged identity record: " + value.substr(0, 200));
  return Owner{j["uuid"].get<std::string>(), j.value("name", std::string()),
               j.value("host", std::string())};
}

std::string guestJson(const GuestRecord& g) {
  json j{{"uuid", g.uuid},        {"name", g.name},       {"domainType", g.domainType},
         {"state", guestStateName(g.state)}, {"liveXml", g.liveXml}, {"host", g.host},
         {"drivers", g.drivers}};
  j["pid"] = g.pid ? json(*g.pid) : json();
  j["pidStartTime"] = g.pidStartTime ? json(*g.pidStartTime) : json();
  return j.dump();
}

GuestRecord parseGuest(const std::string& value) {
  json j = json::parse(value, nullptr, false);
  try {
    if (!j.is_object()) throw std::runtime_error("not an object");
    GuestRecord g;
    g.uuid = j.at("uuid").get<std::string>();
    g.name = j.at("name").get<std::string>();
    g.domainType = j.at("domainType").get<std::string>();
    g.state = parseGuestState(j.at("state").get<std::string>());
    g.liveXml = j.at("liveXml").get<std::string>();
    g.host = j.at("host").get<std::string>();
    g.drivers = j.at("drivers").get<std::vector<std::string>>();
    if (!j.at("pid").is_null()) g.pid = j.at("pid").get<int64_t>();
    if (!j.at("pidStartTime").is_null()) g.pidStartTime = j.at("pidStartTime").get<uint64_t>();
    return g;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ExitCode::Failed, std::string("etcd store: damaged guest record: ") + e.what());
  }
}

// Does `compare` hold for the key as read (nullptr: absent)?
bool holds(const Compare& compare, const KeyValue* kv) {
  auto number = [&]() -> int64_t {
    if (!kv) return 0;
    switch (compare.target) {
      case CompareTarget::Version: return kv->version;
      case CompareTarget::CreateRevision: return kv->createRevision;
      case CompareTarget::ModRevision: return kv->modRevision;
      case CompareTarget::Value: return 0;
    }
    return 0;
  };
  if (compare.target == CompareTarget::Value) {
    if (!kv) return false;
    int c = kv->value.compare(compare.value);
    switch (compare.op) {
      case CompareOp::Equal: return c == 0;
      case CompareOp::NotEqual: return c != 0;
      case CompareOp::Less: return c < 0;
      case CompareOp::Greater: return c > 0;
    }
  }
  int64_t n = number();
  switch (compare.op) {
    case CompareOp::Equal: return n == compare.number;
    case CompareOp::NotEqual: return n != compare.number;
    case CompareOp::Less: return n < compare.number;
    case CompareOp::Greater: return n > compare.number;
  }
  return false;
}

class EtcdStore;

class EtcdStoreTransaction : public StoreTransaction {
 public:
  EtcdStoreTransaction(EtcdStore& store, std::unique_ptr<StoreTransaction> local)
      : store_(store), local_(std::move(local)) {}
  ~EtcdStoreTransaction() override;
  void commit() override;

 private:
  EtcdStore& store_;
  std::unique_ptr<StoreTransaction> local_;
  bool done_ = false;
};

// What a transaction will write to etcd at commit: the guards, the puts and
// the deletes, in one Txn. Reads inside the transaction see them.
struct Pending {
  std::vector<Compare> compares;
  std::map<std::string, std::string> puts;
  std::set<std::string> deletes;
  std::set<std::string> created;        // keys guarded absent: created here
  std::set<std::string> noReadBack;     // cursors: other hosts overwrite them
  // Every cursor as read at the first allocation: one read for both spaces.
  std::optional<std::map<std::string, std::string>> cursors;
  bool createsGuest = false;
  std::string guestLabel;               // "guest NAME (UUID)" for messages

  bool empty() const { return puts.empty() && deletes.empty(); }
  void put(const std::string& key, std::string value) {
    deletes.erase(key);
    puts[key] = std::move(value);
  }
  void erase(const std::string& key) {
    puts.erase(key);
    if (!created.count(key)) deletes.insert(key);
  }
  void create(const std::string& key, std::string value) {
    if (!created.count(key)) compares.push_back(Compare::absent(key));
    created.insert(key);
    put(key, std::move(value));
  }
};

class EtcdStore : public Store, public ClusterStore {
 public:
  EtcdStore(const StoreConfig& config, std::unique_ptr<Store> local)
      : local_(std::move(local)),
        client_(etcd::ClientOptions::fromConfig(config)),
        keys_(config.prefix),
        host_(config.hostName()),
        random_(std::random_device{}()) {}

  // ---- transactions ------------------------------------------------------

  std::unique_ptr<StoreTransaction> begin() override {
    if (pending_) throw Error(ExitCode::Failed, "etcd store: a transaction is already open");
    auto local = local_->begin();  // the host's write lock: see reconcileHost
    pending_.emplace();
    return std::make_unique<EtcdStoreTransaction>(*this, std::move(local));
  }

  void abandon() { pending_.reset(); }

  // The cluster half of a commit; the local half follows in the caller.
  void commitCluster() {
    Pending pending = std::move(*pending_);
    pending_.reset();
    if (pending.empty()) return;
    TxnRequest request;
    request.compare = pending.compares;
    for (auto& [key, value] : pending.puts) request.success.push_back(PutRequest{key, value, 0});
    for (auto& key : pending.deletes) request.success.push_back(DeleteRequest::single(key));
    std::set<std::string> guarded;
    for (auto& compare : pending.compares)
      if (guarded.insert(compare.key).second)
        request.failure.push_back(RangeRequest::single(compare.key));
    TxnResult result;
    try {
      ++roundTrips_;
      result = client_.txn(request);
    } catch (const EtcdError& e) {
      if (e.failure() != EtcdFailure::OutcomeUnknown) throw;
      // Never sent again blindly: read back what it writes (docs/store.md).
      if (!landed(pending))
        throw Error(ExitCode::Failed,
                    std::string(e.what()) + "; read back: not applied (nothing changed here)");
      afterClusterCommit(pending);
      return;
    }
    if (!result.succeeded) {
      conflictStreak_++;
      throwWhyFailed(pending, result);
    }
    conflictStreak_ = 0;
    afterClusterCommit(pending);
  }

  // ---- identities ----------------------------------------------------------

  uint64_t allocate(const AllocationSpace& space, const Owner& given) override {
    Owner owner = withHost(given);
    return inTransaction([&] { return allocateLocked(space, owner); });
  }

  void reserve(IdentityKind kind, uint64_t id, const Owner& given) override {
    Owner owner = withHost(given);
    inTransaction([&] {
      const std::string key = keys_.id(kind, id);
      if (auto value = get(key)) {
        Owner holder = parseOwner(*value);
        if (holder.guestUuid == owner.guestUuid) return 0;
        throw Error::conflict(std::string(identityKindName(kind)) + " identity " +
                              std::to_string(id) + " is held by guest " + holder.guestName +
                              " (" + holder.guestUuid + ") on host " + holder.host);
      }
      std::string value = ownerJson(owner, "reserved");
      pending_->create(key, value);
      pending_->put(keys_.held(owner.guestUuid, kind, id), value);
      return 0;
    });
  }

  void release(IdentityKind kind, uint64_t id, const std::string& guestUuid) override {
    inTransaction([&] {
      releaseLocked(kind, id, guestUuid);
      return 0;
    });
  }

  void releaseAllOf(const std::string& guestUuid) override {
    inTransaction([&] {
      requireOwnGuest(guestUuid);
      for (const Identity& identity : identitiesOf(guestUuid))
        releaseLocked(identity.kind, identity.id, guestUuid);
      return 0;
    });
  }

  std::vector<Identity> identitiesOf(const std::string& guestUuid) override {
    const std::string prefix = keys_.heldBy(guestUuid);
    std::map<std::string, std::string> found;
    for (auto& kv : range(RangeRequest::prefix(prefix)).kvs) found[kv.key] = kv.value;
    if (pending_) {
      for (auto& [key, value] : pending_->puts)
        if (key.compare(0, prefix.size(), prefix) == 0) found[key] = value;
      for (auto& key : pending_->deletes) found.erase(key);
    }
    std::vector<Identity> identities;
    for (auto& [key, value] : found) {
      auto parsed = StoreKeys::parseHeld(std::string_view(key).substr(prefix.size()));
      if (!parsed) continue;
      identities.push_back(Identity{parsed->first, parsed->second, parseOwner(value)});
    }
    return identities;
  }

  std::optional<Owner> holderOf(IdentityKind kind, uint64_t id) override {
    if (auto value = get(keys_.id(kind, id))) return parseOwner(*value);
    return std::nullopt;
  }

  uint64_t countInUse(const AllocationSpace& space) override {
    uint64_t count = 0;
    for (const auto& interval : space.intervals()) {
      auto request = RangeRequest::between(keys_.id(space.kind(), interval.first),
                                           keys_.id(space.kind(), interval.last + 1));
      count += static_cast<uint64_t>(range(request.countOnly()).count);
    }
    return count;
  }

  // ---- guests ----------------------------------------------------------------

  void putGuest(const GuestRecord& given) override {
    GuestRecord guest = given;
    guest.host = host_;
    inTransaction([&] {
      local_->putGuest(guest);  // this host's copy: what recover and reconcile go by
      pending_->create(keys_.guest(guest.uuid), guestJson(guest));
      pending_->create(keys_.name(guest.name), guest.uuid);
      pending_->put(keys_.hostEntry(host_, guest.uuid), guest.name);
      pending_->createsGuest = true;
      pending_->guestLabel = "guest " + guest.name + " (" + guest.uuid + ")";
      return 0;
    });
  }

  void updateGuest(const GuestRecord& given) override {
    GuestRecord guest = given;
    guest.host = host_;
    inTransaction([&] {
      local_->updateGuest(guest);  // "no such guest" for one this host does not hold
      const std::string key = keys_.guest(guest.uuid);
      if (!pending_->created.count(key) && !pending_->puts.count(key))
        pending_->compares.push_back(
            Compare::createRevision(key, CompareOp::Greater, 0));  // still there
      pending_->put(key, guestJson(guest));
      return 0;
    });
  }

  std::optional<GuestRecord> findGuest(const std::string& nameOrUuid) override {
    // This host's guests from its own copy: no round trip.
    if (auto local = local_->findGuest(nameOrUuid)) return local;
    if (auto value = get(keys_.guest(nameOrUuid))) return parseGuest(*value);
    if (auto uuid = get(keys_.name(nameOrUuid)))
      if (auto value = get(keys_.guest(*uuid))) return parseGuest(*value);
    return std::nullopt;
  }

  std::optional<GuestRecord> findLocalGuest(const std::string& nameOrUuid) override {
    return local_->findGuest(nameOrUuid);
  }
  std::vector<GuestRecord> listGuests() override { return local_->listGuests(); }
  // This host's copy of its own guests (cluster-wide lists go through
  // ClusterStore::listClusterGuests).
  void forEachGuest(const std::function<void(const GuestRecord&)>& visit) override {
    local_->forEachGuest(visit);
  }
  std::vector<GuestRecord> runningGuests() override { return local_->runningGuests(); }

  void deleteGuest(const std::string& uuid) override {
    inTransaction([&] {
      std::optional<GuestRecord> record = local_->findGuest(uuid);
      if (!record) {
        auto value = get(keys_.guest(uuid));
        if (!value) return 0;
        GuestRecord remote = parseGuest(*value);
        if (remote.host != host_) throw notOurs(remote);
        record = remote;  // ours, but not in the local copy: an orphan
      }
      local_->deleteGuest(uuid);
      deleteGuestKeys(*record, *pending_);
      return 0;
    });
  }

  // ---- host-local records ------------------------------------------------------

  bool remember(const RememberedResource& original, const std::string& guestUuid,
                ResourceUse use) override {
    return local_->remember(original, guestUuid, use);
  }
  std::optional<RememberedResource> forget(uint64_t dev, uint64_t ino,
                                           const std::string& guestUuid) override {
    return local_->forget(dev, ino, guestUuid);
  }
  std::vector<HeldResource> resourcesOf(const std::string& guestUuid) override {
    return local_->resourcesOf(guestUuid);
  }
  std::vector<ResourceHolder> holdersOf(uint64_t dev, uint64_t ino) override {
    return local_->holdersOf(dev, ino);
  }
  void addFdPassedDisk(const std::string& guestUuid, const FdPassedDisk& disk) override {
    local_->addFdPassedDisk(guestUuid, disk);
  }
  std::vector<FdPassedDisk> fdPassedDisksOf(const std::string& guestUuid) override {
    return local_->fdPassedDisksOf(guestUuid);
  }
  void removeFdPassedDisks(const std::string& guestUuid) override {
    local_->removeFdPassedDisks(guestUuid);
  }
  void removeFdPassedDisk(const std::string& guestUuid, const std::string& target) override {
    local_->removeFdPassedDisk(guestUuid, target);
  }

  // A guest's cgroup, links and MAC addresses are this host's objects: kept
  // in the local store. MAC addresses are unique among this host's guests
  // (docs/store.md: a cluster-wide MAC index is not kept).
  void setGuestCgroup(const std::string& guestUuid, const std::string& path) override {
    local_->setGuestCgroup(guestUuid, path);
  }
  std::optional<std::string> guestCgroupOf(const std::string& guestUuid) override {
    return local_->guestCgroupOf(guestUuid);
  }
  void removeGuestCgroup(const std::string& guestUuid) override {
    local_->removeGuestCgroup(guestUuid);
  }
  void recordGuestLink(const std::string& guestUuid, const GuestLinkRecord& link) override {
    local_->recordGuestLink(guestUuid, link);
  }
  std::vector<GuestLinkRecord> guestLinksOf(const std::string& guestUuid) override {
    return local_->guestLinksOf(guestUuid);
  }
  void removeGuestLink(const std::string& guestUuid, const std::string& tag) override {
    local_->removeGuestLink(guestUuid, tag);
  }
  std::vector<std::string> forgottenGuestsWithHostObjects() override {
    return local_->forgottenGuestsWithHostObjects();
  }
  void recordGuestMacs(const std::string& guestUuid, const std::vector<std::string>& macs) override {
    local_->recordGuestMacs(guestUuid, macs);
  }
  bool macAddressTaken(const std::string& mac, const std::string& exceptGuestUuid) override {
    return local_->macAddressTaken(mac, exceptGuestUuid);
  }
  int64_t recordIntent(const std::string& guestUuid, IntentKind kind,
                       const std::string& payloadJson) override {
    return local_->recordIntent(guestUuid, kind, payloadJson);
  }
  void completeIntent(int64_t id) override { local_->completeIntent(id); }
  std::vector<Intent> pendingIntents() override { return local_->pendingIntents(); }
  std::vector<Intent> inFlightIntents() override { return local_->inFlightIntents(); }
  std::vector<Intent> pendingIntentsOf(const std::string& guestUuid) override {
    return local_->pendingIntentsOf(guestUuid);
  }

  // ---- the cluster -------------------------------------------------------------

  const std::string& clusterHostName() const override { return host_; }

  std::vector<GuestRecord> listClusterGuests(const std::optional<std::string>& host) override {
    // One read of every record, filtered here: fewer round trips than the
    // host's index and a read per guest.
    std::vector<GuestRecord> guests;
    for (auto& kv : range(RangeRequest::prefix(keys_.guests())).kvs) {
      GuestRecord guest = parseGuest(kv.value);
      if (!host || guest.host == *host) guests.push_back(std::move(guest));
    }
    std::sort(guests.begin(), guests.end(),
              [](const GuestRecord& a, const GuestRecord& b) { return a.name < b.name; });
    return guests;
  }

  std::vector<std::string> reconcileHost() override {
    std::vector<std::string> report;
    // Under the host's write lock (begin takes it): a prepare of this host
    // holds it from before its cluster commit until after its local commit,
    // so every guest seen here without a local record is truly an orphan.
    auto transaction = begin();
    for (auto& entry : range(RangeRequest::prefix(keys_.hostIndex(host_))).kvs) {
      std::string uuid = entry.key.substr(keys_.hostIndex(host_).size());
      if (local_->findGuest(uuid) || !local_->pendingIntentsOf(uuid).empty()) continue;
      GuestRecord record;
      if (auto value = get(keys_.guest(uuid))) {
        record = parseGuest(*value);
      } else {
        record.uuid = uuid;
        record.name = entry.value;
        record.host = host_;
      }
      std::string ids;
      for (const Identity& identity : identitiesOf(uuid)) {
        ids += std::string(ids.empty() ? "" : ", ") + identityKindName(identity.kind) + " " +
               std::to_string(identity.id);
        releaseLocked(identity.kind, identity.id, uuid);
      }
      deleteGuestKeys(record, *pending_);
      report.push_back("released guest " + record.name + " (" + uuid +
                       ") that this host's store does not know" +
                       (ids.empty() ? std::string() : ": " + ids));
    }
    transaction->commit();
    return report;
  }

  std::vector<GuestRecord> forgetHost(const std::string& host) override {
    if (host == host_)
      throw Error::invalidInput("--forget-host " + host +
                                ": that is this host; `seclabel recover` reconciles its own "
                                "guests, `seclabel restore` releases them");
    checkClusterHostName(host, "--forget-host");
    std::vector<GuestRecord> forgotten;
    for (auto& entry : range(RangeRequest::prefix(keys_.hostIndex(host))).kvs) {
      std::string uuid = entry.key.substr(keys_.hostIndex(host).size());
      GuestRecord record;
      if (auto value = get(keys_.guest(uuid))) {
        record = parseGuest(*value);
      } else {
        record.uuid = uuid;
        record.name = entry.value;
        record.host = host;
      }
      // One Txn per guest, not under this host's lock: nothing of this
      // host's is touched.
      pending_.emplace();
      struct Abandon {
        std::optional<Pending>& pending;
        ~Abandon() { pending.reset(); }
      } abandon{pending_};
      for (const Identity& identity : identitiesOf(uuid)) {
        const std::string key = keys_.id(identity.kind, identity.id);
        if (auto value = get(key); value && parseOwner(*value).guestUuid == uuid) {
          pending_->compares.push_back(Compare::valueOf(key, CompareOp::Equal, *value));
          pending_->erase(key);
        }
        pending_->erase(keys_.held(uuid, identity.kind, identity.id));
      }
      deleteGuestKeys(record, *pending_);
      commitCluster();
      forgotten.push_back(record);
    }
    return forgotten;
  }

 private:
  Owner withHost(Owner owner) const {
    owner.host = host_;
    return owner;
  }

  Error notOurs(const GuestRecord& guest) const {
    return Error(ExitCode::PermissionDenied,
                 "guest " + guest.name + " (" + guest.uuid + ") belongs to host " + guest.host +
                     ", not to this host (" + host_ + "): act on it there, or after fencing " +
                     guest.host + " release it with `seclabel recover --forget-host " +
                     guest.host + "`");
  }

  void requireOwnGuest(const std::string& uuid) {
    if (local_->findGuest(uuid)) return;
    if (auto value = get(keys_.guest(uuid))) {
      GuestRecord remote = parseGuest(*value);
      if (remote.host != host_) throw notOurs(remote);
    }
  }

  // Runs `f` in the open transaction, or in one of its own.
  template <typename F>
  std::invoke_result_t<F> inTransaction(F&& f) {
    if (pending_) return f();
    auto transaction = begin();
    auto result = f();
    transaction->commit();
    return result;
  }

  RangeResult range(const RangeRequest& request) {
    ++roundTrips_;
    return client_.range(request);
  }

  // The value of `key` as this transaction would leave it.
  std::optional<std::string> get(const std::string& key) {
    if (pending_) {
      if (pending_->deletes.count(key)) return std::nullopt;
      if (auto it = pending_->puts.find(key); it != pending_->puts.end()) return it->second;
    }
    auto result = range(RangeRequest::single(key));
    if (result.kvs.empty()) return std::nullopt;
    return result.kvs.front().value;
  }

  void releaseLocked(IdentityKind kind, uint64_t id, const std::string& guestUuid) {
    const std::string key = keys_.id(kind, id);
    auto value = get(key);
    if (value && parseOwner(*value).guestUuid == guestUuid) {
      // Only while it is still this guest's (never another's, whatever
      // happened meanwhile).
      if (!pending_->created.count(key) && !pending_->puts.count(key))
        pending_->compares.push_back(Compare::valueOf(key, CompareOp::Equal, *value));
      pending_->erase(key);
    }
    pending_->erase(keys_.held(guestUuid, kind, id));
  }

  void deleteGuestKeys(const GuestRecord& record, Pending& pending) {
    pending.erase(keys_.guest(record.uuid));
    const std::string nameKey = keys_.name(record.name);
    auto holder = get(nameKey);
    if (holder && *holder == record.uuid) {
      if (!pending.created.count(nameKey))
        pending.compares.push_back(Compare::valueOf(nameKey, CompareOp::Equal, record.uuid));
      pending.erase(nameKey);
    }
    pending.erase(keys_.hostEntry(record.host.empty() ? host_ : record.host, record.uuid));
  }

  // Next fit from the space's cursor, one bounded range read per window of
  // kWindow ids. After a lost race (conflictStreak_ > 0) a few free ids are
  // skipped at random, so that racing hosts spread out instead of meeting
  // at the same next id again.
  uint64_t allocateLocked(const AllocationSpace& space, const Owner& owner) {
    const IdentityKind kind = space.kind();
    const std::string cursorKey = keys_.cursor(space);
    uint64_t cursor = space.firstId();
    if (!pending_->cursors) {
      pending_->cursors.emplace();
      for (auto& kv : range(RangeRequest::prefix(keys_.cursors())).kvs)
        (*pending_->cursors)[kv.key] = kv.value;
    }
    std::optional<std::string> value;
    if (auto it = pending_->puts.find(cursorKey); it != pending_->puts.end()) {
      value = it->second;
    } else if (auto read = pending_->cursors->find(cursorKey); read != pending_->cursors->end()) {
      value = read->second;
    }
    if (value)
      if (auto n = etcd::parseSortableNumber(*value)) cursor = *n;
    uint64_t skip = 0;
    if (conflictStreak_ > 0)
      skip = std::uniform_int_distribution<uint64_t>(0, 2 * std::min<uint64_t>(conflictStreak_, 8))(random_);
    std::optional<uint64_t> start = space.firstAtOrAfter(cursor);
    uint64_t x = start ? *start : space.firstId();
    uint64_t scanned = 0, excluded = 0;
    bool countChecked = false;
    while (true) {
      const uint64_t end = x + kWindow;
      std::set<uint64_t> held;
      auto request = RangeRequest::between(keys_.id(kind, x), keys_.id(kind, end));
      for (auto& kv : range(request.keysOnly().withLimit(kWindow)).kvs)
        if (auto n = etcd::parseSortableNumber(std::string_view(kv.key).substr(keys_.ids(kind).size())))
          held.insert(*n);
      for (auto& [key, value] : pending_->puts)
        if (key.compare(0, keys_.ids(kind).size(), keys_.ids(kind)) == 0)
          if (auto n = etcd::parseSortableNumber(std::string_view(key).substr(keys_.ids(kind).size())))
            held.insert(*n);
      std::optional<uint64_t> next;
      for (std::optional<uint64_t> id = space.firstAtOrAfter(x); id && *id < end;
           id = space.firstAtOrAfter(*id + 1)) {
        ++scanned;
        next = *id + 1;
        if (held.count(*id)) continue;
        if (space.isExcluded(*id)) {
          ++excluded;
          continue;
        }
        if (skip > 0) {
          --skip;
          continue;
        }
        std::string value = ownerJson(owner, "allocated");
        pending_->create(keys_.id(kind, *id), value);
        pending_->put(keys_.held(owner.guestUuid, kind, *id), value);
        pending_->put(cursorKey, etcd::sortableNumber(*id + 1));
        pending_->noReadBack.insert(cursorKey);
        return *id;
      }
      if (scanned >= space.size() + kWindow) {
        if (skip > 0) {  // fewer free ids than the random skip: take the first
          skip = 0;
          scanned = 0;
          continue;
        }
        throw noFreeIdentity(space, excluded);
      }
      // A full space is found by one count, not by reading it.
      if (!countChecked && scanned > 4 * kWindow) {
        countChecked = true;
        if (countInUse(space) >= space.size()) throw noFreeIdentity(space, 0);
      }
      std::optional<uint64_t> after = next ? space.firstAtOrAfter(*next) : space.firstAtOrAfter(end);
      x = after ? *after : space.firstId();
    }
  }

  Error noFreeIdentity(const AllocationSpace& space, uint64_t excluded) {
    std::string message = "no free " + space.noun() + " in " + space.description() + " (" +
                          std::to_string(countInUse(space)) + " of " +
                          std::to_string(space.size()) + " in use in the cluster";
    if (excluded > 0)
      message += ", " + std::to_string(excluded) +
                 (space.kind() == IdentityKind::Dac ? " present in the passwd or group database"
                                                    : " excluded");
    return Error::conflict(message + ")");
  }

  // After an unknown outcome: did this transaction land? Every key it puts
  // holds its value, every key it deletes is gone (linearizable reads).
  // Cursors are left out: other hosts move them.
  bool landed(const Pending& pending) {
    for (auto& [key, value] : pending.puts) {
      if (pending.noReadBack.count(key)) continue;
      auto found = range(RangeRequest::single(key));
      if (found.kvs.empty() || found.kvs.front().value != value) return false;
    }
    for (auto& key : pending.deletes)
      if (!range(RangeRequest::single(key)).kvs.empty()) return false;
    return true;
  }

  // Throws (a StoreConflict must not be sliced into an Error by value).
  [[noreturn]] void throwWhyFailed(const Pending& pending, const TxnResult& result) {
    std::map<std::string, KeyValue> found;
    for (auto& response : result.responses)
      if (auto* r = std::get_if<RangeResult>(&response))
        for (auto& kv : r->kvs) found[kv.key] = kv;
    for (auto& compare : pending.compares) {
      auto it = found.find(compare.key);
      if (holds(compare, it == found.end() ? nullptr : &it->second)) continue;
      const std::string& key = compare.key;
      if (key.rfind(keys_.guest(""), 0) == 0 || key.rfind(keys_.name(""), 0) == 0) {
        if (compare.target == CompareTarget::CreateRevision && compare.number == 0) {
          std::string holder = it->second.value;
          std::string where;
          if (key.rfind(keys_.guest(""), 0) == 0) {
            where = " on host " + parseGuest(holder).host;
          } else if (auto g = get(keys_.guest(holder))) {
            where = " on host " + parseGuest(*g).host;
          }
          throw Error::conflict(pending.guestLabel + " is already prepared" + where);
        }
        throw Error(ExitCode::Failed, "the guest's record changed in the cluster meanwhile (" +
                                           key + "); nothing was changed here");
      }
      const bool identity = key.rfind(keys_.ids(IdentityKind::Dac), 0) == 0 ||
                            key.rfind(keys_.ids(IdentityKind::Mcs), 0) == 0;
      // Only a lost race to create an identity is worth a new attempt; a
      // release whose identity changed hands meanwhile is not.
      if (identity && compare.target == CompareTarget::CreateRevision && compare.number == 0)
        throw StoreConflict("another host took identity " + key + " at the same time");
      throw Error(ExitCode::Failed, "etcd store: key " + key + " changed meanwhile");
    }
    throw Error(ExitCode::Failed, "etcd store: transaction refused, yet every guard holds");
  }

  // Racing hosts wait a random while before they try again, longer the more
  // races in a row they lost. Called once the local transaction has rolled
  // back: the wait must not hold this host's write lock.
  void jitter() {
    uint64_t limit = 2u << std::min<uint64_t>(conflictStreak_, 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<uint64_t>(1, limit)(random_)));
  }

  void afterClusterCommit(const Pending& pending) {
    if (pending.createsGuest && std::getenv(kKillAfterClusterCommit)) raise(SIGKILL);
  }

  std::unique_ptr<Store> local_;
  EtcdClient client_;
  StoreKeys keys_;
  std::string host_;
  std::optional<Pending> pending_;
  uint64_t conflictStreak_ = 0;
  uint64_t roundTrips_ = 0;
  std::mt19937_64 random_;

  friend class EtcdStoreTransaction;
};

EtcdStoreTransaction::~EtcdStoreTransaction() {
  if (!done_) store_.abandon();
}

void EtcdStoreTransaction::commit() {
  done_ = true;
  // Cluster first: a crash between the two leaves keys in the cluster that
  // this host's store does not know, which reconcileHost releases; the
  // other way round would leave local records of identities nobody holds.
  try {
    store_.commitCluster();
  } catch (const StoreConflict&) {
    local_.reset();  // rolls back, and lets the host's other processes on
    store_.jitter();
    throw;
  }
  local_->commit();
}

}  // namespace

std::unique_ptr<Store> openEtcdStore(const StoreConfig& config,
                                     std::shared_ptr<const TrustedDirectory> stateDir) {
  auto local = openSqliteStore(std::move(stateDir));
  return std::make_unique<EtcdStore>(config, std::move(local));
}

}  // namespace seclabel
