#include "launcher/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "core/environment.h"
#include "core/error.h"
#include "core/scope_guard.h"
#include "fdpass/fdset.h"
#include "audit/audit.h"
#include "launcher/exec_witness.h"
#include "launcher/host_objects.h"
#include "launcher/launch_cgroup.h"
#include "core/process_liveness.h"
#include "process/process_spawn.h"
#include "process/session.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

// The guest already in the store for this uuid, if it is prepared (not
// running): `exec` then uses that state instead of preparing again.
std::optional<GuestRecord> preparedGuest(SecurityManager& manager, const Domain& domain) {
  auto record = manager.store().findGuest(domain.uuid);
  if (!record) return std::nullopt;
  // Some of its files could not be put back after an earlier run: they may
  // hold what the last instance wrote, with its owner. Not a guest to start
  // again until a restore has finished.
  if (record->state == GuestState::Failed)
    throw Error::conflict("guest " + record->name +
                          " was not fully restored; finish it with `seclabel restore " +
                          record->name + "` first");
  if (manager.guestIsRunning(*record))
    throw Error::conflict("guest " + record->name + " is already running (pid " +
                          std::to_string(*record->pid) + ")");
  return record;
}

AuditGuest auditGuestOf(const GuestLaunch& launch) {
  return {launch.record.domainType, launch.record.name, launch.record.uuid};
}

void auditControl(SecurityManager& manager, const GuestLaunch& launch, AuditControlOp op,
                  const char* reason, std::optional<pid_t> pid, AuditOutcome outcome) {
  if (AuditLog* log = manager.auditLog())
    log->write(audit::control(auditGuestOf(launch), op, reason, pid, outcome));
}

// Opens the fds of one fd-passed disk for the guest and audits the open as
// the broker does: one VIRT_RESOURCE reason=open record with the access
// asked for, the device number of what was opened (block devices, from the
// fd) and the outcome.
std::vector<OpenedImage> openAuditedDiskImages(SecurityManager& manager,
                                               const GuestLaunch& launch,
                                               const FdPassedDisk& passed) {
  const AuditAccess access =
      passed.access == DiskAccess::ReadOnly ? AuditAccess::ReadOnly : AuditAccess::ReadWrite;
  AuditLog* log = manager.auditLog();
  std::vector<OpenedImage> images;
  try {
    images = openDiskImages(passed.path, passed.access);
  } catch (const Error&) {
    if (log)
      log->write(audit::resourceOpen(auditGuestOf(launch), passed.path, std::nullopt, access,
                                     AuditOutcome::Failure));
    throw;
  }
  if (log) {
    const OpenedImage& first = images.front();
    std::optional<dev_t> rdev;
    if (first.isBlockDevice()) rdev = first.status.st_rdev;
    log->write(audit::resourceOpen(auditGuestOf(launch), passed.path, rdev, access,
                                   AuditOutcome::Success));
  }
  return images;
}

std::map<std::string, DiskArgument> diskArguments(SecurityManager& manager,
                                                  const GuestLaunch& launch,
                                                  const std::vector<std::string>& argvTemplate,
                                                  std::vector<UniqueFd>& inherited) {
  std::map<std::string, DiskArgument> disks;
  for (const Disk& disk : launch.live.disks)
    if (disk.source && !disk.target.empty()) disks[disk.target] = disk.source->path;
  // Only a disk the command names gets fds: one it does not name would be
  // inherited without an -add-fd, an open image the command never asked for.
  auto named = [&](const std::string& target) {
    const std::string placeholder = "{disk:" + target + "}";
    for (std::size_t i = 1; i < argvTemplate.size(); ++i)
      if (argvTemplate[i].find(placeholder) != std::string::npos) return true;
    return false;
  };
  bool namesAnyDisk = false;
  for (std::size_t i = 1; i < argvTemplate.size(); ++i)
    namesAnyDisk |= argvTemplate[i].find("{disk:") != std::string::npos;
  if (!namesAnyDisk) return disks;  // nothing to pass, nothing to ask the store
  int fdsetId = 0;
  for (const FdPassedDisk& passed : manager.store().fdPassedDisksOf(launch.record.uuid)) {
    if (!named(passed.target)) continue;
    CommandLineFdset fdset{++fdsetId, {}};
    // Opened here, as root, before the identity is dropped: the guest's uid
    // may not open the file itself (root_squash, no labels, policy).
    for (OpenedImage& image : openAuditedDiskImages(manager, launch, passed)) {
      UniqueFd copy = inheritableCopy(image.fd.get());
      fdset.fds.push_back({copy.get(), fdsetOpaque(image.mode, passed.path)});
      inherited.push_back(std::move(copy));
    }
    disks[passed.target] = fdset;
  }
  return disks;
}

