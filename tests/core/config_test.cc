#include "core/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

#include "core/error.h"

namespace seclabel {
namespace {

Config parse(const std::string& text, bool selinux = true) {
  return Config::parse(text, "test.toml", selinux);
}

std::string errorOf(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

}  // namespace

TEST(Config, DefaultsStackSelinuxThenDacWhenTheHostHasSelinux) {
  Config c = parse("");
  EXPECT_EQ(c.securityDrivers, (std::vector<std::string>{"selinux", "dac"}));
  EXPECT_FALSE(c.securityDriversExplicit);
  EXPECT_EQ(c.fdpass, FdpassMode::Auto);
  EXPECT_EQ(c.dac.range.first, 1879048192u);
  EXPECT_EQ(c.dac.range.last, 1879113727u);
  EXPECT_EQ(c.dac.range.size(), 65536u);
  EXPECT_FALSE(c.dac.gidRange);
  EXPECT_EQ(c.selinux.domain, "system_u:system_r:svirt_t:s0");
  EXPECT_EQ(c.selinux.image, "system_u:object_r:svirt_image_t:s0");
  EXPECT_EQ(c.selinux.content, "system_u:object_r:virt_content_t:s0");
  EXPECT_EQ(c.selinux.categories.pairCount(), 523776u);
  EXPECT_EQ(c.audit.sink, AuditSink::Kernel);
  EXPECT_FALSE(c.audit.required);
  EXPECT_TRUE(c.process.noNewPrivs);
  EXPECT_TRUE(c.process.env.empty());
}

TEST(Config, DefaultsLeaveSelinuxOutWhenTheHostHasNone) {
  EXPECT_EQ(parse("", false).securityDrivers, (std::vector<std::string>{"dac"}));
}

TEST(Config, ReadsEveryDocumentedKey) {
  Config c = parse(R"(
security_driver = ["dac", "selinux"]
fdpass = "never"
[dac]
range = "100000-100099"
gid_range = "200000-200099"
groups = ["kvm"]
[selinux]
domain = "system_u:system_r:my_t:s0"
image = "system_u:object_r:my_image_t:s0"
content = "system_u:object_r:my_content_t:s0"
categories = "c10.c20"
[audit]
sink = "file:/var/log/seclabel-audit.jsonl"
required = true
[process]
no_new_privs = false
env = ["HOME=/var/lib/guests", "TMPDIR=/var/tmp"]
[network]
bridge_acl = "/etc/seclabel/bridge.conf"
direct_devices = ["eth0", "enp3s0f1"]
)");
  EXPECT_EQ(c.securityDrivers, (std::vector<std::string>{"dac", "selinux"}));
  EXPECT_TRUE(c.securityDriversExplicit);
  EXPECT_EQ(c.fdpass, FdpassMode::Never);
  EXPECT_EQ(c.dac.range.format(), "100000-100099");
  ASSERT_TRUE(c.dac.gidRange);
  EXPECT_EQ(c.dac.gidRange->format(), "200000-200099");
  EXPECT_EQ(c.dac.groups, (std::vector<std::string>{"kvm"}));
  EXPECT_EQ(c.selinux.domain, "system_u:system_r:my_t:s0");
  EXPECT_TRUE(c.selinux.contextsFromConfig);
  EXPECT_EQ(c.selinux.categories.format(), "c10.c20");
  EXPECT_EQ(c.selinux.categories.pairCount(), 55u);
  EXPECT_EQ(c.audit.sink, AuditSink::File);
  EXPECT_EQ(c.audit.path, "/var/log/seclabel-audit.jsonl");
  EXPECT_TRUE(c.audit.required);
  EXPECT_FALSE(c.process.noNewPrivs);
  EXPECT_EQ(c.process.env, (std::vector<std::string>{"HOME=/var/lib/guests", "TMPDIR=/var/tmp"}));
  EXPECT_EQ(c.network.bridgeAcl, "/etc/seclabel/bridge.conf");
  EXPECT_EQ(c.network.directDevices, (std::vector<std::string>{"eth0", "enp3s0f1"}));
}

TEST(Config, NetworkDefaultsAreQemuBridgeHelpersFileAndNoDirectDevice) {
  Config c = parse("");
  EXPECT_EQ(c.network.bridgeAcl, "/etc/qemu/bridge.conf");
  EXPECT_TRUE(c.network.directDevices.empty());
}

TEST(Config, HostileNetworkValuesAreInvalidInputOnOneLine) {
  EXPECT_EQ(errorOf("[network]\nbridge_acl = \"bridge.conf\""),
            "test.toml: network.bridge_acl: invalid value 'bridge.conf': expected an absolute path");
  EXPECT_EQ(errorOf("[network]\nbridge_acl = \"/etc/a\\nres=success\""),
            "test.toml: network.bridge_acl: invalid value '/etc/a\\x0ares=success': contains a "
            "control character");
  EXPECT_EQ(errorOf("[network]\nbridge_acl = 5"),
            "test.toml: network.bridge_acl: invalid value '5': expected a string");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"eth0/..\"]"),
            "test.toml: network.direct_devices: invalid value 'eth0/..': interface name contains '/'");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"a-very-long-name0\"]"),
            "test.toml: network.direct_devices: invalid value 'a-very-long-name0': interface name "
            "is longer than 15 bytes");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"eth 0\"]"),
            "test.toml: network.direct_devices: invalid value 'eth 0': interface name contains "
            "whitespace");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"eth0:1\"]"),
            "test.toml: network.direct_devices: invalid value 'eth0:1': interface name contains ':'");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"\"]"),
            "test.toml: network.direct_devices: invalid value '': interface name is empty");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = [\"eth0\", \"eth0\"]"),
            "test.toml: network.direct_devices: invalid value 'eth0': listed twice");
  EXPECT_EQ(errorOf("[network]\ndirect_devices = \"eth0\""),
            "test.toml: network.direct_devices: invalid value 'eth0': expected an array of strings");
  EXPECT_EQ(errorOf("[network]\nbridges = []"), "test.toml: network.bridges: unknown key");
  EXPECT_EQ(errorOf("network = 1"), "test.toml: network: invalid value '1': expected a table [network]");
}

