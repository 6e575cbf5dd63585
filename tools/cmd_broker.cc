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
#include "fdpass/broker_server.h"
#include "fdpass/fdset.h"
#include "fdpass/qemu_hotplug.h"
#include "fdpass/qmp_client.h"
#include "fdpass/store_broker.h"
#include "tools/commands.h"
#include "tools/session.h"

namespace seclabel::tools {
namespace {

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
