// seclabel prepare | restore | list | dominfo | recover
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

nlohmann::json labelsJson(const GuestRecord& record) {
  nlohmann::json labels = nlohmann::json::object();
  if (record.liveXml.empty()) return labels;
  Domain live = parseDomainXml(record.liveXml, XmlForm::Live);
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

nlohmann::json pidJson(const GuestRecord& record) {
  return record.pid ? nlohmann::json(*record.pid) : nlohmann::json();
}

int prepare(const GlobalOptions& global, const std::string& file) {
  Domain domain = parseDomainFile(file);
  Session session = openSession(global, SessionKind::Mutating);
  session.manager->prepare(domain);
  std::cout << formatDomainXml(domain, XmlForm::Live);
  return 0;
}

int restore(const GlobalOptions& global, const std::string& guest) {
  // The named guest first, then the usual recovery: recovering first would
  // restore a guest whose process is gone (after `exec`) and then report the
  // guest the caller asked for as unknown.
  Session session = openSession(global, SessionKind::ReadOnly);
  session.audit->ensureUsable();
  session.manager->restore(guest);
  for (const auto& line : session.manager->recover(RecoverScope::inFlight()))
    std::cerr << "seclabel: recover: " << line << "\n";
  return 0;
}

int recover(const GlobalOptions& global) {
  Session session = openSession(global, SessionKind::ReadOnly);
  auto report = session.manager->recover();
  for (const auto& line : report) std::cout << line << "\n";
  if (report.empty()) std::cout << "nothing to recover\n";
  return 0;
}

// Streams: one guest in memory at a time (Store::forEachGuest), so the
// memory of `list` does not grow with the guests; the output is what one
// nlohmann::json array dumped with an indent of 2 would be.
int list(const GlobalOptions& global, bool json) {
  Session session = openSession(global, SessionKind::ReadOnly);
  if (json) {
    bool first = true;
    session.store->forEachGuest([&](const GuestRecord& guest) {
      const nlohmann::json entry = {{"name", guest.name},
                                    {"uuid", guest.uuid},
                                    {"state", guestStateName(guest.state)},
                                    {"pid", pidJson(guest)},
                                    {"host", guest.host},
                                    {"labels", labelsJson(guest)}};
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
  std::printf("%-20s %-36s %-9s %-8s %s\n", "Name", "UUID", "State", "Pid", "Labels");
  session.store->forEachGuest([&](const GuestRecord& guest) {
    std::string labels;
    const nlohmann::json all = labelsJson(guest);
    for (const auto& [model, label] : all.items())
      if (label["label"].is_string())
        labels += (labels.empty() ? "" : " ") + model + "=" + label["label"].get<std::string>();
    std::printf("%-20s %-36s %-9s %-8s %s\n", guest.name.c_str(), guest.uuid.c_str(),
                guestStateName(guest.state),
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
                          {"security", security}};
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

  auto* prep = app.add_subcommand("prepare", "allocate identities, label resources, print live XML");
  prep->add_option("domain", *file, "domain XML file")->required()->type_name("DOMAIN.xml");
  prep->callback([&, file] { action = [&global, file] { return prepare(global, *file); }; });

  auto* rest = app.add_subcommand("restore", "restore resources, release identities, forget the guest");
  rest->add_option("guest", *guest, "guest name or uuid")->required()->type_name("NAME|UUID");
  rest->callback([&, guest] { action = [&global, guest] { return restore(global, *guest); }; });

  auto* lst = app.add_subcommand("list", "every guest the store knows");
  lst->add_flag("--json", *json, "one JSON array");
  lst->callback([&, json] { action = [&global, json] { return list(global, *json); }; });

  auto* info = app.add_subcommand("dominfo", "identity of a prepared or running guest");
  info->add_option("guest", *guest, "guest name or uuid")->required()->type_name("NAME|UUID");
  info->add_flag("--json", *json, "JSON instead of virsh's layout");
  info->callback([&, guest, json] { action = [&global, guest, json] { return dominfo(global, *guest, *json); }; });

  auto* rec = app.add_subcommand("recover", "undo interrupted work, restore guests whose process is gone");
  rec->callback([&] { action = [&global] { return recover(global); }; });
}

}  // namespace seclabel::tools
