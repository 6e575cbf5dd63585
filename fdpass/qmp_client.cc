#include "fdpass/qmp_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/error.h"
#include "fdpass/scm_rights.h"

namespace seclabel {
namespace {

using Clock = std::chrono::steady_clock;

// QEMU's text (an error's desc, an id that is not one) as we show it: it
// comes from the guest, so no byte of it may drive a terminal or split a
// log line. Printable ASCII stays, a backslash is doubled, \n \r \t are
// named, every other byte is \xNN; at most kShown bytes of it.
std::string printable(std::string_view text) {
  constexpr std::size_t kShown = 512;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string shown;
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      shown += "\\\\";
    } else if (c == '\n') {
      shown += "\\n";
    } else if (c == '\r') {
      shown += "\\r";
    } else if (c == '\t') {
      shown += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      shown += "\\x";
      shown += kDigits[c >> 4];
      shown += kDigits[c & 0xF];
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (text.size() > kShown) shown += "...";
  return shown;
}

// A JSON value QEMU sent, shown: dumped (never throwing on bad UTF-8) and
// made printable.
std::string printableJson(const nlohmann::json& value) {
  return printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Whether `text` opens more than `limit` arrays or objects at once. Counted
// before parsing: a reply nested 4 million levels deep cost 18 s of CPU in
// the parser and a DOM as deep.
bool nestedDeeperThan(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, INT_MAX));
}

void setSendTimeout(int fd, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;  // 0 would mean "forever"
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// An id QEMU answered (an fd-set id, an fd number): a JSON integer from 0
// to INT_MAX, never narrowed (4294967297 must not become 1).
int idFrom(const nlohmann::json& object, const char* field, const std::string& what) {
  auto it = object.is_object() ? object.find(field) : object.end();
  if (it == object.end()) throw Error(ExitCode::Failed, what + " has no " + field);
  if (it->is_number_unsigned() && it->get<std::uint64_t>() <= INT_MAX) {
    return static_cast<int>(it->get<std::uint64_t>());
  }
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0 &&
      it->get<std::int64_t>() <= INT_MAX) {
    return static_cast<int>(it->get<std::int64_t>());
  }
  throw Error(ExitCode::Failed, what + ": " + field + " " + printableJson(*it) +
                                    " is not an id from 0 to " + std::to_string(INT_MAX));
}

}  // namespace

QmpClient::QmpClient(UniqueFd socket, std::string socketPath, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), socketPath_(std::move(socketPath)), timeout_(timeout) {}

QmpClient::Deadline QmpClient::deadlineFromNow() const { return Clock::now() + timeout_; }

Error QmpClient::timedOut(const std::string& what) const {
  return Error(ExitCode::Failed,
               "QMP " + socketPath_ + ": QEMU did not " + what + " within " +
                   std::to_string(timeout_.count()) + " ms",
               ETIMEDOUT);
}

QmpClient QmpClient::connect(const std::string& socketPath,
                             std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof(address.sun_path)) {
    throw Error::invalidInput("QMP socket path too long: " + socketPath);
  }
  std::memcpy(address.sun_path, socketPath.c_str(), socketPath.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw Error::fromErrno("cannot create QMP socket", errno);
  QmpClient client(std::move(fd), socketPath, timeout);
  const Deadline deadline = client.deadlineFromNow();
  // A unix connect() waits while the listener's backlog is full, for as
  // long as the send timeout says (forever by default): a QEMU that never
  // accepts must not hold us.
  setSendTimeout(client.socket_.get(), remainingMs(deadline));
  if (::connect(client.socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) !=
      0) {
    if (errno == EAGAIN) throw client.timedOut("accept the connection");
    throw Error::fromErrno("cannot connect to QMP socket " + socketPath, errno);
  }

  nlohmann::json greeting = client.readMessage(deadline, "greet");
  auto qmp = greeting.find("QMP");
  if (qmp == greeting.end() || !qmp->is_object()) {
    throw Error(ExitCode::Failed, "QMP socket " + socketPath + " did not greet with QMP");
  }
  // The version is only informative: anything but small integers is 0.
  auto number = [](const nlohmann::json& object, const char* field) {
    auto it = object.find(field);
    return it != object.end() && it->is_number_unsigned() && it->get<std::uint64_t>() < 100000
               ? static_cast<int>(it->get<std::uint64_t>())
               : 0;
  };
  if (auto version = qmp->find("version"); version != qmp->end() && version->is_object()) {
    if (auto qemu = version->find("qemu"); qemu != version->end() && qemu->is_object()) {
      client.version_ = {number(*qemu, "major"), number(*qemu, "minor"),
                         number(*qemu, "micro")};
    }
  }
  client.execute("qmp_capabilities");
  return client;
}

