// What loading a hostile policy (or expectations file) may cost: regular
// files only, bounded reads, and libsepol bounded in CPU time and memory.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "policy/expectations.h"
#include "policy/policy_db.h"
#include "tests/core/hostile_files.h"
#include "tests/policy/test_paths.h"

namespace seclabel {
namespace {

using testing::kTestPolicy;
using testing::runGuarded;
using testing::ScratchTree;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint32_t u32At(const std::string& bytes, std::size_t at) {
  uint32_t value = 0;
  std::memcpy(&value, bytes.data() + at, 4);  // little endian, as the policy format is
  return value;
}

// The offset of the types symbol table's header (nprim, nel) in a binary
// kernel policy: found as the (nprim, nel) pair followed by nel well-formed
// type entries (len, value, properties, bounds, name) one of which is
// `knownType`. Only the test policy is searched, whose types are few.
std::optional<std::size_t> typesTableHeader(const std::string& bytes, const std::string& knownType) {
  for (std::size_t header = 0; header + 8 < bytes.size(); ++header) {
    uint32_t nprim = u32At(bytes, header), nel = u32At(bytes, header + 4);
    if (nel == 0 || nel > 64 || nprim == 0 || nprim > 64) continue;
    std::size_t at = header + 8;
    bool wellFormed = true, found = false;
    for (uint32_t i = 0; i < nel && wellFormed; ++i) {
      if (at + 16 > bytes.size()) { wellFormed = false; break; }
      uint32_t length = u32At(bytes, at), value = u32At(bytes, at + 4);
      if (length == 0 || length > 128 || value == 0 || value > nprim || at + 16 + length > bytes.size()) {
        wellFormed = false;
        break;
      }
      std::string name = bytes.substr(at + 16, length);
      for (char c : name)
        if (c <= ' ' || c > '~') wellFormed = false;
      found = found || name == knownType;
      at += 16 + length;
    }
    if (wellFormed && found) return header;
  }
  return std::nullopt;
}

// The MCS test policy (27 KB) with one number changed: its types table
// declares `declared` types. libsepol 3.4 allocates tables of that size
// before it finds the types missing, and freeing them after the failed read
// walks them all: with 200 million, the previous loader touched 3.1 GB and
// took 20 s here (80 s on a loaded host) before it said "not a policy". This
// is the shape of the crafted 27 KB policy that made `policy check` spin.
std::string craftedPolicy(const ScratchTree& tree, uint32_t declared) {
  std::string bytes = readAll(kTestPolicy);
  auto header = typesTableHeader(bytes, "svirt_t");
  if (!header) throw std::runtime_error("no types table found in the test policy");
  std::memcpy(bytes.data() + *header, &declared, 4);
  std::string path = tree.path("crafted-" + std::to_string(declared) + ".policy");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The hang guard of these tests (a minute) only turns an unbounded spin into
// a failure; its own memory limit is lifted so that libsepol's child gets the
// bound under test.
constexpr unsigned kGuardSeconds = 60;

long maxRssKiB() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(PolicyBounds, RefusesACraftedPolicyAtTheDefaultMemoryBound) {
  ScratchTree tree;
  std::string crafted = craftedPolicy(tree, 200'000'000);
  auto outcome = runGuarded([&] { PolicyDb::load(crafted); }, kGuardSeconds, RLIM_INFINITY);
  ASSERT_TRUE(outcome.finished) << "libsepol spun unbounded (signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("too large: libsepol needs more than 1024 MiB to load it"),
            std::string::npos)
      << outcome.message;
}

TEST(PolicyBounds, RefusesACraftedPolicyAtASmallerMemoryBound) {
  ScratchTree tree;
  std::string crafted = craftedPolicy(tree, 20'000'000);
  PolicyLoadLimits limits;
  limits.memoryBytes = std::size_t(128) << 20;
  auto outcome = runGuarded([&] { PolicyDb::load(crafted, limits); }, kGuardSeconds, RLIM_INFINITY);
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("too large: libsepol needs more than 128 MiB"), std::string::npos)
      << outcome.message;
}

// A crafted policy within the bounds still costs the caller nothing: the
// failed read happens in the child, which exits without walking the tables
// it was made to allocate (the previous loader touched 316 MB here).
TEST(PolicyBounds, ACraftedPolicyWithinTheBoundsCostsTheCallerNoMemory) {
  ScratchTree tree;
  std::string crafted = craftedPolicy(tree, 20'000'000);
  auto outcome = runGuarded([&] {
    long before = maxRssKiB();
    try {
      PolicyDb::load(crafted);
    } catch (const Error&) {
      long grownMiB = (maxRssKiB() - before) / 1024;
      if (grownMiB > 64)
        throw Error(ExitCode::Failed, "the caller grew by " + std::to_string(grownMiB) + " MiB");
      throw;
    }
  }, kGuardSeconds, RLIM_INFINITY);
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("not a binary SELinux policy"), std::string::npos)
      << outcome.message;
}

