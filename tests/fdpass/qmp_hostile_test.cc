// The QMP client against a hostile QEMU: the guest owns its QEMU, so every
// byte of a QMP reply is the guest's. A fake QMP server (a unix socket in
// the test, a thread with a script) sends endless events, trickles a reply
// a byte at a time, never accepts, prints terminal escapes in its errors,
// answers ids out of range or of sets that are not ours, nests a reply
// 100,000 levels deep, sends more than a reply may hold.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/qemu_hotplug.h"
#include "fdpass/qmp_client.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 300ms;  // the client's deadline per command in these tests
// How long a script keeps misbehaving at most: long enough that a client
// without a per-command deadline fails on what follows, not on a hang.
constexpr auto kScriptPatience = 15s;

constexpr char kGreeting[] =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}})";

// One accepted connection, from the script's side.
class FakeQmpSession {
 public:
  FakeQmpSession(int fd, std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  bool stopping() const { return stopping_; }
  // False when the client has gone.
  bool send(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(text.size());
  }
  bool sendLine(const std::string& line) { return send(line + "\n"); }
  // The next command, or null when the client has gone (or the test ends).
  json readCommand() {
    while (!stopping_) {
      std::size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        json command = json::parse(line, nullptr, false);
        std::lock_guard lock(mutex());
        commands().push_back(command);
        return command;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);  // attached fds are dropped
      if (n <= 0) return nullptr;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return nullptr;
  }
  // Greets and answers qmp_capabilities, as QEMU does.
  bool handshake() {
    if (!sendLine(kGreeting)) return false;
    json caps = readCommand();
    return !caps.is_null() && reply(caps, json::object());
  }
  bool reply(const json& command, const json& result) {
    return sendLine(json{{"return", result}, {"id", command["id"]}}.dump());
  }
  bool event() {
    return sendLine(R"({"event": "RTC_CHANGE", "data": {"offset": 1}, "timestamp": {"seconds": 1, "microseconds": 2}})");
  }

  // Every command any session received, in order.
  static std::vector<json>& commands() {
    static std::vector<json> all;
    return all;
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }

 private:
  int fd_;
  std::atomic<bool>& stopping_;
  std::string buffer_;
};

using Script = std::function<void(FakeQmpSession&)>;

// A QMP server that runs `script` for each connection, one at a time.
class FakeQmp {
 public:
  FakeQmp(const std::string& path, Script script, int backlog = 8, bool accepting = true)
      : path_(path) {
    {
      std::lock_guard lock(FakeQmpSession::mutex());
      FakeQmpSession::commands().clear();
    }
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_.get(), backlog) != 0) {
      throw std::runtime_error("fake QMP: cannot listen on " + path);
    }
    thread_ = std::thread([this, script, accepting] {
      if (!accepting) {
        // Never accepts while the test needs it, then lets a blocked
        // client through (so code without a deadline fails, not hangs).
        auto until = Clock::now() + kScriptPatience;
        while (!stopping_ && Clock::now() < until) std::this_thread::sleep_for(20ms);
      }
      while (!stopping_) {
        pollfd p{listen_.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) continue;
        FakeQmpSession session(client.get(), stopping_);
        script(session);
      }
    });
  }
  ~FakeQmp() {
    stopping_ = true;
    thread_.join();
  }
  std::vector<json> commands() const {
    std::lock_guard lock(FakeQmpSession::mutex());
    return FakeQmpSession::commands();
  }
  std::vector<json> commandsNamed(const std::string& name) const {
    std::vector<json> found;
    for (const json& c : commands())
      if (c.is_object() && c.value("execute", "") == name) found.push_back(c);
    return found;
  }

 private:
  std::string path_;
  UniqueFd listen_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Misbehaves for kScriptPatience at most, then hangs up.
bool withinPatience(Clock::time_point start) { return Clock::now() - start < kScriptPatience; }

class HostileQmp : public ::testing::Test {
 protected:
  std::string path() const { return dir_.file("qmp.sock"); }
  TempDir dir_;
};

// The Error a call throws (a failure of the test if it throws none).
template <typename Call>
Error errorOf(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no Error thrown";
  return Error(ExitCode::Ok, "none");
}

// ---- one deadline per command ----------------------------------------------

