// A real QEMU (TCG) under `seclabel run`: it runs as the guest's uid, answers
// QMP on a socket in a directory only that uid can write, reads its own
// qcow2 (opened through {disk:vda}), and that uid cannot open another
// prepared guest's image.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

constexpr char kQemu[] = "/usr/bin/qemu-system-x86_64";

// A line-oriented QMP client: one command, its one reply (events skipped).
class Qmp {
 public:
  explicit Qmp(const std::string& socketPath) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socketPath.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (connected_) greeting_ = nlohmann::json::parse(readLine());
  }
  ~Qmp() { ::close(fd_); }
  bool connected() const { return connected_; }
  const nlohmann::json& greeting() const { return greeting_; }

  nlohmann::json execute(const std::string& command, nlohmann::json arguments = nullptr) {
    nlohmann::json request = {{"execute", command}};
    if (!arguments.is_null()) request["arguments"] = arguments;
    std::string text = request.dump() + "\n";
    if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) return nullptr;
    for (;;) {
      std::string line = readLine();
      if (line.empty()) return nullptr;
      nlohmann::json reply = nlohmann::json::parse(line);
      if (!reply.contains("event")) return reply;
    }
  }

 private:
  std::string readLine() {
    std::string line;
    char c;
    while (::read(fd_, &c, 1) == 1) {
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }
  int fd_ = -1;
  bool connected_ = false;
  nlohmann::json greeting_;
};

class QemuGuest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed";
    writeConfig(config_, {});
  }
  Finished seclabel(const std::vector<std::string>& args) {
    return runSeclabel(config_, state_, args);
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
};

