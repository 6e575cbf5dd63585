// https endpoints: the client verifies the member's certificate against
// store.cacert and presents store.cert/store.key; any TLS failure is a clean
// error naming the endpoint.
#include "alloc/etcd/client.h"

#include <gtest/gtest.h>

#include "tests/etcd/etcd_cluster.h"

namespace seclabel::etcd {
namespace {

using seclabel::testing::EtcdCluster;
using namespace std::chrono_literals;

class EtcdTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdCluster::available(EtcdCluster::Tls::ClientCertificates))
      GTEST_SKIP() << "etcd or openssl is not installed (Debian: etcd-server, openssl)";
    cluster_ = EtcdCluster::start(1, EtcdCluster::Tls::ClientCertificates);
  }
  std::string failureMessage(const ClientOptions& options) {
    try {
      EtcdClient(options).range(RangeRequest::single("/tls"));
    } catch (const EtcdError& e) {
      EXPECT_EQ(e.failure(), EtcdFailure::Unavailable) << e.what();
      EXPECT_EQ(e.exitCode(), 1);
      return e.what();
    }
    ADD_FAILURE() << "the call succeeded";
    return "";
  }
  std::unique_ptr<EtcdCluster> cluster_;
};

TEST_F(EtcdTlsTest, WorksWithTheClusterCaAndAClientCertificate) {
  ASSERT_EQ(cluster_->clientUrl(0).rfind("https://", 0), 0u);
  EtcdClient client(cluster_->clientOptions());
  EXPECT_TRUE(client.txn([] {
    TxnRequest t;
    t.compare = {Compare::absent("/tls")};
    t.success = {PutRequest{"/tls", "secret", 0}};
    return t;
  }()).succeeded);
  EXPECT_EQ(client.range(RangeRequest::single("/tls")).kvs.at(0).value, "secret");
}

TEST_F(EtcdTlsTest, AMemberCertificateFromAnotherCaIsRefused) {
  ClientOptions options = cluster_->clientOptions(1000ms);
  options.tls.caCert.clear();  // the system's CAs do not know the test CA
  std::string message = failureMessage(options);
  EXPECT_EQ(message.rfind("etcd range: no endpoint reachable within 1000 ms: " + cluster_->clientUrl(0) + ": ", 0), 0u)
      << message;
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
}

TEST_F(EtcdTlsTest, NoClientCertificateIsRefusedByTheMember) {
  ClientOptions options = cluster_->clientOptions(1000ms);
  options.tls.cert.clear();
  options.tls.key.clear();
  std::string message = failureMessage(options);
  EXPECT_NE(message.find(cluster_->clientUrl(0)), std::string::npos) << message;
}

TEST_F(EtcdTlsTest, AnUnreadableKeyFileIsInvalidInputNamingIt) {
  ClientOptions options = cluster_->clientOptions();
  options.tls.key = cluster_->dataRoot() + "/tls/missing.key";
  try {
    EtcdClient client(options);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_EQ(std::string(e.what()),
              "cannot read store.key " + options.tls.key + ": No such file or directory");
  }
}

}  // namespace
}  // namespace seclabel::etcd
