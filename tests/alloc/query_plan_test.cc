// Query plans of the SQL the hot path issues, on a store with many guests.
//
// A command whose cost must not depend on the number of guests (prepare,
// restore, exec/run, dominfo, a broker lookup, and the recover pass every
// mutating command starts with) must not issue a statement whose plan SCANs
// a table that grows with the guests: every table except the few listed in
// kTablesThatDoNotGrow (a new table counts as growing until listed there).
//
// How: the commands run in this process, through the library exactly as
// the `seclabel` command calls it (openSession, SecurityManager, the
// launcher), against a store filled with 2,000 guests (some running, some
// of them with a process that died); a test-only trace seam of the SQLite
// layer (setStatementTraceForTesting) collects the text of every statement
// each step runs; each one then goes through EXPLAIN QUERY PLAN on a
// connection of our own. The report lists every statement with the steps
// that issue it, whether that is the hot path, and its plan.
//
// The hot path had two full scans (every guest, live XML included, and every
// pending intent, both read by the recover pass of every mutating command);
// the recover pass now finds its candidates through indexes and settles dead
// guests lazily (secdriver/recover_candidates.h), and kKnownFullScans is
// empty: any statement of the hot path that scans a growing table fails the
// test. An entry added to the list must match a scanning hot-path statement
// (else the test fails: delete it); entries that still scan are reported on
// stdout ("KNOWN FULL SCAN"), not failed.
//
// The test also checks the lazy recovery this needs: the recover at the
// start of a command leaves a running guest whose process died alone; the
// next prepare that needs its name restores it, and so does an explicit
// `seclabel recover` (not the hot path: it may scan).
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloc/sqlite_db.h"
#include "alloc/store.h"
#include "bench/scale/store_fill.h"
#include "core/error.h"
#include "launcher/launcher.h"
#include "launcher/session.h"
#include "xml/xml.h"

