// Hostile and malformed command lines: each gets exactly one error line on
// stderr ("seclabel: ..."), the documented exit code, and changes nothing on
// disk (the state directory is not even created).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/core/hostile_files.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

struct BadInvocation {
  const char* name;
  std::vector<std::string> args;  // after --config/--state-dir
  int exitCode;
  const char* messagePart;
};

int lineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class CliInput : public ::testing::TestWithParam<BadInvocation> {
 protected:
  void SetUp() override {
    writeConfig(dir_ / "seclabel.toml", {});
    std::ofstream(dir_ / "bad.xml") << "<domain type='kvm'><name>x</name><seclabel type='static'/>";
    std::ofstream(dir_ / "notdomain.xml") << "<network><name>x</name></network>";
    std::ofstream(dir_ / "bad.toml") << "fdpass = \"sometimes\"\n";
    std::ofstream(dir_ / "good.xml")
        << "<domain type='kvm'><name>cli-input</name><uuid>00000000-0000-4000-8000-00000000c11e</uuid></domain>";
    std::ofstream(dir_ / "network-interface.xml")
        << "<domain type='kvm'><name>x</name><devices><interface type='bridge'><source bridge='br0'/>"
           "</interface><interface type='network'><source network='default'/></interface></devices></domain>";
    std::ofstream(dir_ / "multicast-mac.xml")
        << "<domain type='kvm'><name>x</name><devices><interface type='bridge'><source bridge='br0'/>"
           "<mac address='01:00:5e:00:00:01'/></interface></devices></domain>";
    std::ofstream(dir_ / "one.exp") << "allow a_u:a_r:a_t:s0 a_u:a_r:a_t:s0 file read\n";
    std::ofstream(dir_ / "policy") << "not a policy";
    // Hostile files: FIFOs (a reader would block forever), files beyond
    // the limits (sparse: no disk used), configs others can change.
    for (const char* fifo : {"fifo.xml", "fifo.toml", "fifo.exp", "fifo.pol"})
      ::mkfifo((dir_ / fifo).c_str(), 0644);
    seclabel::testing::sparseFile(dir_ / "huge.xml", off_t(1) << 30);
    seclabel::testing::sparseFile(dir_ / "huge.toml", off_t(1) << 30);
    writeConfig(dir_ / "writable.toml", {});
    ::chmod((dir_ / "writable.toml").c_str(), 0666);
    writeConfig(dir_ / "theirs.toml", {});
    ::chown((dir_ / "theirs.toml").c_str(), 65534, 65534);
    ::mkdir((dir_ / "open").c_str(), 0777);
    ::chmod((dir_ / "open").c_str(), 0777);
    writeConfig(dir_ / "open/seclabel.toml", {});
  }
  // Arguments name files by placeholder: {dir} is the test's directory.
  std::vector<std::string> expand(const std::vector<std::string>& args) const {
    std::vector<std::string> out;
    for (std::string a : args) {
      for (auto at = a.find("{dir}"); at != std::string::npos; at = a.find("{dir}"))
        a.replace(at, 5, dir_.path());
      out.push_back(a);
    }
    return out;
  }
  TempDir dir_;
};

