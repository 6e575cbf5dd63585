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
// QMP replies are guest-controlled input: the guest owns its QEMU process and
// can make it say anything. So every command (connecting with the greeting,
// and each execute) has one deadline for the whole exchange, however QEMU
// paces its bytes or how many events it sends first; a message is at most
// kMaxQmpMessageBytes and kMaxQmpNesting levels deep (checked before it is
// parsed); ids QEMU answers are checked to be in range, never narrowed; and
// text QEMU sends is shown escaped (no newline, escape sequence or other
// non-printable byte reaches a terminal or a log line).
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/unique_fd.h"

namespace seclabel {

// A QMP message larger than this is not one we asked for (the replies of
// add-fd, remove-fd and query-fdsets are a few kB).
inline constexpr std::size_t kMaxQmpMessageBytes = 1024 * 1024;
// QEMU's own JSON parser refuses deeper nesting (MAX_NESTING in
// qobject/json-streamer.c); a deeper message is not from a QEMU we trust.
inline constexpr std::size_t kMaxQmpNesting = 1024;

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
  // `timeout` is the deadline of every command from now on: connecting and
  // reading the greeting is one, qmp_capabilities another, each execute
  // another. A QEMU that does not answer in time (hung, trickling bytes, or
  // sending nothing but events) is a Failed Error with errno ETIMEDOUT.
  static QmpClient connect(const std::string& socketPath,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Runs `command` with `arguments` (a JSON object, or null for none) and
  // returns its "return" value. A QMP error reply is an Error whose message
  // is "<command>: <QEMU's desc, escaped>".
  nlohmann::json execute(const std::string& command,
                         const nlohmann::json& arguments = nullptr);

  // add-fd with `fd` attached. No fdsetId: QEMU picks a new set. The ids
  // of the answer must be integers from 0 to INT_MAX, and with fdsetId
  // the answer must name that set; otherwise a Failed Error.
  QmpAddedFd addFd(int fd, std::optional<int> fdsetId = std::nullopt,
                   std::optional<std::string> opaque = std::nullopt);
  // remove-fd of one fd (QEMU's number) or, without fd, of the whole set.
  void removeFd(int fdsetId, std::optional<int> fd = std::nullopt);
  // The fd sets; ids checked as addFd's are.
  std::vector<QmpFdset> queryFdsets();

  // getfd: `fd` attached, kept by QEMU under `name` (a QEMU id) for a later
  // command (netdev_add fd=NAME). A command that uses the fd takes it out
  // of QEMU's named list; closefd withdraws one still there.
  void getFd(int fd, const std::string& name);
  void closeFd(const std::string& name);

  // device_del of device `id`, then the DEVICE_DELETED event that names it,
  // within ONE command deadline for both (the event may come before or
  // after the reply). A guest that does not let the device go (a PCI device
  // waiting for the guest's ACPI handshake) fails it with errno ETIMEDOUT:
  // QEMU still has the device then, and whatever it uses must stay.
  void deleteDevice(const std::string& id);

  // The greeting's QEMU version, e.g. {7, 2, 22}.
  struct Version {
    int major, minor, micro;
  };
  Version qemuVersion() const { return version_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  QmpClient(UniqueFd socket, std::string socketPath, std::chrono::milliseconds timeout);
  Deadline deadlineFromNow() const;
  void sendLine(const std::string& line, const int* fd, Deadline deadline);
  // One message; `waitingFor` completes "QEMU did not ... in time".
  nlohmann::json readMessage(Deadline deadline, const std::string& waitingFor);
  // `awaited`: a DEVICE_DELETED event naming this device seen while waiting
  // (sets *deviceDeleted).
  nlohmann::json readReply(std::uint64_t id, const std::string& command, Deadline deadline,
                           const std::string* awaitedDevice = nullptr,
                           bool* deviceDeleted = nullptr);
  nlohmann::json executeWithFd(const std::string& command,
                               const nlohmann::json& arguments, const int* fd);
  Error timedOut(const std::string& what) const;

  UniqueFd socket_;
  std::string socketPath_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::uint64_t nextId_ = 1;
  Version version_{0, 0, 0};
};

}  // namespace seclabel
