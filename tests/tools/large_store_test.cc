// A store of 100,000 guests: every command works, and the commands whose
// cost must not depend on the store's size (prepare, restore, exec, run,
// dominfo, a broker lookup, and the recover pass each mutating command
// starts with) stay cheap.
//
// The store is filled through the library in one transaction
// (bench/scale/store_fill.cc: what a prepare of a one-disk guest with both
// drivers leaves behind), on tmpfs so that the test waits for no disk. Of
// the guests, 100 run as a live process (this test) and 10 ran in a process
// that is gone (their disks real files, so their restore succeeds). Then the
// built `seclabel` runs each command against it.
//
// "Cheap" is checked on CPU time (user + system of the command, from
// wait4), which a loaded host disturbs much less than wall time: each of
// those commands costs a few milliseconds whatever the store holds (about
// 4 s each on this store when the recover pass of every command listed
// every guest); the bound, 500 ms, only catches a cost that grows with the
// store again. `list` and `recover` are linear by nature: they only have to
// work (and the suite's timeout bounds them).
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "alloc/store.h"
#include "bench/scale/store_fill.h"
#include "core/config.h"
#include "launcher/session.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

constexpr uint64_t kGuests = 100000;
constexpr uint64_t kRunningAlive = 100;
constexpr uint64_t kRunningDead = 10;
constexpr double kCheapCpuMs = 500;

double childrenCpuMs() {
  struct rusage usage {};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

// A directory on tmpfs, removed with everything in it.
class ShmDir {
 public:
  ShmDir() {
    char pattern[] = "/dev/shm/seclabel-large-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    ::chmod(path_.c_str(), 0755);  // guest identities reach their disks
  }
  ~ShmDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// One request to a `seclabel broker`: open GUEST's DISK read-write. Returns
// the reply; `fdReceived` tells whether a descriptor came with it.
std::string brokerOpen(const std::string& socketPath, const std::string& guest,
                       const std::string& disk, bool& fdReceived) {
  fdReceived = false;
  int sock = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0) return "socket failed";
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socketPath.c_str(), sizeof address.sun_path - 1);
  if (::connect(sock, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0) {
    ::close(sock);
    return std::string("connect failed: ") + std::strerror(errno);
  }
  const std::string request =
      R"({"op": "open", "guest": ")" + guest + R"(", "disk": ")" + disk + R"(", "access": "rw"})";
  ::send(sock, request.data(), request.size(), 0);
  char buffer[16384];
  char control[CMSG_SPACE(4 * sizeof(int))];
  struct iovec iov {buffer, sizeof buffer};
  struct msghdr message {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t got = ::recvmsg(sock, &message, MSG_CMSG_CLOEXEC);
  ::close(sock);
  if (got < 0) return "recvmsg failed";
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      ::close(fd);
      fdReceived = true;
    }
  }
  return std::string(buffer, size_t(got));
}