// The CPU bound, proven with a trial that spins (a test hook in the trial
// child: no input found makes libsepol 3.4's reader itself spin once memory
// is bounded, so the bound is defence in depth, and tested as such).
TEST(PolicyBounds, GivesUpWhenTheTrialLoadExceedsItsCpuBound) {
  PolicyLoadLimits limits;
  limits.cpuSeconds = 1;
  auto outcome = runGuarded([&] {
    setPolicyLoadTrialHookForTesting([] {
      volatile unsigned long spin = 0;
      for (;;) spin = spin + 1ul;
    });
    PolicyDb::load(kTestPolicy, limits);
  }, kGuardSeconds, RLIM_INFINITY);
  ASSERT_TRUE(outcome.finished) << "the trial was not bounded (signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("too complex: libsepol gave up after 1 s of CPU time"),
            std::string::npos)
      << outcome.message;
}

TEST(PolicyBounds, TheDefaultBoundsLoadRealPolicies) {
  EXPECT_NO_THROW(PolicyDb::load(kTestPolicy));
  if (testing::debianPolicyInstalled()) {
    EXPECT_NO_THROW(PolicyDb::load(testing::kDebianPolicy));
  }
}

TEST(PolicyBounds, RefusesAPolicyThatIsAFifoWithoutBlocking) {
  ScratchTree tree;
  std::string fifo = tree.path("policy.33");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  auto outcome = runGuarded([&] { PolicyDb::load(fifo); });
  ASSERT_TRUE(outcome.finished) << "blocked on a FIFO (signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("is not a regular file"), std::string::npos) << outcome.message;
}

TEST(PolicyBounds, RefusesAPolicyLargerThanItsBoundWhileReading) {
  ScratchTree tree;
  std::string huge = testing::sparseFile(tree.path("policy.33"), off_t(2) << 30);
  auto outcome = runGuarded([&] { PolicyDb::load(huge); });
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("is larger than 67108864 bytes"), std::string::npos)
      << outcome.message;
}

// `policy check`'s expectations file: /dev/zero used 1.5 GB; a FIFO blocked.
TEST(PolicyBounds, RefusesExpectationsThatAreNotARegularFile) {
  ScratchTree tree;
  std::string fifo = tree.path("fifo.expect");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    auto outcome = runGuarded([&] { checkExpectationsFile(kTestPolicy, path); });
    ASSERT_TRUE(outcome.finished) << path << ": signal " << outcome.signal;
    EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
    EXPECT_NE(outcome.message.find("is not a regular file"), std::string::npos) << outcome.message;
  }
}

TEST(PolicyBounds, RefusesExpectationsLargerThanTheBoundWhileReading) {
  ScratchTree tree;
  std::string huge = testing::sparseFile(tree.path("huge.expect"), off_t(2) << 30);
  auto outcome = runGuarded([&] { checkExpectationsFile(kTestPolicy, huge); });
  ASSERT_TRUE(outcome.finished) << "signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("is larger than 16777216 bytes"), std::string::npos)
      << outcome.message;
}

}  // namespace
}  // namespace seclabel
