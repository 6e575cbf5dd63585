// A guest's network devices as the launcher hands them to QEMU
// (docs/network.md): opened before the identity is dropped, recorded in the
// store before anything is created, named on the command line by
// {netdev:ALIAS} and {mac:ALIAS}, inherited by the guest (exactly those
// fds), given to the guest (commit, reason=start) once it runs, taken back
// at restore/recover (host_objects.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/net_device.h"
#include "net/rtnetlink.h"
#include "secdriver/manager.h"
#include "xml/domain.h"

namespace seclabel {

// The aliases `argv` names in {netdev:ALIAS} (argv[0] excluded), in order of
// first use. Throws Error(InvalidInput) for an unterminated or empty
// placeholder, or one inside a JSON argument (its value is option syntax).
std::vector<std::string> netdevAliasesNamed(const std::vector<std::string>& argv);

// Checks every {netdev:ALIAS} and {mac:ALIAS} of `argv` against `domain`'s
// interfaces as prepare will name them (aliases net0.. in document order
// for those without one): Error(InvalidInput), one line, for an unknown
// alias or a malformed placeholder. Changes nothing.
void checkNetPlaceholders(const Domain& domain, const std::vector<std::string>& argv);

// What one placeholder expands to.
struct NetArgument {
  std::optional<std::string> netdev;  // -netdev value; nullopt: no devices opened
  std::string mac;
};

// Replaces {netdev:ALIAS} by `interfaces[ALIAS].netdev` and {mac:ALIAS} by
// its MAC. Neither value holds a character QEMU's option or JSON syntax
// would read specially, so nothing is escaped; {netdev:} inside a JSON
// argument is refused (checkNetPlaceholders). Throws Error(InvalidInput).
std::vector<std::string> expandNetPlaceholders(const std::vector<std::string>& argv,
                                               const std::map<std::string, NetArgument>& interfaces);

class GuestNetwork {
 public:
  // Opens the devices of every interface of `live` that `argvTemplate` names
  // in {netdev:ALIAS}: the bridge ACL first (a refusal opens and creates
  // nothing, and writes reason=start res=failed), each link recorded in
  // the store before it is created. `live` gets the names of the links made
  // (<target dev>). Throws Error; what was made is deleted again.
  static std::unique_ptr<GuestNetwork> open(SecurityManager& manager, Domain& live,
                                            const std::vector<std::string>& argvTemplate);
  // Deletes the links of an uncommitted launch and forgets their records.
  ~GuestNetwork();

  std::vector<std::string> expand(const std::vector<std::string>& argv) const;
  // Every fd the guest must inherit (queues and vhost-net).
  std::vector<int> guestFds() const;
  // The device nodes of the macvtaps (/dev/tapN), for the guest's cgroup.
  std::vector<std::string> macvtapNodes() const;

  // The guest runs with the fds: links are its now (deleted at restore),
  // one reason=start record per interface.
  void started();
  // Closes this process's copies (after the guest inherited them).
  void closeFds();

 private:
  GuestNetwork(SecurityManager& manager, const Domain& live);
  SecurityManager& manager_;
  AuditGuest guest_;
  std::map<std::string, NetArgument> arguments_;
  std::optional<Rtnetlink> rtnetlink_;  // outlives the devices
  NetContext context_;
  struct Opened {
    std::string tag;  // the store's key
    NetDevice device;
  };
  std::vector<Opened> devices_;
  bool started_ = false;
};

}  // namespace seclabel
