// The three audit sinks: kernel (libaudit), file (JSON lines), none.
//
// Kernel and file share one policy (GuardedAuditLog): find out once whether
// records can be delivered; if not, fail when [audit] required = true, else
// warn once and go on without audit, as libvirt does on hosts without audit.
#include <fcntl.h>
#include <libaudit.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/trusted_path.h"
#include "core/unique_fd.h"
#include "audit/audit.h"

namespace seclabel {

namespace {

void warnOnStderr(const std::string& message) {
  std::cerr << "seclabel: warning: " << message << '\n';
}

class GuardedAuditLog : public AuditLog {
 public:
  GuardedAuditLog(bool required, AuditWarning warn)
      : required_(required), warn_(warn ? std::move(warn) : warnOnStderr) {}

  void ensureUsable() final {
    std::lock_guard lock(mutex_);
    ensureUsableLocked();
  }

  void write(const AuditRecord& record) final {
    std::lock_guard lock(mutex_);
    if (!ensureUsableLocked()) return;
    if (std::optional<Error> failure = deliver(record)) refuse(*failure);
  }

 protected:
  // Opens the destination; the reason it cannot be used, if so.
  virtual std::optional<Error> open() = 0;
  // Delivers one record; the reason it was not delivered, if so.
  virtual std::optional<Error> deliver(const AuditRecord& record) = 0;

 private:
  // True when records can be delivered; throws or warns once otherwise.
  bool ensureUsableLocked() {
    if (!probed_) {
      unusable_ = open();
      probed_ = true;
    }
    if (unusable_) refuse(*unusable_);
    return !unusable_;
  }

  void refuse(const Error& reason) {
    if (required_)
      throw AuditUnavailable(reason.withContext("audit is required ([audit] required = true)"));
    if (warned_) return;
    warned_ = true;
    warn_(std::string(reason.what()) + "; continuing without audit records");
  }

  const bool required_;
  const AuditWarning warn_;
  std::mutex mutex_;
  bool probed_ = false;
  bool warned_ = false;
  std::optional<Error> unusable_;
};

// ---------------------------------------------------------------- kernel

// Asks the kernel whether auditing is enabled (AUDIT_GET). nullopt when we
// may not ask (no CAP_AUDIT_CONTROL) or no answer came: then we cannot tell.
std::optional<uint32_t> kernelAuditEnabled(int fd) {
  if (audit_request_status(fd) <= 0) return std::nullopt;
  for (int attempt = 0; attempt < 5; ++attempt) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    audit_reply reply{};
    if (audit_get_reply(fd, &reply, GET_REPLY_NONBLOCKING, 0) <= 0) continue;
    if (reply.type == AUDIT_GET && reply.status) return reply.status->enabled;
    if (reply.type == NLMSG_ERROR) return std::nullopt;
  }
  return std::nullopt;
}

class KernelAuditLog final : public GuardedAuditLog {
 public:
  using GuardedAuditLog::GuardedAuditLog;

 private:
  std::optional<Error> open() override {
    int fd = audit_open();
    if (fd < 0) {
      int err = errno;
      if (err == EINVAL || err == EPROTONOSUPPORT || err == EAFNOSUPPORT)
        return Error::fromErrno("kernel audit: the kernel has no audit support", err);
      return Error::fromErrno("kernel audit: cannot open the audit socket", err);
    }
    fd_.reset(fd);
    // The guest is exec'ed from this process: it must never inherit a socket
    // that can write audit records.
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (!audit_can_write())
      return Error(ExitCode::PermissionDenied,
                   "kernel audit: this process lacks CAP_AUDIT_WRITE", EPERM);
    // With auditing disabled the kernel accepts user records and drops them;
    // a log that silently loses records is not usable.
    if (kernelAuditEnabled(fd) == 0u)
      return Error(ExitCode::Failed,
                   "kernel audit: auditing is disabled in the kernel (auditctl -e 1 enables it)");
    return std::nullopt;
  }

  std::optional<Error> deliver(const AuditRecord& record) override {
    std::string message = record.message();
    // libaudit appends " exe=... hostname=? addr=? terminal=... res=..." into
    // a MAX_AUDIT_MESSAGE_LENGTH buffer and cuts what does not fit, res=
    // first: refuse rather than log a record without its outcome.
    constexpr size_t kReservedForLibaudit = 1024;
    if (message.size() + kReservedForLibaudit > MAX_AUDIT_MESSAGE_LENGTH)
      return Error(ExitCode::Failed, "kernel audit: " +
                   std::string(auditRecordTypeName(record.type)) + " record of " +
                   std::to_string(message.size()) + " bytes is too long to log");
    errno = 0;
    // hostname, addr and tty NULL, as libvirt passes for a local caller:
    // libaudit writes "?" and the caller's own terminal.
    int rc = audit_log_user_message(fd_.get(), recordTypeNumber(record.type),
                                    message.c_str(), nullptr, nullptr, nullptr,
                                    record.outcome == AuditOutcome::Success ? 1 : 0);
    if (rc > 0) return std::nullopt;
    // libaudit leaves the cause in errno, sometimes negated.
    int err = errno < 0 ? -errno : errno;
    if (err == 0 && rc < 0) err = -rc;
    // libaudit reports "no permission" and "kernel not listening" as 0.
    if (err == EPERM)
      return Error(ExitCode::PermissionDenied,
                   "kernel audit: this process lacks CAP_AUDIT_WRITE", EPERM);
    if (err == ECONNREFUSED || err == 0)
      return Error(ExitCode::Failed,
                   "kernel audit: the kernel does not accept audit records from this process "
                   "(no audit support, or not in the initial user namespace)", err);
    return Error::fromErrno("kernel audit: cannot send a " +
                            std::string(auditRecordTypeName(record.type)) + " record", err);
  }

