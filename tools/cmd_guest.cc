// seclabel prepare | restore | list | dominfo | recover
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "alloc/etcd/cluster_store.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/security_models.h"
#include "hotplug/guest_hotplug.h"
#include "launcher/launch_cgroup.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

// The live XML, parsed once for both JSON parts (nullopt: none yet).
std::optional<Domain> liveDomain(const GuestRecord& record) {
  if (record.liveXml.empty()) return std::nullopt;
  return parseDomainXml(record.liveXml, XmlForm::Live);
}

nlohmann::json labelsJson(const GuestRecord& record, const std::optional<Domain>& parsed) {
  nlohmann::json labels = nlohmann::json::object();
  if (!parsed) return labels;
  const Domain& live = *parsed;
  for (const auto& model : record.drivers) {
    const Seclabel* seclabel = live.seclabelFor(model);
    if (!seclabel) continue;
    labels[model] = {{"type", toString(seclabel->type)},
                     {"label", seclabel->label ? nlohmann::json(*seclabel->label) : nlohmann::json()},
                     {"imagelabel", seclabel->imagelabel ? nlohmann::json(*seclabel->imagelabel)
                                                         : nlohmann::json()}};
  }
  return labels;
}

// The guest's cgroup directory, or null when it has none.
nlohmann::json cgroupJson(Store& store, const GuestRecord& record) {
  std::optional<std::string> path = store.guestCgroupOf(record.uuid);
  return path ? nlohmann::json(*path) : nlohmann::json();
}

// The live XML's disks and interfaces (hot-plugged ones included).
nlohmann::json devicesJson(const std::optional<Domain>& parsed) {
  nlohmann::json disks = nlohmann::json::array(), interfaces = nlohmann::json::array();
  if (parsed) {
    const Domain& live = *parsed;
    for (const Disk& disk : live.disks)
      disks.push_back({{"target", disk.target},
                       {"path", disk.source ? nlohmann::json(disk.source->path) : nlohmann::json()},
                       {"readonly", disk.readonly}});
    for (const Interface& interface : live.interfaces)
      interfaces.push_back(
          {{"alias", interface.alias ? nlohmann::json(*interface.alias) : nlohmann::json()},
           {"mac", interface.mac ? nlohmann::json(interface.mac->format()) : nlohmann::json()}});
  }
  return {{"disks", disks}, {"interfaces", interfaces}};
}

nlohmann::json pidJson(const GuestRecord& record) {
  return record.pid ? nlohmann::json(*record.pid) : nlohmann::json();
}

int prepare(const GlobalOptions& global, const std::string& file) {
  Domain domain = parseDomainFile(file);
  Session session = openSession(global, SessionKind::Mutating);
  session.manager->prepare(domain);
  try {
    setUpGuestCgroup(*session.manager, domain);
  } catch (const Error&) {
    session.manager->restore(domain.uuid);  // all or nothing, as for a driver failure
    throw;
  }
  std::cout << formatDomainXml(domain, XmlForm::Live);
  return 0;
}

// The store's cluster view, when it is shared by several hosts (etcd).
ClusterStore* clusterOf(Session& session) {
  return dynamic_cast<ClusterStore*>(session.store.get());
}

int restore(const GlobalOptions& global, const std::string& guest) {
  // The named guest first, then the usual recovery: recovering first would
  // restore a guest whose process is gone (after `exec`) and then report the
  // guest the caller asked for as unknown.
  Session session = openSession(global, SessionKind::ReadOnly);
  session.audit->ensureUsable();
  // Another host's guest: its files and process are there, not here.
  if (ClusterStore* cluster = clusterOf(session))
    if (auto record = session.store->findGuest(guest);
        record && record->host != cluster->clusterHostName())
      throw Error(ExitCode::PermissionDenied,
                  "guest " + record->name + " (" + record->uuid + ") belongs to host " +
                      record->host + ": restore it there");
  session.manager->restore(guest);
  for (const auto& line : session.manager->recover(RecoverScope::inFlight()))
    std::cerr << "seclabel: recover: " << line << "\n";
  return 0;
}

int recover(const GlobalOptions& global, const std::string& forgetHost) {
  Session session = openSession(global, SessionKind::ReadOnly);
  ClusterStore* cluster = clusterOf(session);
  if (!forgetHost.empty()) {
    if (!cluster)
      throw Error::invalidInput("--forget-host " + forgetHost +
                                ": the store is not shared by a cluster ([store] backend = "
                                "\"sqlite\")");
    if (geteuid() != 0)
      throw Error(ExitCode::PermissionDenied, "--forget-host: only root may release another "
                                              "host's identities");
    session.audit->ensureUsable();
    auto forgotten = cluster->forgetHost(forgetHost);
    for (const auto& guest : forgotten) {
      session.audit->write(audit::control({guest.domainType.empty() ? std::string(kFallbackDomainType) : guest.domainType,
                                           guest.name, guest.uuid},
                                          AuditControlOp::Stop, "host-forgotten", std::nullopt,
                                          AuditOutcome::Success));
      std::cout << "released guest " << guest.name << " (" << guest.uuid << ") of host "
                << forgetHost << "\n";
    }
    if (forgotten.empty()) std::cout << "host " << forgetHost << " holds nothing\n";
    return 0;
  }
  // An interrupted attach or detach is settled by asking the guest's QEMU.
  session.manager->setHotplugSettle(settleHotplugIntent);
  auto report = session.manager->recover();
  if (cluster)
    for (auto& line : cluster->reconcileHost()) report.push_back(line);
  for (const auto& line : report) std::cout << line << "\n";
  if (report.empty()) std::cout << "nothing to recover\n";
  return 0;
}

