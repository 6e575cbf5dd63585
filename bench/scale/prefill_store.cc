// prefill_store: fills a state directory's store with N guests in one
// transaction (bench/scale/store_fill.h), untimed, for the scale benchmark
// (bench/scale/scale.sh) and for anyone who wants a large store to try.
//
//   prefill_store --config FILE --state-dir DIR --guests N [--prefix fill-]
//                 [--disk-dir DIR]
//                 [--running K [--running-pid PID|dead] [--supervised]]
//
//   --disk-dir DIR  a real empty file per guest in DIR instead of a fake
//                   (dev, ino) under /nonexistent
//   --running K     K of the guests (spread evenly) are "running" as the live
//                   process PID (recover leaves them alone, after a /proc
//                   look each) or as a process that has exited ("dead", the
//                   default: the next mutating command restores them);
//                   --supervised adds the intent of a supervising launcher
//                   (the same process).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/scale/store_fill.h"
#include "core/error.h"

namespace seclabel::bench {
namespace {

struct Options {
  std::string config;
  std::string stateDir;
  std::string runningPid = "dead";
  StoreFill fill;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "prefill_store: %s\n"
               "usage: prefill_store --config FILE --state-dir DIR --guests N [--prefix P]\n"
               "                     [--disk-dir DIR] [--running K [--running-pid PID|dead]"
               " [--supervised]]\n",
               why.c_str());
  std::exit(2);
}

uint64_t parseCount(const std::string& text, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || text[0] == '-') usage(what + ": not a count: " + text);
  return value;
}

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--config") options.config = value();
    else if (arg == "--state-dir") options.stateDir = value();
    else if (arg == "--guests") options.fill.guests = parseCount(value(), arg);
    else if (arg == "--prefix") options.fill.prefix = value();
    else if (arg == "--disk-dir") options.fill.diskDir = value();
    else if (arg == "--running") options.fill.running = parseCount(value(), arg);
    else if (arg == "--running-pid") options.runningPid = value();
    else if (arg == "--supervised") options.fill.supervised = true;
    else usage("unknown argument " + arg);
  }
  if (options.config.empty() || options.stateDir.empty())
    usage("--config and --state-dir are required");
  return options;
}

int run(Options options) {
  auto host = makeSystemSelinuxHost();
  Config config = Config::load(options.config, false, host->enabled());
  if (options.fill.running > 0)
    options.fill.process = options.runningPid == "dead"
                               ? GuestProcess::dead()
                               : GuestProcess::live(pid_t(parseCount(options.runningPid,
                                                                     "--running-pid")));
  auto started = std::chrono::steady_clock::now();
  auto store = openSqliteStore(options.stateDir);
  fillStore(*store, config, *host, options.fill);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "prefill_store: %s: %" PRIu64 " guests (%" PRIu64 " running%s) in %.1f s\n",
               options.stateDir.c_str(), options.fill.guests, options.fill.running,
               options.fill.supervised ? ", supervised" : "", seconds);
  return 0;
}

}  // namespace
}  // namespace seclabel::bench

int main(int argc, char** argv) {
  try {
    return seclabel::bench::run(seclabel::bench::parseOptions(argc, argv));
  } catch (const seclabel::Error& e) {
    std::fprintf(stderr, "prefill_store: %s\n", e.what());
    return int(e.code());
  }
}
