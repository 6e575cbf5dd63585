// Parity with the real qemu-bridge-helper: over a table of ACL files and
// bridge names, seclabel's BridgeAcl decides exactly as the helper does.
// The helper reads only /etc/qemu/bridge.conf, so this test writes that file
// (under /run/seclabel-bridgeconf.lock and CTest's RESOURCE_LOCK bridgeconf)
// and puts back what was there. The helper runs in the test's own network
// namespace where the bridges exist: `--fd=N --br=NAME`, and the tap fd
// comes back over the socketpair (SCM_RIGHTS) exactly when it allows.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "net/bridge_acl.h"
#include "tests/net/netns.h"

namespace seclabel {
namespace {

using namespace seclabel::testing;

constexpr const char* kHelper = "/usr/lib/qemu/qemu-bridge-helper";
constexpr const char* kConfDir = "/etc/qemu";
constexpr const char* kConf = "/etc/qemu/bridge.conf";
constexpr const char* kIncludeDir = "/run/seclabel-bridge-parity";
const std::vector<std::string> kBridges{"br0", "br1", "virbr0", "br-long-name-15"};

struct AclCase {
  std::string name;
  std::optional<std::string> text;  // nullopt: no bridge.conf at all
  std::map<std::string, std::string> includes;  // file name under kIncludeDir -> text
};

std::string inc(const std::string& file) { return std::string(kIncludeDir) + "/" + file; }

const std::vector<AclCase>& parityTable() {
  static const std::vector<AclCase> table{
      {"no file", std::nullopt, {}},
      {"empty file", "", {}},
      {"comments and blank lines only", "# allow all\n\n   \n\t# allow br0\n", {}},
      {"allow one", "allow br0\n", {}},
      {"allow all", "allow all\n", {}},
      {"allow all but deny one", "allow all\ndeny br1\n", {}},
      {"deny all wins over allow", "deny all\nallow br0\n", {}},
      {"deny before allow of the same", "deny br0\nallow br0\nallow virbr0\n", {}},
      {"spaces, tabs, CRLF", "   allow   virbr0   \r\n\tallow\tbr1\r\n", {}},
      {"tab then trailing space spoils the file", "allow br0\n   allow\tvirbr0   \r\n", {}},
      {"no final newline", "allow br1", {}},
      {"fifteen-byte name", "allow br-long-name-15\n", {}},
      {"sixteen-byte name spoils the file", "allow br0\nallow br-long-name-16\n", {}},
      {"unknown keyword spoils the file", "allow br0\npermit br1\n", {}},
      {"keyword without argument spoils the file", "allow br0\nallow\n", {}},
      {"tab then space: keyword is 'allow\\tbr0'", "allow br1\nallow\tbr0 x\n", {}},
      {"include adds rules", "allow br0\ninclude " + inc("one.conf") + "\n",
       {{"one.conf", "allow br1\n"}}},
      {"include's deny applies", "allow all\ninclude " + inc("deny.conf") + "\n",
       {{"deny.conf", "deny virbr0\n"}}},
      {"missing include is skipped", "include " + inc("absent.conf") + "\nallow virbr0\n", {}},
      {"nested includes",
       "include " + inc("level1.conf") + "\n",
       {{"level1.conf", "include " + inc("level2.conf") + "\nallow br0\n"},
        {"level2.conf", "allow br-long-name-15\ndeny br0\n"}}},
  };
  return table;
}

// Files on which seclabel is deliberately stricter: the helper allows some
// bridge that seclabel refuses (docs/network.md, "Bridge ACL").
const std::vector<AclCase>& stricterTable() {
  static const std::vector<AclCase> table{
      {"error in an included file drops only the rest of it",
       "include " + inc("bad.conf") + "\n",
       {{"bad.conf", "allow all\nbogus br0\ndeny br0\n"}}},
      {"deny for a name no interface can have", "allow all\ndeny br0 #x\n", {}},
  };
  return table;
}

enum class Decision { Allowed, Refused };
const char* toString(Decision d) { return d == Decision::Allowed ? "allowed" : "refused"; }

// Runs the helper for `bridge`; Allowed when it exits 0 and the tap fd
// arrives. Any failure that is not the ACL's is a test failure.
Decision helperDecides(const std::string& bridge) {
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  int errPipe[2];
  EXPECT_EQ(::pipe2(errPipe, O_CLOEXEC), 0);
  std::string fdArg = "--fd=3", brArg = "--br=" + bridge;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pair[1], 3);  // dup2 clears CLOEXEC on the copy
    ::dup2(errPipe[1], 2);
    ::execl(kHelper, kHelper, fdArg.c_str(), brArg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pair[1]);
  ::close(errPipe[1]);