TEST_F(HostileQmp, EndlessEventsDoNotHoldACommandPastItsDeadline) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) {
    if (!s.handshake() || s.readCommand().is_null()) return;
    for (auto start = Clock::now(); withinPatience(start) && !s.stopping();) {
      if (!s.event()) return;  // the client has gone
      std::this_thread::sleep_for(1ms);
    }
  });
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  const Clock::time_point start = Clock::now();
  Error e = errorOf([&] { qmp.execute("query-status"); });
  std::cout << "[ figures  ] a QEMU sending an event every ms: query-status gave up after "
            << std::chrono::duration<double, std::milli>(Clock::now() - start).count()
            << " ms (deadline " << kTimeout.count() << " ms)\n";
  EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
  EXPECT_NE(std::string(e.what()).find("QEMU did not answer query-status within 300 ms"),
            std::string::npos)
      << e.what();
}

// device_del answered at once, then events without end, none of them the
// DEVICE_DELETED of our device (one names another device): the wait for it
// shares device_del's deadline.
TEST_F(HostileQmp, EndlessEventsDoNotHoldADeviceDeletePastItsDeadline) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) {
    if (!s.handshake()) return;
    json command = s.readCommand();
    if (command.is_null() || !s.reply(command, json::object())) return;
    s.sendLine(R"({"event": "DEVICE_DELETED", "data": {"device": "ua-other"}})");
    for (auto start = Clock::now(); withinPatience(start) && !s.stopping();) {
      if (!s.event()) return;
      std::this_thread::sleep_for(1ms);
    }
  });
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  const Clock::time_point start = Clock::now();
  Error e = errorOf([&] { qmp.deleteDevice("ua-sdb"); });
  EXPECT_LT(Clock::now() - start, 5s);  // the deadline, not the script's 15 s
  EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
  EXPECT_NE(std::string(e.what()).find("did not delete device ua-sdb"), std::string::npos)
      << e.what();
}

// QEMU 7.2 sends DEVICE_DELETED after device_del's reply; a QEMU that sends
// it first (or a guest-driven unplug racing) is taken as well.
TEST_F(HostileQmp, ADeviceDeletedBeforeTheReplyCounts) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) {
    if (!s.handshake()) return;
    json command = s.readCommand();
    if (command.is_null()) return;
    s.sendLine(R"({"event": "DEVICE_DELETED", "data": {"device": "ua-sdb"}})");
    s.reply(command, json::object());
    while (!s.readCommand().is_null()) {
    }
  });
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  EXPECT_NO_THROW(qmp.deleteDevice("ua-sdb"));
  auto deletes = qemu.commandsNamed("device_del");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0]["arguments"]["id"], "ua-sdb");
}

TEST_F(HostileQmp, AReplyTrickledAByteAtATimeDoesNotHoldACommandPastItsDeadline) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) {
    if (!s.handshake()) return;
    json command = s.readCommand();
    if (command.is_null()) return;
    // Each byte well within the client's deadline, the whole reply not.
    for (char c : json{{"return", json::object()}, {"id", command["id"]}}.dump() + "\n") {
      if (s.stopping() || !s.send(std::string(1, c))) return;
      std::this_thread::sleep_for(100ms);
    }
  });
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  Error e = errorOf([&] { qmp.execute("query-status"); });
  EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
}

TEST_F(HostileQmp, AQemuThatNeverAcceptsDoesNotHoldTheConnect) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) { s.handshake(); }, /*backlog=*/0,
               /*accepting=*/false);
  // Fill the backlog of the listener, which never accepts.
  std::vector<UniqueFd> queued;
  for (int i = 0; i < 4; ++i) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path().c_str());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) break;
    queued.push_back(std::move(fd));
  }
  ASSERT_FALSE(queued.empty());
  Error e = errorOf([&] { QmpClient::connect(path(), kTimeout); });
  EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
  EXPECT_NE(std::string(e.what()).find("did not accept the connection"), std::string::npos)
      << e.what();
}

TEST_F(HostileQmp, ASilentQemuTimesOutTheGreeting) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) { s.readCommand(); });  // says nothing
  Error e = errorOf([&] { QmpClient::connect(path(), kTimeout); });
  EXPECT_EQ(e.errnum(), ETIMEDOUT) << e.what();
  EXPECT_NE(std::string(e.what()).find("QEMU did not greet"), std::string::npos) << e.what();
}

