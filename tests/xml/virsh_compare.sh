#!/usr/bin/env bash
# Compare seclabel's acceptance of the domain XML cases with libvirt's own
# parser: `virsh -c test:///default define FILE` (optional; needs
# libvirt-clients, which scripts/install-deps deliberately does not install).
#
# usage: tests/xml/virsh_compare.sh [--seclabel BIN] [--cases DIR] [--table FILE]
#   --seclabel BIN  the seclabel executable (default: $SECLABEL_BINARY, then
#                   build*/tools/seclabel, then seclabel on PATH)
#   --cases DIR     the case directory with valid/ and invalid/ (default:
#                   tests/data/xml next to this script)
#   --table FILE    also write the per-file results as a Markdown table
#
# For each case it runs `seclabel --config CFG validate FILE` (CFG:
# security_driver = ["selinux", "dac"], audit sink none) and
# `virsh -c test:///default define FILE` (each virsh call opens a fresh test
# driver connection, so definitions do not accumulate) and classifies:
#
#   both-accept | both-reject
#   seclabel-only:stricter   seclabel rejects by a rule it documents as
#                            stricter than libvirt (docs/labels.md)
#   seclabel-only:driver     a libvirt rule that depends on the hypervisor
#                            driver and that the test driver does not apply
#   seclabel-only:known      a known divergence on a shared rule (listed below)
#   virsh-only:scope         libvirt rejects by a rule outside seclabel's model
#                            (seclabel keeps such elements untouched)
#   virsh-only:env           the test driver's own security driver set-up
#                            refused the model, not the parser
#   seclabel-only:UNEXPLAINED | virsh-only:UNEXPLAINED
#                            a disagreement nobody has explained: exit 1
#
# Only for virsh: libvirt's test driver refuses a domain without <memory> or
# without an <os><type>; when a well-formed case lacks them, virsh gets a
# temporary copy with `<memory unit='KiB'>1048576</memory>` and/or
# `<os><type>hvm</type></os>` (or `<type>hvm</type>` inside an existing <os>)
# added right after the <domain> start tag. seclabel always reads the file
# as it is. Such rows are marked "+mem", "+os" or "+type".
#
# virsh define always parses inactive XML; cases marked `form: live` are
# compared in that form (seclabel validate without --live), and seclabel's
# --live verdict is shown alongside.
#
# Exit: 0 every disagreement is explained, 1 an unexplained one, 77 virsh or
# its test driver is not available (CTest SKIP_RETURN_CODE).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seclabel=${SECLABEL_BINARY:-}
cases=$root/tests/data/xml
table=

while [ $# -gt 0 ]; do
  case $1 in
    --seclabel) seclabel=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "virsh_compare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if ! command -v virsh >/dev/null 2>&1; then
  echo "SKIP: virsh not installed (apt-get install libvirt-clients)"
  exit 77
fi
if ! virsh -q -c test:///default list --all >/dev/null 2>&1; then
  echo "SKIP: virsh cannot open test:///default"
  exit 77
fi
if [ -z "$seclabel" ]; then
  for c in "$root"/build/tools/seclabel "$root"/build*/tools/seclabel; do
    if [ -x "$c" ]; then seclabel=$c; break; fi
  done
fi
[ -n "$seclabel" ] || seclabel=$(command -v seclabel || true)
if [ -z "$seclabel" ] || [ ! -x "$seclabel" ]; then
  echo "virsh_compare.sh: no seclabel executable (use --seclabel BIN)" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=$tmp/seclabel.toml
printf 'security_driver = ["selinux", "dac"]\n[audit]\nsink = "none"\n' >"$cfg"

