// SqliteStore: identity allocation.
//
// Two tables move together in every transaction: `identities` (who holds
// which id) and `used_runs` (maximal runs of consecutive held ids). The gap
// search never scans ids: from a candidate x it probes the run containing x
// (one B-tree lookup, "first <= x ORDER BY first DESC LIMIT 1") and, if x is
// held, jumps to that run's last + 1, which is free because runs are
// maximal. So finding the next free id after the cursor costs O(log n)
// whether the space is empty or 99.9% full. Holes between the space's
// intervals add one step each; ids the space excludes (NSS) one round each.
#include <set>
#include <string>

#include "alloc/mcs_encoding.h"
#include "alloc/sqlite_store.h"
#include "core/error.h"

namespace seclabel {

namespace {

int64_t kindCode(IdentityKind kind) { return kind == IdentityKind::Dac ? 0 : 1; }

std::string describeIdentity(IdentityKind kind, uint64_t id) {
  if (kind == IdentityKind::Dac) return "dac identity " + std::to_string(id);
  return "selinux category pair " + decodeMcsPair(id).format();
}

int64_t nowUnix() { return int64_t(::time(nullptr)); }

}  // namespace

std::optional<SqliteStore::Run> SqliteStore::runContaining(IdentityKind kind, uint64_t id) {
  auto query = db_.query(
      "SELECT first, last FROM used_runs WHERE kind = ?1 AND first <= ?2 "
      "ORDER BY first DESC LIMIT 1");
  query->bind(1, kindCode(kind)).bind(2, id);
  if (!query->step()) return std::nullopt;
  Run run{query->uint64(0), query->uint64(1)};
  if (run.last < id) return std::nullopt;
  return run;
}

// Adds id (known free) to used_runs, merging with the runs that end at
// id - 1 and start at id + 1 so runs stay maximal.
void SqliteStore::markUsed(IdentityKind kind, uint64_t id) {
  std::optional<Run> left = id > 0 ? runContaining(kind, id - 1) : std::nullopt;
  std::optional<uint64_t> rightLast;
  {
    auto right = db_.query("SELECT last FROM used_runs WHERE kind = ?1 AND first = ?2");
    right->bind(1, kindCode(kind)).bind(2, id + 1);
    if (right->step()) rightLast = right->uint64(0);
  }
  if (rightLast) {
    db_.query("DELETE FROM used_runs WHERE kind = ?1 AND first = ?2")
        ->bind(1, kindCode(kind)).bind(2, id + 1).run();
  }
  uint64_t last = rightLast.value_or(id);
  if (left) {
    db_.query("UPDATE used_runs SET last = ?3 WHERE kind = ?1 AND first = ?2")
        ->bind(1, kindCode(kind)).bind(2, left->first).bind(3, last).run();
  } else {
    db_.query("INSERT INTO used_runs (kind, first, last) VALUES (?1, ?2, ?3)")
        ->bind(1, kindCode(kind)).bind(2, id).bind(3, last).run();
  }
}

// Removes id (known held) from used_runs, splitting its run.
void SqliteStore::markFree(IdentityKind kind, uint64_t id) {
  std::optional<Run> run = runContaining(kind, id);
  if (!run)
    throw Error(ExitCode::Failed, "state store " + db_.path() + ": " +
                                      describeIdentity(kind, id) +
                                      " is held but not in used_runs (corrupt store)");
  db_.query("DELETE FROM used_runs WHERE kind = ?1 AND first = ?2")
      ->bind(1, kindCode(kind)).bind(2, run->first).run();
  auto insert = [&](uint64_t first, uint64_t last) {
    db_.query("INSERT INTO used_runs (kind, first, last) VALUES (?1, ?2, ?3)")
        ->bind(1, kindCode(kind)).bind(2, first).bind(3, last).run();
  };
  if (run->first < id) insert(run->first, id - 1);
  if (id < run->last) insert(id + 1, run->last);
}

void SqliteStore::insertIdentity(IdentityKind kind, uint64_t id, const Owner& owner,
                                 const char* how) {
  auto insert = db_.query(
      "INSERT INTO identities (kind, id, guest_uuid, guest_name, host, how, acquired_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  insert->bind(1, kindCode(kind)).bind(2, id).bind(3, owner.guestUuid);
  insert->bind(4, owner.guestName).bind(5, owner.host).bind(6, how).bind(7, nowUnix());
  insert->run();
  markUsed(kind, id);
}

// Held ids in `interval`, summed over the runs that overlap it: cheap when
// the interval is nearly full or nearly empty (few runs).
uint64_t SqliteStore::countUsedIn(IdentityKind kind, IdInterval interval) {
  uint64_t from = interval.first;
  if (auto run = runContaining(kind, interval.first)) from = run->first;
  auto query = db_.query(
      "SELECT first, last FROM used_runs WHERE kind = ?1 AND first >= ?2 AND first <= ?3");
  query->bind(1, kindCode(kind)).bind(2, from).bind(3, interval.last);
  uint64_t count = 0;
  while (query->step()) {
    uint64_t first = std::max(query->uint64(0), interval.first);
    uint64_t last = std::min(query->uint64(1), interval.last);
    if (first <= last) count += last - first + 1;
  }
  return count;
}

uint64_t SqliteStore::countInUse(const AllocationSpace& space) {
  uint64_t count = 0;
  atomically([&] {
    for (const auto& interval : space.intervals()) count += countUsedIn(space.kind(), interval);
  });
  return count;
}

Error SqliteStore::noFreeIdentity(const AllocationSpace& space, uint64_t excluded) {
  uint64_t inUse = countInUse(space);
  std::string message = "no free " + space.noun() + " in " + space.description() + " (" +
                        std::to_string(inUse) + " of " + std::to_string(space.size()) +
                        " in use";
  if (excluded > 0)
    message += ", " + std::to_string(excluded) +
               (space.kind() == IdentityKind::Dac ? " present in the passwd or group database"
                                                  : " excluded");
  return Error::conflict(message + ")");
}

// Next fit, under the write lock: from the cursor to the end of the space,
// then from its start back to the cursor. Each step skips a whole held run
// or a hole between the space's intervals. The exclusion test is not asked
// here (see allocate).
uint64_t SqliteStore::takeNextFree(const AllocationSpace& space, const Owner& owner,
                                   uint64_t excludedSoFar) {
  const IdentityKind kind = space.kind();
  uint64_t cursor = space.firstId();
  {
    auto query = db_.query("SELECT next_id FROM cursors WHERE space = ?1");
    query->bind(1, space.key());
    if (query->step()) cursor = query->uint64(0);
  }
  cursor = space.firstAtOrAfter(cursor).value_or(space.firstId());

  bool wrapped = false;
  uint64_t candidate = cursor;
  std::optional<uint64_t> found;
  for (;;) {
    std::optional<uint64_t> inSpace = space.firstAtOrAfter(candidate);
    if (!inSpace) {
      if (wrapped) break;
      wrapped = true;
      candidate = space.firstId();
      continue;
    }
    if (wrapped && *inSpace >= cursor) break;
    if (auto run = runContaining(kind, *inSpace)) {
      candidate = run->last + 1;
      continue;
    }
    found = *inSpace;
    break;
  }
  if (!found) throw noFreeIdentity(space, excludedSoFar);

  insertIdentity(kind, *found, owner, "allocated");
  auto advance = db_.query(
      "INSERT INTO cursors (space, next_id) VALUES (?1, ?2) "
      "ON CONFLICT (space) DO UPDATE SET next_id = excluded.next_id");
  advance->bind(1, space.key()).bind(2, *found + 1).run();
  return *found;
}

// The exclusion test (NSS for DAC: the systemd module alone costs ~0.4 ms
// per uid+gid pair here) runs after the id is taken and committed, outside
// the write lock, so concurrent allocators do not queue behind NSS. An
// excluded id is given back; the cursor already points past it, so later
// allocations do not ask about it again until the space wraps. Meeting the
// same excluded id twice means every other id is held: the space is full.
uint64_t SqliteStore::allocate(const AllocationSpace& space, const Owner& owner) {
  std::set<uint64_t> excluded;
  for (;;) {
    uint64_t id = 0;
    atomically([&] { id = takeNextFree(space, owner, excluded.size()); });
    bool isExcluded;
    try {
      isExcluded = space.isExcluded(id);
    } catch (...) {
      release(space.kind(), id, owner.guestUuid);
      throw;
    }
    if (!isExcluded) return id;
    release(space.kind(), id, owner.guestUuid);
    if (!excluded.insert(id).second) throw noFreeIdentity(space, excluded.size());
  }
}

void SqliteStore::reserve(IdentityKind kind, uint64_t id, const Owner& owner) {
  atomically([&] {
    if (auto holder = holderOf(kind, id)) {
      if (holder->guestUuid == owner.guestUuid) return;
      throw Error::conflict(describeIdentity(kind, id) + " is already held by guest " +
                            holder->guestName + " (" + holder->guestUuid + ") on host " +
                            holder->host);
    }
    insertIdentity(kind, id, owner, "reserved");
  });
}

void SqliteStore::release(IdentityKind kind, uint64_t id, const std::string& guestUuid) {
  atomically([&] {
    db_.query("DELETE FROM identities WHERE kind = ?1 AND id = ?2 AND guest_uuid = ?3")
        ->bind(1, kindCode(kind)).bind(2, id).bind(3, guestUuid).run();
    if (db_.changes() == 1) markFree(kind, id);
  });
}

void SqliteStore::releaseAllOf(const std::string& guestUuid) {
  atomically([&] {
    for (const Identity& identity : identitiesOf(guestUuid))
      release(identity.kind, identity.id, guestUuid);
  });
}

std::vector<Identity> SqliteStore::identitiesOf(const std::string& guestUuid) {
  auto query = db_.query(
      "SELECT kind, id, guest_uuid, guest_name, host FROM identities WHERE guest_uuid = ?1 "
      "ORDER BY kind, id");
  query->bind(1, guestUuid);
  std::vector<Identity> identities;
  while (query->step()) {
    identities.push_back({query->int64(0) == 0 ? IdentityKind::Dac : IdentityKind::Mcs,
                          query->uint64(1),
                          {query->text(2), query->text(3), query->text(4)}});
  }
  return identities;
}

std::optional<Owner> SqliteStore::holderOf(IdentityKind kind, uint64_t id) {
  auto query = db_.query(
      "SELECT guest_uuid, guest_name, host FROM identities WHERE kind = ?1 AND id = ?2");
  query->bind(1, kindCode(kind)).bind(2, id);
  if (!query->step()) return std::nullopt;
  return Owner{query->text(0), query->text(1), query->text(2)};
}

}  // namespace seclabel
