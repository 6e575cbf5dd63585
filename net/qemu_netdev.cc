#include "net/qemu_netdev.h"

#include "core/error.h"

namespace seclabel {
namespace {

bool isQemuId(const std::string& id) {
  // QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'.
  if (id.empty() || id.size() > 127) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(id.front())) return false;
  for (char c : id)
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
  return true;
}

std::string joined(std::span<const int> fds) {
  std::string text;
  for (int fd : fds) text += (text.empty() ? "" : ":") + std::to_string(fd);
  return text;
}

}  // namespace

std::string qemuNetdevValue(const std::string& alias, std::span<const int> tapFds,
                            std::span<const int> vhostFds) {
  if (!isQemuId(alias))
    throw Error::invalidInput("interface alias '" + alias + "' is not a valid QEMU id");
  if (tapFds.empty()) throw Error::invalidInput("interface " + alias + " has no tap fd");
  if (!vhostFds.empty() && vhostFds.size() != tapFds.size())
    throw Error::invalidInput("interface " + alias + ": " + std::to_string(vhostFds.size()) +
                              " vhost fds for " + std::to_string(tapFds.size()) + " queues");
  bool several = tapFds.size() > 1;
  std::string value = "tap,id=" + alias + (several ? ",fds=" : ",fd=") + joined(tapFds);
  if (!vhostFds.empty())
    value += std::string(",vhost=on") + (several ? ",vhostfds=" : ",vhostfd=") + joined(vhostFds);
  return value;
}

}  // namespace seclabel
