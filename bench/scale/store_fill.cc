#include "bench/scale/store_fill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <vector>

#include "alloc/allocation_space.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "core/process_liveness.h"
#include "secdriver/file_identity.h"
#include "secdriver/selinux_driver.h"
#include "xml/labels.h"
#include "xml/xml.h"

namespace seclabel::bench {
namespace {

// A device number no file system here has (the largest major and minor).
const uint64_t kFakeDev = makedev(0xfffff, 0xfffff);

// The domain of every filled guest (bench/scale/scale.sh prepares the same
// shape): one qcow2 disk, dynamic selinux and dac labels.
std::string domainXmlFor(const std::string& name, const std::string& uuid,
                         const std::string& diskPath) {
  return "<domain type='qemu'>\n  <name>" + name + "</name>\n  <uuid>" + uuid +
         "</uuid>\n  <memory unit='MiB'>64</memory>\n"
         "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
         "  <devices>\n    <disk type='file' device='disk'>\n"
         "      <driver name='qemu' type='qcow2'/>\n      <source file='" +
         diskPath +
         "'/>\n"
         "      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n"
         "  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n"
         "  <seclabel type='dynamic' model='dac' relabel='yes'/>\n</domain>\n";
}

std::string randomUuid(std::mt19937_64& random) {
  uint64_t high = random(), low = random();
  high = (high & ~uint64_t(0xf000)) | 0x4000;                    // version 4
  low = (low & ~(uint64_t(0xc) << 60)) | (uint64_t(0x8) << 60);  // variant 10
  char text[40];
  std::snprintf(text, sizeof text, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64
                "-%012" PRIx64,
                high >> 32, (high >> 16) & 0xffff, high & 0xffff, low >> 48,
                low & uint64_t(0xffffffffffff));
  return text;
}

std::string nameFor(const std::string& prefix, uint64_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06" PRIu64, index);
  return prefix + digits;
}

// A real file for the guest's disk; its original is what a prepare would
// remember.
RememberedResource makeRealDisk(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw Error::fromErrno("cannot create " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw Error::fromErrno("cannot stat " + path, errno);
  RememberedResource original;
  original.dev = st.st_dev;
  original.ino = st.st_ino;
  original.path = path;
  original.uid = st.st_uid;
  original.gid = st.st_gid;
  original.mode = st.st_mode & 07777;
  original.handle = fileHandleOf(fd.get());  // as prepare keeps it: restore finds the file by it
  return original;
}

}  // namespace

GuestProcess GuestProcess::live(pid_t pid) {
  auto start = processStartTime(pid);
  if (!start) throw Error::invalidInput("no such process: " + std::to_string(pid));
  return {pid, *start};
}

GuestProcess GuestProcess::dead() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw Error::fromErrno("pipe", errno);
  pid_t child = ::fork();
  if (child < 0) throw Error::fromErrno("fork", errno);
  if (child == 0) {
    char byte;
    // Alive until the parent has read the start time (its end of the pipe
    // closes: ours is closed first, or the read would never see the end).
    ::close(ready[1]);
    (void)!::read(ready[0], &byte, 1);
    ::_exit(0);
  }
  ::close(ready[0]);
  auto start = processStartTime(child);
  ::close(ready[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!start) throw Error(ExitCode::Failed, "cannot read the start time of a child process");
  return {child, *start};
}

void fillStore(Store& store, const Config& config, const SelinuxHost& host,
               const StoreFill& fill) {
  if (fill.running > fill.guests)
    throw Error::invalidInput("cannot run " + std::to_string(fill.running) + " of " +
                              std::to_string(fill.guests) + " guests");
  if (fill.running > 0 && !fill.process)
    throw Error::invalidInput("running guests need a process");
  std::vector<std::string> drivers;
  for (const auto& model : config.securityDrivers) {
    if (model != "selinux" && model != "dac")
      throw Error::invalidInput("filling a store: driver " + model + " is not supported");
    drivers.push_back(model);
  }
  SelinuxDriver selinux(config.selinux, host);
  // The configured DAC space and its cursor (same key, "dac FIRST-LAST"),
  // without the NSS exclusion test.
  const AllocationSpace dacSpace = AllocationSpace::custom(
      IdentityKind::Dac, config.dac.range.format(),
      {{config.dac.range.first, config.dac.range.last}});
  std::mt19937_64 random{std::random_device{}()};
  const std::string hostName = localHostName();

  auto transaction = store.begin();
  for (uint64_t i = 0; i < fill.guests; ++i) {
    const std::string name = nameFor(fill.prefix, i);
    const std::string uuid = randomUuid(random);
    const Owner owner{uuid, name, hostName};
    RememberedResource original;
    if (!fill.diskDir.empty()) {
      original = makeRealDisk(fill.diskDir + "/" + name + ".qcow2");
    } else {
      original.dev = kFakeDev;
      original.ino = random() >> 2;  // distinct across fills, with overwhelming odds
      original.path = "/nonexistent/seclabel-fill/" + name + ".qcow2";
      original.mode = 0600;
    }
    Domain domain = parseDomainXml(domainXmlFor(name, uuid, original.path));
    for (const auto& model : drivers) {
      Seclabel& seclabel = *domain.seclabelFor(model);
      if (model == "selinux") {
        selinux.generateLabel(seclabel, store, owner);
        continue;
      }
      DacLabel label = dacLabelForIdentity(config.dac, store.allocate(dacSpace, owner));
      seclabel.label = label.format();
      seclabel.imagelabel = seclabel.label;
      if (!fill.diskDir.empty() && ::chown(original.path.c_str(), label.uid, label.gid) != 0)
        throw Error::fromErrno("cannot chown " + original.path, errno);
    }
    store.remember(original, uuid, ResourceUse::Exclusive);

    GuestRecord record;
    record.uuid = uuid;
    record.name = name;
    record.domainType = domain.type;
    record.host = hostName;
    record.drivers = drivers;
    record.liveXml = formatDomainXml(domain, XmlForm::Live);
    // `running` of `guests`, spread evenly: guest i runs when i * K / N steps up.
    const bool running =
        (i + 1) * fill.running / fill.guests != i * fill.running / fill.guests;
    if (running) {
      record.state = GuestState::Running;
      record.pid = fill.process->pid;
      record.pidStartTime = fill.process->startTime;
    }
    store.putGuest(record);
    // The payload secdriver/manager.cc gives the intent of a worker process.
    if (running && fill.supervised)
      store.recordIntent(uuid, IntentKind::Supervise,
                         "{\"pid\":" + std::to_string(fill.process->pid) +
                             ",\"start\":" + std::to_string(fill.process->startTime) + "}");
  }
  transaction->commit();
}

}  // namespace seclabel::bench
