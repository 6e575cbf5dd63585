#include "process/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/nss.h"
#include "process/proc_status.h"
#include "process/session.h"

namespace seclabel {

namespace {

template <typename T>
void sortUnique(std::vector<T>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

std::optional<gid_t> parsePlusNumber(const std::string& name) {
  if (name.size() < 2 || name[0] != '+') return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    value = value * 10 + unsigned(name[i] - '0');
    if (value > 0xfffffffeu) return std::nullopt;  // (gid_t)-1 means "no change"
  }
  return gid_t(value);
}

int readLastCapability() {
  std::ifstream file("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  // Older kernels have no such file: the headers' value is then right.
  if (!(file >> last) || last < 0 || last > 63) return CAP_LAST_CAP;
  return last;
}

void fail(ProcessStepFailure* failure, ProcessStep step, int errnum,
          int64_t detail = 0, int64_t detail2 = 0) {
  failure->step = step;
  failure->errnum = errnum;
  failure->detail = detail;
  failure->detail2 = detail2;
}

// close_range(2) exists since Linux 5.9; below that, one close() per fd up
// to the descriptor limit does the same, slowly.
int closeFdRange(unsigned first, unsigned last) {
  if (::close_range(first, last, 0) == 0) return 0;
  if (errno != ENOSYS) return errno;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return errno;
  rlim_t end = limit.rlim_cur == RLIM_INFINITY ? 65536 : limit.rlim_cur;
  for (rlim_t fd = first; fd <= last && fd < end; ++fd) ::close(int(fd));
  return 0;
}

// Closes every fd above 2 except `keep` (sorted) and the `extraCount` fds
// of `extra` (any order), one close_range per gap between them.
bool closeFdsExcept(const int* keep, size_t keepCount, const int* extra, size_t extraCount,
                    ProcessStepFailure* failure) {
  unsigned next = 3;
  size_t i = 0;
  for (;;) {
    while (i < keepCount && unsigned(keep[i]) < next) ++i;
    int64_t kept = i < keepCount ? keep[i] : -1;
    for (size_t e = 0; e < extraCount; ++e) {
      if (extra[e] >= 0 && unsigned(extra[e]) >= next && (kept < 0 || extra[e] < kept)) {
        kept = extra[e];
      }
    }
    unsigned last = kept < 0 ? ~0u : unsigned(kept) - 1;
    if (kept < 0 || unsigned(kept) > next) {
      if (int err = closeFdRange(next, last)) {
        fail(failure, ProcessStep::CloseFds, err, next, last);
        return false;
      }
    }
    if (kept < 0) return true;
    next = unsigned(kept) + 1;
  }
}

std::string joinGroups(const std::vector<gid_t>& groups,
                       const char* separator) {
  std::string text;
  for (gid_t gid : groups) {
    if (!text.empty()) text += separator;
    text += std::to_string(gid);
  }
  return text;
}

std::string expectedStatusValue(const std::string& field,
                                const PreparedIdentity& identity) {
  auto fourTimes = [](uint64_t id) {
    std::string one = std::to_string(id);
    return one + " " + one + " " + one + " " + one;
  };
  if (field == "Uid") return fourTimes(identity.uid());
  if (field == "Gid") return fourTimes(identity.gid());
  if (field == "Groups") {
    return identity.groups().empty() ? "(none)"
                                     : joinGroups(identity.groups(), " ");
  }
  if (field == "NoNewPrivs") return identity.noNewPrivs() ? "1" : "0";
  return "0000000000000000";  // every capability set is empty
}

}  // namespace

std::vector<gid_t> resolveGroupNames(const std::vector<std::string>& names) {
  std::vector<gid_t> gids;
  gids.reserve(names.size());
  for (const std::string& name : names) {
    if (auto number = parsePlusNumber(name)) {
      gids.push_back(*number);
      continue;
    }
    auto gid = groupIdByName(name);
    if (!gid) {
      throw Error::invalidInput("[dac] groups: unknown group \"" + name +
                                "\"");
    }
    gids.push_back(*gid);
  }
  return gids;
}

PreparedIdentity PreparedIdentity::prepare(ProcessIdentity identity,
                                           const SelinuxHost& host) {
  if (identity.execContext &&
      (identity.execContext->empty() ||
       identity.execContext->find('\0') != std::string::npos)) {
    throw Error::invalidInput("invalid SELinux exec context \"" +
                              *identity.execContext + "\"");
  }
  // (uid_t)-1 and (gid_t)-1 mean "leave unchanged" to setresuid/setresgid.
  if (identity.uid == uid_t(-1) || identity.gid == gid_t(-1)) {
    throw Error::invalidInput("uid and gid 4294967295 are not valid ids");
  }
  for (int fd : identity.keepFds) {
    if (fd < 0) {
      throw Error::invalidInput("cannot keep fd " + std::to_string(fd) +
                                ": not a file descriptor number");
    }
  }
  for (const std::string& entry : identity.environment) {
    checkEnvironmentEntry(entry, "guest environment");
  }
  // Stdio is always inherited; listing it changes nothing.
  std::erase_if(identity.keepFds, [](int fd) { return fd <= 2; });
  sortUnique(identity.keepFds);
  sortUnique(identity.groups);

  PreparedIdentity prepared;
  prepared.selinuxEnforcing_ = host.mode() == SelinuxMode::Enforcing;
  prepared.lastCapability_ = readLastCapability();
  prepared.identity_ = std::move(identity);
  return prepared;
}

std::string describeFailure(const ProcessStepFailure& failure,
                            const PreparedIdentity& identity,
                            const std::string& command) {
  const int err = failure.errnum;
  auto withErrno = [err](const std::string& what) {
    return err == 0 ? what : what + ": " + std::strerror(err);
  };
  switch (failure.step) {
    case ProcessStep::None:
      return "applying the process identity reported no step";
    case ProcessStep::Session:
      switch (SessionProblem(failure.detail2)) {
        case SessionProblem::LeaderWithTerminal:
          return "refusing to exec: this process leads a session that has a controlling "
                 "terminal, which the guest would own (start seclabel exec under setsid(1), "
                 "or use seclabel run)";
        case SessionProblem::DropTerminal:
          return withErrno("cannot give up the controlling terminal (TIOCNOTTY)");
        case SessionProblem::CheckTerminal:
          return withErrno("cannot open /dev/tty to check for a controlling terminal");
        case SessionProblem::Setsid:
          break;
      }
      return withErrno("cannot start a session of its own for the guest (setsid)");
    case ProcessStep::Terminal:
      if (TerminalProblem(failure.detail2) == TerminalProblem::KeptTerminal) {
        return "refusing to hand fd " + std::to_string(failure.detail) +
               " to the guest: it is a terminal (--tty allows it)";
      }
      return withErrno("cannot replace terminal fd " + std::to_string(failure.detail) +
                       " by /dev/null");
    case ProcessStep::ExecContext:
      return withErrno("cannot set SELinux exec context to " +
                       identity.execContext().value_or("(none)") +
                       " (the host is enforcing)");
    case ProcessStep::SetGroups:
      return withErrno(identity.groups().empty()
                           ? std::string("cannot clear supplementary groups")
                           : "cannot set supplementary groups to " +
                                 joinGroups(identity.groups(), ","));
    case ProcessStep::SetResGid:
      return withErrno("cannot setresgid to " +
                       std::to_string(identity.gid()));
    case ProcessStep::DropBounding:
      return withErrno("cannot drop capability " +
                       std::to_string(failure.detail) +
                       " from the bounding set");
    case ProcessStep::SetResUid:
      return withErrno("cannot setresuid to " +
                       std::to_string(identity.uid()));
    case ProcessStep::ClearCapabilities:
      return withErrno(
          "cannot clear the effective, permitted and inheritable "
          "capabilities");
    case ProcessStep::ClearAmbient:
      return withErrno("cannot clear the ambient capabilities");
    case ProcessStep::NoNewPrivs:
      return withErrno("cannot set no_new_privs");
    case ProcessStep::KeepFd:
      return withErrno("cannot keep fd " + std::to_string(failure.detail) +
                       " open for the guest");
    case ProcessStep::CloseFds:
      return withErrno("cannot close fds " + std::to_string(failure.detail) +
                       " to " + std::to_string(failure.detail2));
    case ProcessStep::ReadStatus:
      return withErrno(std::string("cannot read ") + kThreadStatusPath);
    case ProcessStep::Verify: {
      std::string field(failure.field,
                        strnlen(failure.field, sizeof failure.field));
      std::string seen(failure.seen, strnlen(failure.seen, sizeof failure.seen));
      std::replace(seen.begin(), seen.end(), '\t', ' ');
      return "refusing to exec: after applying the identity the kernel shows " +
             field + " \"" + seen + "\", expected \"" +
             expectedStatusValue(field, identity) + "\"";
    }
    case ProcessStep::Exec: {
      std::string message = withErrno("cannot execute " + command);
      if (err == EPERM && identity.noNewPrivs() && identity.execContext()) {
        // SELinux checks no_new_privs at execve(): a domain transition is
        // refused unless the policy allows process2 nnp_transition (or the
        // new domain is bounded by the old), whatever order the steps ran in.
        message += " (no_new_privs is set: the SELinux policy must allow "
                   "process2 nnp_transition into " +
                   *identity.execContext() +
                   ", or set [process] no_new_privs = false)";
      } else if (err == EACCES) {
        message += " (as uid " + std::to_string(identity.uid()) + " gid " +
                   std::to_string(identity.gid()) + ")";
      }
      return message;
    }
  }
  return "unknown process step failed";
}

namespace {

// The credential calls as raw system calls. glibc's wrappers keep every
// thread of a process on the same credentials (the setxid broadcast: a lock
// on the thread list, then a signal to each thread). spawnWithIdentity's
// child shares the launcher's memory (CLONE_VM), so glibc there would walk
// the launcher's thread list and take its lock, which a launcher thread
// being created holds: the child could wait forever. The raw calls change
// this task only, which is all a child or a single-threaded exec needs.
int rawSetgroups(size_t count, const gid_t* groups) {
  return int(::syscall(SYS_setgroups, count, groups));
}
int rawSetresgid(gid_t gid) { return int(::syscall(SYS_setresgid, gid, gid, gid)); }
int rawSetresuid(uid_t uid) { return int(::syscall(SYS_setresuid, uid, uid, uid)); }

}  // namespace

bool applyProcessIdentity(const PreparedIdentity& identity, SelinuxHost& host,
                          ProcessStepFailure* failure, int reportFd,
                          const ApplyHooks* hooks) noexcept {
  const int fds[1] = {reportFd};
  return applyProcessIdentity(identity, host, failure,
                              std::span<const int>(fds, reportFd < 0 ? 0 : 1), hooks);
}

bool applyProcessIdentity(const PreparedIdentity& identity, SelinuxHost& host,
                          ProcessStepFailure* failure, std::span<const int> launcherFds,
                          const ApplyHooks* hooks) noexcept {
  *failure = ProcessStepFailure{};
  if (launcherFds.size() > kMaxLauncherFds) {
    fail(failure, ProcessStep::CloseFds, EINVAL, 3, -1);
    return false;
  }

  // 0. Nothing of the launcher's session or terminal (process/session.h):
  // before anything else, while a failure still leaves the launcher's
  // credentials, and before the close step, which the /dev/null fd of the
  // terminal step must not survive.
  if (!leaveLaunchersSession(failure)) return false;
  const std::vector<int>& keep = identity.keepFds();
  if (identity.terminal() == TerminalAccess::Withhold &&
      !withholdTerminals(keep.data(), keep.size(), failure)) {
    return false;
  }

  // 1. The exec context first, while still root: a credential change makes
  // the task non-dumpable, so its /proc/thread-self/attr files turn
  // root-owned and the new uid could no longer write them. As in libvirt, a
  // failure only matters when the host enforces.
  if (const auto& context = identity.execContext()) {
    int err = host.setExecContext(context->c_str());
    if (err != 0 && identity.selinuxEnforcing()) {
      fail(failure, ProcessStep::ExecContext, err);
      return false;
    }
  }

  // 2. Supplementary groups are not touched by setresgid: a root launcher's
  // groups (root, adm, disk...) would otherwise follow the guest.
  const std::vector<gid_t>& groups = identity.groups();
  if (rawSetgroups(groups.size(), groups.empty() ? nullptr : groups.data()) != 0) {
    fail(failure, ProcessStep::SetGroups, errno);
    return false;
  }

  // 3. The gid before the uid: setresgid needs CAP_SETGID, gone after 5.
  const gid_t gid = identity.gid();
  if (rawSetresgid(gid) != 0) {
    fail(failure, ProcessStep::SetResGid, errno);
    return false;
  }

  // 4. The bounding set now, while CAP_SETPCAP is still effective: the uid
  // change below empties the permitted set. Raw prctl, not libcap-ng: its
  // capng_apply(CAPNG_SELECT_BOUNDS) (0.8.3) fopen()s /proc/PID/status, which
  // allocates, and without CAP_SETPCAP it skips the bounding set yet returns
  // success when the capability sets are applied in the same call.
  // Dropping an absent capability succeeds, except without CAP_SETPCAP:
  // only then read whether it is there, so a caller whose bounding set is
  // already empty gets through (one system call per capability, not two:
  // the launcher waits for this child).
  for (int cap = 0; cap <= identity.lastCapability(); ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    const int err = errno;
    if (err == EPERM && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
    fail(failure, ProcessStep::DropBounding, err, cap);
    return false;
  }

  // 5. All three uids, so no saved root uid lets the guest switch back.
  const uid_t uid = identity.uid();
  if (rawSetresuid(uid) != 0) {
    fail(failure, ProcessStep::SetResUid, errno);
    return false;
  }

  // 6. The uid change cleared effective and permitted (unless a caller set
  // PR_SET_KEEPCAPS) but never the inheritable set; clear all three with
  // capset(2) on a header and data built here, on this stack. Not
  // libcap-ng: its state is a thread-local struct, and a CLONE_VM child
  // runs on the launcher thread's TLS, so it would write the launcher's
  // libcap-ng state. pid 0 is the calling thread.
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, none) != 0) {
    fail(failure, ProcessStep::ClearCapabilities, errno);
    return false;
  }