void QmpClient::sendLine(const std::string& line, const int* fd, Deadline deadline) {
  if (Clock::now() >= deadline) throw timedOut("take the command");
  setSendTimeout(socket_.get(), remainingMs(deadline));
  try {
    if (fd != nullptr) {
      sendWithFds(socket_.get(), line, std::span<const int>(fd, 1));
    } else {
      sendWithFds(socket_.get(), line, {});
    }
  } catch (const Error& e) {
    if (e.errnum() == EAGAIN || e.errnum() == EWOULDBLOCK) throw timedOut("take the command");
    throw e.withContext("QMP " + socketPath_);
  }
}

nlohmann::json QmpClient::readMessage(Deadline deadline, const std::string& waitingFor) {
  while (true) {
    std::size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      if (line.size() > kMaxQmpMessageBytes) {
        throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": message larger than " +
                                          std::to_string(kMaxQmpMessageBytes) + " bytes");
      }
      if (nestedDeeperThan(line, kMaxQmpNesting)) {
        throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": message nested deeper than " +
                                          std::to_string(kMaxQmpNesting) + " levels");
      }
      nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": malformed message");
      }
      return message;
    }
    if (buffer_.size() > kMaxQmpMessageBytes) {
      throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": message larger than " +
                                        std::to_string(kMaxQmpMessageBytes) + " bytes");
    }
    // One deadline for the whole message, not one per read: a byte every
    // few seconds must not keep us here for ever.
    pollfd ready{socket_.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, remainingMs(deadline));
    if (polled < 0) {
      if (errno == EINTR) continue;
      throw Error::fromErrno("QMP " + socketPath_ + ": poll", errno);
    }
    if (polled == 0) throw timedOut(waitingFor);
    char chunk[65536];
    ssize_t n = ::recv(socket_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      throw Error::fromErrno("QMP " + socketPath_ + ": read", errno);
    }
    if (n == 0) {
      throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": QEMU closed the connection");
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

namespace {

// Whether `message` is QEMU's DEVICE_DELETED for device `id` ("data":
// {"device": ID, "path": ...}).
bool isDeviceDeleted(const nlohmann::json& message, const std::string& id) {
  auto event = message.find("event");
  if (event == message.end() || *event != "DEVICE_DELETED") return false;
  auto data = message.find("data");
  if (data == message.end() || !data->is_object()) return false;
  auto device = data->find("device");
  return device != data->end() && device->is_string() && *device == id;
}

}  // namespace

nlohmann::json QmpClient::readReply(std::uint64_t id, const std::string& command,
                                    Deadline deadline, const std::string* awaitedDevice,
                                    bool* deviceDeleted) {
  const std::string waitingFor = "answer " + command;
  while (true) {
    // Checked here too: a QEMU sending nothing but events, as fast as it
    // can, keeps the buffer full and poll() never waits.
    if (Clock::now() >= deadline) throw timedOut(waitingFor);
    nlohmann::json message = readMessage(deadline, waitingFor);
    if (message.contains("event")) {  // asynchronous, not our reply
      if (awaitedDevice && isDeviceDeleted(message, *awaitedDevice)) *deviceDeleted = true;
      continue;
    }
    auto idField = message.find("id");
    if (idField == message.end() || !idField->is_number_unsigned() ||
        idField->get<std::uint64_t>() != id) {
      throw Error(ExitCode::Failed,
                  "QMP " + socketPath_ + ": reply to " + command + " carries the wrong id");
    }
    if (auto error = message.find("error"); error != message.end()) {
      std::string desc = "unknown error";
      if (error->is_object()) {
        if (auto text = error->find("desc"); text != error->end() && text->is_string()) {
          desc = printable(text->get_ref<const std::string&>());
        }
      }
      throw Error(ExitCode::Failed, command + ": " + desc);
    }
    if (auto result = message.find("return"); result != message.end()) return *result;
    throw Error(ExitCode::Failed,
                "QMP " + socketPath_ + ": reply to " + command + " has neither return nor error");
  }
}