// ---- what QEMU says is shown escaped ---------------------------------------

TEST_F(HostileQmp, ErrorTextIsShownEscaped) {
  FakeQmp qemu(path(), [](FakeQmpSession& s) {
    if (!s.handshake()) return;
    json command = s.readCommand();
    if (command.is_null()) return;
    s.sendLine(json{{"error",
                     {{"class", "GenericError"},
                      {"desc", "bad\n\x1b[2J\x1b]0;owned\x07seclabel: all fine \\ \xc3\xa4"}}},
                    {"id", command["id"]}}
                   .dump());
  });
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  std::string what = errorOf([&] { qmp.execute("query-status"); }).what();
  for (unsigned char c : what) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in: " << what;
  }
  EXPECT_EQ(what,
            "query-status: bad\\n\\x1b[2J\\x1b]0;owned\\x07seclabel: all fine \\\\ \\xc3\\xa4");
}

// ---- ids are checked, never narrowed ---------------------------------------

// Answers every add-fd with `answers` in turn, query-fdsets with `existing`,
// anything else with {}.
Script addFdAnswers(std::vector<json> answers, json existing = json::array()) {
  return [answers, existing](FakeQmpSession& s) {
    if (!s.handshake()) return;
    std::size_t next = 0;
    for (json command = s.readCommand(); !command.is_null(); command = s.readCommand()) {
      const std::string name = command.value("execute", "");
      if (name == "add-fd" && next < answers.size()) {
        const json& answer = answers[next++];
        if (answer.contains("error")) {
          s.sendLine(json{{"error", answer["error"]}, {"id", command["id"]}}.dump());
        } else {
          s.reply(command, answer);
        }
      } else if (name == "query-fdsets") {
        s.reply(command, existing);
      } else {
        s.reply(command, json::object());
      }
    }
  };
}

UniqueFd devNull() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

TEST_F(HostileQmp, AddFdAnswersThatAreNotIdsAreRefusedNotNarrowed) {
  const std::vector<json> notIds = {4294967297ull, -1, 1.5, "3", true, nullptr,
                                    json::array({1})};
  std::vector<json> answers;
  for (const json& id : notIds) answers.push_back({{"fdset-id", id}, {"fd", 10}});
  answers.push_back({{"fdset-id", 1}, {"fd", 4294967306ull}});
  FakeQmp qemu(path(), addFdAnswers(answers));
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  UniqueFd fd = devNull();
  for (const json& id : notIds) {
    SCOPED_TRACE(id.dump());
    Error e = errorOf([&] { qmp.addFd(fd.get()); });
    EXPECT_NE(std::string(e.what()).find("fdset-id " + id.dump() + " is not an id"),
              std::string::npos)
        << e.what();
  }
  Error e = errorOf([&] { qmp.addFd(fd.get()); });
  EXPECT_NE(std::string(e.what()).find("fd 4294967306 is not an id"), std::string::npos)
      << e.what();
}

BrokerDiskFds twoFdDisk() {
  BrokerDiskFds disk{"web", "11111111-1111-1111-1111-111111111111", "vda", "/img/web.qcow2",
                     DiskAccess::ReadWrite, {}};
  disk.fds.push_back({FdMode::ReadWrite, "rdwr:/img/web.qcow2", devNull()});
  disk.fds.push_back({FdMode::ReadOnly, "rdonly:/img/web.qcow2", devNull()});
  return disk;
}

const json kAddFdFails = {{"error", {{"class", "GenericError"}, {"desc", "no"}}}};

TEST_F(HostileQmp, CleanupNeverRemovesASetNamedByAnIdOutOfRange) {
  // 4294967297 narrowed to int is 1: someone else's set.
  FakeQmp qemu(path(), addFdAnswers({{{"fdset-id", 4294967297ull}, {"fd", 10}}, kAddFdFails},
                                    json::array({{{"fdset-id", 1}, {"fds", json::array()}}})));
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  EXPECT_THROW(addDiskFdsToQemu(qmp, twoFdDisk()), Error);
  EXPECT_TRUE(qemu.commandsNamed("remove-fd").empty()) << qemu.commandsNamed("remove-fd")[0];
}