# seclabel rules documented as stricter than libvirt (docs/labels.md,
# docs/seclabel.1): pattern on seclabel's message -> the rule.
stricter_rules=(
  "more than the limit of 4096|labels over 4096 bytes"
  "control character|labels with control characters"
  "DAC label|DAC label syntax: user:group or +uid:+gid, no negative ids, no 4294967295"
  "SELinux label|SELinux context syntax: user:role:type:level"
  "is not a sensitivity|SELinux MLS level syntax"
  "category range|SELinux MLS level syntax"
  "does not dominate|SELinux MLS range: the high level must dominate the low one"
  "is not absolute|resource paths must be absolute"
  "document type declarations|no DOCTYPE/ENTITY declarations"
  "base label is only supported|<baselabel> only for the selinux model"
  "security model is empty|an empty model attribute"
  "is not supported \\(seclabel prepares|interface types prepare cannot serve (network, user, vhostuser, ...): validate says what prepare will"
  "Network interface name|link names are at most 15 bytes (IFNAMSIZ - 1)"
  "interface name '|link names as the kernel takes them: no '/', ':', whitespace, and no '%' template"
  "is all zeros|MAC 00:00:00:00:00:00 (QEMU would use an address of its own)"
  "Zero is not permitted|queues 1..256 (MAX_TAP_QUEUES)"
  "queues a tap device can have|queues 1..256 (MAX_TAP_QUEUES)"
  "target dev must be supplied when managed=|an existing tap is named at parse time (libvirt checks at start)"
  "is not a QEMU identifier|aliases name the -netdev on QEMU's command line: a letter, then letters, digits, '-', '_'"
  "non unique alias detected|aliases of inactive XML are read (libvirt reads only ua-* ones there), so they must be unique"
)
# libvirt rules that only some hypervisor drivers apply: pattern -> why.
driver_rules=(
  "missing security model in domain seclabel|libvirt copies the driver's default security model into a lone model-less seclabel and fails only when it cannot; the test driver has no default model (xmlopt defSecModel unset), so it accepts and leaves the model empty"
)
# Probes: boundary documents the case files do not cover, written to a
# temporary directory and compared like the cases (rows "probe/NAME.xml").
mkdir -p "$tmp/probe"
probe() {  # probe NAME COMMENT SECLABELS DEVICES
  printf '<!-- probe: %s -->\n<domain type=%s><name>guest</name><memory unit=%s>1048576</memory><os><type>hvm</type></os><devices>%s</devices>%s</domain>\n' \
    "$2" "'kvm'" "'KiB'" "$4" "$3" >"$tmp/probe/$1.xml"
}
long_user=$(printf 'a%.0s' $(seq 1 4076))  # + ":system_r:svirt_t:s0" = 4096 bytes
probe label-4096-bytes "a 4096-byte SELinux label: the largest both accept" \
  "<seclabel type='static' model='selinux'><label>$long_user:system_r:svirt_t:s0</label></seclabel>" ""
probe label-4097-bytes "one byte more than the limit" \
  "<seclabel type='static' model='selinux'><label>a$long_user:system_r:svirt_t:s0</label></seclabel>" ""
probe backing-store-terminator "an empty <backingStore/> ends the chain" "" \
  "<disk type='file'><source file='/i/a.img'/><backingStore/><target dev='vda'/></disk>"
probe lone-baselabel-without-model "a lone dynamic seclabel with a base label but no model" \
  "<seclabel type='dynamic'><baselabel>system_u:system_r:svirt_t:s0</baselabel></seclabel>" ""
probe device-two-modelless "two model-less seclabels in one <source>" "" \
  "<disk type='file'><source file='/i/a.img'><seclabel relabel='no'/><seclabel relabel='no'/></source><target dev='vda'/></disk>"
probe dac-type-none "type none for the dac model" "<seclabel type='none' model='dac'/>" ""
probe interface-driver-without-model "<driver queues='0'> of an interface without a <model>" "" \
  "<interface type='bridge'><source bridge='br0'/><driver queues='0'/></interface>"
probe interface-generated-target-name "an inactive definition's vnet* target name (ignored by both)" "" \
  "<interface type='bridge'><source bridge='br0'/><target dev='vnet3'/></interface>"