TEST(Config, BrokerLimitsHaveDocumentedDefaultsAndCanBeSet) {
  Config defaults = parse("");
  EXPECT_EQ(defaults.broker.maxConnectionsPerUid, 64u);
  EXPECT_EQ(defaults.broker.maxConnections, 4096u);
  EXPECT_EQ(defaults.broker.idleTimeoutSeconds, 10u);
  EXPECT_EQ(defaults.broker.refusalAuditRate, 1.0);
  EXPECT_EQ(defaults.broker.refusalAuditBurst, 20u);
  Config c = parse(R"(
[broker]
max_connections_per_uid = 8
max_connections = 100
idle_timeout = 30
refusal_audit_rate = 0.5
refusal_audit_burst = 5
)");
  EXPECT_EQ(c.broker.maxConnectionsPerUid, 8u);
  EXPECT_EQ(c.broker.maxConnections, 100u);
  EXPECT_EQ(c.broker.idleTimeoutSeconds, 30u);
  EXPECT_EQ(c.broker.refusalAuditRate, 0.5);
  EXPECT_EQ(c.broker.refusalAuditBurst, 5u);
  EXPECT_EQ(parse("[broker]\nrefusal_audit_rate = 3").broker.refusalAuditRate, 3.0);
}

TEST(Config, BrokerLimitsOutOfRangeAreErrors) {
  EXPECT_EQ(errorOf("[broker]\nmax_connections_per_uid = 0"),
            "test.toml: broker.max_connections_per_uid: invalid value '0': expected 1 to 65536");
  EXPECT_EQ(errorOf("[broker]\nidle_timeout = \"10s\""),
            "test.toml: broker.idle_timeout: invalid value '10s': expected a whole number");
  EXPECT_EQ(errorOf("[broker]\nrefusal_audit_rate = 0"),
            "test.toml: broker.refusal_audit_rate: invalid value '0': expected records per "
            "second, above 0");
  EXPECT_EQ(errorOf("[broker]\nmax_clients = 5"), "test.toml: broker.max_clients: unknown key");
}

TEST(Config, UnknownKeysAreErrorsNamingTheKey) {
  EXPECT_EQ(errorOf("colour = 1"), "test.toml: colour: unknown key");
  EXPECT_EQ(errorOf("[dac]\nrang = \"1-2\""), "test.toml: dac.rang: unknown key");
  EXPECT_EQ(errorOf("[selinux]\nlevel = \"s0\""), "test.toml: selinux.level: unknown key");
}