nlohmann::json QmpClient::executeWithFd(const std::string& command,
                                        const nlohmann::json& arguments, const int* fd) {
  const Deadline deadline = deadlineFromNow();
  const std::uint64_t id = nextId_++;
  nlohmann::json request = {{"execute", command}, {"id", id}};
  if (!arguments.is_null()) request["arguments"] = arguments;
  sendLine(request.dump() + "\n", fd, deadline);
  return readReply(id, command, deadline);
}

nlohmann::json QmpClient::execute(const std::string& command,
                                  const nlohmann::json& arguments) {
  return executeWithFd(command, arguments, nullptr);
}

QmpAddedFd QmpClient::addFd(int fd, std::optional<int> fdsetId,
                            std::optional<std::string> opaque) {
  nlohmann::json arguments = nlohmann::json::object();
  if (fdsetId) arguments["fdset-id"] = *fdsetId;
  if (opaque) arguments["opaque"] = *opaque;
  nlohmann::json result = executeWithFd("add-fd", arguments, &fd);
  const std::string what = "QMP " + socketPath_ + ": reply to add-fd";
  QmpAddedFd added{idFrom(result, "fdset-id", what), idFrom(result, "fd", what)};
  if (fdsetId && added.fdsetId != *fdsetId) {
    throw Error(ExitCode::Failed, what + " names fd set " + std::to_string(added.fdsetId) +
                                      ", not the fd set " + std::to_string(*fdsetId) +
                                      " it was asked to add to");
  }
  return added;
}

void QmpClient::removeFd(int fdsetId, std::optional<int> fd) {
  nlohmann::json arguments = {{"fdset-id", fdsetId}};
  if (fd) arguments["fd"] = *fd;
  execute("remove-fd", arguments);
}

void QmpClient::getFd(int fd, const std::string& name) {
  executeWithFd("getfd", {{"fdname", name}}, &fd);
}

void QmpClient::closeFd(const std::string& name) { execute("closefd", {{"fdname", name}}); }

void QmpClient::deleteDevice(const std::string& id) {
  const Deadline deadline = deadlineFromNow();
  const std::uint64_t commandId = nextId_++;
  nlohmann::json request = {
      {"execute", "device_del"}, {"id", commandId}, {"arguments", {{"id", id}}}};
  sendLine(request.dump() + "\n", nullptr, deadline);
  bool deleted = false;
  readReply(commandId, "device_del", deadline, &id, &deleted);
  const std::string waitingFor = "delete device " + id + " (no DEVICE_DELETED event)";
  while (!deleted) {
    // Checked before each read: a stream of other events must not keep
    // us past the deadline.
    if (Clock::now() >= deadline) throw timedOut(waitingFor);
    nlohmann::json message = readMessage(deadline, waitingFor);
    if (message.contains("event")) {
      deleted = isDeviceDeleted(message, id);
      continue;
    }
    throw Error(ExitCode::Failed,
                "QMP " + socketPath_ + ": a reply nobody asked for while waiting for device " +
                    id + " to be deleted");
  }
}

std::vector<QmpFdset> QmpClient::queryFdsets() {
  nlohmann::json result = execute("query-fdsets");
  const std::string what = "QMP " + socketPath_ + ": reply to query-fdsets";
  if (!result.is_array()) throw Error(ExitCode::Failed, what + " is not a list");
  std::vector<QmpFdset> sets;
  for (const auto& set : result) {
    QmpFdset fdset{idFrom(set, "fdset-id", what), {}};
    auto fds = set.find("fds");
    if (fds == set.end() || !fds->is_array()) {
      throw Error(ExitCode::Failed, what + ": fd set without a list of fds");
    }
    for (const auto& fd : *fds) {
      QmpFdsetFd entry{idFrom(fd, "fd", what), std::nullopt};
      if (auto opaque = fd.find("opaque"); opaque != fd.end()) {
        if (!opaque->is_string()) throw Error(ExitCode::Failed, what + ": opaque is not text");
        entry.opaque = opaque->get<std::string>();
      }
      fdset.fds.push_back(std::move(entry));
    }
    sets.push_back(std::move(fdset));
  }
  return sets;
}

}  // namespace seclabel
