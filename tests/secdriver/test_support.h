// Helpers for the secdriver tests: real files with a known owner, mode and
// security.selinux xattr, domain XML for them, a manager on a real SQLite
// store, a fault-injecting SelinuxHost, and a way to run the seclabel CLI.
//
// Everything here acts on real files as root; the only fake is
// FaultySelinuxHost, at the one host interface tests may replace.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloc/store.h"
#include "audit/audit.h"
#include "core/config.h"
#include "core/error.h"
#include "secdriver/manager.h"
#include "secdriver/selinux_host.h"
#include "xml/domain.h"

namespace seclabel::testing {

// ---- files ---------------------------------------------------------------

// The security.selinux xattr of `path` (not following a final symlink),
// without the trailing NUL; nullopt when the file has none.
std::optional<std::string> selinuxXattr(const std::string& path);

// The exact bytes of xattr `name` of `path` (not following a final
// symlink); nullopt when absent. Nothing trimmed.
std::optional<std::string> rawXattr(const std::string& path, const std::string& name);
void setRawXattr(const std::string& path, const std::string& name, const std::string& bytes);

// A system.posix_acl_access/default value (the kernel's xattr format):
// entries in the kernel's order (by tag, then id).
struct AclEntry {
  uint16_t tag;   // 0x01 USER_OBJ, 0x02 USER, 0x04 GROUP_OBJ, 0x08 GROUP, 0x10 MASK, 0x20 OTHER
  uint16_t perm;  // rwx bits
  uint32_t id = 0xffffffff;  // uid/gid for USER/GROUP
};
std::string posixAcl(const std::vector<AclEntry>& entries);

// Everything restore must put back, read with lstat/lgetxattr.
struct FileState {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;  // st_mode & 07777
  std::optional<std::string> selinux;
  bool operator==(const FileState&) const = default;
};
std::ostream& operator<<(std::ostream& out, const FileState& state);
FileState fileState(const std::string& path);

// A file's original look, as a test sets it up.
struct Original {
  uid_t uid = 4242;
  gid_t gid = 4343;
  mode_t mode = 0640;
  std::optional<std::string> selinux = std::string("system_u:object_r:user_home_t:s0");
};

// A fresh directory under /tmp, removed (with anything mounted on it
// unmounted first) at the end of the test.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& name) const { return root_ + "/" + name; }
  std::string stateDir() const { return path("state"); }

  // A small raw file with exactly `original`'s owner, mode and xattr.
  std::string makeFile(const std::string& name, const Original& original = {});
  // A real qcow2 image (qemu-img create), optionally on top of `backing`.
  std::string makeQcow2(const std::string& name, const Original& original = {},
                        const std::string& backing = {});
  // Gives an existing file exactly `original`'s owner, mode and xattr.
  static void setOriginal(const std::string& path, const Original& original);

  // Remembered so that the destructor can unmount it.
  void noteMount(const std::string& mountPoint) { mounts_.push_back(mountPoint); }
  // Mounts a file system of `type` (ramfs, debugfs, cgroup2, ...) on a new
  // directory `name`; returns the mount point, or an empty string with the
  // reason in `why` when the kernel refuses.
  std::string mountFilesystem(const std::string& type, const std::string& name,
                              std::string* why = nullptr);

 private:
  std::string root_;
  std::vector<std::string> mounts_;
};

// ---- domain XML -------------------------------------------------------------

struct DiskSpec {
  std::string path;
  std::string target;
  bool readonly = false;
  bool shareable = false;
  std::string sourceSeclabels;          // XML inside <source>
  std::vector<std::string> backingChain;  // lower layers, top-most first
};

// A unique, well-formed uuid for guest number `n`.
std::string uuidFor(int n);

inline constexpr const char* kDynamicSeclabels =
    "<seclabel type='dynamic' model='selinux' relabel='yes'/>"
    "<seclabel type='dynamic' model='dac' relabel='yes'/>";