TEST(Config, BadValuesAreErrorsNamingKeyAndValue) {
  EXPECT_EQ(errorOf("fdpass = \"sometimes\""),
            "test.toml: fdpass: invalid value 'sometimes': expected \"auto\", \"always\" or \"never\"");
  EXPECT_EQ(errorOf("security_driver = [\"apparmor\"]"),
            "test.toml: security_driver: invalid value 'apparmor': unknown security driver (known: selinux, dac, none)");
  EXPECT_EQ(errorOf("security_driver = [\"dac\", \"dac\"]"),
            "test.toml: security_driver: invalid value 'dac': listed twice");
  EXPECT_EQ(errorOf("security_driver = \"dac\""),
            "test.toml: security_driver: invalid value 'dac': expected an array of strings");
  EXPECT_EQ(errorOf("[dac]\nrange = \"20-10\""),
            "test.toml: dac.range: invalid value '20-10': FIRST is greater than LAST");
  EXPECT_EQ(errorOf("[dac]\nrange = \"-5-10\""),
            "test.toml: dac.range: invalid value '-5-10': expected FIRST-LAST with decimal ids");
  EXPECT_EQ(errorOf("[dac]\nrange = \"0-10\""),
            "test.toml: dac.range: invalid value '0-10': must not include uid 0");
  EXPECT_EQ(errorOf("[dac]\nrange = \"10-4294967295\""),
            "test.toml: dac.range: invalid value '10-4294967295': 4294967295 is not a valid id");
  EXPECT_EQ(errorOf("[dac]\nrange = \"10-19\"\ngid_range = \"10-11\""),
            "test.toml: dac.gid_range: invalid value '10-11': must hold as many ids as dac.range");
  EXPECT_EQ(errorOf("[selinux]\ncategories = \"c5.c5\""),
            "test.toml: selinux.categories: invalid value 'c5.c5': needs at least two categories, LOW < HIGH");
  EXPECT_EQ(errorOf("[selinux]\ncategories = \"c0.c2048\""),
            "test.toml: selinux.categories: invalid value 'c0.c2048': categories go up to c1023");
  EXPECT_EQ(errorOf("[selinux]\ndomain = \"svirt_t\""),
            "test.toml: selinux.domain: invalid value 'svirt_t': expected an SELinux context user:role:type:level");
  EXPECT_EQ(errorOf("[audit]\nsink = \"file:relative\""),
            "test.toml: audit.sink: invalid value 'file:relative': expected \"kernel\", \"none\" or \"file:/absolute/path\"");
  EXPECT_EQ(errorOf("[audit]\nrequired = \"yes\""),
            "test.toml: audit.required: invalid value 'yes': expected true or false");
  EXPECT_EQ(errorOf("dac = 5"), "test.toml: dac: invalid value '5': expected a table [dac]");
}

TEST(Config, ProcessEnvEntriesAreCheckedOneByOne) {
  EXPECT_EQ(errorOf("[process]\nenv = [\"NOVALUE\"]"),
            "test.toml: process.env: invalid environment entry 'NOVALUE': expected NAME=VALUE");
  EXPECT_EQ(errorOf("[process]\nenv = [\"=x\"]"),
            "test.toml: process.env: invalid environment entry '=x': the name is empty");
  EXPECT_EQ(errorOf("[process]\nenv = [\"A-B=x\"]"),
            "test.toml: process.env: invalid environment entry 'A-B=x': a name holds only "
            "letters, digits and '_'");
  // TOML can spell a NUL, which execve's array cannot carry.
  EXPECT_EQ(errorOf("[process]\nenv = [\"A=b\\u0000c\"]"),
            "test.toml: process.env: invalid environment entry 'A=b\\x00c': the value holds a NUL "
            "byte");
  EXPECT_EQ(errorOf("[process]\nenv = \"A=b\""),
            "test.toml: process.env: invalid value 'A=b': expected an array of strings");
  // A value may hold '=' and anything but NUL.
  EXPECT_EQ(parse("[process]\nenv = [\"A=b=c\", \"_X=\"]").process.env,
            (std::vector<std::string>{"A=b=c", "_X="}));
}

TEST(Config, CgroupDefaultsAreAutoUnderSeclabelWithLibvirtsDeviceList) {
  Config c = parse("");
  EXPECT_EQ(c.cgroup.devices, CgroupDevices::Auto);
  EXPECT_EQ(c.cgroup.parent, "seclabel");
  EXPECT_EQ(c.cgroup.deviceAcl,
            (std::vector<std::string>{"/dev/null", "/dev/full", "/dev/zero", "/dev/random",
                                      "/dev/urandom", "/dev/ptmx", "/dev/kvm",
                                      "/dev/userfaultfd"}));
}

TEST(Config, ReadsTheCgroupKeys) {
  Config c = parse(R"(
[cgroup]
devices = "required"
parent = "machine.slice/seclabel"
device_acl = ["/dev/null", "/dev/net/tun"]
)");
  EXPECT_EQ(c.cgroup.devices, CgroupDevices::Required);
  EXPECT_EQ(c.cgroup.parent, "machine.slice/seclabel");
  EXPECT_EQ(c.cgroup.deviceAcl, (std::vector<std::string>{"/dev/null", "/dev/net/tun"}));
  EXPECT_EQ(parse("[cgroup]\ndevices = \"off\"").cgroup.devices, CgroupDevices::Off);
  EXPECT_TRUE(parse("[cgroup]\ndevice_acl = []").cgroup.deviceAcl.empty());
}

