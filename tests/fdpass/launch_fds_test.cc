// What `seclabel run` hands the command of a guest whose disks are served by
// fd passing: the fds of the disks its command names, each behind an
// -add-fd, and nothing for a disk it does not name.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using namespace e2e;

TEST(LaunchFds, OnlyTheDisksTheCommandNamesAreInherited) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: prepare and the guest's uid";
  TempDir dir;
  const std::string vda = dir / "vda.qcow2", vdb = dir / "vdb.qcow2";
  makeImage(vda);
  makeImage(vdb);
  ConfigOptions options;
  options.fdpass = "always";
  const std::string config = dir / "seclabel.toml", state = dir / "state", xml = dir / "g.xml";
  writeConfig(config, options);
  writeDomain(xml, "fds", freshUuid(), {{vda, "vda"}, {vdb, "vdb"}});
  // The guest's command: every open fd of its shell, then its arguments.
  const std::string script = dir / "fds.sh";
  std::ofstream(script) << "for f in /proc/$$/fd/*; do echo \"fd $(readlink $f)\"; done\n"
                           "echo \"args $*\"\n";

  Finished f = runSeclabel(config, state, {"run", xml, "--", "/bin/sh", script, "{disk:vda}"});
  ASSERT_EQ(f.code(), 0) << f.err;
  int vdaFds = 0, vdbFds = 0;
  std::string args;
  std::istringstream lines(f.out);
  for (std::string line; std::getline(lines, line);) {
    if (line == "fd " + vda) ++vdaFds;
    if (line == "fd " + vdb) ++vdbFds;
    if (line.rfind("args ", 0) == 0) args = line.substr(5);
  }
  EXPECT_EQ(vdaFds, 2) << f.out;  // rdwr and rdonly
  EXPECT_EQ(vdbFds, 0) << "vdb is not on the command line: " << f.out;
  EXPECT_NE(args.find("opaque=rdwr:" + vda), std::string::npos) << args;
  EXPECT_NE(args.find("opaque=rdonly:" + vda), std::string::npos) << args;
  EXPECT_EQ(args.find(vdb), std::string::npos) << args;
  EXPECT_NE(args.find(" /dev/fdset/1"), std::string::npos) << args;
  // The images were never labeled: fd passing instead.
  EXPECT_EQ(ownerOf(vda).uid, 0u);
  EXPECT_EQ(ownerOf(vdb).uid, 0u);
}

}  // namespace
}  // namespace seclabel
