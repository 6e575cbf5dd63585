// SqliteStore: remembered original labels of resources, reference counted
// across guests and keyed by (st_dev, st_ino) so two paths to one inode are
// one resource.
#include <ctime>
#include <string>

#include "alloc/sqlite_store.h"
#include "core/error.h"

namespace seclabel {

namespace {

// st_dev/st_ino are unsigned 64-bit; SQLite integers are signed. Store the
// same 64 bits.
int64_t asSql(uint64_t value) { return static_cast<int64_t>(value); }
uint64_t fromSql(int64_t value) { return static_cast<uint64_t>(value); }

const char* useName(ResourceUse use) {
  return use == ResourceUse::Exclusive ? "exclusive" : "shared";
}
ResourceUse parseUse(const std::string& name) {
  return name == "exclusive" ? ResourceUse::Exclusive : ResourceUse::Shared;
}

std::string describeGuest(const std::string& name, const std::string& uuid) {
  return name.empty() ? "guest " + uuid : "guest " + name + " (" + uuid + ")";
}

const char* kResourceColumns =
    "r.dev, r.ino, r.path, r.uid, r.gid, r.mode, r.selinux_label, r.selinux_xattr_supported, "
    "r.handle_type, r.handle, r.handle_fsid, r.exact_xattrs, r.xattr_selinux, "
    "r.xattr_acl_access, r.xattr_acl_default, r.xattr_capability";
constexpr int kResourceColumnCount = 16;

RememberedResource readResource(SqliteStatement& row) {
  RememberedResource resource;
  resource.dev = fromSql(row.int64(0));
  resource.ino = fromSql(row.int64(1));
  resource.path = row.text(2);
  resource.uid = uint32_t(row.int64(3));
  resource.gid = uint32_t(row.int64(4));
  resource.mode = uint32_t(row.int64(5));
  resource.selinuxLabel = row.optionalText(6);
  resource.selinuxXattrSupported = row.int64(7) != 0;
  if (!row.isNull(8)) {
    resource.handle = FileHandle{int32_t(row.int64(8)), row.optionalBlob(9).value_or(""),
                                 fromSql(row.optionalInt64(10).value_or(0))};
  }
  if (row.int64(11) != 0) {
    resource.xattrs = AccessXattrs{row.optionalBlob(12), row.optionalBlob(13),
                                   row.optionalBlob(14), row.optionalBlob(15)};
  }
  return resource;
}

}  // namespace

bool SqliteStore::remember(const RememberedResource& original, const std::string& guestUuid,
                           ResourceUse use) {
  bool first = false;
  atomically([&] {
    std::vector<ResourceHolder> holders = holdersOf(original.dev, original.ino);
    std::optional<ResourceHolder> mine;
    for (const auto& holder : holders) {
      if (holder.guestUuid == guestUuid) {
        mine = holder;
        continue;
      }
      if (use == ResourceUse::Exclusive || holder.use == ResourceUse::Exclusive) {
        std::string myName;
        if (auto guest = findGuest(guestUuid)) myName = guest->name;
        throw Error::conflict(
            original.path + " is in use by " + describeGuest(holder.guestName, holder.guestUuid) +
            (holder.use == ResourceUse::Exclusive ? " as a private disk" : "") + "; " +
            describeGuest(myName, guestUuid) + " cannot use it" +
            (use == ResourceUse::Exclusive ? " as a private disk" : ""));
      }
    }
    first = holders.empty();
    // The caller changes the file once this returns: the original must
    // survive a power loss that the change survives.
    requireDurableCommit();
    if (first) {
      // The stored original is the state before the first guest; later
      // guests see an already changed file, so their view is not kept.
      auto insert = db_.query(
          "INSERT OR REPLACE INTO resources (dev, ino, path, uid, gid, mode, selinux_label, "
          "selinux_xattr_supported, remembered_at, handle_type, handle, handle_fsid, "
          "exact_xattrs, xattr_selinux, xattr_acl_access, xattr_acl_default, xattr_capability) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
      insert->bind(1, asSql(original.dev)).bind(2, asSql(original.ino)).bind(3, original.path);
      insert->bind(4, original.uid).bind(5, original.gid).bind(6, original.mode);
      insert->bind(7, original.selinuxLabel).bind(8, original.selinuxXattrSupported ? 1 : 0);
      insert->bind(9, int64_t(::time(nullptr)));
      if (original.handle) {
        insert->bind(10, int64_t(original.handle->type))
            .bindBlob(11, std::string_view(original.handle->bytes))
            .bind(12, asSql(original.handle->filesystemId));
      }
      insert->bind(13, original.xattrs ? 1 : 0);
      if (original.xattrs) {
        insert->bindBlob(14, original.xattrs->selinux).bindBlob(15, original.xattrs->aclAccess);
        insert->bindBlob(16, original.xattrs->aclDefault).bindBlob(17, original.xattrs->capability);
      }
      insert->run();
    }
    if (mine) {
      // A guest that uses a file both ways holds it exclusively.
      ResourceUse combined = (use == ResourceUse::Exclusive || mine->use == ResourceUse::Exclusive)
                                 ? ResourceUse::Exclusive
                                 : ResourceUse::Shared;
      db_.query("UPDATE resource_holders SET refs = refs + 1, use = ?4 "
                "WHERE dev = ?1 AND ino = ?2 AND guest_uuid = ?3")
          ->bind(1, asSql(original.dev)).bind(2, asSql(original.ino)).bind(3, guestUuid)
          .bind(4, useName(combined)).run();
    } else {
      db_.query("INSERT INTO resource_holders (dev, ino, guest_uuid, use, refs) "
                "VALUES (?1, ?2, ?3, ?4, 1)")
          ->bind(1, asSql(original.dev)).bind(2, asSql(original.ino)).bind(3, guestUuid)
          .bind(4, useName(use)).run();
    }
  });
  return first;
}

std::optional<RememberedResource> SqliteStore::forget(uint64_t dev, uint64_t ino,
                                                      const std::string& guestUuid) {
  std::optional<RememberedResource> lastOriginal;
  atomically([&] {
    std::optional<int64_t> refs;
    {
      auto mine = db_.query(
          "SELECT refs FROM resource_holders WHERE dev = ?1 AND ino = ?2 AND guest_uuid = ?3");
      mine->bind(1, asSql(dev)).bind(2, asSql(ino)).bind(3, guestUuid);
      if (mine->step()) refs = mine->int64(0);
    }
    if (!refs) return;  // idempotent: nothing held
    if (*refs > 1) {
      db_.query("UPDATE resource_holders SET refs = refs - 1 "
                "WHERE dev = ?1 AND ino = ?2 AND guest_uuid = ?3")
          ->bind(1, asSql(dev)).bind(2, asSql(ino)).bind(3, guestUuid).run();
      return;
    }
    db_.query("DELETE FROM resource_holders WHERE dev = ?1 AND ino = ?2 AND guest_uuid = ?3")
        ->bind(1, asSql(dev)).bind(2, asSql(ino)).bind(3, guestUuid).run();
    {
      auto others = db_.query("SELECT 1 FROM resource_holders WHERE dev = ?1 AND ino = ?2");
      others->bind(1, asSql(dev)).bind(2, asSql(ino));
      if (others->step()) return;
    }
    {
      auto original = db_.query(std::string("SELECT ") + kResourceColumns +
                                " FROM resources r WHERE r.dev = ?1 AND r.ino = ?2");
      original->bind(1, asSql(dev)).bind(2, asSql(ino));
      if (original->step()) lastOriginal = readResource(*original);
    }
    db_.query("DELETE FROM resources WHERE dev = ?1 AND ino = ?2")
        ->bind(1, asSql(dev)).bind(2, asSql(ino)).run();
  });
  return lastOriginal;
}

std::vector<HeldResource> SqliteStore::resourcesOf(const std::string& guestUuid) {
  auto query = db_.query(std::string("SELECT ") + kResourceColumns +
                         ", h.use, h.refs FROM resource_holders h JOIN resources r "
                         "ON r.dev = h.dev AND r.ino = h.ino WHERE h.guest_uuid = ?1 "
                         "ORDER BY r.path, r.dev, r.ino");
  query->bind(1, guestUuid);
  std::vector<HeldResource> held;
  while (query->step()) {
    held.push_back({readResource(*query), parseUse(query->text(kResourceColumnCount)),
                    uint32_t(query->int64(kResourceColumnCount + 1))});
  }
  return held;
}

std::vector<ResourceHolder> SqliteStore::holdersOf(uint64_t dev, uint64_t ino) {
  auto query = db_.query(
      "SELECT h.guest_uuid, coalesce(g.name, ''), h.use, h.refs FROM resource_holders h "
      "LEFT JOIN guests g ON g.uuid = h.guest_uuid WHERE h.dev = ?1 AND h.ino = ?2 "
      "ORDER BY h.guest_uuid");
  query->bind(1, asSql(dev)).bind(2, asSql(ino));
  std::vector<ResourceHolder> holders;
  while (query->step()) {
    holders.push_back({query->text(0), query->text(1), parseUse(query->text(2)),
                       uint32_t(query->int64(3))});
  }
  return holders;
}

}  // namespace seclabel