# Known divergences on a shared rule: case path -> note. Each is explained in
# tests/xml/VIRSH_COMPARISON.md.
known_divergences=(
  "invalid/backing-store-missing-type.xml|libvirt reads a <backingStore> without type= as the end-of-chain terminator and drops its contents; seclabel rejects it"
  "probe/device-two-modelless.xml|libvirt only checks duplicates among <source> seclabels that name a model; seclabel also refuses a second model-less one"
  "probe/interface-driver-without-model.xml|libvirt reads <driver> only for a virtio model; seclabel also reads it when no model is given (the command line picks the NIC)"
)
# virsh-only rejections by rules outside seclabel's model: pattern -> rule.
scope_rules=(
  "per-device boot elements|<boot> placement (devices vs <os>), not modelled by seclabel"
)
# The test driver's security driver refusing a model (not a parse error).
env_pattern='[Ss]ecurity driver|security model .*(not|un)(supported|available)|Unable to find security driver|secmodel'

match_rule() {  # match_rule MESSAGE RULE... -> prints the rule text
  local msg=$1; shift
  local r
  for r in "$@"; do
    if printf '%s' "$msg" | grep -aEq -- "${r%%|*}"; then
      printf '%s' "${r#*|}"; return 0
    fi
  done
  return 1
}

