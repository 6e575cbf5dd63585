// Record builders and their text form, in libvirt's field order
// (src/conf/domain_audit.c: virDomainAuditSecurityLabel, virDomainAuditDisk,
// virDomainAuditNet, virDomainAuditNetDevice, virDomainAuditLifecycle,
// virDomainAuditCgroup*), so records from libvirt and from seclabel read the
// same in ausearch.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>

#include "core/error.h"
#include "audit/audit.h"

namespace seclabel {

namespace {

// What the log writes for "no value", as libvirt's VIR_AUDIT_STR and the
// kernel do.
constexpr std::string_view kUnset = "?";

AuditField token(std::string name, std::string_view value) {
  return {std::move(name), std::string(value), AuditField::Kind::Token};
}
AuditField userValue(std::string name, std::string_view value) {
  return {std::move(name), std::string(value), AuditField::Kind::UserValue};
}

// A token is written bare only when it cannot be mistaken for more than one
// field: no space, quote, '=', control or non-ASCII byte.
bool isBareToken(std::string_view value) {
  if (value.empty()) return false;
  for (unsigned char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              c == ':' || c == ',' || c == '?' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Whether a value must be hex rather than "quoted". A user record travels
// inside msg='...': a ' ends it for every parser (ausearch then reads what
// follows as fields of the record: `x'uuid=G'res=success'` filed a refusal
// under guest G), a space or '=' starts a new field, a '"' ends the quotes,
// a control byte can start a new line, and ausearch knows no escapes, so a
// backslash is not safe either. libaudit's audit_value_needs_encoding checks
// only '"', bytes below 0x21 and 0x7f: everything it encodes we encode, and
// ', =, \ and every byte >= 0x7f besides.
bool needsHexEncoding(std::string_view value) {
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '=' || c == '\\') return true;
  }
  return false;
}

// name="value" when the value is safe inside quotes, name=HEX otherwise: the
// hex of every byte (a NUL too), upper case as libaudit's audit_encode_value
// writes it, so ausearch -i decodes it back.
std::string encodeUserValue(const std::string& name, std::string_view value) {
  if (!needsHexEncoding(value)) return name + "=\"" + std::string(value) + "\"";
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string hex = name + "=";
  hex.reserve(name.size() + 1 + 2 * value.size());
  for (unsigned char c : value) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  return hex;
}

// Field names are seclabel's own words; one that is not a bare word would be
// a bug that lets a record carry something it does not mean.
void requireFieldName(const std::string& name) {
  bool ok = !name.empty();
  for (unsigned char c : name) ok = ok && ((c >= 'a' && c <= 'z') || c == '-');
  if (!ok) throw Error(ExitCode::Failed, "audit field name is not a word: " + name);
}

std::string_view labelReason(AuditLabelChange change) {
  return change == AuditLabelChange::Label ? "start" : "stop";
}

std::vector<AuditField> guestFields(const AuditGuest& guest) {
  return {userValue("vm", guest.name), token("uuid", guest.uuid)};
}

std::string formatRdev(dev_t rdev) {
  char text[32];
  // Hex, two digits at least: libvirt's virDomainAuditGetRdev format.
  std::snprintf(text, sizeof text, "%02X:%02X", major(rdev), minor(rdev));
  return text;
}

}  // namespace

std::string_view auditRecordTypeName(AuditRecordType type) {
  switch (type) {
    case AuditRecordType::MachineId: return "VIRT_MACHINE_ID";
    case AuditRecordType::Resource: return "VIRT_RESOURCE";
    case AuditRecordType::Control: return "VIRT_CONTROL";
  }
  return "?";
}

std::string AuditRecord::message() const {
  std::string text;
  for (const AuditField& f : fields) {
    requireFieldName(f.name);
    if (!text.empty()) text += ' ';
    if (f.kind == AuditField::Kind::Token && isBareToken(f.value)) {
      text += f.name + "=" + f.value;
    } else {
      text += encodeUserValue(f.name, f.value);
    }
  }
  return text;
}

const AuditField* AuditRecord::field(std::string_view name) const {
  for (const AuditField& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

namespace audit {

AuditRecord machineId(const AuditGuest& guest, std::string_view model,
                      std::string_view vmCtx,
                      std::optional<std::string_view> imgCtx,
                      AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::MachineId, {token("virt", guest.virtType)}, outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(userValue("vm-ctx", vmCtx));
  r.fields.push_back(imgCtx ? userValue("img-ctx", *imgCtx) : token("img-ctx", kUnset));
  r.fields.push_back(token("model", model));
  return r;
}

AuditRecord resourceLabel(const AuditGuest& guest, AuditLabelChange change,
                          std::string_view path, std::string_view model,
                          std::optional<std::string_view> oldLabel,
                          std::string_view newLabel, AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "disk"),
                 token("reason", labelReason(change))},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  // libvirt's old-/new-disk say whether the disk joins (start) or leaves
  // (detach) the guest; a restore is the disk leaving.
  if (change == AuditLabelChange::Label) {
    r.fields.push_back(token("old-disk", kUnset));
    r.fields.push_back(userValue("new-disk", path));
  } else {
    r.fields.push_back(userValue("old-disk", path));
    r.fields.push_back(token("new-disk", kUnset));
  }
  r.fields.push_back(token("model", model));
  r.fields.push_back(oldLabel ? userValue("old-label", *oldLabel) : token("old-label", kUnset));
  // "?" is the audit convention for "no value" (a file that had no label),
  // written bare like every other unset field.
  r.fields.push_back(newLabel == kUnset ? token("new-label", kUnset) : userValue("new-label", newLabel));
  return r;
}

AuditRecord resourceOpen(const AuditGuest& guest, std::string_view path,
                         std::optional<dev_t> rdev, AuditAccess access,
                         AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "disk"),
                 token("reason", "open")},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(userValue("path", path));
  r.fields.push_back(token("rdev", rdev ? formatRdev(*rdev) : std::string(kUnset)));
  r.fields.push_back(token("access", access == AuditAccess::ReadOnly ? "ro" : "rw"));
  return r;
}

