#include "core/nss.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

#include "core/error.h"

namespace seclabel {
namespace {

// The *_r lookups report "not found" as 0 with a null result, or (in some
// NSS modules) as ENOENT, ESRCH, EBADF or EPERM; anything else is a failure.
bool notFound(int err) {
  return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM;
}

// Runs `call(entry, buffer, size, result)` until the buffer is big enough;
// returns entry.*field, or nullopt when the database has no such entry.
template <typename Entry, typename Id, typename Call>
std::optional<Id> lookUp(Call call, Id Entry::*field, const std::string& what) {
  std::vector<char> buffer(16384);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    int err = call(&entry, buffer.data(), buffer.size(), &found);
    if (err == ERANGE && buffer.size() < (1u << 22)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (found) return entry.*field;
    if (notFound(err)) return std::nullopt;
    throw Error::fromErrno("cannot look up " + what, err);
  }
}

}  // namespace

std::optional<uid_t> userIdByName(const std::string& name) {
  return lookUp<passwd>(
      [&](passwd* entry, char* buffer, size_t size, passwd** found) {
        return getpwnam_r(name.c_str(), entry, buffer, size, found);
      },
      &passwd::pw_uid, "user '" + name + "'");
}

std::optional<gid_t> groupIdByName(const std::string& name) {
  return lookUp<group>(
      [&](group* entry, char* buffer, size_t size, group** found) {
        return getgrnam_r(name.c_str(), entry, buffer, size, found);
      },
      &group::gr_gid, "group '" + name + "'");
}

bool uidExists(uid_t uid) {
  return lookUp<passwd>(
             [&](passwd* entry, char* buffer, size_t size, passwd** found) {
               return getpwuid_r(uid, entry, buffer, size, found);
             },
             &passwd::pw_uid, "uid " + std::to_string(uid) + " in the passwd database")
      .has_value();
}

bool gidExists(gid_t gid) {
  return lookUp<group>(
             [&](group* entry, char* buffer, size_t size, group** found) {
               return getgrgid_r(gid, entry, buffer, size, found);
             },
             &group::gr_gid, "gid " + std::to_string(gid) + " in the group database")
      .has_value();
}

}  // namespace seclabel