size_t countOf(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST(LargeStore, EveryCommandWorksWithAHundredThousandGuests) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: prepare chowns the disks, run switches uid";
  ShmDir dir;
  const std::string config = dir / "seclabel.toml";
  const std::string state = dir / "state";
  ConfigOptions options;
  options.dacRange = "1879048192-1879310335";  // room for every guest
  writeConfig(config, options);
  std::filesystem::create_directory(dir / "dead-disks");

  const auto fillStart = std::chrono::steady_clock::now();
  {
    auto host = makeSystemSelinuxHost();
    Config parsed = Config::load(config, false, host->enabled());
    auto store = openSqliteStore(state);
    bench::StoreFill fill;
    fill.guests = kGuests;
    fill.running = kRunningAlive;
    fill.process = bench::GuestProcess::live(::getpid());
    fill.supervised = true;
    bench::fillStore(*store, parsed, *host, fill);
    bench::StoreFill dead;
    dead.prefix = "dead-";
    dead.diskDir = dir / "dead-disks";
    dead.guests = dead.running = kRunningDead;
    dead.process = bench::GuestProcess::dead();
    bench::fillStore(*store, parsed, *host, dead);
  }
  std::cout << "filled " << kGuests + kRunningDead << " guests in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - fillStart).count()
            << " s\n";

  struct Timed {
    Finished finished;
    double cpuMs;
  };
  auto seclabel = [&](const std::vector<std::string>& args) {
    double before = childrenCpuMs();
    Finished finished = runSeclabel(config, state, args);
    double cpuMs = childrenCpuMs() - before;
    std::string line;
    for (const auto& arg : args) line += arg + " ";
    std::cout << "seclabel " << line << ": exit " << finished.code() << ", " << cpuMs
              << " ms CPU\n";
    return Timed{finished, cpuMs};
  };
  auto expectCheap = [&](const Timed& timed, const std::string& what) {
    EXPECT_EQ(timed.finished.code(), 0) << what << ": " << timed.finished.err;
    EXPECT_LT(timed.cpuMs, kCheapCpuMs) << what << " costs in proportion to the store again";
  };
  auto domain = [&](const std::string& name, const std::string& uuid) {
    std::string image = dir / (name + ".qcow2");
    makeImage(image);
    std::string xml = dir / (name + ".xml");
    writeDomain(xml, name, uuid, {{image, "vda"}});
    return std::make_pair(xml, image);
  };

  // prepare, dominfo, a broker lookup, restore.
  const std::string probeUuid = freshUuid();
  auto [probeXml, probeImage] = domain("probe", probeUuid);
  Timed prepared = seclabel({"prepare", probeXml});
  expectCheap(prepared, "prepare");
  EXPECT_EQ(prepared.finished.err.find("recover:"), std::string::npos)
      << "the recover pass of a command restored running guests: " << prepared.finished.err;
  const uid_t probeUid = ownerOf(probeImage).uid;
  EXPECT_GE(probeUid, 1879048192u);

  Timed info = seclabel({"dominfo", "probe"});
  expectCheap(info, "dominfo");
  EXPECT_NE(info.finished.out.find(probeUuid), std::string::npos) << info.finished.out;

  {
    const std::string socketPath = dir / "broker.sock";
    Child broker(seclabelArgv(config, state, {"broker", "--socket", socketPath}));
    ASSERT_TRUE(eventually([&] {
      struct stat status {};
      return ::stat(socketPath.c_str(), &status) == 0 && S_ISSOCK(status.st_mode);
    })) << broker.wait(1000).err;
    bool fdReceived = false;
    std::string reply = brokerOpen(socketPath, "probe", "vda", fdReceived);
    auto parsed = nlohmann::json::parse(reply, nullptr, false);
    EXPECT_TRUE(parsed.is_object() && parsed.value("ok", false)) << reply;
    EXPECT_TRUE(fdReceived) << reply;
    ::kill(broker.pid(), SIGTERM);
    broker.wait(10000);
  }

  Timed restored = seclabel({"restore", "probe"});
  expectCheap(restored, "restore");
  EXPECT_EQ(ownerOf(probeImage).uid, 0u);

  // exec (the guest is this command's process; it stays recorded), then
  // its restore; run.
  auto [execXml, execImage] = domain("exec-guest", freshUuid());
  expectCheap(seclabel({"exec", execXml, "--", "/bin/true"}), "exec");
  expectCheap(seclabel({"restore", "exec-guest"}), "restore after exec");
  EXPECT_EQ(ownerOf(execImage).uid, 0u);
  auto [runXml, runImage] = domain("run-guest", freshUuid());
  expectCheap(seclabel({"run", runXml, "--", "/bin/true"}), "run");
  EXPECT_EQ(ownerOf(runImage).uid, 0u);

  // Linear by nature: they only have to work.
  Timed listed = seclabel({"list"});
  EXPECT_EQ(listed.finished.code(), 0) << listed.finished.err;
  EXPECT_EQ(countOf(listed.finished.out, "\n"), 1 + kGuests + kRunningDead);
  Timed json = seclabel({"list", "--json"});
  EXPECT_EQ(json.finished.code(), 0) << json.finished.err;
  EXPECT_EQ(countOf(json.finished.out, "\"uuid\": "), kGuests + kRunningDead);
  EXPECT_EQ(json.finished.out.rfind("[\n", 0), 0u);
  EXPECT_EQ(json.finished.out.substr(json.finished.out.size() - 3), "\n]\n");

  // The guests whose process is gone are restored by recover, the live
  // ones are left alone.
  Timed recovered = seclabel({"recover"});
  EXPECT_EQ(recovered.finished.code(), 0) << recovered.finished.err;
  EXPECT_EQ(countOf(recovered.finished.out, "restored guest dead-"), kRunningDead)
      << recovered.finished.out;
  EXPECT_EQ(countOf(recovered.finished.out, "restored guest fill-"), 0u);
  for (const auto& entry : std::filesystem::directory_iterator(dir / "dead-disks"))
    EXPECT_EQ(ownerOf(entry.path()).uid, 0u) << entry.path();
  Timed gone = seclabel({"dominfo", "dead-000000"});
  EXPECT_EQ(gone.finished.code(), 2) << gone.finished.err;
  EXPECT_NE(gone.finished.err.find("no such guest: dead-000000"), std::string::npos)
      << gone.finished.err;
  EXPECT_EQ(countOf(listed.finished.out, " running "), kRunningAlive + kRunningDead);
  Timed alive = seclabel({"dominfo", "fill-000999"});  // one of the running ones
  EXPECT_EQ(alive.finished.code(), 0) << alive.finished.err;
  EXPECT_NE(alive.finished.out.find("State:          running"), std::string::npos)
      << alive.finished.out;
}

}  // namespace
}  // namespace seclabel::e2e
