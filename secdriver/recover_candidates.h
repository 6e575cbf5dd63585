// Which intents and guests a recover pass looks at.
//
// A recover pass must never cost in proportion to the guests the store
// holds when it runs at the start of every mutating command: with 100,000
// guests (most of them running) that was seconds per command. So the
// candidates depend on why recover runs (docs/store.md, "What recover relies
// on"):
//
//   InFlight    the pass at the start of every mutating command (and after a
//               restore): the pending prepare and restore intents only,
//               found through an index (a prepare or restore whose worker
//               died, or a restore that could not finish). No guest is
//               checked: a running guest whose process died is settled
//               lazily, when a prepare needs something it holds, or by the
//               explicit `seclabel recover`.
//   Named       the guests with these names or uuids (a prepare about to
//               take a name or uuid settles the dead guest that holds it).
//   Everything  `seclabel recover`, and a prepare that found an identity
//               space full or a file held exclusively: every pending intent
//               and every running guest (through the index of running
//               guests, not a scan of every guest).
#pragma once

#include <string>
#include <vector>

#include "alloc/store.h"

namespace seclabel {

struct RecoverScope {
  enum class What { InFlight, Named, Everything };
  What what = What::Everything;
  std::vector<std::string> names;  // Named: guest names or uuids

  static RecoverScope inFlight() { return {What::InFlight, {}}; }
  static RecoverScope everything() { return {What::Everything, {}}; }
  static RecoverScope named(std::vector<std::string> namesOrUuids) {
    return {What::Named, std::move(namesOrUuids)};
  }
};

// The pending intents the pass considers, oldest first. InFlight: prepare
// and restore intents (a supervise intent is settled with its guest);
// Named: none (the per-command pass has looked at them already).
std::vector<Intent> recoverIntentCandidates(Store& store, const RecoverScope& scope);

// The guests recorded as running that the pass checks (their process may be
// gone). InFlight: none; Named: those of the names that run; Everything:
// every running guest. Records of runningGuests() carry no live XML.
std::vector<GuestRecord> recoverGuestCandidates(Store& store, const RecoverScope& scope);

}  // namespace seclabel
