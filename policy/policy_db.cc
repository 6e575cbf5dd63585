#include "policy/policy_db.h"

#include <sepol/debug.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/services.h>
#include <sepol/policydb/sidtab.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "core/file_read.h"

namespace seclabel {

namespace {

// libsepol's service functions (sepol_context_to_sid, sepol_compute_av...)
// use one global policydb and sidtab. Every use goes through this lock,
// after pointing libsepol at the caller's tables.
std::mutex& sepolLock() {
  static std::mutex lock;
  return lock;
}

// Splits libsepol's reason buffer ("mlsconstrain file { read ... } (...);
// Constraint DENIED\n" per constraint) into one line per constraint.
std::vector<std::string> splitConstraints(const char* buffer) {
  std::vector<std::string> constraints;
  if (buffer == nullptr) return constraints;
  std::string text(buffer);
  std::string current;
  for (char c : text) {
    if (c == '\n') {
      if (!current.empty()) constraints.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) constraints.push_back(current);
  return constraints;
}

// True when the constraint text's permission list `{ ... }` names one of
// `names` (comma-separated).
bool constraintNamesAny(const std::string& constraint, const std::string& names) {
  auto open = constraint.find('{');
  auto close = constraint.find('}', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return true;
  std::string list = " " + constraint.substr(open + 1, close - open - 1) + " ";
  std::size_t start = 0;
  while (start <= names.size()) {
    auto end = names.find(',', start);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(start, end - start);
    if (!name.empty() && list.find(" " + name + " ") != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

struct PolicyDb::Tables {
  std::string path;
  policydb_t db{};
  sidtab_t sids{};
  bool dbInitialized = false;
  bool sidsInitialized = false;

  ~Tables() {
    std::lock_guard guard(sepolLock());
    if (sidsInitialized) sepol_sidtab_destroy(&sids);
    if (dbInitialized) policydb_destroy(&db);
  }

  // Called with sepolLock() held.
  void select() {
    sepol_set_policydb(&db);
    sepol_set_sidtab(&sids);
  }
};

PolicyDb::PolicyDb(std::unique_ptr<Tables> tables) : tables_(std::move(tables)) {}
PolicyDb::PolicyDb(PolicyDb&&) noexcept = default;
PolicyDb& PolicyDb::operator=(PolicyDb&&) noexcept = default;
PolicyDb::~PolicyDb() = default;

namespace {

// policydb_read on the policy's bytes; true when libsepol accepts them as a
// kernel policy. libsepol's reader works on a policy_file_t it may advance.
bool readPolicy(policydb_t& db, std::string& bytes) {
  policy_file_t input;
  policy_file_init(&input);
  input.type = PF_USE_MEMORY;
  input.data = bytes.data();
  input.len = bytes.size();
  return policydb_read(&db, &input, 0) == 0;
}

std::function<void()>& trialHook() {
  static std::function<void()> hook;
  return hook;
}

// Child exit codes of the trial load.
constexpr int kTrialLoaded = 0;
constexpr int kTrialRejected = 2;
constexpr int kTrialNoMemory = 3;

// Loads the policy once in a child under `limits` (CPU time: SIGXCPU at the
// soft limit, SIGKILL a second later; address space) and reports why it
// could not, if it could not. The child only reads memory and exits: nothing
// it does outlives it.
void trialLoad(const std::string& path, std::string& bytes, const PolicyLoadLimits& limits) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw Error::fromErrno("cannot load policy " + path + ": fork", errno);
  if (pid == 0) {
    struct rlimit cpu{rlim_t(limits.cpuSeconds), rlim_t(limits.cpuSeconds) + 1};
    struct rlimit memory{rlim_t(limits.memoryBytes), rlim_t(limits.memoryBytes)};
    if (::setrlimit(RLIMIT_CPU, &cpu) != 0 || ::setrlimit(RLIMIT_AS, &memory) != 0)
      ::_exit(kTrialNoMemory);
    if (trialHook()) trialHook()();
    policydb_t db;
    if (policydb_init(&db) != 0) ::_exit(kTrialNoMemory);
    errno = 0;
    bool loaded = readPolicy(db, bytes);
    ::_exit(loaded ? kTrialLoaded : errno == ENOMEM ? kTrialNoMemory : kTrialRejected);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error::fromErrno("cannot load policy " + path + ": waitpid", errno);
  }
  const std::string prefix = "cannot load policy " + path + ": ";
  if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
    throw Error::invalidInput(prefix + "too complex: libsepol gave up after " +
                              std::to_string(limits.cpuSeconds) + " s of CPU time");
  if (WIFSIGNALED(status))
    throw Error::invalidInput(prefix + "libsepol crashed reading it (signal " +
                              std::to_string(WTERMSIG(status)) + ")");
  switch (WEXITSTATUS(status)) {
    case kTrialLoaded: return;
    case kTrialNoMemory:
      throw Error::invalidInput(prefix + "too large: libsepol needs more than " +
                                std::to_string(limits.memoryBytes >> 20) + " MiB to load it");
    default:
      throw Error::invalidInput(prefix + "not a binary SELinux policy that libsepol can read");
  }
}

}  // namespace

void setPolicyLoadTrialHookForTesting(std::function<void()> hook) { trialHook() = std::move(hook); }

PolicyDb PolicyDb::load(const std::string& path, const PolicyLoadLimits& limits) {
  std::string bytes = readRegularFile(path, {"policy", limits.fileBytes, FileTrust::Any});
  // libsepol would print its parse errors on stderr; the error below names
  // the file instead. Set before the trial so the child inherits it.
  {
    std::lock_guard guard(sepolLock());
    sepol_debug(0);
  }
  trialLoad(path, bytes, limits);
  auto tables = std::make_unique<Tables>();
  tables->path = path;
  std::lock_guard guard(sepolLock());
  if (policydb_init(&tables->db) != 0) {
    throw Error(ExitCode::Failed, "cannot load policy " + path + ": out of memory");
  }
  tables->dbInitialized = true;
  if (!readPolicy(tables->db, bytes)) {
    throw Error::invalidInput("cannot load policy " + path +
                              ": not a binary SELinux policy that libsepol can read");
  }
  if (tables->db.policy_type != POLICY_KERN) {
    throw Error::invalidInput("cannot load policy " + path +
                              ": a policy module, not a compiled kernel policy");
  }
  if (sepol_sidtab_init(&tables->sids) != 0) {
    throw Error(ExitCode::Failed, "cannot load policy " + path + ": out of memory");
  }
  tables->sidsInitialized = true;
  return PolicyDb(std::move(tables));
}

const std::string& PolicyDb::path() const noexcept { return tables_->path; }
bool PolicyDb::mls() const noexcept { return tables_->db.mls != 0; }

std::optional<PolicySid> PolicyDb::sidOf(std::string_view context, std::string* why) const {
  auto reject = [&](const char* reason) -> std::optional<PolicySid> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (context.empty()) return reject("empty context");
  if (context.find('\0') != std::string_view::npos) return reject("contains a NUL byte");
  // The kernel's limit for a context (a page); libsepol would parse more.
  if (context.size() >= 4096) return reject("longer than 4095 bytes");
  std::string text(context);
  std::lock_guard guard(sepolLock());
  tables_->select();
  sepol_security_id_t sid = 0;
  if (sepol_context_to_sid(text.c_str(), text.size() + 1, &sid) != 0) {
    return reject(
        "not valid in this policy (unknown user, role, type or level, or a "
        "combination the policy does not authorize)");
  }
  return sid;
}

std::optional<PolicyClass> PolicyDb::classNamed(std::string_view name) const {
  std::string text(name);
  std::lock_guard guard(sepolLock());
  tables_->select();
  sepol_security_class_t cls = 0;
  if (sepol_string_to_security_class(text.c_str(), &cls) != 0) return std::nullopt;
  return cls;
}

std::optional<AccessVector> PolicyDb::permissionNamed(PolicyClass cls, std::string_view name) const {
  std::string text(name);
  std::lock_guard guard(sepolLock());
  tables_->select();
  sepol_access_vector_t vector = 0;
  if (sepol_string_to_av_perm(cls, text.c_str(), &vector) != 0 || vector == 0) {
    return std::nullopt;
  }
  return vector;
}

std::string PolicyDb::permissionNames(PolicyClass cls, AccessVector vector) const {
  std::string names;
  std::lock_guard guard(sepolLock());
  tables_->select();
  for (unsigned bit = 0; bit < 32; ++bit) {
    AccessVector one = AccessVector{1} << bit;
    if ((vector & one) == 0) continue;
    const char* name = sepol_av_perm_to_string(cls, one);
    if (!names.empty()) names += ',';
    // sepol_av_perm_to_string returns a string with a leading space.
    std::string text = name ? name : "?";
    while (!text.empty() && text.front() == ' ') text.erase(0, 1);
    names += text;
  }
  return names;
}

AccessDecision PolicyDb::decide(PolicySid source, PolicySid target, PolicyClass cls,
                                AccessVector requested, Explain explain) const {
  AccessDecision decision;
  struct sepol_av_decision avd {};
  unsigned int reason = 0;
  std::string deniedNames;
  {
    std::lock_guard guard(sepolLock());
    tables_->select();
    int status = 0;
    char* buffer = nullptr;
    if (explain == Explain::Constraints) {
      status = sepol_compute_av_reason_buffer(source, target, cls, requested, &avd, &reason,
                                              &buffer, 0);
      decision.failedConstraints = splitConstraints(buffer);
      std::free(buffer);
    } else {
      status = sepol_compute_av_reason(source, target, cls, requested, &avd, &reason);
    }
    if (status != 0) {
      throw Error(ExitCode::Failed, "libsepol cannot compute the access decision in " +
                                        tables_->path);
    }
  }
  decision.allowed = avd.allowed & requested;
  decision.reasons = reason;
  if (!decision.failedConstraints.empty()) {
    std::string denied = permissionNames(cls, requested & ~decision.allowed);
    std::vector<std::string> relevant;
    for (auto& constraint : decision.failedConstraints) {
      if (constraintNamesAny(constraint, denied)) relevant.push_back(std::move(constraint));
    }
    decision.failedConstraints = std::move(relevant);
  }
  return decision;
}

}  // namespace seclabel