// A <domain> with `disks`, `seclabels` (raw XML, default: dynamic selinux
// and dac) and `extraOs`/`extraDevices` raw XML.
std::string domainXml(const std::string& name, const std::string& uuid,
                      const std::vector<DiskSpec>& disks,
                      const std::string& seclabels = kDynamicSeclabels,
                      const std::string& extraOs = {},
                      const std::string& extraDevices = {});

// ---- config, store, manager -------------------------------------------------

// A config with `drivers` in this order, `fdpass` ("auto", "always",
// "never"), audit off. The contexts are the defaults (or the host policy's).
std::string configToml(const std::vector<std::string>& drivers = {"selinux", "dac"},
                       const std::string& fdpass = "never");
Config testConfig(const std::vector<std::string>& drivers = {"selinux", "dac"},
                  const std::string& fdpass = "never");

// A real SelinuxHost that fails setFileLabel with `errnum` for the file at
// `failingPath` (matched through /proc/self/fd/N, so it is the object the fd
// refers to); every other call goes to the real host.
class FaultySelinuxHost final : public SelinuxHost {
 public:
  FaultySelinuxHost(SelinuxHost& real, std::string failingPath, int errnum)
      : real_(real), failingPath_(std::move(failingPath)), errnum_(errnum) {}
  SelinuxMode mode() const override { return real_.mode(); }
  std::optional<SelinuxPolicyContexts> policyContexts() const override {
    return real_.policyContexts();
  }
  std::optional<std::string> getFileLabel(int fd) const override { return real_.getFileLabel(fd); }
  void setFileLabel(int fd, const std::string& label) override;
  void removeFileLabel(int fd) override { real_.removeFileLabel(fd); }
  int setExecContext(const char* context) noexcept override {
    return real_.setExecContext(context);
  }
  int failures() const { return failures_; }

 private:
  SelinuxHost& real_;
  std::string failingPath_;
  int errnum_;
  int failures_ = 0;
};

// A store and a manager on a Scratch's state directory, with the real host
// (or another SelinuxHost the test passes). Warnings are collected.
struct Harness {
  explicit Harness(const Scratch& scratch, Config config = testConfig(),
                   SelinuxHost* host = nullptr);
  std::unique_ptr<SelinuxHost> realHost;
  std::unique_ptr<Store> store;
  std::unique_ptr<SecurityManager> manager;
  std::vector<std::string> warnings;
  std::unique_ptr<AuditLog> auditLog;

  // Records go to a JSON-lines file at `path` from now on.
  void auditToFile(const std::string& path);

  // Parses `xml` (inactive form) and prepares it.
  GuestRecord prepare(const std::string& xml);
  // prepare() that is expected to fail: returns the Error.
  Error prepareFailure(const std::string& xml);
  // The live domain of a prepared guest, from the store.
  Domain liveDomain(const std::string& nameOrUuid);
};

// The guest's labels from its live domain.
struct GuestLabels {
  std::string processContext;  // svirt_t:s0:cA,cB
  std::string imageContext;    // svirt_image_t:s0:cA,cB
  uid_t uid = 0;
  gid_t gid = 0;
};
GuestLabels labelsOf(const Domain& live);

// True when the store knows nothing of the guest: no record, no identity, no
// remembered resource, no fd-passed disk, no pending intent.
::testing::AssertionResult storeHoldsNothingFor(Store& store, const std::string& uuid);

// ---- processes ------------------------------------------------------------

struct CommandResult {
  int exitCode = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};
// Runs argv[0] (a path) with argv, capturing stdout and stderr. `inChild`,
// when given, runs in the child just before execv (e.g. to enter a mount
// namespace of its own); if it throws, the child exits 126.
CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::function<void()>& inChild = {});
// Runs the seclabel CLI with --config CONFIG --state-dir STATE_DIR before `args`.
CommandResult runSeclabel(const std::string& config, const std::string& stateDir,
                          const std::vector<std::string>& args);

void writeTextFile(const std::string& path, const std::string& text);

// GTEST_SKIP()s the calling test unless it runs as root.
#define SECLABEL_REQUIRE_ROOT()                                                 \
  do {                                                                          \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: real chown and xattrs";  \
  } while (0)

}  // namespace seclabel::testing
