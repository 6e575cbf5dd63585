// Which live process owns a guest while it prepares, starts, runs (`run`)
// or stops it.
//
// The store says what a guest holds; it cannot say who is working on it
// right now without a record that outlives a crash. A claim is an
// open-file-description lock (fcntl F_OFD_SETLK, write lock) on one byte of
// `guests.lock` in the state directory: one byte for the guest's uuid, one
// for its name, at offsets derived from them (FNV-1a, 60 bits: even offsets
// for uuids, odd ones for names; the file itself stays empty). The kernel
// drops the lock when the last fd of the open file description closes: when
// the owner exits, is killed, or execs (the fd is O_CLOEXEC). So a claim
// never outlives its owner, and nothing has to clean it up.
//
// Who holds it (docs/store.md, "Claims"):
//   prepare   from before the first commit to the end of the command;
//   run       from before the prepare until the guest is restored;
//   exec      from before the prepare until the execve (the running record
//             with a live pid protects the guest from then on);
//   restore   while it restores;
//   recover   while it acts on a guest (a claimed guest is left alone).
// Any other command on a claimed guest fails at once with exit 3
// (Error::conflict) and changes nothing.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/trusted_path.h"
#include "core/unique_fd.h"

namespace seclabel {

class GuestClaims {
 public:
  // Opens (creates, mode 0600) guests.lock in the verified state directory.
  static std::unique_ptr<GuestClaims> open(const TrustedDirectory& stateDirectory);
  explicit GuestClaims(UniqueFd lockFile) : fd_(std::move(lockFile)) {}

  // Takes the uuid's and the name's byte, or neither. True when this object
  // holds both now (taking again what it holds already is counted, and
  // needs as many release()s); false when another open file description
  // (another process, or another GuestClaims) holds either. Throws Error on
  // anything else (the lock file is unusable).
  bool tryClaim(std::string_view uuid, std::string_view name);
  // Gives back one tryClaim; unlocks a byte once nothing here holds it.
  void release(std::string_view uuid, std::string_view name);
  // Gives back every claim here on the uuid and the name.
  void releaseAll(std::string_view uuid, std::string_view name);
  bool holds(std::string_view uuid) const;

  // Where the bytes are (tests check that two names never share one).
  static off_t uuidOffset(std::string_view uuid);
  static off_t nameOffset(std::string_view name);

 private:
  bool lock(off_t offset);
  void unlock(off_t offset, bool all = false);
  UniqueFd fd_;
  std::map<off_t, int> held_;  // offset -> how many claims here use it
};

}  // namespace seclabel
