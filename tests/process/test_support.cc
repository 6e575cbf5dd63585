#include "tests/process/test_support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/unique_fd.h"
#include "process/proc_status.h"

namespace seclabel::testing {

namespace {
int currentReportFd = -1;
}  // namespace

int childReportFd() { return currentReportFd; }

bool ChildResult::exitedCleanly() const {
  return WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0;
}

ChildResult runInChild(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  UniqueFd readEnd(fds[0]);
  UniqueFd writeEnd(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    readEnd.reset();
    currentReportFd = writeEnd.get();
    std::string output;
    try {
      output = body();
    } catch (const std::exception& e) {
      output = std::string("exception: ") + e.what();
    }
    const char* p = output.data();
    size_t left = output.size();
    while (left > 0) {
      ssize_t n = ::write(writeEnd.get(), p, left);
      if (n <= 0) ::_exit(2);
      p += n;
      left -= size_t(n);
    }
    ::_exit(0);
  }
  writeEnd.reset();
  ChildResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) {
    result.output.append(buffer, size_t(n));
  }
  ::waitpid(pid, &result.waitStatus, 0);
  return result;
}

std::string statusField(const std::string& statusText,
                        const std::string& name) {
  std::istringstream lines(statusText);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::istringstream words(line.substr(name.size() + 1));
    std::string word, value;
    while (words >> word) value += (value.empty() ? "" : " ") + word;
    return value;
  }
  return "(missing)";
}

std::string readWholeFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string ownStatus() { return readWholeFile(kThreadStatusPath); }

ProcessIdentity guestIdentity() {
  ProcessIdentity identity;
  identity.uid = kGuestUid;
  identity.gid = kGuestGid;
  identity.noNewPrivs = true;
  return identity;
}

FakeSelinuxHost::FakeSelinuxHost(SelinuxMode mode, int execContextErrno)
    : mode_(mode), execContextErrno_(execContextErrno) {
  void* shared = ::mmap(nullptr, sizeof(ExecContextCall),
                        PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
  if (shared == MAP_FAILED) throw std::runtime_error("mmap failed");
  call_ = static_cast<ExecContextCall*>(shared);
  std::memset(call_, 0, sizeof *call_);
}

FakeSelinuxHost::~FakeSelinuxHost() { ::munmap(call_, sizeof *call_); }

namespace {
void copyField(const char* status, const char* name, char* out, size_t size) {
  size_t length = 0;
  const char* value = findStatusField(status, name, &length);
  if (value == nullptr) length = 0;
  if (length > size - 1) length = size - 1;
  if (length > 0) std::memcpy(out, value, length);
  out[length] = '\0';
}
}  // namespace

int FakeSelinuxHost::setExecContext(const char* context) noexcept {
  ++call_->calls;
  std::strncpy(call_->context, context, sizeof call_->context - 1);
  char status[kStatusBufferSize];
  if (readStatusFile(kThreadStatusPath, status, sizeof status) == 0) {
    copyField(status, "Uid", call_->uid, sizeof call_->uid);
    copyField(status, "NoNewPrivs", call_->noNewPrivs,
              sizeof call_->noNewPrivs);
  }
  return execContextErrno_;
}

}  // namespace seclabel::testing