# seclabel: the one "seclabel: FILE: ..." line (a warning about SELinux being
# disabled on this host may come first).
seclabel_run() {  # seclabel_run FILE [--live] -> sets s_rc s_msg
  local f=$1; shift
  local err
  err=$("$seclabel" --config "$cfg" validate "$@" "$f" 2>&1 >/dev/null)
  s_rc=$?
  s_msg=$(printf '%s\n' "$err" | grep -aF "seclabel: $f:" | head -n 1)
  [ -n "$s_msg" ] || s_msg=$(printf '%s\n' "$err" | tail -n 1)
  s_msg=${s_msg#"seclabel: $f: "}
}

augment() {  # augment IN OUT -> prints "+mem+os" etc. (empty when unchanged)
  perl -0777 -e '
    my ($in, $out) = @ARGV;
    open my $fh, "<:raw", $in or die; local $/; my $x = <$fh>; close $fh;
    my $note = "";
    # only well-formed-looking documents whose root is <domain ...>
    if ($x !~ /<!DOCTYPE/ && $x =~ /<domain\b[^>]*[^\/]>/) {
      my $add = "";
      if ($x !~ /<memory\b/) { $add .= "<memory unit=\x27KiB\x27>1048576</memory>"; $note .= "+mem"; }
      if ($x !~ /<os\b/) { $add .= "<os><type>hvm</type></os>"; $note .= "+os"; }
      elsif ($x !~ /<os\b[^>]*>.*?<type\b.*?<\/os>/s) {
        $x =~ s/(<os\b[^>]*>)/$1<type>hvm<\/type>/; $note .= "+type";
      }
      $x =~ s/(<domain\b[^>]*>)/$1$add/ if $add ne "";
    }
    open my $oh, ">:raw", $out or die; print $oh $x; close $oh;
    print $note;' "$1" "$2"
}

virsh_run() {  # virsh_run FILE -> sets v_rc v_msg v_aug
  local f=$1 copy out
  copy=$tmp/$(basename "$(dirname "$f")")-$(basename "$f")
  v_aug=$(augment "$f" "$copy")
  [ -n "$v_aug" ] || copy=$f
  out=$(virsh -q -c test:///default define "$copy" 2>&1)
  v_rc=$?
  # "error: Failed to define domain from F" then "error: <reason>" (libxml2
  # reasons continue on more lines: keep them, joined).
  v_msg=$(printf '%s\n' "$out" | grep -av '^error: Failed to define domain' |
          sed -e 's/^error: //' -e '/^[[:space:]]*$/d' | tr '\n' ' ' |
          sed -e 's/[[:space:]]*$//' -e 's/  */ /g')
  [ $v_rc -eq 0 ] && v_msg=
}

md_escape() {  # md_escape TEXT: one Markdown table cell, at most 300 bytes, valid UTF-8
  printf '%s' "$1" | LC_ALL=C tr -d '\000-\010\013-\037' | cut -c1-300 |
    iconv -c -f UTF-8 -t UTF-8 | sed -e 's/|/\\|/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/`/ʼ/g'
}

declare -A count=()
unexplained=0
rows=()
printf '%-28s %-45s %s\n' CLASS CASE "DETAIL"
for f in "$cases"/valid/*.xml "$cases"/invalid/*.xml "$tmp"/probe/*.xml; do
  [ -e "$f" ] || continue
  rel=$(basename "$(dirname "$f")")/$(basename "$f")
  live=no
  head -n 1 "$f" | grep -aq 'form: live' && live=yes
  seclabel_run "$f"
  virsh_run "$f"
  s_live=
  if [ $live = yes ]; then
    saved_rc=$s_rc saved_msg=$s_msg
    seclabel_run "$f" --live
    if [ $s_rc -eq 0 ]; then s_live="--live: accepts"; else s_live="--live: rejects ($s_msg)"; fi
    s_rc=$saved_rc s_msg=$saved_msg
  fi
  if [ $s_rc -ne 0 ] && [ $s_rc -ne 2 ]; then
    cls="seclabel-error"; why="seclabel exited $s_rc (expected 0 or 2)"; unexplained=$((unexplained + 1))
  elif [ $s_rc -eq 0 ] && [ $v_rc -eq 0 ]; then
    cls="both-accept"; why=
  elif [ $s_rc -ne 0 ] && [ $v_rc -ne 0 ]; then
    cls="both-reject"; why=
    # same reason? libvirt's text (without its error-class prefix) in seclabel's
    v_core=${v_msg#XML error: }; v_core=${v_core#unsupported configuration: }
    v_core=${v_core#internal error: }
    if printf '%s' "$s_msg" | grep -aqiF -- "$v_core"; then why="same wording"; fi
  elif [ $s_rc -ne 0 ]; then
    if why=$(match_rule "$s_msg" "${driver_rules[@]}"); then cls="seclabel-only:driver"
    elif why=$(match_rule "$rel" "${known_divergences[@]}"); then cls="seclabel-only:known"
    elif why=$(match_rule "$s_msg" "${stricter_rules[@]}"); then cls="seclabel-only:stricter"
    else cls="seclabel-only:UNEXPLAINED"; why=; unexplained=$((unexplained + 1)); fi
  else
    if printf '%s' "$v_msg" | grep -aEq -- "$env_pattern"; then
      cls="virsh-only:env"; why="the test driver's security driver refused the model"
    elif why=$(match_rule "$v_msg" "${scope_rules[@]}"); then cls="virsh-only:scope"
    else cls="virsh-only:UNEXPLAINED"; why=; unexplained=$((unexplained + 1)); fi
  fi
  count[$cls]=$(( ${count[$cls]:-0} + 1 ))
  s_show=accepts; [ $s_rc -eq 0 ] || s_show="rejects: $s_msg"
  v_show=accepts; [ $v_rc -eq 0 ] || v_show="rejects: $v_msg"
  printf '%-28s %-45s %s\n' "$cls" "$rel" "${why:+[$why] }${v_aug:+($v_aug) }${s_live:+($s_live)}"
  case $cls in both-accept) ;; *)
    printf '    seclabel %s\n    virsh    %s\n' "$s_show" "$v_show" | cut -c1-400 ;;
  esac
  rows+=("| \`$rel\` | $cls | $(md_escape "$s_show")${s_live:+ <br>($(md_escape "$s_live"))} | $(md_escape "$v_show")${v_aug:+ <br>(virsh copy: $v_aug)} | $(md_escape "$why") |")
done

echo
echo "virsh: $(virsh --version 2>/dev/null) (library $(virsh -c test:///default version 2>/dev/null | sed -n 's/^Using library: //p'))"
for k in $(printf '%s\n' "${!count[@]}" | sort); do printf '  %-28s %d\n' "$k" "${count[$k]}"; done

if [ -n "$table" ]; then
  {
    echo "| case | class | seclabel validate | virsh define | reason |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
  } >"$table"
fi

if [ $unexplained -gt 0 ]; then
  echo "FAIL: $unexplained unexplained disagreement(s); see tests/xml/VIRSH_COMPARISON.md"
  exit 1
fi
echo "OK: every disagreement is explained"
exit 0
