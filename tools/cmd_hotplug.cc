// seclabel attach | detach: a disk (or interface) of a running guest.
#include <unistd.h>

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "hotplug/guest_hotplug.h"
#include "hotplug/hotplug_lock.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/device.h"

namespace seclabel::tools {
namespace {

struct HotplugArgs {
  std::string guest;
  std::string deviceFile;
  std::string qmp;
  std::string alias;
  std::string target;
  unsigned timeoutMs = 30000;
};

// Root changes other users' files and talks to the guest's QEMU on the
// guest's behalf; nobody else may ask it to.
void requireRoot(const char* command) {
  if (::geteuid() != 0)
    throw Error(ExitCode::PermissionDenied,
                std::string(command) + ": only root may change a running guest's devices");
}

HotplugOptions optionsOf(const HotplugArgs& args) {
  HotplugOptions options;
  options.qmpSocket = args.qmp;
  options.timeout = std::chrono::milliseconds(args.timeoutMs);
  return options;
}

int attach(const GlobalOptions& global, const HotplugArgs& args) {
  requireRoot("attach");
  DeviceElement device = parseDeviceFile(args.deviceFile);  // bad XML: exit 2, nothing opened
  Session session = openSession(global, SessionKind::Mutating);
  session.manager->setHotplugSettle(settleHotplugIntent);
  GuestRecord record = session.manager->requireGuest(args.guest);
  // Not the guest's claim (its `run` launcher holds that while it runs): the
  // guest's hotplug lock, so two attach/detach never interleave on it.
  HotplugLock one = HotplugLock::take(*session.stateDirectory, record.uuid, record.name);
  attachDevice(*session.manager, session.audit.get(), record.uuid, device, optionsOf(args));
  return 0;
}

int detach(const GlobalOptions& global, const HotplugArgs& args) {
  requireRoot("detach");
  const int named = !args.deviceFile.empty() + !args.alias.empty() + !args.target.empty();
  if (named != 1)
    throw Error::invalidInput("detach: name the device by exactly one of DEVICE.xml, --alias "
                              "and --target");
  std::string target = args.target, alias = args.alias;
  if (!args.deviceFile.empty()) {
    DeviceElement given = parseDeviceFile(args.deviceFile);
    if (given.kind == DeviceKind::Disk) {
      target = given.disk.target;
    } else if (given.alias) {
      alias = *given.alias;
    } else {
      throw Error::invalidInput(args.deviceFile + ": an <interface> to detach needs its "
                                "<alias name> (or use --alias)");
    }
  }
  Session session = openSession(global, SessionKind::Mutating);
  session.manager->setHotplugSettle(settleHotplugIntent);
  GuestRecord record = session.manager->requireGuest(args.guest);
  HotplugLock one = HotplugLock::take(*session.stateDirectory, record.uuid, record.name);
  record = session.manager->requireGuest(record.uuid);  // as the lock's holder sees it
  // What the guest has, as the live XML recorded it at attach.
  DeviceElement device = deviceFromLiveXml(record, target, alias);
  detachDevice(*session.manager, session.audit.get(), record.uuid, device, optionsOf(args));
  return 0;
}

}  // namespace

void addHotplugCommands(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<HotplugArgs>();
  auto* attachCommand =
      app.add_subcommand("attach", "give a running guest one more <disk> or <interface>");
  attachCommand->add_option("guest", args->guest, "guest name or uuid")->required()
      ->type_name("NAME|UUID");
  attachCommand->add_option("device", args->deviceFile, "one <disk> or <interface> element")
      ->required()->type_name("DEVICE.xml");
  attachCommand->add_option("--qmp", args->qmp, "the guest's QEMU monitor socket")->required()
      ->type_name("SOCKET");
  attachCommand->add_option("--timeout", args->timeoutMs, "deadline of each QMP command, ms")
      ->capture_default_str();
  attachCommand->callback(
      [&global, &action, args] { action = [&global, args] { return attach(global, *args); }; });

  auto* detachCommand = app.add_subcommand("detach", "take a device from a running guest");
  detachCommand->add_option("guest", args->guest, "guest name or uuid")->required()
      ->type_name("NAME|UUID");
  detachCommand->add_option("device", args->deviceFile, "the <disk> or <interface> element")
      ->type_name("DEVICE.xml");
  detachCommand->add_option("--alias", args->alias, "the device's alias")->type_name("ALIAS");
  detachCommand->add_option("--target", args->target, "the disk's target, e.g. sdb")
      ->type_name("TARGET");
  detachCommand->add_option("--qmp", args->qmp, "the guest's QEMU monitor socket")->required()
      ->type_name("SOCKET");
  detachCommand->add_option("--timeout", args->timeoutMs,
                            "deadline of each QMP command (device_del and DEVICE_DELETED "
                            "together), ms")
      ->capture_default_str();
  detachCommand->callback(
      [&global, &action, args] { action = [&global, args] { return detach(global, *args); }; });
}

}  // namespace seclabel::tools
