// applyProcessIdentity allocates nothing: after fork() in a threaded parent
// the malloc lock may be held by a thread that no longer exists, so one
// allocation there can hang the child forever.
//
// This executable replaces malloc and friends (glibc looks them up in the
// main program first) with versions that count calls while counting is on.
// A control test proves the counter sees allocations at all.
#include <gtest/gtest.h>
#include <malloc.h>
#include <pty.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "process/process.h"
#include "tests/process/test_support.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

void countOne() {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  countOne();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  countOne();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  countOne();
  return __libc_realloc(pointer, size);
}
void* memalign(size_t alignment, size_t size) {
  countOne();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  countOne();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  countOne();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}
}

namespace seclabel {
namespace {

using testing::FakeSelinuxHost;
using testing::guestIdentity;
using testing::runInChild;

// The child counts allocations made by `work` and reports "<n> <result>".
template <typename Work>
std::string allocationsDuring(Work work) {
  testing::ChildResult child = runInChild([&] {
    allocations = 0;
    counting = true;
    std::string result = work();
    counting = false;
    return std::to_string(allocations.load()) + " " + result;
  });
  EXPECT_TRUE(child.exitedCleanly()) << "wait status " << child.waitStatus;
  return child.output;
}

TEST(NoAllocation, TheCounterSeesAnAllocation) {
  std::string output = allocationsDuring([] {
    std::string* text = new std::string(200, 'x');
    delete text;
    return std::string("done");
  });
  EXPECT_NE(output.rfind("0 ", 0), 0u) << output;
}

TEST(NoAllocation, ApplyingEveryStepAllocatesNothing) {
  SECLABEL_SKIP_UNLESS_ROOT();
  // Every step runs: exec context (the fake host does not allocate either),
  // groups, ids, bounding set, capset, ambient, NNP, a kept fd,
  // close_range, and the verification read of /proc/thread-self/status.
  FakeSelinuxHost host(SelinuxMode::Enforcing);
  ProcessIdentity identity = guestIdentity();
  identity.execContext = "system_u:system_r:svirt_t:s0:c1,c2";
  identity.groups = {4, 4242};
  identity.keepFds = {1};
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  ProcessStepFailure failure;
  std::string output = allocationsDuring([&] {
    bool applied = applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd());
    return std::string(applied ? "applied" : "failed");
  });
  EXPECT_EQ(output, "0 applied");
}

// The child's first steps: a session of its own (setsid) and a terminal on
// stdin replaced by /dev/null (open, dup2, close).
TEST(NoAllocation, LeavingTheSessionAndWithholdingATerminalAllocateNothing) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  ProcessStepFailure failure;
  std::string output = allocationsDuring([&] {
    ::dup2(slave, 0);
    bool applied = applyProcessIdentity(prepared, host, &failure, testing::childReportFd());
    char link[64] = {};
    ::readlink("/proc/self/fd/0", link, sizeof link - 1);
    // Short enough for std::string's inline buffer: no allocation here.
    std::string result = applied ? "ok" : "no";
    result += std::strcmp(link, "/dev/null") == 0 ? "+null" : "-null";
    result += ::getsid(0) == ::getpid() ? "+sess" : "-sess";
    return result;
  });
  ::close(master);
  ::close(slave);
  EXPECT_EQ(output, "0 ok+null+sess") << "applied, stdin now /dev/null, a session of its own";
}

}  // namespace
}  // namespace seclabel
