// Filling a store with many guests quickly, through the library: what the
// scale benchmark (bench/scale/) and the tests of large stores start from.
//
// Each guest is what a `seclabel prepare` of a one-disk domain (both
// drivers) leaves in the store: a guest record with its live XML, one
// identity per configured driver (selinux: an MCS pair; dac: a uid; each
// from the configured space and its cursor), and the remembered original of
// its one private disk. All guests go in one transaction.
//
// Only the public Store API and the drivers' label generation are used, so
// this keeps working when the schema gains columns. One difference from a
// real prepare: DAC ids are taken from the configured range without asking
// NSS whether the uid exists (100,000 NSS lookups take most of a minute);
// pick a range that holds no NSS users (the default one does not).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "alloc/store.h"
#include "core/config.h"
#include "secdriver/selinux_host.h"

namespace seclabel::bench {

// The process a running guest is recorded with (pid + start time).
struct GuestProcess {
  pid_t pid = 0;
  uint64_t startTime = 0;
  // A live process, by pid: Error(InvalidInput) when there is none.
  static GuestProcess live(pid_t pid);
  // A child forked and reaped here: its start time is real, its pid is gone
  // (or reused by a process with another start time), so recover sees a
  // guest whose process died.
  static GuestProcess dead();
};

struct StoreFill {
  uint64_t guests = 0;
  // Guest names are PREFIX000000, PREFIX000001, ...; uuids are random. Two
  // fills of one store need two prefixes.
  std::string prefix = "fill-";
  // Empty: each disk is a fake (dev, ino) under /nonexistent, which a
  // restore cannot find: such a guest stays listed as not restored (exit 1),
  // so fills meant to be restored need real disks. Otherwise a real empty
  // file per guest in this directory (created 0600, then chowned to the
  // guest's uid:gid, as a prepare would).
  std::string diskDir;
  // `running` of the guests, spread evenly, are in state "running" as
  // `process`; `supervised` adds the `supervise` intent a `seclabel run`
  // records, with `process` as its launcher too.
  uint64_t running = 0;
  std::optional<GuestProcess> process;
  bool supervised = false;
};

// Fills `store` in one transaction; throws Error (nothing is left then).
// Only the selinux and dac drivers of `config` are supported.
void fillStore(Store& store, const Config& config, const SelinuxHost& host,
               const StoreFill& fill);

}  // namespace seclabel::bench