TEST_F(QemuGuest, RunsAsTheGuestUidAnswersQmpAndReadsOnlyItsOwnImage) {
  std::string imageA = dir_ / "a.qcow2", imageB = dir_ / "b.qcow2";
  std::string xmlA = dir_ / "a.xml", xmlB = dir_ / "b.xml";
  std::string uuidA = freshUuid(), uuidB = freshUuid();
  makeImage(imageA);
  makeImage(imageB);
  // A pattern in A's first 4 KiB, so the guest's read can be verified.
  Finished io = Child({"/usr/bin/qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 4096", imageA}).wait();
  ASSERT_EQ(io.code(), 0) << io.err;
  ASSERT_EQ(ownerOf(imageA).uid, 0u);
  writeDomain(xmlA, "qemu-a", uuidA, {{imageA, "vda"}});
  writeDomain(xmlB, "qemu-b", uuidB, {{imageB, "vda"}});

  // Prepare first to learn the uid, so the QMP directory can be made its own;
  // `run` then uses the prepared state.
  ASSERT_EQ(seclabel({"prepare", xmlA}).code(), 0);
  ASSERT_EQ(seclabel({"prepare", xmlB}).code(), 0);
  nlohmann::json guests = listGuests(config_, state_);
  auto [uidA, gidA] = dacIds(findGuest(guests, uuidA));
  auto [uidB, gidB] = dacIds(findGuest(guests, uuidB));
  ASSERT_NE(uidA, uidB);
  std::string qmpDir = dir_ / "qmp-a";
  ASSERT_EQ(::mkdir(qmpDir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(qmpDir.c_str(), uidA, gidA), 0);
  std::string qmpSocket = qmpDir + "/qmp.sock";

  std::string qemuOut = dir_ / "qemu.out";
  Child run(seclabelArgv(config_, state_,
                         {"run", xmlA, "--", kQemu, "-accel", "tcg", "-machine", "q35",
                          "-nodefaults", "-display", "none", "-m", "64", "-S",
                          "-drive", "file={disk:vda},format=qcow2,if=none,id=d0",
                          "-qmp", "unix:" + qmpSocket + ",server=on,wait=off"}),
            stdoutTo(qemuOut));

  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(qmpSocket) || !processExists(run.pid()); },
                         30000));
  ASSERT_TRUE(std::filesystem::exists(qmpSocket)) << "QEMU did not come up: " << run.wait().err;
  nlohmann::json a;
  ASSERT_TRUE(eventually([&] {
    a = findGuest(listGuests(config_, state_), uuidA);
    return !a.is_null() && a["state"] == "running";
  }));
  pid_t qemuPid = a["pid"].get<pid_t>();

  // The kernel's view of the QEMU process.
  std::string status = readFile("/proc/" + std::to_string(qemuPid) + "/status");
  std::string u = std::to_string(uidA), g = std::to_string(gidA);
  EXPECT_EQ(statusField(status, "Uid"), u + " " + u + " " + u + " " + u);
  EXPECT_EQ(statusField(status, "Gid"), g + " " + g + " " + g + " " + g);
  EXPECT_EQ(statusField(status, "Groups"), "");
  EXPECT_EQ(statusField(status, "CapEff"), "0000000000000000");
  EXPECT_EQ(statusField(status, "NoNewPrivs"), "1");
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(qemuPid) + "/exe"), kQemu);
  EXPECT_EQ(ownerOf(qmpSocket).uid, uidA) << "QEMU created its socket as the guest uid";

  Qmp qmp(qmpSocket);
  ASSERT_TRUE(qmp.connected());
  EXPECT_TRUE(qmp.greeting().contains("QMP")) << qmp.greeting().dump();
  EXPECT_EQ(qmp.execute("qmp_capabilities"), (nlohmann::json{{"return", nlohmann::json::object()}}));
  nlohmann::json blocks = qmp.execute("query-block");
  ASSERT_TRUE(blocks.contains("return")) << blocks.dump();
  const nlohmann::json* d0 = nullptr;
  for (const auto& b : blocks["return"])
    if (b.value("device", "") == "d0") d0 = &b;
  ASSERT_NE(d0, nullptr) << blocks.dump();
  const auto& image = (*d0)["inserted"]["image"];
  EXPECT_EQ(image["filename"], imageA);
  EXPECT_EQ(image["format"], "qcow2");
  EXPECT_EQ(image["virtual-size"], 1048576);

  // Reads through the guest's own open image: the pattern verifies, and a
  // wrong pattern is reported (so the check can fail).
  for (const char* cmd : {"qemu-io d0 \"read -P 0x5a 0 4096\"", "qemu-io d0 \"read -P 0x5b 0 4096\""}) {
    nlohmann::json r = qmp.execute("human-monitor-command", {{"command-line", cmd}});
    EXPECT_TRUE(r.contains("return")) << r.dump();
  }
  ASSERT_TRUE(eventually([&] {
    std::string out = readFile(qemuOut);
    return out.find("read 4096/4096 bytes at offset 0") != std::string::npos &&
           out.find("Pattern verification failed") != std::string::npos;
  })) << readFile(qemuOut);
  std::string out = readFile(qemuOut);
  EXPECT_LT(out.find("read 4096/4096 bytes at offset 0"), out.find("Pattern verification failed"))
      << "the right pattern read back first: " << out;

  // As A's uid: A's image opens, B's (prepared for B) does not.
  EXPECT_EQ(openErrnoAs(uidA, gidA, imageA, O_RDWR), 0);
  EXPECT_EQ(openErrnoAs(uidA, gidA, imageB, O_RDONLY), EACCES);
  EXPECT_EQ(openErrnoAs(uidB, gidB, imageB, O_RDWR), 0) << "B's own uid can";

  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  Finished f = run.wait();
  EXPECT_EQ(f.code(), 0) << "QEMU exits 0 on SIGTERM: " << f.err;
  EXPECT_FALSE(processExists(qemuPid));
  Owner o = ownerOf(imageA);
  EXPECT_EQ(o.uid, 0u);
  EXPECT_EQ(o.gid, 0u);
  EXPECT_EQ(o.mode, 0600u);
  guests = listGuests(config_, state_);
  EXPECT_TRUE(findGuest(guests, uuidA).is_null());
  EXPECT_FALSE(findGuest(guests, uuidB).is_null()) << "B stays prepared";

  EXPECT_EQ(seclabel({"restore", uuidB}).code(), 0);
  EXPECT_EQ(ownerOf(imageB).uid, 0u);
  EXPECT_TRUE(listGuests(config_, state_).empty());
}

}  // namespace
}  // namespace seclabel::e2e
