// The [store] section of seclabel.toml: defaults, every key, and the values
// refused with one line naming the key (exit 2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

#include "core/config.h"
#include "core/error.h"

namespace seclabel {
namespace {

Config parse(const std::string& text) { return Config::parse(text, "test.toml", false); }

std::string errorOf(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

TEST(StoreConfig, DefaultsToTheSqliteBackend) {
  StoreConfig s = parse("").store;
  EXPECT_EQ(s.backend, StoreBackend::Sqlite);
  EXPECT_EQ(s.endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(s.prefix, "/seclabel/");
  EXPECT_EQ(s.host, "");
  EXPECT_EQ(s.timeoutMs, 5000u);
  EXPECT_EQ(s.caCert, "");
  EXPECT_EQ(s.cert, "");
  EXPECT_EQ(s.key, "");
}

TEST(StoreConfig, ReadsEveryDocumentedKey) {
  StoreConfig s = parse(R"(
[store]
backend = "etcd"
endpoints = ["https://10.0.0.1:2379", "https://etcd-2.example.org:2379/", "https://[fd00::3]:2379"]
prefix = "/cluster-a/seclabel/"
host = "h1.example.org"
timeout_ms = 2500
cacert = "/etc/seclabel/etcd-ca.crt"
cert = "/etc/seclabel/etcd-client.crt"
key = "/etc/seclabel/etcd-client.key"
)").store;
  EXPECT_EQ(s.backend, StoreBackend::Etcd);
  EXPECT_EQ(s.endpoints, (std::vector<std::string>{"https://10.0.0.1:2379",
                                                   "https://etcd-2.example.org:2379/",
                                                   "https://[fd00::3]:2379"}));
  EXPECT_EQ(s.prefix, "/cluster-a/seclabel/");
  EXPECT_EQ(s.host, "h1.example.org");
  EXPECT_EQ(s.hostName(), "h1.example.org");
  EXPECT_EQ(s.timeoutMs, 2500u);
  EXPECT_EQ(s.caCert, "/etc/seclabel/etcd-ca.crt");
  EXPECT_EQ(s.cert, "/etc/seclabel/etcd-client.crt");
  EXPECT_EQ(s.key, "/etc/seclabel/etcd-client.key");
}

TEST(StoreConfig, ReadsTheSectionAsTheDocumentationShowsIt) {
  StoreConfig s = parse(R"(
[store]
backend   = "etcd"
endpoints = ["http://127.0.0.1:2379"]
prefix    = "/seclabel/"
host      = ""
timeout_ms = 5000
)").store;
  EXPECT_EQ(s.backend, StoreBackend::Etcd);
  EXPECT_EQ(s.host, "");
  EXPECT_EQ(s.timeoutMs, 5000u);
}

TEST(StoreConfig, HostDefaultsToTheKernelsHostName) {
  char name[HOST_NAME_MAX + 1] = "";
  ASSERT_EQ(::gethostname(name, sizeof name), 0);
  EXPECT_EQ(parse("[store]\nbackend = \"etcd\"\n").store.hostName(), name);
  EXPECT_EQ(parse("[store]\nhost = \"\"\n").store.hostName(), name);
}

TEST(StoreConfig, RefusesAnUnknownBackend) {
  EXPECT_EQ(errorOf("[store]\nbackend = \"redis\""),
            "test.toml: store.backend: invalid value 'redis': expected \"sqlite\" or \"etcd\"");
}

TEST(StoreConfig, RefusesAnEndpointWithAnotherScheme) {
  EXPECT_EQ(errorOf("[store]\nendpoints = [\"unix:///run/etcd.sock\"]"),
            "test.toml: store.endpoints: invalid value 'unix:///run/etcd.sock': the scheme must be "
            "http or https");
  EXPECT_EQ(errorOf("[store]\nendpoints = [\"127.0.0.1:2379\"]"),
            "test.toml: store.endpoints: invalid value '127.0.0.1:2379': the scheme must be http or "
            "https");
}

TEST(StoreConfig, RefusesEndpointsThatAreNotJustHostAndPort) {
  for (const char* url : {"http://", "http://:2379", "http://user:pw@10.0.0.1:2379",
                          "http://10.0.0.1:2379/v3", "http://10.0.0.1:2379?x=1",
                          "http://10.0.0.1:", "http://[fd00::1", "http://[]:2379",
                          "http://10.0.0.1:2379 ", "http://bad_host:2379"}) {
    std::string message = errorOf(std::string("[store]\nendpoints = [\"") + url + "\"]");
    EXPECT_NE(message.find("expected http://HOST[:PORT] or https://HOST[:PORT]"), std::string::npos)
        << message;
  }
}

TEST(StoreConfig, RefusesAPortOutOfRange) {
  for (const char* url : {"http://10.0.0.1:0", "http://10.0.0.1:65536", "http://10.0.0.1:99999999999"})
    EXPECT_NE(errorOf(std::string("[store]\nendpoints = [\"") + url + "\"]").find("the port must be 1 to 65535"),
              std::string::npos);
}

TEST(StoreConfig, RefusesNoEndpointsAndRepeatedOnes) {
  EXPECT_EQ(errorOf("[store]\nendpoints = []"),
            "test.toml: store.endpoints: invalid value '[]': list at least one etcd member");
  EXPECT_EQ(errorOf("[store]\nendpoints = [\"http://a:1\", \"http://a:1\"]"),
            "test.toml: store.endpoints: invalid value 'http://a:1': listed twice");
  EXPECT_EQ(errorOf("[store]\nendpoints = \"http://a:1\""),
            "test.toml: store.endpoints: invalid value 'http://a:1': expected an array of strings");
}

TEST(StoreConfig, RefusesAPrefixNotStartingAndEndingWithSlash) {
  EXPECT_EQ(errorOf("[store]\nprefix = \"seclabel/\""),
            "test.toml: store.prefix: invalid value 'seclabel/': must start with '/'");
  EXPECT_EQ(errorOf("[store]\nprefix = \"\""),
            "test.toml: store.prefix: invalid value '': must start with '/'");
  EXPECT_EQ(errorOf("[store]\nprefix = \"/seclabel\""),
            "test.toml: store.prefix: invalid value '/seclabel': must end with '/'");
  EXPECT_EQ(errorOf("[store]\nprefix = \"/a b/\""),
            "test.toml: store.prefix: invalid value '/a b/': only printable ASCII without spaces");
}

TEST(StoreConfig, RefusesATimeoutOfZeroOrAbsurdLength) {
  for (const char* value : {"0", "-1", "600001", "9223372036854775807"})
    EXPECT_EQ(errorOf(std::string("[store]\ntimeout_ms = ") + value),
              std::string("test.toml: store.timeout_ms: invalid value '") + value +
                  "': must be between 1 and 600000 (10 minutes)");
  EXPECT_EQ(errorOf("[store]\ntimeout_ms = \"5000\""),
            "test.toml: store.timeout_ms: invalid value '5000': expected an integer number of "
            "milliseconds");
  EXPECT_EQ(errorOf("[store]\ntimeout_ms = 1.5"),
            "test.toml: store.timeout_ms: invalid value '1.5': expected an integer number of "
            "milliseconds");
}

TEST(StoreConfig, RefusesAHostNameThatCouldReachIntoOtherKeys) {
  EXPECT_EQ(errorOf("[store]\nhost = \"h1/../h2\""),
            "test.toml: store.host: invalid value 'h1/../h2': a host name has only letters, "
            "digits, '.', '-' and '_'");
  EXPECT_EQ(errorOf("[store]\nhost = \"" + std::string(254, 'h') + "\""),
            "test.toml: store.host: invalid value '" + std::string(254, 'h') +
                "': a host name has 1 to 253 characters");
  EXPECT_EQ(errorOf("[store]\nhost = \"-h\""),
            "test.toml: store.host: invalid value '-h': a host name starts with a letter or a digit");
}

TEST(StoreConfig, RefusesRelativeTlsPathsAndACertificateWithoutItsKey) {
  EXPECT_EQ(errorOf("[store]\ncacert = \"ca.crt\""),
            "test.toml: store.cacert: invalid value 'ca.crt': expected an absolute path");
  EXPECT_EQ(errorOf("[store]\ncert = \"/etc/c.crt\""),
            "test.toml: store.cert: invalid value '/etc/c.crt': store.cert and store.key go "
            "together (a client certificate and its key)");
  EXPECT_EQ(errorOf("[store]\nkey = \"/etc/c.key\""),
            "test.toml: store.key: invalid value '/etc/c.key': store.cert and store.key go "
            "together (a client certificate and its key)");
}

TEST(StoreConfig, RefusesUnknownKeys) {
  EXPECT_EQ(errorOf("[store]\nendpoint = \"http://a:1\""), "test.toml: store.endpoint: unknown key");
  EXPECT_EQ(errorOf("store = \"etcd\""),
            "test.toml: store: invalid value 'etcd': expected a table [store]");
}

TEST(StoreConfig, QuotesHostileValuesOnOneLine) {
  EXPECT_EQ(errorOf("[store]\nprefix = \"/a\\n/\""),
            "test.toml: store.prefix: invalid value '/a\\x0a/': only printable ASCII without spaces");
  std::string message = errorOf("[store]\nbackend = \"" + std::string(5000, 'x') + "\"");
  EXPECT_LT(message.size(), 400u);
}

}  // namespace
}  // namespace seclabel
