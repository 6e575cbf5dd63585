// seclabel broker [--socket PATH]
// seclabel broker add-fd [--socket PATH] --qmp QMP_SOCKET [--access ro|rw]
//                        [--blockdev JSON] GUEST TARGET
// seclabel broker remove-fd --qmp QMP_SOCKET FDSET_ID
#include <signal.h>

#include <iostream>
#include <optional>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fdpass/broker_client.h"
#include "fdpass/broker_directory.h"
#include "fdpass/broker_server.h"
#include "fdpass/fdset.h"
#include "fdpass/qemu_hotplug.h"
#include "fdpass/qmp_client.h"
#include "audit/audit.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

// Guests as the store knows them: the DAC uid from the live XML, every disk
// with the most access its definition allows.
class StoreGuestDirectory final : public BrokerGuestDirectory {
 public:
  explicit StoreGuestDirectory(Store& store) : store_(store) {}
  std::optional<BrokerGuest> find(const std::string& nameOrUuid) override {
    auto record = store_.findGuest(nameOrUuid);
    if (!record || record->liveXml.empty()) return std::nullopt;
    Domain live = parseDomainXml(record->liveXml, XmlForm::Live);
    BrokerGuest guest{record->uuid, record->name, std::nullopt, {}};
    if (const Seclabel* dac = live.seclabelFor("dac"); dac && dac->label)
      guest.uid = DacLabel::parse(*dac->label).uid;
    for (const Disk& disk : live.disks)
      if (disk.source && !disk.target.empty())
        guest.disks[disk.target] = {disk.source->path,
                                    disk.readonly ? DiskAccess::ReadOnly : DiskAccess::ReadWrite};
    return guest;
  }

 private:
  Store& store_;
};

// Every authorized open and every denial goes to the audit log, with the
// caller's uid and pid (the record's own uid= is the broker's); the broker
// rate-limits the refusals of non-root callers and reports what it left out.
class AuditingBrokerAuditor final : public BrokerAuditor {
 public:
  AuditingBrokerAuditor(AuditLog& log, Store& store) : log_(log), store_(store) {}
  void fdPassed(const PeerCredentials& peer, const BrokerGuest& guest, const std::string&,
                const std::string& path, std::optional<dev_t> blockDevice, DiskAccess access,
                bool success) override {
    log_.write(audit::brokerOpen(guestOf(guest.uuid, guest.name), path, blockDevice,
                                 auditAccess(access), auditPeer(peer),
                                 success ? AuditOutcome::Success : AuditOutcome::Failure));
  }
  void denied(const PeerCredentials& peer, const std::string& guest, const std::string& disk,
              DiskAccess access, const std::string&) override {
    auto record = store_.findGuest(guest);
    AuditGuest audited = record ? guestOf(record->uuid, record->name)
                                : AuditGuest{"kvm", guest, "?"};
    std::string path = disk;
    if (record && !record->liveXml.empty()) {
      // Kept in a variable: the Disk pointer points into it.
      const Domain live = parseDomainXml(record->liveXml, XmlForm::Live);
      if (const Disk* d = live.diskByTarget(disk); d && d->source) path = d->source->path;
    }
    log_.write(audit::brokerOpen(audited, path, std::nullopt, auditAccess(access),
                                 auditPeer(peer), AuditOutcome::Failure));
  }
  void connectionRefused(const PeerCredentials& peer, ConnectionLimit limit) override {
    log_.write(audit::brokerConnectionRefused(auditPeer(peer), limitWord(limit)));
  }
  void refusalsSuppressed(const SuppressedRefusals& summary) override {
    log_.write(audit::brokerRefusalsSuppressed(summary.uid, summary.count, summary.uids));
  }

 private:
  static AuditAccess auditAccess(DiskAccess access) {
    return access == DiskAccess::ReadOnly ? AuditAccess::ReadOnly : AuditAccess::ReadWrite;
  }
  static AuditPeer auditPeer(const PeerCredentials& peer) { return {peer.uid, peer.pid}; }
  static std::string_view limitWord(ConnectionLimit limit) {
    switch (limit) {
      case ConnectionLimit::PerUid: return "per-uid";
      case ConnectionLimit::AllUids: return "all-uids";
      case ConnectionLimit::FileDescriptors: return "fds";
    }
    return "?";
  }
  AuditGuest guestOf(const std::string& uuid, const std::string& name) {
    auto record = store_.findGuest(uuid);
    return {record ? record->domainType : "kvm", name, uuid};
  }
  AuditLog& log_;
  Store& store_;
};

// [broker] of seclabel.toml, as the server takes it.
BrokerLimits brokerLimits(const BrokerConfig& config) {
  BrokerLimits limits;
  limits.maxConnectionsPerUid = config.maxConnectionsPerUid;
  limits.maxConnections = config.maxConnections;
  limits.idleTimeout = std::chrono::seconds(config.idleTimeoutSeconds);
  limits.refusalAudit.ratePerSecond = config.refusalAuditRate;
  limits.refusalAudit.burst = config.refusalAuditBurst;
  return limits;
}

BrokerServer* runningServer = nullptr;
void stopServer(int) {
  if (runningServer) runningServer->stop();
}