TEST_P(CliInput, FailsWithOneClearLineTheDocumentedCodeAndTouchesNothing) {
  const BadInvocation& bad = GetParam();
  const std::string state = dir_ / "state";
  // A case that names its own --config runs without the fixture's one
  // (giving --config twice is itself an error).
  std::vector<std::string> args = expand(bad.args);
  Finished done;
  if (!args.empty() && args[0] == "--config") {
    std::vector<std::string> argv{seclabelBinary(), "--state-dir", state};
    argv.insert(argv.end(), args.begin(), args.end());
    done = Child(argv).wait();
  } else {
    done = runSeclabel(dir_ / "seclabel.toml", state, args);
  }
  EXPECT_EQ(done.code(), bad.exitCode) << done.err;
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_EQ(done.err.rfind("seclabel: ", 0), 0u) << done.err;
  EXPECT_NE(done.err.find(bad.messagePart), std::string::npos) << done.err;
  EXPECT_TRUE(done.out.empty()) << done.out;
  EXPECT_FALSE(exists(state)) << "the state directory was created by a failed command";
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, CliInput,
    ::testing::Values(
        BadInvocation{"NoCommand", {}, 2, "A subcommand is required"},
        BadInvocation{"UnknownOption", {"--frobnicate", "list"}, 2, "--frobnicate"},
        BadInvocation{"UnknownCommand", {"prepar", "{dir}/good.xml"}, 2, "unknown command 'prepar'"},
        BadInvocation{"ConfigGivenTwice", {"--config", "{dir}/seclabel.toml", "--config", "{dir}/seclabel.toml", "list"}, 2,
                      "--config"},
        BadInvocation{"ValidateWithoutFile", {"validate"}, 2, "domain is required"},
        BadInvocation{"ValidateMissingFile", {"validate", "{dir}/absent.xml"}, 2, "No such file"},
        BadInvocation{"ValidateDirectory", {"validate", "{dir}"}, 2, "is not a regular file"},
        BadInvocation{"ValidateEndlessFile", {"validate", "/dev/zero"}, 2, "is not a regular file"},
        BadInvocation{"ValidateFifo", {"validate", "{dir}/fifo.xml"}, 2, "is not a regular file"},
        BadInvocation{"PrepareFifo", {"prepare", "{dir}/fifo.xml"}, 2, "is not a regular file"},
        BadInvocation{"ValidateLargerThanTheLimit", {"validate", "{dir}/huge.xml"}, 2,
                      "is larger than 16777216 bytes"},
        BadInvocation{"ConfigFifo", {"--config", "{dir}/fifo.toml", "list"}, 2, "is not a regular file"},
        BadInvocation{"ConfigDevZero", {"--config", "/dev/zero", "list"}, 2, "is not a regular file"},
        BadInvocation{"ConfigLargerThan1MiB", {"--config", "{dir}/huge.toml", "list"}, 2,
                      "is larger than 1048576 bytes"},
        BadInvocation{"ConfigOthersCanWrite", {"--config", "{dir}/writable.toml", "list"}, 4,
                      "writable by group or others"},
        BadInvocation{"ConfigOwnedByAnotherUser", {"--config", "{dir}/theirs.toml", "list"}, 4,
                      "is owned by uid 65534"},
        BadInvocation{"ConfigInADirectoryOthersCanWrite", {"--config", "{dir}/open/seclabel.toml", "list"}, 4,
                      "writable by group or others"},
        BadInvocation{"PolicyCheckFifoExpectations", {"policy", "check", "{dir}/policy", "{dir}/fifo.exp"}, 2,
                      "is not a regular file"},
        BadInvocation{"PolicyCheckEndlessExpectations", {"policy", "check", "{dir}/policy", "/dev/zero"}, 2,
                      "is not a regular file"},
        BadInvocation{"PolicyCheckFifoPolicy", {"policy", "check", "{dir}/fifo.pol", "{dir}/one.exp"}, 2,
                      "is not a regular file"},
        BadInvocation{"ValidateMalformedXml", {"validate", "{dir}/bad.xml"}, 2, "bad.xml"},
        BadInvocation{"ValidateNotADomain", {"validate", "{dir}/notdomain.xml"}, 2, "notdomain.xml"},
        BadInvocation{"ValidateInterfaceTypePrepareRefuses", {"validate", "{dir}/network-interface.xml"}, 2,
                      "/domain/devices/interface[2]: interface type 'network' is not supported"},
        BadInvocation{"ValidateMulticastMac", {"validate", "{dir}/multicast-mac.xml"}, 2,
                      "expected unicast mac address, found multicast '01:00:5e:00:00:01'"},
        BadInvocation{"BadConfigValue", {"--config", "{dir}/bad.toml", "validate", "{dir}/good.xml"}, 2,
                      "fdpass: invalid value 'sometimes'"},
        BadInvocation{"MissingNamedConfig", {"--config", "{dir}/absent.toml", "list"}, 2,
                      "cannot read config"},
        BadInvocation{"PrepareMalformedXml", {"prepare", "{dir}/bad.xml"}, 2, "bad.xml"},
        BadInvocation{"PrepareMissingFile", {"prepare", "{dir}/absent.xml"}, 2, "No such file"},
        BadInvocation{"RestoreWithoutGuest", {"restore"}, 2, "guest is required"},
        BadInvocation{"DominfoTwoGuests", {"dominfo", "a", "b"}, 2, "not expected: b"},
        BadInvocation{"ListExtraArgument", {"list", "--json", "extra"}, 2, "not expected: extra"},
        BadInvocation{"ExecWithoutCommand", {"exec", "{dir}/good.xml"}, 2, "command is required"},
        BadInvocation{"ExecNegativeKeepFd", {"exec", "--keep-fd", "-1", "{dir}/good.xml", "--", "true"}, 2,
                      "--keep-fd"},
        BadInvocation{"ExecStdioKeepFd", {"exec", "--keep-fd", "1", "{dir}/good.xml", "--", "true"}, 2,
                      "--keep-fd"},
        BadInvocation{"ExecMalformedXml", {"exec", "{dir}/bad.xml", "--", "true"}, 2, "bad.xml"},
        BadInvocation{"ExecKeepFdNotOpen", {"exec", "--keep-fd", "4000", "{dir}/good.xml", "--", "true"},
                      2, "--keep-fd 4000: fd 4000 is not open"},
        BadInvocation{"RunEnvWithoutEquals", {"run", "--env", "NOVALUE", "{dir}/good.xml", "--", "true"}, 2,
                      "invalid environment entry 'NOVALUE': expected NAME=VALUE"},
        BadInvocation{"RunEnvEmptyName", {"run", "--env", "=value", "{dir}/good.xml", "--", "true"}, 2,
                      "invalid environment entry '=value': the name is empty"},
        BadInvocation{"ExecEnvEqualsOnly", {"exec", "--env", "=", "{dir}/good.xml", "--", "true"}, 2,
                      "the name is empty"},
        BadInvocation{"RunEnvNameWithSpace", {"run", "--env", "A B=c", "{dir}/good.xml", "--", "true"}, 2,
                      "a name holds only letters, digits and '_'"},
        BadInvocation{"RunEnvNameStartsWithDigit", {"run", "--env", "1A=c", "{dir}/good.xml", "--", "true"},
                      2, "a name starts with a letter or '_'"},
        BadInvocation{"RunEnvNewlineInName", {"run", "--env", "A\nB=c", "{dir}/good.xml", "--", "true"}, 2,
                      "'A\\x0aB=c'"},
        BadInvocation{"RunEnvWithoutValueArgument", {"run", "{dir}/good.xml", "--env"}, 2, "--env"},
        BadInvocation{"RunMissingCommand", {"run", "{dir}/good.xml", "--", "/nonexistent/cmd"}, 127,
                      "/nonexistent/cmd"},
        BadInvocation{"PolicyWithoutSubcommand", {"policy"}, 2, "A subcommand is required"},
        BadInvocation{"PolicyCheckMissingFiles", {"policy", "check", "{dir}/absent.pol", "{dir}/absent.exp"}, 2,
                      "absent"},
        BadInvocation{"BrokerRemoveFdNegative", {"broker", "remove-fd", "--qmp", "{dir}/q", "-3"}, 2,
                      "fdset"}),
    [](const ::testing::TestParamInfo<BadInvocation>& info) { return std::string(info.param.name); });