TEST(Config, HostileCgroupValuesAreInvalidInputNamingKeyAndValue) {
  EXPECT_EQ(errorOf("[cgroup]\ndevices = \"maybe\""),
            "test.toml: cgroup.devices: invalid value 'maybe': expected \"auto\", \"required\" or \"off\"");
  EXPECT_EQ(errorOf("[cgroup]\ndevices = true"),
            "test.toml: cgroup.devices: invalid value 'true': expected a string");
  EXPECT_EQ(errorOf("[cgroup]\ncolour = 1"), "test.toml: cgroup.colour: unknown key");
  EXPECT_EQ(errorOf("cgroup = \"seclabel\""),
            "test.toml: cgroup: invalid value 'seclabel': expected a table [cgroup]");
}

TEST(Config, CgroupParentThatCouldLeaveTheControllerIsRefused) {
  const std::string why = "empty, \".\" or \"..\" path component";
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"/sys/fs/cgroup/x\""),
            "test.toml: cgroup.parent: invalid value '/sys/fs/cgroup/x': must be relative to "
            "the controller's mount (no leading /)");
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"..\""), "test.toml: cgroup.parent: invalid value '..': " + why);
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"a/../../b\""),
            "test.toml: cgroup.parent: invalid value 'a/../../b': " + why);
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"a//b\""), "test.toml: cgroup.parent: invalid value 'a//b': " + why);
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"a/\""), "test.toml: cgroup.parent: invalid value 'a/': " + why);
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"\""), "test.toml: cgroup.parent: invalid value '': empty");
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"a b\""),
            "test.toml: cgroup.parent: invalid value 'a b': components may hold only letters, "
            "digits and ._@:+-");
  // A newline would forge a second line on stderr: shown escaped.
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"a\\nb\""),
            "test.toml: cgroup.parent: invalid value 'a\\x0ab': components may hold only "
            "letters, digits and ._@:+-");
  EXPECT_EQ(errorOf("[cgroup]\nparent = \"" + std::string(256, 'a') + "\""),
            "test.toml: cgroup.parent: invalid value '" + std::string(256, 'a') +
                "': a component is longer than 255 bytes");
}

TEST(Config, DeviceAclEntriesMustBeCanonicalAbsolutePaths) {
  const std::string why = "empty, \".\" or \"..\" path component";
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [\"dev/null\"]"),
            "test.toml: cgroup.device_acl: invalid value 'dev/null': expected an absolute path "
            "such as /dev/null");
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [\"\"]"),
            "test.toml: cgroup.device_acl: invalid value '': expected an absolute path such as "
            "/dev/null");
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [\"/dev/../etc/shadow\"]"),
            "test.toml: cgroup.device_acl: invalid value '/dev/../etc/shadow': " + why);
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [\"/dev//null\"]"),
            "test.toml: cgroup.device_acl: invalid value '/dev//null': " + why);
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [\"/dev/null\\u0007\"]"),
            "test.toml: cgroup.device_acl: invalid value '/dev/null\\x07': contains a control "
            "character");
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = \"/dev/null\""),
            "test.toml: cgroup.device_acl: invalid value '/dev/null': expected an array of strings");
  EXPECT_EQ(errorOf("[cgroup]\ndevice_acl = [1]"),
            "test.toml: cgroup.device_acl: invalid value '1': expected a string");
}

TEST(Config, TomlSyntaxErrorsNameTheLine) {
  std::string message = errorOf("fdpass = \"auto\"\n[dac\n");
  EXPECT_EQ(message.rfind("test.toml: line 2: ", 0), 0u) << message;
}

TEST(Config, MissingDefaultFileMeansDefaultsButAMissingNamedFileIsAnError) {
  Config c = Config::load("/nonexistent/seclabel.toml", true, false);
  EXPECT_EQ(c.securityDrivers, (std::vector<std::string>{"dac"}));
  try {
    Config::load("/nonexistent/seclabel.toml", false, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_STREQ(e.what(), "cannot read config /nonexistent/seclabel.toml: No such file or directory");
  }
}

TEST(Config, LoadsAFileFromDisk) {
  char path[] = "/tmp/seclabel-config-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "fdpass = \"always\"\n";
  EXPECT_EQ(Config::load(path, false, false).fdpass, FdpassMode::Always);
  unlink(path);
}

}  // namespace seclabel
