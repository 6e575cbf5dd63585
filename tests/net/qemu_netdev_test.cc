// The -netdev values {netdev:ALIAS} expands to.
#include <gtest/gtest.h>

#include "core/error.h"
#include "net/qemu_netdev.h"

namespace seclabel {
namespace {

TEST(QemuNetdev, OneQueue) {
  std::vector<int> tap{5};
  EXPECT_EQ(qemuNetdevValue("net0", tap, {}), "tap,id=net0,fd=5");
  std::vector<int> vhost{6};
  EXPECT_EQ(qemuNetdevValue("net0", tap, vhost), "tap,id=net0,fd=5,vhost=on,vhostfd=6");
}

TEST(QemuNetdev, SeveralQueues) {
  std::vector<int> tap{5, 7};
  std::vector<int> vhost{6, 8};
  EXPECT_EQ(qemuNetdevValue("net1", tap, {}), "tap,id=net1,fds=5:7");
  EXPECT_EQ(qemuNetdevValue("net1", tap, vhost), "tap,id=net1,fds=5:7,vhost=on,vhostfds=6:8");
}

TEST(QemuNetdev, AnAliasThatWouldAddOptionsIsRefused) {
  std::vector<int> tap{5};
  for (const char* alias : {"net0,script=/tmp/x", "", "0net", "net 0", "net=0"}) {
    try {
      qemuNetdevValue(alias, tap, {});
      ADD_FAILURE() << "accepted " << alias;
    } catch (const Error& e) {
      EXPECT_EQ(e.exitCode(), 2);
    }
  }
}

TEST(QemuNetdev, VhostFdsMustMatchTheQueues) {
  std::vector<int> tap{5, 7};
  std::vector<int> vhost{6};
  EXPECT_THROW(qemuNetdevValue("net0", tap, vhost), Error);
  EXPECT_THROW(qemuNetdevValue("net0", {}, {}), Error);
}

}  // namespace
}  // namespace seclabel