namespace seclabel::testing {
namespace {

// Tables whose size does not depend on the number of guests (one row per
// allocation space); sqlite_* (the schema) is never data.
const std::set<std::string> kTablesThatDoNotGrow = {"cursors"};

// KNOWN FULL SCANS on the hot path, as of this test's first version: each
// `fragment` is matched against the statement text (so added columns do not
// unlist it). The scale fix removes the scans and empties this list.
struct KnownFullScan {
  const char* fragment;
  const char* source;
};
// Empty since the recover pass stopped listing guests and intents.
const std::vector<KnownFullScan> kKnownFullScans = {};

enum class Path { Hot, NotHot };

constexpr int kGuests = 2000;
constexpr int kRunningAlive = 100;
constexpr int kRunningDead = 3;

// Every statement seen, with the steps that ran it.
struct Seen {
  std::set<std::string> steps;
  bool hot = false;
};

std::map<std::string, Seen>& seenStatements() {
  static std::map<std::string, Seen> seen;
  return seen;
}

// What the trace attributes statements to.
struct Step {
  std::string name;
  Path path = Path::Hot;
};
Step& currentStep() {
  static Step step;
  return step;
}

void traceStatement(const std::string& sql) {
  if (sql.rfind("--", 0) == 0) return;  // a trigger's sub-program (there are none today)
  Seen& seen = seenStatements()[sql];
  seen.steps.insert(currentStep().name);
  seen.hot |= currentStep().path == Path::Hot;
}

void enterStep(const std::string& name, Path path = Path::Hot) { currentStep() = {name, path}; }

// A child that lives until destroyed: the process of the guests that run.
class LiveChild {
 public:
  LiveChild() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      char byte;
      ::close(fds[1]);
      (void)!::read(fds[0], &byte, 1);
      ::_exit(0);
    }
    ::close(fds[0]);
    release_ = fds[1];
  }
  ~LiveChild() { finish(); }
  LiveChild(const LiveChild&) = delete;
  LiveChild& operator=(const LiveChild&) = delete;
  pid_t pid() const { return pid_; }
  // Lets it exit and reaps it.
  void finish() {
    if (pid_ <= 0) return;
    ::close(release_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

class Scratch {
 public:
  Scratch() {
    std::string pattern = "/tmp/seclabel-queryplan-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    ::chmod(root_.c_str(), 0755);  // guest identities reach their disks
  }
  ~Scratch() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  std::string path(const std::string& name) const { return root_ + "/" + name; }

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  std::string disk(const std::string& name) const {
    std::string file = write(name, "");
    ::chmod(file.c_str(), 0600);
    return file;
  }

 private:
  std::string root_;
};

std::string configText(const std::string& fdpass) {
  return "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"" + fdpass +
         "\"\n[dac]\nrange = \"1879048192-1879113727\"\ngroups = []\n"
         "[audit]\nsink = \"none\"\n[cgroup]\ndevices = \"off\"\n";
}

std::string domainXml(const std::string& name, const std::string& uuid, const std::string& disk) {
  return "<domain type='qemu'><name>" + name + "</name><uuid>" + uuid +
         "</uuid><memory unit='MiB'>64</memory>"
         "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
         "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" +
         disk +
         "'/><target dev='vda' bus='virtio'/></disk></devices>"
         "<seclabel type='dynamic' model='selinux' relabel='yes'/>"
         "<seclabel type='dynamic' model='dac' relabel='yes'/></domain>";
}

// A command's session, opened as the `seclabel` command opens it; the
// recover pass of a mutating command is a step of its own.
Session openCommandSession(const std::string& config, const std::string& stateDir,
                           SessionKind kind) {
  enterStep("open the store (every command)");
  SessionOptions options;
  options.configPath = config;
  options.configMayBeMissing = false;
  options.stateDir = stateDir;
  options.warn = [](const std::string&) {};
  Session session = openSession(options, SessionKind::ReadOnly);
  if (kind == SessionKind::Mutating) {
    enterStep("recover (start of every mutating command)");
    session.manager->recover(RecoverScope::inFlight());  // as openSession does
  }
  return session;
}

// ---- the plans -----------------------------------------------------------

bool isQuery(const std::string& sql) {
  static const std::regex query(R"(^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH)\b)",
                                std::regex::icase);
  return std::regex_search(sql, query);
}

// The table behind a name in a plan line: the name itself, or the table the
// statement gives that alias to ("FROM resource_holders h").
std::string tableOf(const std::string& sql, const std::string& name) {
  std::regex alias("(?:FROM|JOIN)\\s+(\\w+)\\s+(?:AS\\s+)?" + name + "\\b", std::regex::icase);
  std::smatch match;
  if (std::regex_search(sql, match, alias)) return match[1];
  return name;
}

struct Plan {
  std::vector<std::string> lines;
  std::set<std::string> growingTablesScanned;
};

class PlanReader {
 public:
  explicit PlanReader(const std::string& databasePath) {
    if (sqlite3_open_v2(databasePath.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + databasePath);
    sqlite3_stmt* tables = nullptr;
    sqlite3_prepare_v2(db_, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &tables,
                       nullptr);
    while (sqlite3_step(tables) == SQLITE_ROW)
      tables_.insert(reinterpret_cast<const char*>(sqlite3_column_text(tables, 0)));
    sqlite3_finalize(tables);
  }
  ~PlanReader() { sqlite3_close(db_); }
  PlanReader(const PlanReader&) = delete;
  PlanReader& operator=(const PlanReader&) = delete;

  bool growing(const std::string& table) const {
    return tables_.count(table) && !kTablesThatDoNotGrow.count(table) &&
           table.rfind("sqlite_", 0) != 0;
  }

  // Throws with SQLite's message when the statement does not compile here.
  Plan explain(const std::string& sql) const {
    sqlite3_stmt* statement = nullptr;
    std::string text = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db_, text.c_str(), -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    Plan plan;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      std::string detail = reinterpret_cast<const char*>(sqlite3_column_text(statement, 3));
      plan.lines.push_back(detail);
      std::smatch match;
      static const std::regex scan(R"(^SCAN (\w+))");
      if (std::regex_search(detail, match, scan)) {
        std::string table = tableOf(sql, match[1]);
        if (growing(table)) plan.growingTablesScanned.insert(table);
      }
    }
    sqlite3_finalize(statement);
    return plan;
  }

 private:
  sqlite3* db_ = nullptr;
  std::set<std::string> tables_;
};

const KnownFullScan* knownScanFor(const std::string& sql) {
  for (const auto& known : kKnownFullScans)
    if (sql.find(known.fragment) != std::string::npos) return &known;
  return nullptr;
}

std::string joined(const std::set<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : "; ") + item;
  return text;
}

TEST(QueryPlanTest, HotPathStatementsDoNotScanTablesThatGrowWithGuests) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: prepare chowns the disks, run switches uid";
  Scratch scratch;
  const std::string stateDir = scratch.path("state");
  const std::string config = scratch.write("seclabel.toml", configText("never"));
  const std::string fdpassConfig = scratch.write("fdpass.toml", configText("always"));

  // The store: kGuests prepared guests, kRunningAlive of them running as a
  // live process with a supervising launcher (the same process), plus
  // kRunningDead running guests whose process and launcher are gone (the
  // first recover restores them).
  LiveChild guestProcess;
  {
    auto host = makeSystemSelinuxHost();
    Config parsed = Config::load(config, false, host->enabled());
    auto store = openSqliteStore(stateDir);
    bench::StoreFill fill;
    fill.guests = kGuests;
    fill.running = kRunningAlive;
    fill.process = bench::GuestProcess::live(guestProcess.pid());
    fill.supervised = true;
    bench::fillStore(*store, parsed, *host, fill);
    bench::StoreFill dead;
    dead.prefix = "dead-";
    dead.diskDir = scratch.path("dead-disks");  // real files: their restore succeeds
    std::filesystem::create_directory(dead.diskDir);
    dead.guests = dead.running = kRunningDead;
    dead.process = bench::GuestProcess::dead();
    dead.supervised = true;
    bench::fillStore(*store, parsed, *host, dead);
  }
  {
    Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
    Domain probe = parseDomainXml(domainXml("qp-probe", "0b5e55ed-0000-4000-8000-000000000001",
                                            scratch.disk("probe.img")));
    session.manager->prepare(probe);
  }

  setStatementTraceForTesting(traceStatement);
  seenStatements().clear();
  try {
    {  // seclabel prepare
      Session session = openCommandSession(config, stateDir, SessionKind::Mutating);
      EXPECT_NE(session.store->findGuest("dead-000000"), std::nullopt)
          << "the recover pass of every command checked running guests (it must not: "
             "their number can be the store's size)";
      enterStep("prepare");
      Domain domain = parseDomainXml(domainXml("qp-guest", "0b5e55ed-0000-4000-8000-000000000002",
                                               scratch.disk("guest.img")));
      session.manager->prepare(domain);
    }
    {  // seclabel restore (then its recover pass)
      Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
      enterStep("restore");
      session.manager->restore("qp-guest");
      enterStep("recover (start of every mutating command)");
      session.manager->recover(RecoverScope::inFlight());  // as `seclabel restore` does
    }
    {  // seclabel exec: the guest recorded as running in the exec'ing process
      const std::string uuid = "0b5e55ed-0000-4000-8000-000000000003";
      Domain domain = parseDomainXml(domainXml("qp-exec", uuid, scratch.disk("exec.img")));
      Session session = openCommandSession(config, stateDir, SessionKind::Mutating);
      enterStep("exec");
      GuestLaunch launch = prepareLaunch(*session.manager, domain, {"/bin/true"}, {});
      LiveChild execed;  // stands for this process after its execve
      session.manager->markRunning(launch.record.uuid, execed.pid());
      execed.finish();  // the guest exits: the next recover restores it
    }
    {  // the next prepare that needs the exec'd guest's name restores it first
      Session session = openCommandSession(config, stateDir, SessionKind::Mutating);
      ASSERT_TRUE(session.store->findGuest("qp-exec")) << "restored before it was needed";
      enterStep("prepare (takes the name of a guest whose process died)");
      Domain domain = parseDomainXml(domainXml("qp-exec", "0b5e55ed-0000-4000-8000-000000000005",
                                               scratch.disk("exec-again.img")));
      session.manager->prepare(domain);
      EXPECT_EQ(session.store->findGuest("qp-exec")->uuid, "0b5e55ed-0000-4000-8000-000000000005");
      enterStep("restore");
      session.manager->restore("qp-exec");
    }
    {  // seclabel run -- /bin/true {disk:vda}, the disk served by fd passing
      Session session = openCommandSession(fdpassConfig, stateDir, SessionKind::Mutating);
      enterStep("run");
      Domain domain = parseDomainXml(domainXml("qp-run", "0b5e55ed-0000-4000-8000-000000000004",
                                               scratch.disk("run.img")));
      GuestLaunch launch =
          prepareLaunch(*session.manager, domain, {"/bin/true", "{disk:vda}"}, {});
      EXPECT_EQ(runGuest(*session.manager, launch), 0);
    }
    {  // seclabel dominfo
      Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
      enterStep("dominfo");
      EXPECT_EQ(session.manager->info("qp-probe").record.name, "qp-probe");
    }
    {  // a broker request: seclabel broker's guest directory and its auditor
       // (tools/cmd_broker.cc) each look the guest up
      Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
      enterStep("broker lookup");
      ASSERT_TRUE(session.store->findGuest("qp-probe"));
      ASSERT_TRUE(session.store->findGuest("0b5e55ed-0000-4000-8000-000000000001"));
    }
    {  // seclabel recover: every running guest is checked (not the hot path)
      Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
      enterStep("recover (explicit `seclabel recover`)", Path::NotHot);
      session.manager->recover();
      for (int i = 0; i < kRunningDead; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "dead-%06d", i);
        EXPECT_EQ(session.store->findGuest(name), std::nullopt)
            << "seclabel recover did not restore " << name << ", whose process died";
      }
    }
    {  // seclabel list: linear by nature, not on the hot path
      Session session = openCommandSession(config, stateDir, SessionKind::ReadOnly);
      enterStep("list", Path::NotHot);
      size_t listed = 0;
      session.store->forEachGuest([&](const GuestRecord&) { ++listed; });
      EXPECT_EQ(listed, size_t(kGuests + 1));
    }
  } catch (...) {
    setStatementTraceForTesting({});
    throw;
  }
  setStatementTraceForTesting({});

