#include "fdpass/broker_protocol.h"

#include <set>

#include <nlohmann/json.hpp>

namespace seclabel {
namespace {

using nlohmann::json;

Error badRequest(const std::string& reason) {
  return Error::invalidInput("malformed request: " + reason);
}

// Dump without throwing on invalid UTF-8 (a path is bytes, not text).
std::string dumpCompact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string requireBoundedString(const json& object, const char* field,
                                 std::size_t maxLength) {
  auto it = object.find(field);
  if (it == object.end()) throw badRequest(std::string("missing \"") + field + "\"");
  if (!it->is_string()) throw badRequest(std::string("\"") + field + "\" must be a string");
  const std::string& value = it->get_ref<const std::string&>();
  if (value.empty()) throw badRequest(std::string("\"") + field + "\" is empty");
  if (value.size() > maxLength) {
    throw badRequest(std::string("\"") + field + "\" longer than " +
                     std::to_string(maxLength) + " bytes");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      throw badRequest(std::string("\"") + field + "\" contains a control character");
    }
  }
  return value;
}

ExitCode exitCodeForWireCode(std::string_view code) {
  if (code == "denied") return ExitCode::PermissionDenied;
  if (code == "invalid") return ExitCode::InvalidInput;
  return ExitCode::Failed;
}

std::string_view wireCodeFor(ExitCode code) {
  switch (code) {
    case ExitCode::PermissionDenied: return "denied";
    case ExitCode::InvalidInput: return "invalid";
    default: return "failed";
  }
}

FdMode parseFdMode(std::string_view word) {
  if (word == "rdonly") return FdMode::ReadOnly;
  if (word == "rdwr") return FdMode::ReadWrite;
  throw Error(ExitCode::Failed, "broker reply names an unknown fd mode");
}

}  // namespace

BrokerRequest parseBrokerRequest(std::string_view text) {
  if (text.size() > kMaxBrokerRequestBytes) {
    throw badRequest("larger than " + std::to_string(kMaxBrokerRequestBytes) + " bytes");
  }
  // nlohmann keeps the last of duplicate keys silently; a strict parser must
  // not let {"guest":"a","guest":"b"} mean something two readers disagree on.
  std::set<std::string> topLevelKeys;
  bool duplicateKey = false;
  auto watchKeys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 &&
        !topLevelKeys.insert(parsed.get<std::string>()).second) {
      duplicateKey = true;
    }
    return true;
  };
  json request = json::parse(text.begin(), text.end(), watchKeys,
                             /*allow_exceptions=*/false);
  if (request.is_discarded()) throw badRequest("not JSON");
  if (!request.is_object()) throw badRequest("not a JSON object");
  if (duplicateKey) throw badRequest("duplicate field");
  for (const auto& [key, value] : request.items()) {
    if (key != "op" && key != "guest" && key != "disk" && key != "access") {
      throw badRequest("unknown field \"" + key.substr(0, 64) + "\"");
    }
  }
  if (requireBoundedString(request, "op", 16) != "open") {
    throw badRequest("\"op\" must be \"open\"");
  }
  BrokerRequest parsed{requireBoundedString(request, "guest", kMaxBrokerGuestLength),
                       requireBoundedString(request, "disk", kMaxBrokerDiskLength),
                       DiskAccess::ReadOnly};
  std::string access = requireBoundedString(request, "access", 2);
  try {
    parsed.access = parseDiskAccess(access);
  } catch (const Error&) {
    throw badRequest("\"access\" must be \"ro\" or \"rw\"");
  }
  return parsed;
}

std::string formatBrokerRequest(const BrokerRequest& request) {
  return dumpCompact(json{{"op", "open"},
                          {"guest", request.guest},
                          {"disk", request.disk},
                          {"access", diskAccessName(request.access)}});
}

std::string formatBrokerGrant(const BrokerGrantDescription& grant) {
  json fdset = json::array();
  for (const auto& fd : grant.fdset) {
    fdset.push_back({{"mode", fdModeName(fd.mode)}, {"opaque", fd.opaque}});
  }
  return dumpCompact(json{{"ok", true},
                          {"guest", grant.guestName},
                          {"uuid", grant.guestUuid},
                          {"disk", grant.disk},
                          {"path", grant.path},
                          {"access", diskAccessName(grant.access)},
                          {"fdset", std::move(fdset)}});
}

std::string formatBrokerRefusal(ExitCode code, std::string_view reason) {
  return dumpCompact(
      json{{"ok", false}, {"code", wireCodeFor(code)}, {"error", std::string(reason)}});
}

BrokerReply parseBrokerReply(std::string_view text) {
  json reply = json::parse(text.begin(), text.end(), nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    throw Error(ExitCode::Failed, "malformed reply from the broker");
  }
  BrokerReply parsed;
  try {
    parsed.ok = reply.at("ok").get<bool>();
    if (!parsed.ok) {
      parsed.refusalCode = exitCodeForWireCode(reply.value("code", "failed"));
      parsed.refusalReason = reply.at("error").get<std::string>();
      return parsed;
    }
    BrokerGrantDescription& grant = parsed.grant;
    grant.guestName = reply.at("guest").get<std::string>();
    grant.guestUuid = reply.at("uuid").get<std::string>();
    grant.disk = reply.at("disk").get<std::string>();
    grant.path = reply.at("path").get<std::string>();
    grant.access = parseDiskAccess(reply.at("access").get<std::string>());
    for (const auto& fd : reply.at("fdset")) {
      grant.fdset.push_back({parseFdMode(fd.at("mode").get<std::string>()),
                             fd.at("opaque").get<std::string>()});
    }
  } catch (const json::exception& e) {
    throw Error(ExitCode::Failed, std::string("malformed reply from the broker: ") + e.what());
  }
  return parsed;
}

}  // namespace seclabel
