// Recovery: what seclabel does about work a process left half done, and
// about guests whose process is gone.
//
// The decisions are plain functions of what the store says and what
// ProcessLiveness answers, so they are tested from a table with a fake
// liveness (tests/secdriver/recovery_test.cc); SecurityManager::recover
// (recovery.cc) acts on them. Nothing a guest controls (its process name,
// command line, environment) enters a decision: only pids and start times
// recorded by seclabel, and whether another process holds the guest's claim
// (alloc/guest_claims.h).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "alloc/store.h"
#include "core/error.h"
#include "core/process_liveness.h"

namespace seclabel {

// An intent's payload: the pid and start time of the process doing the work
// it announces (and `what`, when given).
std::string workerPayload(ProcessLiveness& liveness, const std::string& what = {});

// The intent's worker is another process, and it is still alive. A payload
// without a worker (or not JSON) has no live worker.
bool workerIsAlive(const Intent& intent, ProcessLiveness& liveness);

// The guest is recorded as running and its recorded process (pid and start
// time) is alive: nothing may restore it. The one check restore, exec, run
// and recover make.
bool guestProcessIsAlive(const GuestRecord& record, ProcessLiveness& liveness);

enum class RecoveryStep {
  Leave,           // somebody is at work on it, or its process runs
  UndoPrepare,     // a prepare whose process is gone
  FinishRestore,   // a restore whose process is gone (or one that failed)
  CompleteIntent,  // an intent with nothing left to do
  RestoreGuest,    // a running guest whose process is gone, unsupervised
};
const char* recoveryStepName(RecoveryStep step);

// What recover does about one pending intent. `claimedElsewhere`: another
// process holds the guest's claim.
RecoveryStep decideIntent(const Intent& intent, bool claimedElsewhere,
                          ProcessLiveness& liveness);

// What recover does about one listed guest. `superviseAlive`: a pending
// intent of the guest has a live worker (a `run` between its guest's exit
// and its own restore).
RecoveryStep decideGuest(const GuestRecord& guest, bool superviseAlive, bool claimedElsewhere,
                         ProcessLiveness& liveness);

// The uid seclabel allocated to the guest (a dynamic DAC label), whose
// processes are ended before it is released. nullopt for a static label
// (the uid may be a person's, whose processes are not the guest's) and for
// uid 0.
std::optional<uid_t> allocatedUidOf(const GuestRecord& record);

// The error of a restore that did not restore everything (exit 1).
Error notRestoredError(const std::string& guestName, const std::vector<Error>& failures);

}  // namespace seclabel