TEST(CliInputState, AStateDirThatIsAFileIsRefusedAndLeftAlone) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  std::ofstream(dir / "state") << "not a directory\n";
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"list"});
  EXPECT_EQ(done.code(), 1) << done.err;
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_NE(done.err.find("is not a directory"), std::string::npos) << done.err;
  std::ifstream in(dir / "state");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "not a directory\n");
}

// The state directory is walked from / by fd (docs/store.md): a symlink is
// refused with the documented code, 4, not followed (it was exit 1).
TEST(CliInputState, AStateDirThatIsASymlinkIsDeniedWithExit4) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  ::mkdir((dir / "real").c_str(), 0700);
  ::symlink((dir / "real").c_str(), (dir / "state").c_str());
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"list"});
  EXPECT_EQ(done.code(), 4) << done.err;
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_NE(done.err.find("is a symbolic link"), std::string::npos) << done.err;
  EXPECT_FALSE(exists(dir / "real/state.db"));
}

// The attack of the hardening issue: the owner of a parent of the state
// directory points it at a store of their own; root's recover must not load
// it.
TEST(CliInputState, AStateDirUnderAnotherUsersDirectoryIsDenied) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  ::mkdir((dir / "theirs").c_str(), 0755);
  ::chown((dir / "theirs").c_str(), 65534, 65534);
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "theirs/state", {"recover"});
  EXPECT_EQ(done.code(), 4) << done.err;
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_NE(done.err.find("is owned by uid 65534"), std::string::npos) << done.err;
  EXPECT_FALSE(exists(dir / "theirs/state"));
}