int serveBroker(const GlobalOptions& global, const std::string& socketPath) {
  Session session = openSession(global, SessionKind::ReadOnly);
  session.audit->ensureUsable();
  StoreGuestDirectory directory(*session.store);
  AuditingBrokerAuditor auditor(*session.audit, *session.store);
  auto activated = brokerSocketFromSystemd();
  UniqueFd listener = activated ? std::move(*activated) : listenOnBrokerSocket(socketPath);
  BrokerServer server(std::move(listener), directory, auditor,
                      brokerLimits(session.config.broker));
  runningServer = &server;
  struct sigaction action {};
  action.sa_handler = stopServer;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  server.run();
  runningServer = nullptr;
  return 0;
}

struct AddFdArgs {
  std::string socket = kDefaultBrokerSocket;
  std::string qmp;
  std::string guest;
  std::string disk;
  std::string access = "rw";
  std::optional<std::string> blockdev;  // blockdev-add arguments, "{fdset}" placeholders
  int fdset = -1;
};

constexpr std::string_view kFdsetPlaceholder = "{fdset}";

// Every "{fdset}" inside a string value (not a key) becomes `path`.
void replaceFdsetPlaceholders(nlohmann::json& value, const std::string& path) {
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    for (size_t at = text.find(kFdsetPlaceholder); at != std::string::npos;
         at = text.find(kFdsetPlaceholder, at + path.size()))
      text.replace(at, kFdsetPlaceholder.size(), path);
    value = text;
  } else if (value.is_structured()) {
    for (auto& element : value) replaceFdsetPlaceholders(element, path);
  }
}

// Checked before anything is asked of the broker or QEMU.
nlohmann::json parseBlockdevArguments(const std::string& text) {
  nlohmann::json arguments = nlohmann::json::parse(text, nullptr, false);
  if (arguments.is_discarded() || !arguments.is_object())
    throw Error::invalidInput("--blockdev: not a JSON object: " + text);
  if (text.find(kFdsetPlaceholder) == std::string::npos)
    throw Error::invalidInput("--blockdev: no \"{fdset}\" to replace with the disk's fd set");
  return arguments;
}

int addFd(const AddFdArgs& args) {
  DiskAccess access = parseDiskAccess(args.access);
  std::optional<nlohmann::json> blockdev;
  if (args.blockdev) blockdev = parseBlockdevArguments(*args.blockdev);
  QmpClient qmp = QmpClient::connect(args.qmp);
  int fdsetId = addBrokeredDiskToQemu(qmp, args.socket, args.guest, args.disk, access);
  if (blockdev) {
    // On the same connection, so a block node uses the fds before this
    // monitor goes away: QEMU before 9.1 drops unused fds of a running guest
    // when its last monitor disconnects.
    replaceFdsetPlaceholders(*blockdev, fdsetPath(fdsetId));
    try {
      qmp.execute("blockdev-add", *blockdev);
    } catch (const Error& e) {
      try {
        removeFdsetFromQemu(qmp, fdsetId);
      } catch (const Error&) {
        // The blockdev-add error is the one worth reporting.
      }
      throw e.withContext("disk " + args.disk + " of guest " + args.guest);
    }
  }
  std::cout << fdsetId << "\n";
  return 0;
}

int removeFd(const AddFdArgs& args) {
  QmpClient qmp = QmpClient::connect(args.qmp);
  removeFdsetFromQemu(qmp, args.fdset);
  return 0;
}

}  // namespace

void addBrokerCommands(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto socket = std::make_shared<std::string>(kDefaultBrokerSocket);
  auto* broker = app.add_subcommand("broker", "fd-passing daemon, and its add-fd/remove-fd clients");
  broker->add_option("--socket", *socket, "broker socket")->capture_default_str()->type_name("PATH");
  broker->callback([&, socket, broker] {
    if (broker->get_subcommands().empty())
      action = [&global, socket] { return serveBroker(global, *socket); };
  });

  auto args = std::make_shared<AddFdArgs>();
  auto* add = broker->add_subcommand("add-fd", "ask the broker for a disk's fds and add them to a running QEMU");
  add->add_option("--socket", args->socket, "broker socket")->capture_default_str()->type_name("PATH");
  add->add_option("--qmp", args->qmp, "QEMU's QMP socket")->required()->type_name("QMP_SOCKET");
  add->add_option("--access", args->access, "ro or rw")->capture_default_str()->check(CLI::IsMember({"ro", "rw"}));
  add->add_option("--blockdev", args->blockdev,
                  "then blockdev-add these arguments on the same QMP connection, every "
                  "\"{fdset}\" replaced by /dev/fdset/N")
      ->type_name("JSON");
  add->add_option("guest", args->guest, "guest name or uuid")->required()->type_name("GUEST");
  add->add_option("disk", args->disk, "disk target, e.g. vdb")->required()->type_name("TARGET");
  add->callback([&action, args] { action = [args] { return addFd(*args); }; });

  auto* remove = broker->add_subcommand("remove-fd", "withdraw an fd set from a running QEMU");
  remove->add_option("--qmp", args->qmp, "QEMU's QMP socket")->required()->type_name("QMP_SOCKET");
  remove->add_option("fdset", args->fdset, "fd set id add-fd printed")->required()->check(CLI::NonNegativeNumber);
  remove->callback([&action, args] { action = [args] { return removeFd(*args); }; });
}

}  // namespace seclabel::tools
