// SqliteStore: the host objects of guests (cgroup, links, MAC addresses);
// the tables are described in docs/store.md.
#include "alloc/sqlite_store.h"

namespace seclabel {

void SqliteStore::setGuestCgroup(const std::string& guestUuid, const std::string& path) {
  atomically([&] {
    db_.query("INSERT OR REPLACE INTO guest_cgroups (guest_uuid, path) VALUES (?1, ?2)")
        ->bind(1, guestUuid)
        .bind(2, path)
        .run();
    // On disk before the cgroup is: a power loss must not leave a cgroup
    // nobody knows about.
    requireDurableCommit();
  });
}

std::optional<std::string> SqliteStore::guestCgroupOf(const std::string& guestUuid) {
  auto query = db_.query("SELECT path FROM guest_cgroups WHERE guest_uuid = ?1");
  query->bind(1, guestUuid);
  if (!query->step()) return std::nullopt;
  return query->text(0);
}

void SqliteStore::removeGuestCgroup(const std::string& guestUuid) {
  db_.query("DELETE FROM guest_cgroups WHERE guest_uuid = ?1")->bind(1, guestUuid).run();
}

void SqliteStore::recordGuestLink(const std::string& guestUuid, const GuestLinkRecord& link) {
  atomically([&] {
    auto insert = db_.query(
        "INSERT OR REPLACE INTO guest_links (guest_uuid, tag, mac, ifindex, name, kind, "
        "parent_index, parent_address) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert->bind(1, guestUuid).bind(2, link.tag).bind(3, link.mac).bind(4, link.ifindex);
    insert->bind(5, link.name).bind(6, link.kind).bind(7, link.parentIndex);
    insert->bind(8, link.parentAddress).run();
    requireDurableCommit();  // before the link exists, as for the cgroup
  });
}

std::vector<GuestLinkRecord> SqliteStore::guestLinksOf(const std::string& guestUuid) {
  auto query = db_.query(
      "SELECT tag, mac, ifindex, name, kind, parent_index, parent_address FROM guest_links "
      "WHERE guest_uuid = ?1 ORDER BY tag");
  query->bind(1, guestUuid);
  std::vector<GuestLinkRecord> links;
  while (query->step())
    links.push_back({query->text(0), query->text(1), query->optionalInt64(2), query->text(3),
                     query->text(4), query->optionalInt64(5), query->optionalText(6)});
  return links;
}

void SqliteStore::removeGuestLink(const std::string& guestUuid, const std::string& tag) {
  db_.query("DELETE FROM guest_links WHERE guest_uuid = ?1 AND tag = ?2")
      ->bind(1, guestUuid)
      .bind(2, tag)
      .run();
}

std::vector<std::string> SqliteStore::forgottenGuestsWithHostObjects() {
  // Through the partial indexes: only what outlived its guest is read, never
  // a row per guest (recover runs this at the start of every command).
  auto query = db_.query(
      "SELECT guest_uuid FROM guest_cgroups WHERE forgotten = 1 UNION "
      "SELECT guest_uuid FROM guest_links WHERE forgotten = 1 ORDER BY 1");
  std::vector<std::string> uuids;
  while (query->step()) uuids.push_back(query->text(0));
  return uuids;
}

void SqliteStore::recordGuestMacs(const std::string& guestUuid,
                                  const std::vector<std::string>& macs) {
  atomically([&] {
    db_.query("DELETE FROM guest_macs WHERE guest_uuid = ?1")->bind(1, guestUuid).run();
    for (const std::string& mac : macs)
      db_.query("INSERT OR IGNORE INTO guest_macs (mac, guest_uuid) VALUES (?1, ?2)")
          ->bind(1, mac)
          .bind(2, guestUuid)
          .run();
  });
}

bool SqliteStore::macAddressTaken(const std::string& mac, const std::string& exceptGuestUuid) {
  auto query =
      db_.query("SELECT 1 FROM guest_macs WHERE mac = ?1 AND guest_uuid <> ?2 LIMIT 1");
  query->bind(1, mac).bind(2, exceptGuestUuid);
  return query->step();
}

}  // namespace seclabel