// What can be refused without the store is refused before anything is
// prepared: invalid input then changes nothing and writes no record.
void checkLaunchInput(const Domain& domain, const std::vector<std::string>& argvTemplate,
                      const LaunchOptions& options) {
  if (argvTemplate.empty()) throw Error::invalidInput("no command to run");
  // Every {disk:TARGET} names a disk of the domain (expanded with the paths
  // only for the check).
  std::map<std::string, DiskArgument> declared;
  for (const Disk& disk : domain.disks)
    if (disk.source && !disk.target.empty()) declared[disk.target] = disk.source->path;
  (void)expandDiskPlaceholders(argvTemplate, declared);
  checkHostObjectInput(domain, argvTemplate);  // {netdev:ALIAS}, {mac:ALIAS}
  for (int fd : options.keepFds) {
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0)
      throw Error::invalidInput("cannot keep fd " + std::to_string(fd) +
                                " for the guest: it is not open");
    if (options.terminal == TerminalAccess::Withhold && isTerminal(fd))
      throw Error::invalidInput("cannot keep fd " + std::to_string(fd) +
                                " for the guest: it is a terminal (--tty allows it)");
  }
  for (const std::string& entry : options.environment) checkEnvironmentEntry(entry, "--env");
}

}  // namespace

GuestLaunch prepareLaunch(SecurityManager& manager, Domain domain,
                          const std::vector<std::string>& argvTemplate,
                          const LaunchOptions& options) {
  checkLaunchInput(domain, argvTemplate, options);
  // This process owns the guest from here (alloc/guest_claims.h): `run`
  // until its guest is restored, `exec` until the execve closes the lock
  // file. A second launcher, restore or recover on it fails at once.
  manager.claim(domain.uuid, domain.name);
  struct ClaimUntilLaunched {
    SecurityManager& manager;
    std::string uuid, name;
    bool launched = false;
    ~ClaimUntilLaunched() {
      if (!launched) manager.releaseClaim(uuid, name);
    }
  } claim{manager, domain.uuid, domain.name};
  GuestLaunch launch{};
  // A guest of this uuid whose process is gone is restored before its
  // record is taken for a prepared one (docs/store.md, lazy recovery).
  manager.settleDeadGuests(RecoverScope::named({domain.uuid}));
  if (auto record = preparedGuest(manager, domain)) {
    launch.record = *record;
    launch.live = parseDomainXml(record->liveXml, XmlForm::Live);
  } else {
    launch.record = manager.prepare(domain, PrepareFor::Launch);
    launch.live = std::move(domain);
    launch.preparedHere = true;
  }
  stopHereForTesting("prepared");
  // Any failure from here on, of any exception type, takes back what this
  // launch set up: the uncommitted links first, then the guest it prepared.
  UndoOnFailure undoLaunch(
      [&] {
        launch.hostObjects.reset();
        if (launch.preparedHere) manager.restore(launch.record.uuid, launch.record.generation);
      },
      manager.warnings());
  launch.hostObjects = openLaunchHostObjects(manager, launch.record, launch.live,
                                             launch.preparedHere, argvTemplate);
  std::vector<UniqueFd> inherited;
  auto disks = diskArguments(manager, launch, argvTemplate, inherited);
  // Network values first: they hold no '{', so no disk path can smuggle
  // in a placeholder of another kind.
  launch.argv = expandDiskPlaceholders(launch.hostObjects->network->expand(argvTemplate), disks);
  launch.argv[0] = resolveCommand(launch.argv[0]);

  ProcessLabels labels = manager.processLabels(launch.live);
  ProcessIdentity identity;
  identity.execContext = labels.execContext;
  if (labels.dac) {
    identity.uid = labels.dac->uid;
    identity.gid = labels.dac->gid;
    identity.groups = resolveGroupNames(manager.config().dac.groups);
  } else {
    identity.uid = ::getuid();
    identity.gid = ::getgid();
  }
  identity.noNewPrivs = manager.config().process.noNewPrivs;
  identity.environment = guestEnvironment(manager.config().process.env, options.environment);
  identity.terminal = options.terminal;
  identity.keepFds = options.keepFds;
  for (const UniqueFd& fd : inherited) identity.keepFds.push_back(fd.get());
  // Exactly the network fds the command names: the child clears their
  // close-on-exec flag (ProcessStep::KeepFd), nothing else gets them.
  for (int fd : launch.hostObjects->network->guestFds()) identity.keepFds.push_back(fd);
  identity.cgroupProcsFd = launch.hostObjects->cgroupProcs.get();
  launch.identity = PreparedIdentity::prepare(identity, manager.selinuxHost());
  launch.inheritedFds = std::move(inherited);
  undoLaunch.dismiss();
  claim.launched = true;
  return launch;
}