AuditRecord netDeviceOpen(const AuditGuest& guest, std::string_view mac, std::string_view path,
                          std::optional<dev_t> rdev, AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "net"), token("reason", "open")},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(token("net", mac));
  r.fields.push_back(userValue("path", path));
  r.fields.push_back(token("rdev", rdev ? formatRdev(*rdev) : std::string(kUnset)));
  return r;
}

AuditRecord netInterface(const AuditGuest& guest, AuditNetChange change, std::string_view mac,
                         AuditOutcome outcome) {
  std::string_view reason = "start";
  switch (change) {
    case AuditNetChange::Start: reason = "start"; break;
    case AuditNetChange::Stop: reason = "stop"; break;
    case AuditNetChange::Attach: reason = "attach"; break;
    case AuditNetChange::Detach: reason = "detach"; break;
  }
  bool given = change == AuditNetChange::Start || change == AuditNetChange::Attach;
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "net"), token("reason", reason)},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  // auparse decodes old-net/new-net as encoded values (as old-disk and
  // new-disk): a bare MAC would read back as "R" under ausearch -i, as
  // libvirt's own records do. Written like every encoded value instead.
  r.fields.push_back(given ? token("old-net", kUnset) : userValue("old-net", mac));
  r.fields.push_back(given ? userValue("new-net", mac) : token("new-net", kUnset));
  return r;
}

AuditRecord diskHotplug(const AuditGuest& guest, AuditDiskChange change, std::string_view path,
                        AuditOutcome outcome) {
  const bool given = change == AuditDiskChange::Attach;
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "disk"),
                 token("reason", given ? "attach" : "detach")},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(given ? token("old-disk", kUnset) : userValue("old-disk", path));
  r.fields.push_back(given ? userValue("new-disk", path) : token("new-disk", kUnset));
  return r;
}

AuditRecord resourceLinks(const AuditGuest& guest, std::string_view path,
                          unsigned long linkCount) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "disk"), token("reason", "links")},
                AuditOutcome::Failure};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(userValue("path", path));
  r.fields.push_back(token("nlink", std::to_string(linkCount)));
  return r;
}