  PlanReader plans(stateDir + "/state.db");
  std::set<const KnownFullScan*> knownStillScanning;
  std::cout << "Statements issued (" << seenStatements().size() << "), on a store of " << kGuests
            << " guests:\n";
  for (const auto& [sql, seen] : seenStatements()) {
    std::cout << "\n[" << (seen.hot ? "hot" : "not hot") << "] " << sql
              << "\n    issued by: " << joined(seen.steps) << "\n";
    if (!isQuery(sql)) {
      std::cout << "    (no query plan: not a query)\n";
      continue;
    }
    Plan plan;
    try {
      plan = plans.explain(sql);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot explain \"" << sql << "\": " << e.what();
      continue;
    }
    for (const auto& line : plan.lines) std::cout << "    plan: " << line << "\n";
    if (plan.growingTablesScanned.empty()) continue;
    const std::string tables = joined(plan.growingTablesScanned);
    if (!seen.hot) {
      std::cout << "    full scan of " << tables << ": allowed, not on the hot path\n";
    } else if (const KnownFullScan* known = knownScanFor(sql)) {
      knownStillScanning.insert(known);
      std::cout << "    KNOWN FULL SCAN of " << tables << " on the hot path: " << known->source
                << "\n";
    } else {
      ADD_FAILURE() << "hot-path statement scans " << tables << " (a table that grows with "
                    << "the guests):\n  " << sql << "\n  issued by: " << joined(seen.steps);
    }
  }
  std::cout << "\nKnown full scans still on the hot path: " << knownStillScanning.size() << " of "
            << kKnownFullScans.size() << "\n";
  for (const auto& known : kKnownFullScans) {
    if (knownStillScanning.count(&known)) {
      std::cout << "  KNOWN FULL SCAN: \"" << known.fragment << "\": " << known.source << "\n";
    } else {
      ADD_FAILURE() << "kKnownFullScans entry \"" << known.fragment
                    << "\" matches no scanning hot-path statement any more: delete it";
    }
  }
}

}  // namespace
}  // namespace seclabel::testing
