// The broker wired to seclabel's own state: guests as the store knows them,
// every decision to the audit log, limits from [broker] of seclabel.toml.
// `seclabel broker` builds a BrokerServer from these; tests and other
// front ends can do the same without the command line.
#pragma once

#include <optional>
#include <string>

#include "alloc/store.h"
#include "audit/audit.h"
#include "core/config.h"
#include "fdpass/broker_directory.h"
#include "fdpass/broker_server.h"

namespace seclabel {

// Guests as the store knows them: the DAC uid from the live XML, every disk
// with the most access its definition allows. A guest without live XML
// (never prepared, or restored) is not found.
class StoreGuestDirectory final : public BrokerGuestDirectory {
 public:
  explicit StoreGuestDirectory(Store& store) : store_(store) {}
  std::optional<BrokerGuest> find(const std::string& nameOrUuid) override;

 private:
  Store& store_;
};

// Every authorized open and every denial goes to the audit log, with the
// caller's uid and pid (the record's own uid= is the broker's); the broker
// rate-limits the refusals of non-root callers and reports what it left out.
class AuditingBrokerAuditor final : public BrokerAuditor {
 public:
  AuditingBrokerAuditor(AuditLog& log, Store& store) : log_(log), store_(store) {}
  void fdPassed(const PeerCredentials& peer, const BrokerGuest& guest, const std::string& disk,
                const std::string& path, std::optional<dev_t> blockDevice, DiskAccess access,
                bool success) override;
  void denied(const PeerCredentials& peer, const std::string& guest, const std::string& disk,
              DiskAccess access, const std::string& reason) override;
  void connectionRefused(const PeerCredentials& peer, ConnectionLimit limit) override;
  void refusalsSuppressed(const SuppressedRefusals& summary) override;

 private:
  AuditGuest guestOf(const std::string& uuid, const std::string& name);
  AuditLog& log_;
  Store& store_;
};

// [broker] of seclabel.toml, as the server takes it.
BrokerLimits brokerLimits(const BrokerConfig& config);

}  // namespace seclabel
