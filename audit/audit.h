// Audit records for every label, resource and lifecycle step (docs/audit.md).
//
// Two halves:
//  - record builders (audit_records.cc) that produce libvirt's VIRT_MACHINE_ID,
//    VIRT_RESOURCE and VIRT_CONTROL records, field by field, in libvirt's
//    order, so `ausearch -m VIRT_... -i` habits keep working;
//  - sinks (audit_sinks.cc) chosen by `[audit] sink`: the kernel audit log
//    through libaudit, a JSON-lines file, or nothing.
//
// The caller's duty (what makes the log true): write a record only for a step
// that was attempted, after the attempt, with its outcome. A skipped step
// (relabel='no', fd passing instead of labeling) gets no record.
// docs/audit.md shows every record as the kernel logs it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/export.h"

namespace seclabel {

// The kernel record types (libaudit.h AUDIT_VIRT_*).
enum class AuditRecordType {
  MachineId,  // VIRT_MACHINE_ID: a label bound to a guest
  Resource,   // VIRT_RESOURCE: a resource labeled, restored or opened for it
  Control,    // VIRT_CONTROL: a guest started or stopped
};
// "VIRT_MACHINE_ID", "VIRT_RESOURCE", "VIRT_CONTROL" (ausearch -m names).
std::string_view auditRecordTypeName(AuditRecordType type);

// Sent as libaudit's result argument: the kernel log shows res=success|failed.
enum class AuditOutcome { Success, Failure };

// One name=value pair of a record.
struct AuditField {
  enum class Kind {
    // Chosen by seclabel (virt, uuid, reason, model, rdev, pid): written bare
    // as libvirt does, unless it holds something a token may not (then it is
    // encoded like a user value, so it can never forge a field).
    Token,
    // Comes from a user (guest name, path, label): always through
    // audit_encode_nv_string, "quoted" when safe, hex when it needs encoding.
    UserValue,
  };
  std::string name;
  std::string value;  // decoded, as the caller gave it
  Kind kind = Kind::Token;
  bool operator==(const AuditField&) const = default;
};

struct AuditRecord {
  AuditRecordType type;
  std::vector<AuditField> fields;  // in the order the log shows them
  AuditOutcome outcome;