namespace {

void addPeer(AuditRecord& record, const AuditPeer& peer) {
  record.fields.push_back(token("peer-uid", std::to_string(peer.uid)));
  record.fields.push_back(token("peer-pid", std::to_string(peer.pid)));
}

}  // namespace

AuditRecord brokerOpen(const AuditGuest& guest, std::string_view path,
                       std::optional<dev_t> rdev, AuditAccess access, const AuditPeer& peer,
                       AuditOutcome outcome) {
  AuditRecord r = resourceOpen(guest, path, rdev, access, outcome);
  addPeer(r, peer);
  return r;
}

AuditRecord brokerConnectionRefused(const AuditPeer& peer, std::string_view limit) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", kUnset), token("resrc", "broker"), token("reason", "connect")},
                AuditOutcome::Failure};
  addPeer(r, peer);
  r.fields.push_back(token("limit", limit));
  return r;
}

AuditRecord brokerRefusalsSuppressed(std::optional<uid_t> uid, std::uint64_t count,
                                     std::size_t uids) {
  return {AuditRecordType::Resource,
          {token("virt", kUnset), token("resrc", "broker"), token("reason", "rate-limit"),
           token("peer-uid", uid ? std::to_string(*uid) : std::string(kUnset)),
           token("suppressed", std::to_string(count)),
           token("peer-uids", std::to_string(uids))},
          AuditOutcome::Failure};
}

AuditRecord control(const AuditGuest& guest, AuditControlOp op,
                    std::string_view reason, std::optional<pid_t> vmPid,
                    AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::Control,
                {token("virt", guest.virtType),
                 token("op", op == AuditControlOp::Start ? "start" : "stop"),
                 token("reason", reason)},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(token("vm-pid", vmPid ? std::to_string(*vmPid) : std::string(kUnset)));
  return r;
}

namespace {

// virt= resrc=cgroup reason= vm= uuid= cgroup= class=: what every cgroup
// record starts with (libvirt's virDomainAuditCgroup).
AuditRecord cgroupRecord(const AuditGuest& guest, AuditCgroupChange change,
                         std::string_view cgroupPath, std::string_view cgroupClass,
                         AuditOutcome outcome) {
  AuditRecord r{AuditRecordType::Resource,
                {token("virt", guest.virtType), token("resrc", "cgroup"),
                 token("reason", change == AuditCgroupChange::Allow ? "allow" : "deny")},
                outcome};
  for (AuditField& f : guestFields(guest)) r.fields.push_back(std::move(f));
  r.fields.push_back(userValue("cgroup", cgroupPath));
  r.fields.push_back(token("class", cgroupClass));
  return r;
}

}  // namespace

AuditRecord cgroupAll(const AuditGuest& guest, AuditCgroupChange change,
                      std::string_view cgroupPath, AuditOutcome outcome) {
  return cgroupRecord(guest, change, cgroupPath, "all", outcome);
}

AuditRecord cgroupPath(const AuditGuest& guest, AuditCgroupChange change,
                       std::string_view cgroupPath, std::string_view devicePath, dev_t rdev,
                       std::string_view acl, AuditOutcome outcome) {
  AuditRecord r = cgroupRecord(guest, change, cgroupPath, "path", outcome);
  r.fields.push_back(userValue("path", devicePath));
  r.fields.push_back(token("rdev", formatRdev(rdev)));
  r.fields.push_back(token("acl", acl));
  return r;
}

AuditRecord cgroupMajor(const AuditGuest& guest, AuditCgroupChange change,
                        std::string_view cgroupPath, std::string_view category,
                        unsigned int major, std::string_view acl, AuditOutcome outcome) {
  AuditRecord r = cgroupRecord(guest, change, cgroupPath, "major", outcome);
  char majorText[16];
  std::snprintf(majorText, sizeof majorText, "%02X", major);
  r.fields.push_back(token("category", category));
  r.fields.push_back(token("maj", majorText));
  r.fields.push_back(token("acl", acl));
  return r;
}

}  // namespace audit

std::optional<dev_t> auditRdevOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    throw Error::fromErrno("cannot fstat fd " + std::to_string(fd) + " for its device number", errno);
  if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) return st.st_rdev;
  return std::nullopt;
}

}  // namespace seclabel
