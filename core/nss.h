// The passwd and group databases through NSS (getpwnam_r and friends), with
// the buffer grown on ERANGE. "Not found" is an answer; any other failure
// throws Error, because guessing "absent" could hand a system account's id
// to a guest.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace seclabel {

std::optional<uid_t> userIdByName(const std::string& name);
std::optional<gid_t> groupIdByName(const std::string& name);

// Does the passwd database know this uid / the group database this gid?
bool uidExists(uid_t uid);
bool gidExists(gid_t gid);

}  // namespace seclabel