TEST(CliInputState, AnEmptyStateDatabaseIsDamageNotANewStore) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  ::mkdir((dir / "state").c_str(), 0700);
  { std::ofstream create(dir / "state/state.db"); }
  ::chmod((dir / "state/state.db").c_str(), 0600);
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"recover"});
  EXPECT_EQ(done.code(), 1) << done.err;
  EXPECT_EQ(lineCount(done.err), 1) << done.err;
  EXPECT_NE(done.err.find("is empty (0 bytes)"), std::string::npos) << done.err;
  struct stat st;
  ASSERT_EQ(::stat((dir / "state/state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0) << "left as found, for whoever restores it";
}

TEST(CliInputState, ValidateOfAGoodDomainPrintsOneLinePerDriverAndNeedsNoStore) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  std::ofstream(dir / "good.xml")
      << "<domain type='kvm'><name>v</name><seclabel type='none' model='selinux'/></domain>";
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"validate", dir / "good.xml"});
  EXPECT_EQ(done.code(), 0) << done.err;
  EXPECT_EQ(done.out,
            "model=selinux type=none relabel=no\n"
            "model=dac type=dynamic relabel=yes\n");
  EXPECT_FALSE(exists(dir / "state"));
}

TEST(CliInputState, ValidateOfADomainWithInterfacesPrintsTheSameLines) {
  // Nothing about interfaces on stdout: their alias and MAC are chosen at
  // prepare, so validate could only guess them.
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  std::ofstream(dir / "good.xml")
      << "<domain type='kvm'><name>v</name><devices><interface type='bridge'><source bridge='br0'/>"
         "</interface><interface type='ethernet'><target dev='tap7' managed='no'/></interface>"
         "</devices></domain>";
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"validate", dir / "good.xml"});
  EXPECT_EQ(done.code(), 0) << done.err;
  EXPECT_EQ(done.out,
            "model=selinux type=dynamic relabel=yes\n"
            "model=dac type=dynamic relabel=yes\n");
  EXPECT_FALSE(exists(dir / "state"));
}

// seclabel builds only the command group a line names (tools/main.cc); help
// must still see everything: the top-level help lists every command, and
// each command's own help works.
const std::vector<std::string> kEveryCommand = {
    "validate", "prepare", "restore", "list", "dominfo", "recover",
    "exec",     "run",     "broker",  "policy"};

TEST(CliHelp, TheTopLevelHelpListsEveryCommand) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {"--help"});
  EXPECT_EQ(done.code(), 0) << done.err;
  for (const std::string& command : kEveryCommand)
    EXPECT_NE(done.out.find("\n  " + command + " "), std::string::npos)
        << command << " missing from:\n" << done.out;
}

TEST(CliHelp, EveryCommandHasItsOwnHelp) {
  TempDir dir;
  writeConfig(dir / "seclabel.toml", {});
  for (const std::string& command : kEveryCommand) {
    Finished done = runSeclabel(dir / "seclabel.toml", dir / "state", {command, "--help"});
    EXPECT_EQ(done.code(), 0) << command << ": " << done.err;
    EXPECT_NE(done.out.find("Usage: seclabel " + command), std::string::npos)
        << command << ":\n" << done.out;
    // --help before the command asks CLI11 for the same page.
    Finished before = runSeclabel(dir / "seclabel.toml", dir / "state", {"--help", command});
    EXPECT_EQ(before.out, done.out) << command;
  }
  EXPECT_FALSE(exists(dir / "state"));
}

}  // namespace
}  // namespace seclabel::e2e
