// The broker's two injected interfaces as the broker tests use them: an
// in-memory guest table and an auditor that keeps what it was told.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "fdpass/broker_directory.h"

namespace seclabel::testing {

class TableDirectory : public BrokerGuestDirectory {
 public:
  std::optional<BrokerGuest> find(const std::string& nameOrUuid) override {
    if (failLookups) throw Error(ExitCode::Failed, "store is locked");
    for (const auto& guest : guests) {
      if (guest.name == nameOrUuid || guest.uuid == nameOrUuid) return guest;
    }
    return std::nullopt;
  }
  std::vector<BrokerGuest> guests;
  std::atomic<bool> failLookups{false};
};

class RecordingAuditor : public BrokerAuditor {
 public:
  struct Record {
    std::string kind;  // "fd", "denied", "connection" or "suppressed"
    std::string guest, disk, pathOrReason;
    bool success;
    std::optional<dev_t> blockDevice;
    uid_t uid;
    std::uint64_t suppressed = 0;  // "suppressed": how many
  };
  void fdPassed(const PeerCredentials& peer, const BrokerGuest& guest, const std::string& disk,
                const std::string& path, std::optional<dev_t> blockDevice, DiskAccess,
                bool success) override {
    std::lock_guard lock(mutex_);
    records_.push_back({"fd", guest.name, disk, path, success, blockDevice, peer.uid});
  }
  void denied(const PeerCredentials& peer, const std::string& guest, const std::string& disk,
              DiskAccess, const std::string& reason) override {
    std::lock_guard lock(mutex_);
    records_.push_back({"denied", guest, disk, reason, false, std::nullopt, peer.uid});
  }
  void connectionRefused(const PeerCredentials& peer, ConnectionLimit limit) override {
    std::lock_guard lock(mutex_);
    records_.push_back({"connection", "", "",
                        limit == ConnectionLimit::PerUid ? "per-uid" : "all-uids", false,
                        std::nullopt, peer.uid});
  }
  void refusalsSuppressed(const SuppressedRefusals& summary) override {
    std::lock_guard lock(mutex_);
    records_.push_back({"suppressed", "", "", "", false, std::nullopt,
                        summary.uid.value_or(static_cast<uid_t>(-1)), summary.count});
  }
  std::vector<Record> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  // The records once there are at least `count` (a grant is recorded right
  // after its reply is sent, so the client may see the fds first); what is
  // there after 10 s otherwise.
  std::vector<Record> awaitRecords(std::size_t count) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (records_.size() >= count) return records_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return records();
  }
  // Records of `kind` about `uid`.
  std::size_t count(const std::string& kind, uid_t uid) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const Record& r : records_) n += r.kind == kind && r.uid == uid;
    return n;
  }
  // What the summaries say was left out for `uid`.
  std::uint64_t suppressedFor(uid_t uid) {
    std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (const Record& r : records_)
      if (r.kind == "suppressed" && r.uid == uid) n += r.suppressed;
    return n;
  }

 private:
  std::mutex mutex_;
  std::vector<Record> records_;
};

}  // namespace seclabel::testing