// Streams on the local store: one guest in memory at a time
// (Store::forEachGuest), so the memory of `list` does not grow with the
// guests; the JSON is what one nlohmann::json array dumped with an indent of
// 2 would be. A cluster's list comes from etcd in one read (ClusterStore).
int list(const GlobalOptions& global, bool json, const std::string& host) {
  Session session = openSession(global, SessionKind::ReadOnly);
  std::optional<std::string> onlyHost;
  if (!host.empty()) onlyHost = host;
  auto forEach = [&](const std::function<void(const GuestRecord&)>& visit) {
    if (ClusterStore* cluster = clusterOf(session)) {
      for (const auto& guest : cluster->listClusterGuests(onlyHost)) visit(guest);
      return;
    }
    session.store->forEachGuest([&](const GuestRecord& guest) {
      if (!onlyHost || guest.host == *onlyHost) visit(guest);
    });
  };
  if (json) {
    bool first = true;
    forEach([&](const GuestRecord& guest) {
      const std::optional<Domain> live = liveDomain(guest);
      const nlohmann::json entry = {{"name", guest.name},
                                    {"uuid", guest.uuid},
                                    {"state", guestStateName(guest.state)},
                                    {"pid", pidJson(guest)},
                                    {"host", guest.host},
                                    {"cgroup", cgroupJson(*session.store, guest)},
                                    {"labels", labelsJson(guest, live)},
                                    {"devices", devicesJson(live)}};
      std::string text = entry.dump(2);
      std::string indented = first ? "[\n  " : ",\n  ";
      for (char c : text) {
        indented += c;
        if (c == '\n') indented += "  ";
      }
      std::cout << indented;
      first = false;
    });
    std::cout << (first ? "[]\n" : "\n]\n");
    return 0;
  }
  std::printf("%-20s %-36s %-12s %-9s %-8s %s\n", "Name", "UUID", "Host", "State", "Pid",
              "Labels");
  forEach([&](const GuestRecord& guest) {
    std::string labels;
    const nlohmann::json all = labelsJson(guest, liveDomain(guest));
    for (const auto& [model, label] : all.items())
      if (label["label"].is_string())
        labels += (labels.empty() ? "" : " ") + model + "=" + label["label"].get<std::string>();
    std::printf("%-20s %-36s %-12s %-9s %-8s %s\n", guest.name.c_str(), guest.uuid.c_str(),
                guest.host.c_str(), guestStateName(guest.state),
                guest.pid ? std::to_string(*guest.pid).c_str() : "-", labels.c_str());
  });
  return 0;
}

int dominfo(const GlobalOptions& global, const std::string& guest, bool json) {
  Session session = openSession(global, SessionKind::ReadOnly);
  GuestInfo info = session.manager->info(guest);
  if (json) {
    nlohmann::json security = nlohmann::json::array();
    for (const auto& s : info.security)
      security.push_back({{"model", s.model},
                          {"doi", s.doi},
                          {"label", s.label.empty() ? nlohmann::json() : nlohmann::json(s.label)},
                          {"enforcement", s.enforcement}});
    nlohmann::json out = {{"name", info.record.name},
                          {"uuid", info.record.uuid},
                          {"state", guestStateName(info.record.state)},
                          {"pid", pidJson(info.record)},
                          {"cgroup", cgroupJson(*session.store, info.record)},
                          {"security", security},
                          {"devices", devicesJson(liveDomain(info.record))}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // virsh dominfo's layout: "%-15s %s".
  auto line = [](const char* key, const std::string& value) {
    std::printf("%-15s %s\n", key, value.c_str());
  };
  line("Name:", info.record.name);
  line("UUID:", info.record.uuid);
  line("State:", guestStateName(info.record.state));
  for (const auto& s : info.security) {
    line("Security model:", s.model);
    line("Security DOI:", s.doi);
    if (!s.label.empty()) line("Security label:", s.label + " (" + s.enforcement + ")");
  }
  return 0;
}

}  // namespace

void addGuestCommands(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto file = std::make_shared<std::string>();
  auto guest = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto host = std::make_shared<std::string>();

  auto* prep = app.add_subcommand("prepare", "allocate identities, label resources, print live XML");
  prep->add_option("domain", *file, "domain XML file")->required()->type_name("DOMAIN.xml");
  prep->callback([&, file] { action = [&global, file] { return prepare(global, *file); }; });

  auto* rest = app.add_subcommand("restore", "restore resources, release identities, forget the guest");
  rest->add_option("guest", *guest, "guest name or uuid")->required()->type_name("NAME|UUID");
  rest->callback([&, guest] { action = [&global, guest] { return restore(global, *guest); }; });

  auto* lst = app.add_subcommand("list", "every guest the store knows");
  lst->add_flag("--json", *json, "one JSON array");
  lst->add_option("--host", *host, "only the guests of this host of the cluster")->type_name("NAME");
  lst->callback([&, json, host] {
    action = [&global, json, host] { return list(global, *json, *host); };
  });

  auto* info = app.add_subcommand("dominfo", "identity of a prepared or running guest");
  info->add_option("guest", *guest, "guest name or uuid")->required()->type_name("NAME|UUID");
  info->add_flag("--json", *json, "JSON instead of virsh's layout");
  info->callback([&, guest, json] { action = [&global, guest, json] { return dominfo(global, *guest, *json); }; });

  auto* rec = app.add_subcommand("recover", "undo interrupted work, restore guests whose process is gone");
  rec->add_option("--forget-host", *host,
                  "release every identity of this (fenced) host of the cluster")
      ->type_name("NAME");
  rec->callback([&, host] { action = [&global, host] { return recover(global, *host); }; });
}

}  // namespace seclabel::tools
