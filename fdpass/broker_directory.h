// What the broker needs from the rest of seclabel, as two narrow interfaces:
// who a guest is and which disks it has (the store knows), and where to
// record what was granted or refused (the audit log). The broker itself
// never touches the store or libaudit, so it can be tested and fuzzed alone.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "fdpass/fdset.h"

namespace seclabel {

// A disk as the store records it for fd passing (alloc's FdPassedDisk).
struct BrokerDisk {
  std::string path;
  DiskAccess access = DiskAccess::ReadOnly;  // the most the guest may get
};

struct BrokerGuest {
  std::string uuid;
  std::string name;
  // The guest's DAC uid, the only non-root uid that may ask for its disks;
  // nullopt when the guest has no DAC identity (then only root may ask).
  std::optional<uid_t> uid;
  std::map<std::string, BrokerDisk> disks;  // by target dev ("vda")
};

// The caller, as the kernel saw it when it connected (SO_PEERCRED).
struct PeerCredentials {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};

// Which of the broker's connection limits closed a connection.
enum class ConnectionLimit {
  PerUid,   // the uid already held its most connections
  AllUids,  // the connections of all non-root uids together were at their most
  FileDescriptors,  // the broker ran out of file descriptors (should not happen)
};

// Refusal records left out by the rate limit (fdpass/refusal_audit_limiter.h).
struct SuppressedRefusals {
  std::optional<uid_t> uid;  // nullopt: several uids summed up, `uids` of them
  std::uint64_t count = 0;
  std::size_t uids = 1;
};

class BrokerGuestDirectory {
 public:
  virtual ~BrokerGuestDirectory() = default;
  // The guest whose name or UUID is `nameOrUuid`, nullopt if none. May throw
  // Error (e.g. the store is unreadable): the broker refuses that request
  // with "failed" and keeps serving. Called from the broker's one thread.
  virtual std::optional<BrokerGuest> find(const std::string& nameOrUuid) = 0;
};

class BrokerAuditor {
 public:
  virtual ~BrokerAuditor() = default;
  // An authorized open was attempted: `success` says whether the fds were
  // opened and sent. `blockDevice` is the rdev of a block device (names can
  // be manipulated, device numbers cannot), nullopt for a regular file or
  // when the open failed before fstat.
  virtual void fdPassed(const PeerCredentials& peer, const BrokerGuest& guest,
                        const std::string& disk, const std::string& path,
                        std::optional<dev_t> blockDevice, DiskAccess access,
                        bool success) = 0;
  // A request refused by authorization (not a malformed one).
  virtual void denied(const PeerCredentials& peer, const std::string& guest,
                      const std::string& disk, DiskAccess access,
                      const std::string& reason) = 0;
  // A connection the broker closed because of `limit`: refused at accept,
  // or (AllUids) an idle one closed to make room for a uid that held fewer.
  virtual void connectionRefused(const PeerCredentials& peer, ConnectionLimit limit) = 0;
  // Refusal records (denied, failed opens, connectionRefused) of non-root
  // callers that the rate limit left out since the last summary.
  virtual void refusalsSuppressed(const SuppressedRefusals& summary) = 0;
};

// For a broker run without auditing (tests, benchmarks).
class NullBrokerAuditor final : public BrokerAuditor {
 public:
  void fdPassed(const PeerCredentials&, const BrokerGuest&, const std::string&,
                const std::string&, std::optional<dev_t>, DiskAccess, bool) override {}
  void denied(const PeerCredentials&, const std::string&, const std::string&, DiskAccess,
              const std::string&) override {}
  void connectionRefused(const PeerCredentials&, ConnectionLimit) override {}
  void refusalsSuppressed(const SuppressedRefusals&) override {}
};

}  // namespace seclabel
