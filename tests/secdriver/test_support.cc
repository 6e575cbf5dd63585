#include "tests/secdriver/test_support.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "xml/labels.h"
#include "xml/xml.h"
#include "tests/support/dac_slice.h"

namespace seclabel::testing {

std::optional<std::string> selinuxXattr(const std::string& path) {
  char buffer[4097];
  ssize_t n = ::lgetxattr(path.c_str(), "security.selinux", buffer, sizeof buffer);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return std::nullopt;  // ENOTSUP: ramfs
    throw std::runtime_error("lgetxattr " + path + ": " + std::strerror(errno));
  }
  while (n > 0 && buffer[n - 1] == '\0') --n;
  return std::string(buffer, static_cast<size_t>(n));
}

std::optional<std::string> rawXattr(const std::string& path, const std::string& name) {
  char buffer[65536];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buffer, sizeof buffer);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return std::nullopt;
    throw std::runtime_error("lgetxattr " + path + " " + name + ": " + std::strerror(errno));
  }
  return std::string(buffer, static_cast<size_t>(n));
}

void setRawXattr(const std::string& path, const std::string& name, const std::string& bytes) {
  if (::lsetxattr(path.c_str(), name.c_str(), bytes.data(), bytes.size(), 0) != 0)
    throw std::runtime_error("lsetxattr " + path + " " + name + ": " + std::strerror(errno));
}

std::string posixAcl(const std::vector<AclEntry>& entries) {
  std::string bytes;
  auto put = [&](uint32_t value, int size) {
    for (int i = 0; i < size; ++i) bytes += static_cast<char>((value >> (8 * i)) & 0xff);
  };
  put(2, 4);  // POSIX_ACL_XATTR_VERSION, little endian as the kernel's format
  for (const AclEntry& entry : entries) {
    put(entry.tag, 2);
    put(entry.perm, 2);
    put(entry.id, 4);
  }
  return bytes;
}

std::ostream& operator<<(std::ostream& out, const FileState& state) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(state.mode));
  return out << "{" << state.uid << ":" << state.gid << " mode " << mode << " selinux "
             << (state.selinux ? *state.selinux : std::string("<none>")) << "}";
}

FileState fileState(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    throw std::runtime_error("lstat " + path + ": " + std::strerror(errno));
  return {st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777), selinuxXattr(path)};
}

Scratch::Scratch() {
  std::string pattern = "/tmp/seclabel-secdriver-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
  ::chmod(root_.c_str(), 0755);
}

Scratch::~Scratch() {
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

std::string Scratch::mountFilesystem(const std::string& type, const std::string& name,
                                     std::string* why) {
  std::string mountPoint = path(name);
  std::filesystem::create_directories(mountPoint);
  if (::mount("none", mountPoint.c_str(), type.c_str(), 0, nullptr) != 0) {
    if (why) *why = "cannot mount " + type + ": " + std::strerror(errno);
    return {};
  }
  noteMount(mountPoint);
  return mountPoint;
}

void Scratch::setOriginal(const std::string& path, const Original& original) {
  if (::lchown(path.c_str(), original.uid, original.gid) != 0)
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
  // After chown: chown clears setuid/setgid bits.
  if (::chmod(path.c_str(), original.mode) != 0)
    throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
  if (original.selinux) {
    if (::lsetxattr(path.c_str(), "security.selinux", original.selinux->c_str(),
                    original.selinux->size() + 1, 0) != 0)
      throw std::runtime_error("setxattr " + path + ": " + std::strerror(errno));
  } else if (::lremovexattr(path.c_str(), "security.selinux") != 0 && errno != ENODATA &&
             errno != ENOTSUP) {
    throw std::runtime_error("removexattr " + path + ": " + std::strerror(errno));
  }
}

std::string Scratch::makeFile(const std::string& name, const Original& original) {
  std::string file = path(name);
  std::filesystem::create_directories(std::filesystem::path(file).parent_path());
  writeTextFile(file, "image " + name + "\n");
  setOriginal(file, original);
  return file;
}

std::string Scratch::makeQcow2(const std::string& name, const Original& original,
                               const std::string& backing) {
  std::string file = path(name);
  std::filesystem::create_directories(std::filesystem::path(file).parent_path());
  std::vector<std::string> argv = {"/usr/bin/qemu-img", "create", "-q", "-f", "qcow2"};
  if (!backing.empty()) argv.insert(argv.end(), {"-F", "qcow2", "-b", backing});
  argv.insert(argv.end(), {file, "1M"});
  CommandResult result = runCommand(argv);
  if (result.exitCode != 0) throw std::runtime_error("qemu-img create failed: " + result.err);
  setOriginal(file, original);
  return file;
}

std::string uuidFor(int n) {
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "5ec1abe1-0000-4000-8000-%012d", n);
  return uuid;
}

std::string domainXml(const std::string& name, const std::string& uuid,
                      const std::vector<DiskSpec>& disks, const std::string& seclabels,
                      const std::string& extraOs, const std::string& extraDevices) {
  std::string xml = "<domain type='qemu'>\n  <name>" + name + "</name>\n  <uuid>" + uuid +
                    "</uuid>\n  <memory unit='MiB'>64</memory>\n  <os>\n"
                    "    <type arch='x86_64' machine='q35'>hvm</type>\n" +
                    extraOs + "  </os>\n  <devices>\n";
  for (const DiskSpec& disk : disks) {
    xml += "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n";
    xml += "      <source file='" + disk.path + "'>" + disk.sourceSeclabels + "</source>\n";
    std::string closing;
    for (const std::string& layer : disk.backingChain) {
      xml += "      <backingStore type='file'><format type='qcow2'/><source file='" + layer +
             "'/>\n";
      closing += "      </backingStore>\n";
    }
    xml += closing;
    xml += "      <target dev='" + disk.target + "' bus='virtio'/>\n";
    if (disk.readonly) xml += "      <readonly/>\n";
    if (disk.shareable) xml += "      <shareable/>\n";
    xml += "    </disk>\n";
  }
  xml += extraDevices + "  </devices>\n  " + seclabels + "\n</domain>\n";
  return xml;
}

