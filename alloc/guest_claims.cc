#include "alloc/guest_claims.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdint>

#include "core/error.h"

namespace seclabel {
namespace {

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

constexpr uint64_t kOffsetMask = (uint64_t{1} << 60) - 1;

}  // namespace

std::unique_ptr<GuestClaims> GuestClaims::open(const TrustedDirectory& stateDirectory) {
  return std::make_unique<GuestClaims>(stateDirectory.openPrivateFile(
      "guests.lock", O_RDWR, TrustedDirectory::Create::IfMissing));
}

off_t GuestClaims::uuidOffset(std::string_view uuid) {
  return static_cast<off_t>((fnv1a(uuid) & kOffsetMask) * 2);
}

off_t GuestClaims::nameOffset(std::string_view name) {
  return static_cast<off_t>((fnv1a(name) & kOffsetMask) * 2 + 1);
}

bool GuestClaims::lock(off_t offset) {
  if (held_[offset]++ > 0) return true;
  struct flock request {};
  request.l_type = F_WRLCK;
  request.l_whence = SEEK_SET;
  request.l_start = offset;
  request.l_len = 1;
  for (;;) {
    if (::fcntl(fd_.get(), F_OFD_SETLK, &request) == 0) return true;
    const int err = errno;
    if (err == EINTR) continue;
    held_.erase(offset);
    if (err == EAGAIN || err == EACCES) return false;
    throw Error::fromErrno("cannot take a claim in guests.lock", err);
  }
}

void GuestClaims::unlock(off_t offset, bool all) {
  auto it = held_.find(offset);
  if (it == held_.end()) return;
  if (!all && --it->second > 0) return;
  held_.erase(it);
  struct flock request {};
  request.l_type = F_UNLCK;
  request.l_whence = SEEK_SET;
  request.l_start = offset;
  request.l_len = 1;
  // Unlocking a byte we hold cannot fail on a valid fd.
  (void)::fcntl(fd_.get(), F_OFD_SETLK, &request);
}

bool GuestClaims::tryClaim(std::string_view uuid, std::string_view name) {
  const off_t byUuid = uuidOffset(uuid);
  if (!lock(byUuid)) return false;
  if (name.empty()) return true;
  if (!lock(nameOffset(name))) {
    unlock(byUuid);
    return false;
  }
  return true;
}

void GuestClaims::release(std::string_view uuid, std::string_view name) {
  if (!name.empty()) unlock(nameOffset(name));
  unlock(uuidOffset(uuid));
}

void GuestClaims::releaseAll(std::string_view uuid, std::string_view name) {
  if (!name.empty()) unlock(nameOffset(name), true);
  unlock(uuidOffset(uuid), true);
}

bool GuestClaims::holds(std::string_view uuid) const {
  return held_.count(uuidOffset(uuid)) > 0;
}

}  // namespace seclabel
