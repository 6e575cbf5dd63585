// What the kernel audit tests need from the host: is a real auditd logging,
// run ausearch, read its records back. Used under the `auditd` CTest fixture.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace seclabel::testing {

// Why the kernel audit log cannot be read back here (no kernel audit, no
// auditd, auditing disabled), or nullopt when it can.
std::optional<std::string> kernelAuditUnavailable();

// A fresh random uuid, so each test finds only its own records.
std::string freshUuid();

struct CommandResult {
  int exitStatus = -1;
  std::string output;  // stdout
};
CommandResult runCommand(const std::string& command);

// The record lines ("type=... msg=audit(...): ...") that
// `ausearch -m TYPE --uuid UUID [-i]` prints, polled until at least `count`
// appear or ~10 s passed (auditd writes asynchronously).
std::vector<std::string> waitForRecords(const std::string& type, const std::string& uuid,
                                        size_t count, bool interpret = false);

// The fields inside msg='...' of a raw record line, decoded the way auparse
// decodes them: "quoted" values unquoted, hex values of the user fields
// (vm, path, old-/new-disk, vm-/img-ctx, old-/new-label, cgroup) turned back to bytes.
std::map<std::string, std::string> decodedFields(const std::string& rawLine);

}  // namespace seclabel::testing
