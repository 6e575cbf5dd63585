// A small QMP (QEMU Machine Protocol) client over a unix stream socket.
//
// QMP is line-delimited JSON: QEMU greets, the client negotiates
// qmp_capabilities, then each command gets exactly one reply ("return" or
// "error") while asynchronous events ({"event": ...}) may arrive in between;
// they are skipped. Every command carries an "id" that the reply must echo,
// so a stray reply can never be taken for ours.
//
// QEMU fd sets: add-fd takes its fd from SCM_RIGHTS data attached to the
// command's own bytes. Whoever adds fds with QMP must also remove them: since
// QEMU 9.1 unused fds are no longer dropped when the monitor disconnects,
// and before that (QEMU 7.2 here) they are dropped as soon as no monitor is
// connected and the guest runs, so keep a monitor open until QEMU used them.
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/unique_fd.h"

namespace seclabel {

// One fd of an fd set as query-fdsets reports it.
struct QmpFdsetFd {
  int fd;  // QEMU's fd number, inside QEMU
  std::optional<std::string> opaque;
};

struct QmpFdset {
  int fdsetId;
  std::vector<QmpFdsetFd> fds;
};

// What add-fd answers.
struct QmpAddedFd {
  int fdsetId;
  int fd;  // QEMU's fd number, inside QEMU
};

class QmpClient {
 public:
  // Connects to `socketPath`, reads the greeting and negotiates capabilities.
  // Every read waits at most `timeout` (a hung QEMU is an Error, not a hang).
  static QmpClient connect(const std::string& socketPath,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Runs `command` with `arguments` (a JSON object, or null for none) and
  // returns its "return" value. A QMP error reply is an Error whose message
  // is "<command>: <QEMU's desc>".
  nlohmann::json execute(const std::string& command,
                         const nlohmann::json& arguments = nullptr);

  // add-fd with `fd` attached. No fdsetId: QEMU picks a new set.
  QmpAddedFd addFd(int fd, std::optional<int> fdsetId = std::nullopt,
                   std::optional<std::string> opaque = std::nullopt);
  // remove-fd of one fd (QEMU's number) or, without fd, of the whole set.
  void removeFd(int fdsetId, std::optional<int> fd = std::nullopt);
  std::vector<QmpFdset> queryFdsets();

  // The greeting's QEMU version, e.g. {7, 2, 22}.
  struct Version {
    int major, minor, micro;
  };
  Version qemuVersion() const { return version_; }

 private:
  QmpClient(UniqueFd socket, std::string socketPath);
  void sendLine(const std::string& line, const int* fd);
  nlohmann::json readMessage();
  nlohmann::json readReply(std::uint64_t id, const std::string& command);
  nlohmann::json executeWithFd(const std::string& command,
                               const nlohmann::json& arguments, const int* fd);

  UniqueFd socket_;
  std::string socketPath_;
  std::string buffer_;
  std::uint64_t nextId_ = 1;
  Version version_{0, 0, 0};
};

}  // namespace seclabel