  static int recordTypeNumber(AuditRecordType type) {
    switch (type) {
      case AuditRecordType::MachineId: return AUDIT_VIRT_MACHINE_ID;
      case AuditRecordType::Resource: return AUDIT_VIRT_RESOURCE;
      case AuditRecordType::Control: return AUDIT_VIRT_CONTROL;
    }
    return AUDIT_VIRT_CONTROL;
  }

  UniqueFd fd_;
};

// ---------------------------------------------------------------- file

// "1795342377.034": the time stamp audit records carry.
std::string auditTimestamp() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%03ld", static_cast<long long>(now.tv_sec),
                now.tv_nsec / 1000000);
  return text;
}

// A JSON string when the bytes are UTF-8; {"hex": "..."} otherwise (a path
// may be any bytes), so a value is never altered to fit JSON.
nlohmann::ordered_json jsonValue(const std::string& value) {
  nlohmann::ordered_json text = value;
  try {
    (void)text.dump();
    return text;
  } catch (const nlohmann::json::type_error&) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string hex;
    for (unsigned char c : value) {
      hex += kDigits[c >> 4];
      hex += kDigits[c & 0xF];
    }
    return nlohmann::ordered_json{{"hex", hex}};
  }
}

class FileAuditLog final : public GuardedAuditLog {
 public:
  FileAuditLog(std::string path, bool required, AuditWarning warn)
      : GuardedAuditLog(required, std::move(warn)), path_(std::move(path)) {}

 private:
  // Whoever can write the file's directory could plant a symlink (root
  // then appends to /etc/shadow), a hard link, or a FIFO that blocks every
  // command. So the directory is opened and verified like the state
  // directory's parents (core/trusted_path.h: symlinks only when root's),
  // and the file in it: O_NOFOLLOW, a regular file of ours with one link.
  std::optional<Error> open() override {
    std::size_t slash = path_.rfind('/');
    if (path_.empty() || path_.front() != '/' || slash == path_.size() - 1)
      return Error::invalidInput("audit file sink: \"" + path_ +
                                 "\" is not an absolute file path (sink = \"file:/path\")");
    std::string directory = slash == 0 ? "/" : path_.substr(0, slash);
    std::string name = path_.substr(slash + 1);
    try {
      TrustedDirectory parent = TrustedDirectory::openTrusted(directory, "audit file directory");
      // O_APPEND: several seclabel processes append whole lines without
      // overwriting each other. O_CLOEXEC (always added): the guest must
      // not inherit it.
      fd_ = parent.openPrivateFile(name, O_WRONLY | O_APPEND, TrustedDirectory::Create::IfMissing,
                                   0600);
    } catch (const Error& e) {
      if (e.code() == ExitCode::PermissionDenied || e.errnum() == EACCES || e.errnum() == EPERM)
        return Error(ExitCode::PermissionDenied, "audit file " + path_ + ": " + e.what(), e.errnum());
      return Error(ExitCode::Failed, "audit file " + path_ + ": " + e.what(), e.errnum());
    }
    return std::nullopt;
  }

  std::optional<Error> deliver(const AuditRecord& record) override {
    nlohmann::ordered_json line;
    line["type"] = auditRecordTypeName(record.type);
    line["time"] = auditTimestamp();
    for (const AuditField& f : record.fields) line[f.name] = jsonValue(f.value);
    line["res"] = record.outcome == AuditOutcome::Success ? "success" : "failed";
    std::string text = line.dump() + "\n";
    // One write per record: with O_APPEND a line is never interleaved with
    // another process's line.
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::fromErrno("cannot write to audit file " + path_, errno);
      done += static_cast<size_t>(n);
    }
    return std::nullopt;
  }

  std::string path_;
  UniqueFd fd_;
};

// ---------------------------------------------------------------- none

class NoAuditLog final : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord&) override {}
};

}  // namespace

std::unique_ptr<AuditLog> makeAuditLog(const AuditConfig& config, AuditWarning warn) {
  switch (config.sink) {
    case AuditSink::Kernel:
      return std::make_unique<KernelAuditLog>(config.required, std::move(warn));
    case AuditSink::File:
      return std::make_unique<FileAuditLog>(config.path, config.required, std::move(warn));
    case AuditSink::None:
      return std::make_unique<NoAuditLog>();
  }
  throw Error(ExitCode::InvalidInput, "unknown audit sink");
}

}  // namespace seclabel
