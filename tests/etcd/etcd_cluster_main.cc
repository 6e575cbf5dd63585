// seclabel-test-etcd-cluster: the test cluster of etcd_cluster.h for shell
// scripts and benchmarks that drive seclabel from outside.
//
//   seclabel-test-etcd-cluster [MEMBERS]       (default 3)
//
// Prints "endpoints URL,URL,..." once every member serves, then reads
// commands from stdin, one per line, and answers each with one line:
//   leader            index of the leader
//   kill I | stop I | pause I | resume I | restart I    "ok"
//   health            "ok" once every running member serves
//   quit              (or end of input, SIGTERM, SIGINT) stop everything
// Nothing outlives it: members die with it, their data is removed.
#include <signal.h>

#include <iostream>
#include <sstream>
#include <string>

#include "tests/etcd/etcd_cluster.h"

int main(int argc, char** argv) {
  using seclabel::testing::EtcdCluster;
  size_t members = argc > 1 ? std::stoul(argv[1]) : 3;
  // SIGTERM and SIGINT end the loop through a closed stdin read; the
  // destructor then cleans up.
  struct sigaction action{};
  action.sa_handler = [](int) {};
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  try {
    auto cluster = EtcdCluster::start(members);
    std::string list;
    for (const auto& url : cluster->clientUrls()) list += (list.empty() ? "" : ",") + url;
    std::cout << "endpoints " << list << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream words(line);
      std::string command;
      size_t member = 0;
      words >> command >> member;
      try {
        if (command == "quit") break;
        if (command == "leader") {
          std::cout << cluster->leader() << std::endl;
          continue;
        }
        if (command == "health") cluster->waitHealthy();
        else if (member >= cluster->size()) throw std::runtime_error("no member " + std::to_string(member));
        else if (command == "kill") cluster->kill(member);
        else if (command == "stop") cluster->stop(member);
        else if (command == "pause") cluster->pause(member);
        else if (command == "resume") cluster->resume(member);
        else if (command == "restart") cluster->restart(member);
        else throw std::runtime_error("unknown command: " + command);
        std::cout << "ok" << std::endl;
      } catch (const std::exception& e) {
        std::cout << "error " << e.what() << std::endl;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "seclabel-test-etcd-cluster: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
