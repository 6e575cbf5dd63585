// Record builders and their text form, in libvirt's field order
// (src/conf/domain_audit.c: virDomainAuditSecurityLabel, virDomainAuditDisk,
// virDomainAuditLifecycle, virDomainAuditCgroup*), so records from libvirt
// and from seclabel read the same in ausearch.
#include <libaudit.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>

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

// name="value" when the value is safe inside quotes, name=HEX otherwise
// (libaudit decides, so ausearch -i decodes it back).
std::string encodeUserValue(const std::string& name, const std::string& value) {
  // audit_encode_nv_string stops at a NUL byte; a value holding one would be
  // logged cut short, so hex-encode the whole value ourselves instead.
  if (value.find('\0') != std::string::npos) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string hex = name + "=";
    for (unsigned char c : value) {
      hex += kDigits[c >> 4];
      hex += kDigits[c & 0xF];
    }
    return hex;
  }
  std::unique_ptr<char, decltype(&std::free)> encoded(
      audit_encode_nv_string(name.c_str(), value.c_str(), 0), &std::free);
  if (!encoded) throw Error::fromErrno("cannot encode audit field " + name, ENOMEM);
  return encoded.get();
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