void execGuest(SecurityManager& manager, GuestLaunch& launch) {
  auto failed = [&] {
    auditControl(manager, launch, AuditControlOp::Start, "booted", ::getpid(),
                 AuditOutcome::Failure);
  };
  try {
    manager.markRunning(launch.record.uuid, ::getpid());
  } catch (const Error&) {
    failed();
    throw;
  }
  // Nothing is logged before the execve: the witness writes the start record
  // once it knows whether the execve succeeded, which this process, by then
  // the guest, could no longer log (launcher/exec_witness.h).
  // (With `sink = "none"` there is nothing to write: no witness, no fork.)
  std::optional<ExecWitness> witness;
  AuditLog* log = manager.auditLog();
  if (log && manager.config().audit.sink != AuditSink::None) {
    try {
      witness.emplace(ExecWitness::start(*log, auditGuestOf(launch), ::getpid()));
    } catch (const Error&) {
      failed();
      throw;
    }
  }
  const int reportFd = witness ? witness->reportFd() : -1;
  // This process becomes the guest: nothing of ours runs after a successful
  // execve, so the interfaces are given (commit, reason=start) before it.
  // A failed execve leaves the guest recorded; its restore takes them back.
  if (launch.hostObjects) launch.hostObjects->network->started();
  try {
    execWithIdentity(launch.argv, *launch.identity, manager.selinuxHost(),
                     std::span<const int>(&reportFd, witness ? 1 : 0));
  } catch (const Error&) {
    if (witness) witness->startFailed();
    throw;
  }
}

pid_t spawnGuest(SecurityManager& manager, GuestLaunch& launch) {
  auto failed = [&] {
    auditControl(manager, launch, AuditControlOp::Start, "booted", std::nullopt,
                 AuditOutcome::Failure);
  };
  std::optional<StartingChild> child;
  try {
    child.emplace(startWithIdentity(launch.argv, *launch.identity, manager.selinuxHost()));
  } catch (const Error&) {
    failed();
    throw;
  }
  // Recorded before the exec is confirmed: if the recording fails, the
  // child is killed (~StartingChild), so no guest runs unrecorded.
  try {
    manager.markRunning(launch.record.uuid, child->pid(), /*supervised=*/true);
  } catch (const Error&) {
    failed();
    throw;  // ~StartingChild kills and reaps the child
  }
  try {
    child->awaitExec();
  } catch (const Error&) {
    manager.markPrepared(launch.record.uuid);  // nothing runs: as it was before
    failed();
    throw;
  }
  launch.inheritedFds.clear();  // the guest has its copies now
  if (launch.hostObjects) {
    launch.hostObjects->network->started();
    launch.hostObjects->network->closeFds();  // the guest has its copies now
    launch.hostObjects->cgroupProcs.reset();
  }
  auditControl(manager, launch, AuditControlOp::Start, "booted", child->pid(),
               AuditOutcome::Success);
  return child->pid();
}

int runGuest(SecurityManager& manager, GuestLaunch& launch) {
  // Block the signals we forward before the child exists, so none is lost
  // between fork and the wait loop; the child starts with an empty mask.
  sigset_t forwarded, previous;
  sigemptyset(&forwarded);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &previous);

  pid_t pid;
  {
    // A guest that did not start (whatever was thrown) is taken back: the
    // uncommitted links first, then the guest this launch prepared.
    UndoOnFailure undoStart(
        [&] {
          sigprocmask(SIG_SETMASK, &previous, nullptr);
          launch.hostObjects.reset();
          if (launch.preparedHere)
            manager.restore(launch.record.uuid, launch.record.generation);
        },
        manager.warnings());
    pid = spawnGuest(manager, launch);
    undoStart.dismiss();
  }

  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    siginfo_t info;
    int sig = sigwaitinfo(&forwarded, &info);
    if (sig > 0 && sig != SIGCHLD) ::kill(pid, sig);
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  stopHereForTesting("guest-exited");

  auditControl(manager, launch, AuditControlOp::Stop,
               WIFSIGNALED(status) ? "destroyed" : "shutdown", pid, AuditOutcome::Success);
  // What the guest left running in its cgroup (its own children) goes with
  // it, so the restore can remove the cgroup.
  if (launch.hostObjects && launch.hostObjects->cgroup)
    emptyGuestCgroup(*launch.hostObjects->cgroup);
  manager.restore(launch.record.uuid, launch.record.generation);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace seclabel