TEST_F(HostileQmp, CleanupNeverRemovesASetThatExistedBefore) {
  FakeQmp qemu(path(), addFdAnswers({{{"fdset-id", 3}, {"fd", 10}}, kAddFdFails},
                                    json::array({{{"fdset-id", 3}, {"fds", json::array()}}})));
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  Error e = errorOf([&] { addDiskFdsToQemu(qmp, twoFdDisk()); });
  EXPECT_NE(std::string(e.what()).find("fd set 3, which existed before"), std::string::npos)
      << e.what();
  EXPECT_TRUE(qemu.commandsNamed("remove-fd").empty()) << qemu.commandsNamed("remove-fd")[0];
}

TEST_F(HostileQmp, ALaterAnswerNamingAnotherSetRemovesOnlyTheSetThisCommandAdded) {
  FakeQmp qemu(path(), addFdAnswers({{{"fdset-id", 7}, {"fd", 10}}, {{"fdset-id", 0}, {"fd", 11}}},
                                    json::array({{{"fdset-id", 0}, {"fds", json::array()}}})));
  QmpClient qmp = QmpClient::connect(path(), kTimeout);
  Error e = errorOf([&] { addDiskFdsToQemu(qmp, twoFdDisk()); });
  EXPECT_NE(std::string(e.what()).find("names fd set 0, not the fd set 7"), std::string::npos)
      << e.what();
  std::vector<json> removed = qemu.commandsNamed("remove-fd");
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0]["arguments"], (json{{"fdset-id", 7}}));
}

// ---- size and nesting ------------------------------------------------------

Script replyWith(std::string returnJson) {
  return [returnJson](FakeQmpSession& s) {
    if (!s.handshake()) return;
    for (json command = s.readCommand(); !command.is_null(); command = s.readCommand()) {
      if (!s.sendLine(R"({"id": )" + command["id"].dump() + R"(, "return": )" + returnJson +
                      "}")) {
        return;
      }
    }
  };
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST_F(HostileQmp, AReplyNestedDeeperThanQemuItselfParsesIsRefusedBeforeParsing) {
  FakeQmp qemu(path(), replyWith(nested(100000)));
  QmpClient qmp = QmpClient::connect(path(), 10s);
  Error e = errorOf([&] { qmp.execute("query-status"); });
  EXPECT_NE(std::string(e.what()).find("nested deeper than 1024 levels"), std::string::npos)
      << e.what();
}

TEST_F(HostileQmp, NestingUpToTheBoundIsFineAndBracketsInStringsDoNotCount) {
  FakeQmp qemu(path(), replyWith("[\"" + std::string(5000, '[') + "\", " +
                                 nested(kMaxQmpNesting - 2) + "]"));
  QmpClient qmp = QmpClient::connect(path(), 10s);
  json result = qmp.execute("query-status");
  EXPECT_EQ(result[0], std::string(5000, '['));
}

TEST_F(HostileQmp, AReplyLargerThanTheBoundIsRefused) {
  FakeQmp qemu(path(), replyWith("\"" + std::string(kMaxQmpMessageBytes + 10, 'x') + "\""));
  QmpClient qmp = QmpClient::connect(path(), 10s);
  Error e = errorOf([&] { qmp.execute("query-status"); });
  EXPECT_NE(std::string(e.what()).find("message larger than 1048576 bytes"), std::string::npos)
      << e.what();
}

TEST_F(HostileQmp, AGreetingOfTheWrongShapeIsAnErrorNotACrash) {
  for (const char* greeting :
       {R"({"QMP": 5})", R"({"QMP": {"version": 7}})",
        R"({"QMP": {"version": {"qemu": {"major": "seven", "minor": -1, "micro": 1.5}}}})"}) {
    SCOPED_TRACE(greeting);
    const std::string text = greeting;
    FakeQmp qemu(path(), [text](FakeQmpSession& s) {
      if (!s.sendLine(text)) return;
      for (json c = s.readCommand(); !c.is_null(); c = s.readCommand()) s.reply(c, json::object());
    });
    try {
      QmpClient qmp = QmpClient::connect(path(), kTimeout);
      EXPECT_EQ(qmp.qemuVersion().major, 0);  // nothing usable: 0, not garbage
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("did not greet with QMP"), std::string::npos)
          << e.what();
    }
    ::unlink(path().c_str());
  }
}

}  // namespace
}  // namespace seclabel
