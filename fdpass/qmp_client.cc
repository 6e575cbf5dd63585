#include "fdpass/qmp_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "fdpass/scm_rights.h"

namespace seclabel {
namespace {

// A QMP message larger than this is not one we asked for (query-fdsets of a
// busy QEMU is a few kB); stop instead of buffering without bound.
constexpr std::size_t kMaxQmpMessage = 16 * 1024 * 1024;

UniqueFd connectUnixStream(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    throw Error::invalidInput("QMP socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw Error::fromErrno("cannot create QMP socket", errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw Error::fromErrno("cannot connect to QMP socket " + path, errno);
  }
  return fd;
}

}  // namespace

QmpClient::QmpClient(UniqueFd socket, std::string socketPath)
    : socket_(std::move(socket)), socketPath_(std::move(socketPath)) {}

QmpClient QmpClient::connect(const std::string& socketPath,
                             std::chrono::milliseconds timeout) {
  QmpClient client(connectUnixStream(socketPath), socketPath);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(client.socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(client.socket_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  nlohmann::json greeting = client.readMessage();
  if (!greeting.contains("QMP")) {
    throw Error(ExitCode::Failed, "QMP socket " + socketPath + " did not greet with QMP");
  }
  const auto& qemu = greeting["QMP"]["version"]["qemu"];
  if (qemu.is_object()) {
    client.version_ = {qemu.value("major", 0), qemu.value("minor", 0),
                       qemu.value("micro", 0)};
  }
  client.execute("qmp_capabilities");
  return client;
}

void QmpClient::sendLine(const std::string& line, const int* fd) {
  try {
    if (fd != nullptr) {
      sendWithFds(socket_.get(), line, std::span<const int>(fd, 1));
    } else {
      sendWithFds(socket_.get(), line, {});
    }
  } catch (const Error& e) {
    throw e.withContext("QMP " + socketPath_);
  }
}

nlohmann::json QmpClient::readMessage() {
  while (true) {
    std::size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": malformed message");
      }
      return message;
    }
    if (buffer_.size() > kMaxQmpMessage) {
      throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": message too large");
    }
    char chunk[65536];
    ssize_t n = ::read(socket_.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": no answer from QEMU",
                    ETIMEDOUT);
      }
      throw Error::fromErrno("QMP " + socketPath_ + ": read", errno);
    }
    if (n == 0) {
      throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": QEMU closed the connection");
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

nlohmann::json QmpClient::readReply(std::uint64_t id, const std::string& command) {
  while (true) {
    nlohmann::json message = readMessage();
    if (message.contains("event")) continue;  // asynchronous, not our reply
    auto idField = message.find("id");
    if (idField == message.end() || !idField->is_number_unsigned() ||
        idField->get<std::uint64_t>() != id) {
      throw Error(ExitCode::Failed,
                  "QMP " + socketPath_ + ": reply to " + command + " carries the wrong id");
    }
    if (auto error = message.find("error"); error != message.end()) {
      std::string desc = error->is_object() ? error->value("desc", "unknown error")
                                            : "unknown error";
      throw Error(ExitCode::Failed, command + ": " + desc);
    }
    if (auto result = message.find("return"); result != message.end()) return *result;
    throw Error(ExitCode::Failed,
                "QMP " + socketPath_ + ": reply to " + command + " has neither return nor error");
  }
}

nlohmann::json QmpClient::executeWithFd(const std::string& command,
                                        const nlohmann::json& arguments, const int* fd) {
  const std::uint64_t id = nextId_++;
  nlohmann::json request = {{"execute", command}, {"id", id}};
  if (!arguments.is_null()) request["arguments"] = arguments;
  sendLine(request.dump() + "\n", fd);
  return readReply(id, command);
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
  try {
    return {result.at("fdset-id").get<int>(), result.at("fd").get<int>()};
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::Failed, "QMP " + socketPath_ + ": unexpected add-fd reply: " + e.what());
  }
}

void QmpClient::removeFd(int fdsetId, std::optional<int> fd) {
  nlohmann::json arguments = {{"fdset-id", fdsetId}};
  if (fd) arguments["fd"] = *fd;
  execute("remove-fd", arguments);
}

std::vector<QmpFdset> QmpClient::queryFdsets() {
  nlohmann::json result = execute("query-fdsets");
  std::vector<QmpFdset> sets;
  try {
  for (const auto& set : result) {
    QmpFdset fdset{set.at("fdset-id").get<int>(), {}};
    for (const auto& fd : set.at("fds")) {
      QmpFdsetFd entry{fd.at("fd").get<int>(), std::nullopt};
      if (fd.contains("opaque")) entry.opaque = fd["opaque"].get<std::string>();
      fdset.fds.push_back(std::move(entry));
    }
    sets.push_back(std::move(fdset));
  }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::Failed,
                "QMP " + socketPath_ + ": unexpected query-fdsets reply: " + e.what());
  }
  return sets;
}

}  // namespace seclabel