  char data = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&data, 1};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t got = ::recvmsg(pair[0], &message, MSG_CMSG_CLOEXEC);
  int tapFd = -1;
  if (got > 0)
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&tapFd, CMSG_DATA(c), sizeof tapFd);
  std::string stderrText;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(errPipe[0], buffer, sizeof buffer)) > 0) stderrText.append(buffer, n);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pair[0]);
  ::close(errPipe[0]);
  bool exitedOk = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (tapFd >= 0) {
    ::close(tapFd);  // the helper's tap is not persistent: it goes now
    EXPECT_TRUE(exitedOk) << "fd received but the helper failed: " << stderrText;
    return Decision::Allowed;
  }
  EXPECT_FALSE(exitedOk) << "the helper succeeded without sending an fd";
  bool aclRefusal = stderrText.find("access denied by acl file") != std::string::npos ||
                    stderrText.find("failed to parse default acl file") != std::string::npos;
  EXPECT_TRUE(aclRefusal) << "the helper failed for another reason than its ACL: " << stderrText;
  return Decision::Refused;
}

Decision seclabelDecides(const std::string& bridge) {
  try {
    BridgeAcl acl = BridgeAcl::load(kConf);
    return acl.decide(InterfaceName::parse(bridge)) == BridgeAclVerdict::Allowed ? Decision::Allowed
                                                                              : Decision::Refused;
  } catch (const Error& e) {
    EXPECT_EQ(e.exitCode(), 2) << e.what();
    return Decision::Refused;
  }
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  ::chmod(path.c_str(), 0644);
}

class BridgeHelperParity : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = netnsUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    if (::access(kHelper, X_OK) != 0)
      GTEST_SKIP() << kHelper << " is not installed (qemu-system-common)";
    // Other build trees run this test too: the file is the host's.
    lock_ = ::open("/run/seclabel-bridgeconf.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(lock_, 0);
    ASSERT_EQ(::flock(lock_, LOCK_EX), 0);
    struct stat st;
    hadDir_ = ::stat(kConfDir, &st) == 0;
    if (!hadDir_) {
      ASSERT_EQ(::mkdir(kConfDir, 0755), 0);
    }
    std::ifstream in(kConf);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      saved_ = text.str();
      ::stat(kConf, &st);
      savedMode_ = st.st_mode & 07777;
    }
    std::system((std::string("rm -rf ") + kIncludeDir).c_str());
    ASSERT_EQ(::mkdir(kIncludeDir, 0755), 0);
  }
  void TearDown() override {
    if (lock_ < 0) return;
    std::system((std::string("rm -rf ") + kIncludeDir).c_str());
    if (saved_) {
      writeFile(kConf, *saved_);
      ::chmod(kConf, savedMode_);
    } else {
      ::unlink(kConf);
    }
    if (!hadDir_) ::rmdir(kConfDir);
    ::close(lock_);
  }

  // Installs `acl` as the host's ACL, then compares every bridge.
  static void install(const AclCase& acl) {
    if (acl.text) writeFile(kConf, *acl.text);
    else ::unlink(kConf);
    for (const auto& [file, text] : acl.includes) writeFile(inc(file), text);
  }

  int lock_ = -1;
  bool hadDir_ = false;
  std::optional<std::string> saved_;
  mode_t savedMode_ = 0644;
};

TEST_F(BridgeHelperParity, SeclabelDecidesAsTheHelperForEveryFileAndBridge) {
  runInFreshNetns([] {
    std::string bridges;
    for (const std::string& b : kBridges) bridges += "ip link add " + b + " type bridge && ";
    ASSERT_TRUE(shell(bridges + "true"));
    int rows = 0, allowed = 0;
    for (const AclCase& acl : parityTable()) {
      install(acl);
      for (const std::string& bridge : kBridges) {
        SCOPED_TRACE("ACL \"" + acl.name + "\", bridge " + bridge);
        Decision helper = helperDecides(bridge);
        Decision ours = seclabelDecides(bridge);
        EXPECT_EQ(toString(ours), std::string(toString(helper)));
        ++rows;
        allowed += helper == Decision::Allowed;
      }
      for (const auto& [file, text] : acl.includes) ::unlink(inc(file).c_str());
    }
    // The table exercises both answers, many times.
    EXPECT_GE(rows, 12 * 4);
    EXPECT_GE(allowed, 10);
    EXPECT_GE(rows - allowed, 10);
  });
}

TEST_F(BridgeHelperParity, WhereTheHelperWidensAccessOnAMalformedFileSeclabelRefuses) {
  runInFreshNetns([] {
    ASSERT_TRUE(shell("ip link add br0 type bridge && ip link add br1 type bridge"));
    for (const AclCase& acl : stricterTable()) {
      install(acl);
      SCOPED_TRACE("ACL \"" + acl.name + "\"");
      EXPECT_EQ(toString(helperDecides("br0")), std::string("allowed"));
      EXPECT_EQ(toString(seclabelDecides("br0")), std::string("refused"));
      for (const auto& [file, text] : acl.includes) ::unlink(inc(file).c_str());
    }
  });
}

}  // namespace
}  // namespace seclabel