  // The message text as handed to audit_log_user_message (libaudit appends
  // exe=, hostname=, addr=, terminal= and res=). Every field is encoded.
  std::string message() const;
  // The value of field `name`, or nullptr.
  const AuditField* field(std::string_view name) const;
};

// Who a record is about: <domain type=...>, <name>, <uuid>.
struct AuditGuest {
  std::string virtType;  // "kvm", "qemu", ... (virt=)
  std::string name;      // vm=
  std::string uuid;      // uuid=
};

// What happened to a resource's label.
enum class AuditLabelChange {
  Label,    // reason=start: the guest's label was put on the resource
  Restore,  // reason=stop: the remembered original label was put back
};

enum class AuditAccess { ReadOnly, ReadWrite };  // access=ro|rw

// Who asked, as the kernel saw the caller (SO_PEERCRED), for records written
// on a caller's behalf by a daemon: the record's own uid= is the daemon's.
struct AuditPeer {
  uid_t uid;
  pid_t pid;
};
enum class AuditControlOp { Start, Stop };       // op=start|stop
// A change of a guest's cgroup device ACL: reason=allow|deny.
enum class AuditCgroupChange { Allow, Deny };

// What happened to a guest's network interface (libvirt's virDomainAuditNet
// reasons): start/attach give it to the guest (old-net=? new-net=MAC),
// stop/detach take it back (old-net=MAC new-net=?).
enum class AuditNetChange { Start, Stop, Attach, Detach };

namespace audit {

// VIRT_MACHINE_ID, one per driver when its label is generated or reserved:
//   virt=kvm vm="NAME" uuid=UUID vm-ctx="LABEL" img-ctx="IMAGELABEL" model=dac
// An absent image label (the `none` model) is written as img-ctx=?.
AuditRecord machineId(const AuditGuest& guest, std::string_view model,
                      std::string_view vmCtx,
                      std::optional<std::string_view> imgCtx,
                      AuditOutcome outcome);

// VIRT_RESOURCE for one resource labeled or restored by one driver:
//   virt=kvm resrc=disk reason=start vm="NAME" uuid=UUID old-disk=?
//   new-disk="PATH" model=dac old-label="0:0" new-label="+107:+107"
// Label: old-disk=? new-disk=PATH (the disk is given to the guest, as libvirt
// logs a start); Restore: old-disk=PATH new-disk=? (the disk is taken back,
// as libvirt logs a detach). old-label/new-label say what the driver changed:
// the label before and after the step that was attempted. `oldLabel` absent
// (not read yet when the step failed) is written as "?".
AuditRecord resourceLabel(const AuditGuest& guest, AuditLabelChange change,
                          std::string_view path, std::string_view model,
                          std::optional<std::string_view> oldLabel,
                          std::string_view newLabel, AuditOutcome outcome);

// VIRT_RESOURCE for one file or device opened on a guest's behalf:
//   virt=kvm resrc=disk reason=open vm="NAME" uuid=UUID path="PATH" rdev=08:10
//   access=rw
// rdev is the opened object's device number (hex MAJ:MIN, as libvirt and the
// kernel's PATH records write it) for block and character devices, "?" for
// anything else or when nothing was opened. Take it from the open fd
// (auditRdevOf), never from the path: names can be swapped.
AuditRecord resourceOpen(const AuditGuest& guest, std::string_view path,
                         std::optional<dev_t> rdev, AuditAccess access,
                         AuditOutcome outcome);

// VIRT_RESOURCE when a file put back after a guest has more names than it
// had (a guest that owned it could hard-link it into a directory it may
// write); the names cannot be taken back safely, so res=failed:
//   virt=kvm resrc=disk reason=links vm="NAME" uuid=UUID path="PATH" nlink=3
AuditRecord resourceLinks(const AuditGuest& guest, std::string_view path,
                          unsigned long linkCount);

// The broker's VIRT_RESOURCE reason=open: resourceOpen and who asked,
//   ... access=rw peer-uid=1001 peer-pid=4242
AuditRecord brokerOpen(const AuditGuest& guest, std::string_view path,
                       std::optional<dev_t> rdev, AuditAccess access, const AuditPeer& peer,
                       AuditOutcome outcome);

// VIRT_RESOURCE for a connection the broker closed because of one of its
// limits (res=failed):
//   virt=? resrc=broker reason=connect peer-uid=1001 peer-pid=4242 limit=per-uid
// `limit` is a word: per-uid, all-uids, fds.
AuditRecord brokerConnectionRefused(const AuditPeer& peer, std::string_view limit);

// VIRT_RESOURCE for refusal records the broker's rate limit left out since
// its previous summary (res=failed, like the records it stands for):
//   virt=? resrc=broker reason=rate-limit peer-uid=1001 suppressed=37035 peer-uids=1
// When it sums up several uids: peer-uid=? and peer-uids= how many.
AuditRecord brokerRefusalsSuppressed(std::optional<uid_t> uid, std::uint64_t count,
                                     std::size_t uids);

// VIRT_CONTROL for a start or a stop:
//   virt=kvm op=start reason=booted vm="NAME" uuid=UUID vm-pid=1234
// `reason` is a word such as booted, shutdown, destroyed, failed. A pid that
// does not exist (a start that failed before fork) is written as vm-pid=?.
AuditRecord control(const AuditGuest& guest, AuditControlOp op,
                    std::string_view reason, std::optional<pid_t> vmPid,
                    AuditOutcome outcome);

// VIRT_RESOURCE for one network device opened on a guest's behalf (a tap
// queue from /dev/net/tun, a macvtap's /dev/tapN, /dev/vhost-net), success
// or failure, as libvirt's virDomainAuditNetDevice writes it:
//   virt=kvm resrc=net reason=open vm="NAME" uuid=UUID net=52:54:00:12:34:56
//   path="/dev/net/tun" rdev=0A:C8
// `mac` is the guest's MAC as libvirt formats it (lower-case hex). rdev comes
// from the opened fd (auditRdevOf), never from the path; "?" when nothing
// was opened.
AuditRecord netDeviceOpen(const AuditGuest& guest, std::string_view mac, std::string_view path,
                          std::optional<dev_t> rdev, AuditOutcome outcome);

// VIRT_RESOURCE for an interface given to or taken from a guest, with
// libvirt's virDomainAuditNet fields:
//   virt=kvm resrc=net reason=start vm="NAME" uuid=UUID old-net=? new-net="MAC"
//   virt=kvm resrc=net reason=stop vm="NAME" uuid=UUID old-net="MAC" new-net=?
// The MAC is encoded (quoted) where libvirt writes it bare: auparse decodes
// these two fields, so only the encoded form reads back under ausearch -i.
AuditRecord netInterface(const AuditGuest& guest, AuditNetChange change, std::string_view mac,
                         AuditOutcome outcome);

// VIRT_RESOURCE for a change of a guest's cgroup device ACL, in libvirt's
// virDomainAuditCgroup* form. `cgroupPath` is the cgroup's directory (the
// controller's mount included) and, like `devicePath`, encoded as a user
// value. `acl` is the access changed, "r", "rw", "rwm"... The caller writes
// one record per change it attempted: never one for a path that is not a
// device or a default entry missing on the host.
//
// Every device at once (the deny-all that starts a guest's ACL):
//   virt=kvm resrc=cgroup reason=deny vm="NAME" uuid=UUID cgroup="PATH" class=all
AuditRecord cgroupAll(const AuditGuest& guest, AuditCgroupChange change,
                      std::string_view cgroupPath, AuditOutcome outcome);
// One device node, with its device number (hex, as resourceOpen):
//   ... cgroup="PATH" class=path path="/dev/loop3" rdev=07:03 acl=rw
AuditRecord cgroupPath(const AuditGuest& guest, AuditCgroupChange change,
                       std::string_view cgroupPath, std::string_view devicePath, dev_t rdev,
                       std::string_view acl, AuditOutcome outcome);
// Every minor of a major; `category` names it in one word ("pty") and the
// major is hex as libvirt prints it (%02X: 136 is 88):
//   ... cgroup="PATH" class=major category=pty maj=88 acl=rw
AuditRecord cgroupMajor(const AuditGuest& guest, AuditCgroupChange change,
                        std::string_view cgroupPath, std::string_view category,
                        unsigned int major, std::string_view acl, AuditOutcome outcome);

}  // namespace audit

// st_rdev of the object open at `fd` when it is a block or character device,
// nullopt otherwise. Throws Error when fstat fails.
std::optional<dev_t> auditRdevOf(int fd);

// Receives each warning once ("kernel has no audit support", ...), without
// the "seclabel: warning: " prefix. The default prints that prefix and the
// message on stderr.
using AuditWarning = std::function<void(const std::string& message)>;

// What a required audit log ([audit] required = true) throws when records
// cannot be delivered: an Error like any other (its code PermissionDenied or
// Failed), of its own type so that code which turns a failed step into a
// warning and goes on (a restore moving to the next file) lets this one
// through: no change is made, or reported as made, without its record.
class SECLABEL_API AuditUnavailable : public Error {
 public:
  explicit AuditUnavailable(const Error& reason) : Error(reason) {}
};

// Where records go. Implementations are safe to share between threads.
class SECLABEL_API AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Checks that records can be delivered. When they cannot: with
  // [audit] required = true throws AuditUnavailable (PermissionDenied when the process
  // lacks CAP_AUDIT_WRITE, Failed otherwise); else warns once and from then on
  // drops records. The manager calls it before doing anything, so a required
  // audit log that is unusable stops the operation before the first change.
  virtual void ensureUsable() = 0;

  // Delivers one record (calls ensureUsable first if nobody did). A record
  // that cannot be delivered throws AuditUnavailable when required, else
  // warns once.
  virtual void write(const AuditRecord& record) = 0;
};

// The sink `config` names. Opens nothing yet: that is ensureUsable's job.
std::unique_ptr<AuditLog> makeAuditLog(const AuditConfig& config,
                                       AuditWarning warn = {});

}  // namespace seclabel