  // 7. The kernel clears ambient capabilities on a root-to-nonroot uid change
  // and when permitted is emptied, but a guest with uid 0 (a static +0 label)
  // keeps nothing by accident either: clear them explicitly.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    fail(failure, ProcessStep::ClearAmbient, errno);
    return false;
  }

  // 8. No setuid binary or file capability can give the guest back what it
  // just lost. (SELinux checks this at execve: see describeFailure.)
  if (identity.noNewPrivs() &&
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail(failure, ProcessStep::NoNewPrivs, errno);
    return false;
  }

  // 9. Kept fds must survive execve even if opened O_CLOEXEC; everything
  // else above stdio (the launcher's sockets, the store's database) goes.
  for (int fd : keep) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      fail(failure, ProcessStep::KeepFd, errno, fd);
      return false;
    }
  }
  if (!closeFdsExcept(keep.data(), keep.size(), launcherFds.data(), launcherFds.size(),
                      failure)) {
    return false;
  }

  if (hooks != nullptr && hooks->beforeVerify != nullptr) {
    hooks->beforeVerify(hooks->argument);
  }

  // 10. Believe the kernel, not the return codes.
  char status[kStatusBufferSize];
  if (int err = readStatusFile(kThreadStatusPath, status, sizeof status)) {
    fail(failure, ProcessStep::ReadStatus, err);
    return false;
  }
  ExpectedCredentials expected;
  expected.uid = uid;
  expected.gid = gid;
  expected.groups = groups.data();
  expected.groupCount = groups.size();
  expected.noNewPrivs = identity.noNewPrivs();
  StatusMismatch mismatch;
  if (!statusMatches(status, expected, &mismatch)) {
    fail(failure, ProcessStep::Verify, 0);
    std::memcpy(failure->field, mismatch.field, sizeof failure->field);
    std::memcpy(failure->seen, mismatch.seen, sizeof failure->seen);
    return false;
  }
  return true;
}

}  // namespace seclabel