// A slice of the default DAC range of its own for this test process.
// Restoring a guest ends every process of its uid (no identity is released
// while a process runs with it): tests that run at the same time against
// stores of their own must not be handed the same uids, or one test's
// restore ends another's guest.
std::string testDacRange() { return seclabel::testing::dacSliceRange(); }

std::string configToml(const std::vector<std::string>& drivers, const std::string& fdpass) {
  std::string list;
  for (const auto& driver : drivers) list += (list.empty() ? "\"" : ", \"") + driver + "\"";
  return "security_driver = [" + list + "]\nfdpass = \"" + fdpass +
         "\"\n\n[audit]\nsink = \"none\"\n\n[dac]\nrange = \"" + testDacRange() + "\"\n"
         // These tests are about labels; a cgroup per guest would outlive
         // the guests they never restore (tests/tools/host_objects_test.cc
         // covers the cgroups).
         "\n[cgroup]\ndevices = \"off\"\n";
}

Config testConfig(const std::vector<std::string>& drivers, const std::string& fdpass) {
  return Config::parse(configToml(drivers, fdpass), "test.toml",
                       makeSystemSelinuxHost()->enabled());
}

void FaultySelinuxHost::setFileLabel(int fd, const std::string& label) {
  char target[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n >= 0 && std::string(target, static_cast<size_t>(n)) == failingPath_) {
    ++failures_;
    throw Error::fromErrno("cannot set security.selinux to " + label, errnum_);
  }
  real_.setFileLabel(fd, label);
}

Harness::Harness(const Scratch& scratch, Config config, SelinuxHost* host)
    : realHost(makeSystemSelinuxHost()), store(openSqliteStore(scratch.stateDir())) {
  manager = std::make_unique<SecurityManager>(
      config, *store, host ? *host : *realHost,
      [this](const std::string& warning) { warnings.push_back(warning); });
}

void Harness::auditToFile(const std::string& path) {
  AuditConfig config;
  config.sink = AuditSink::File;
  config.path = path;
  config.required = true;
  auditLog = makeAuditLog(config, [this](const std::string& warning) { warnings.push_back(warning); });
  auditLog->ensureUsable();
  manager->setAudit(auditLog.get());
}

GuestRecord Harness::prepare(const std::string& xml) {
  Domain domain = parseDomainXml(xml);
  return manager->prepare(domain);
}

Error Harness::prepareFailure(const std::string& xml) {
  try {
    prepare(xml);
  } catch (const Error& e) {
    return e;
  }
  throw std::runtime_error("prepare succeeded where it should have failed");
}

Domain Harness::liveDomain(const std::string& nameOrUuid) {
  return parseDomainXml(manager->requireGuest(nameOrUuid).liveXml, XmlForm::Live);
}

GuestLabels labelsOf(const Domain& live) {
  GuestLabels labels;
  const Seclabel* selinux = live.seclabelFor("selinux");
  const Seclabel* dac = live.seclabelFor("dac");
  if (!selinux || !selinux->label || !selinux->imagelabel || !dac || !dac->label)
    throw std::runtime_error("live domain lacks a selinux or dac label");
  labels.processContext = *selinux->label;
  labels.imageContext = *selinux->imagelabel;
  DacLabel owner = DacLabel::parse(*dac->label);
  labels.uid = owner.uid;
  labels.gid = owner.gid;
  return labels;
}

::testing::AssertionResult storeHoldsNothingFor(Store& store, const std::string& uuid) {
  if (store.findGuest(uuid)) return ::testing::AssertionFailure() << "guest record remains";
  if (!store.listGuests().empty())
    return ::testing::AssertionFailure() << store.listGuests().size() << " guests listed";
  if (auto ids = store.identitiesOf(uuid); !ids.empty())
    return ::testing::AssertionFailure() << ids.size() << " identities still held";
  if (auto held = store.resourcesOf(uuid); !held.empty())
    return ::testing::AssertionFailure()
           << held.size() << " resources still remembered, first " << held[0].original.path;
  if (!store.fdPassedDisksOf(uuid).empty())
    return ::testing::AssertionFailure() << "fd-passed disks remain";
  if (!store.pendingIntentsOf(uuid).empty())
    return ::testing::AssertionFailure() << "pending intents remain";
  return ::testing::AssertionSuccess();
}

namespace {

std::string drain(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::function<void()>& inChild) {
  // Output goes to unlinked temporary files: no pipe to deadlock on.
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  if (!out || !err) throw std::runtime_error("tmpfile failed");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(err), 2);
    if (inChild) {
      try {
        inChild();
      } catch (...) {
        ::_exit(126);
      }
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CommandResult result;
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::lseek(::fileno(out), 0, SEEK_SET);
  ::lseek(::fileno(err), 0, SEEK_SET);
  result.out = drain(::fileno(out));
  result.err = drain(::fileno(err));
  std::fclose(out);
  std::fclose(err);
  return result;
}

CommandResult runSeclabel(const std::string& config, const std::string& stateDir,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SECLABEL_BINARY, "--config", config, "--state-dir", stateDir};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}

void writeTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace seclabel::testing
