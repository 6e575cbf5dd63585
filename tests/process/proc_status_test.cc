// The kernel-view check that runs right before execve: what it accepts and
// what it refuses, on status text shaped like Linux 6.x's.
#include "process/proc_status.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace seclabel {
namespace {

struct StatusText {
  std::string uid = "1879048193\t1879048193\t1879048193\t1879048193";
  std::string gid = "1879048193\t1879048193\t1879048193\t1879048193";
  std::string groups = "";
  std::string capInh = "0000000000000000";
  std::string capPrm = "0000000000000000";
  std::string capEff = "0000000000000000";
  std::string capBnd = "0000000000000000";
  std::string capAmb = "0000000000000000";
  std::string noNewPrivs = "1";
  bool withCapAmb = true;

  std::string render() const {
    std::string text = "Name:\tqemu\nUmask:\t0022\nState:\tR (running)\n";
    text += "Uid:\t" + uid + "\nGid:\t" + gid + "\nFDSize:\t64\n";
    text += "Groups:\t" + groups + " \nNStgid:\t42\n";
    text += "CapInh:\t" + capInh + "\nCapPrm:\t" + capPrm + "\n";
    text += "CapEff:\t" + capEff + "\nCapBnd:\t" + capBnd + "\n";
    if (withCapAmb) text += "CapAmb:\t" + capAmb + "\n";
    text += "NoNewPrivs:\t" + noNewPrivs + "\nSeccomp:\t0\n";
    return text;
  }
};

ExpectedCredentials guest(const std::vector<gid_t>& groups = {},
                          bool noNewPrivs = true) {
  ExpectedCredentials expected;
  expected.uid = 1879048193;
  expected.gid = 1879048193;
  expected.groups = groups.data();
  expected.groupCount = groups.size();
  expected.noNewPrivs = noNewPrivs;
  return expected;
}

// The field that made the check refuse, "" when it accepted.
std::string refusedField(const StatusText& status,
                         const ExpectedCredentials& expected) {
  StatusMismatch mismatch{};
  std::string text = status.render();
  if (statusMatches(text.c_str(), expected, &mismatch)) return "";
  return mismatch.field;
}

TEST(ProcStatus, AcceptsExactlyTheAskedCredentials) {
  EXPECT_EQ(refusedField(StatusText{}, guest()), "");
}

TEST(ProcStatus, RefusesWhenAnyOfTheFourUidsDiffers) {
  StatusText savedRoot;
  savedRoot.uid = "1879048193\t1879048193\t0\t1879048193";
  EXPECT_EQ(refusedField(savedRoot, guest()), "Uid");
  StatusText fsRoot;
  fsRoot.uid = "1879048193\t1879048193\t1879048193\t0";
  EXPECT_EQ(refusedField(fsRoot, guest()), "Uid");
}

TEST(ProcStatus, RefusesWhenAnyOfTheFourGidsDiffers) {
  StatusText status;
  status.gid = "0\t1879048193\t1879048193\t1879048193";
  EXPECT_EQ(refusedField(status, guest()), "Gid");
}

TEST(ProcStatus, RefusesLeftoverSupplementaryGroups) {
  StatusText status;
  status.groups = "0 4 27";
  EXPECT_EQ(refusedField(status, guest()), "Groups");
}

TEST(ProcStatus, AcceptsConfiguredGroupsInTheKernelsOrder) {
  StatusText status;
  status.groups = "4 107";
  EXPECT_EQ(refusedField(status, guest({107, 4})), "");
}

TEST(ProcStatus, RefusesAMissingOrExtraConfiguredGroup) {
  StatusText missing;
  missing.groups = "107";
  EXPECT_EQ(refusedField(missing, guest({4, 107})), "Groups");
  StatusText extra;
  extra.groups = "4 27 107";
  EXPECT_EQ(refusedField(extra, guest({4, 107})), "Groups");
}

TEST(ProcStatus, RefusesAnyCapabilityInAnySet) {
  auto withCap = [](std::string StatusText::*field) {
    StatusText status;
    status.*field = "0000000000000400";
    return status;
  };
  EXPECT_EQ(refusedField(withCap(&StatusText::capInh), guest()), "CapInh");
  EXPECT_EQ(refusedField(withCap(&StatusText::capPrm), guest()), "CapPrm");
  EXPECT_EQ(refusedField(withCap(&StatusText::capEff), guest()), "CapEff");
  EXPECT_EQ(refusedField(withCap(&StatusText::capBnd), guest()), "CapBnd");
  EXPECT_EQ(refusedField(withCap(&StatusText::capAmb), guest()), "CapAmb");
}

TEST(ProcStatus, RefusesAKernelThatCannotShowTheAmbientSet) {
  StatusText status;
  status.withCapAmb = false;
  StatusMismatch mismatch{};
  std::string text = status.render();
  EXPECT_FALSE(statusMatches(text.c_str(), guest(), &mismatch));
  EXPECT_STREQ(mismatch.field, "CapAmb");
  EXPECT_STREQ(mismatch.seen, "(missing)");
}

TEST(ProcStatus, NoNewPrivsMustMatchEitherWay) {
  StatusText off;
  off.noNewPrivs = "0";
  EXPECT_EQ(refusedField(off, guest({}, true)), "NoNewPrivs");
  EXPECT_EQ(refusedField(off, guest({}, false)), "");
  EXPECT_EQ(refusedField(StatusText{}, guest({}, false)), "NoNewPrivs");
}

TEST(ProcStatus, ReportsWhatTheKernelShowed) {
  StatusText status;
  status.uid = "0\t0\t0\t0";
  StatusMismatch mismatch{};
  std::string text = status.render();
  ASSERT_FALSE(statusMatches(text.c_str(), guest(), &mismatch));
  EXPECT_STREQ(mismatch.field, "Uid");
  EXPECT_STREQ(mismatch.seen, "0\t0\t0\t0");
}

TEST(ProcStatus, ReadsTheRealStatusFileIntoABuffer) {
  char buffer[kStatusBufferSize];
  ASSERT_EQ(readStatusFile(kThreadStatusPath, buffer, sizeof buffer), 0);
  size_t length = 0;
  const char* uid = findStatusField(buffer, "Uid", &length);
  ASSERT_NE(uid, nullptr);
  char expected[64];
  unsigned self = ::getuid();
  std::snprintf(expected, sizeof expected, "%u\t", self);
  EXPECT_EQ(std::string(uid, length).rfind(expected, 0), 0u);
}

TEST(ProcStatus, AStatusThatDoesNotFitIsAnError) {
  char small[64];
  EXPECT_EQ(readStatusFile(kThreadStatusPath, small, sizeof small), ENOBUFS);
}

TEST(ProcStatus, FieldNamesMatchWholeNamesOnly) {
  size_t length = 0;
  const char* text = "CapAmbX:\t1\nCapAmb:\t0000000000000000\n";
  const char* value = findStatusField(text, "CapAmb", &length);
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(std::string(value, length), "0000000000000000");
}

}  // namespace
}  // namespace seclabel
