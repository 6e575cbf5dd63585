#!/bin/bash
# The refusal audit rate under a flood: one unprivileged client asks the real
# `seclabel broker` (kernel audit sink, a running auditd) for a guest it may
# not have, as fast as it can, for SECONDS; then counts what reached
# /var/log/audit/audit.log: refusal records (reason=open res=failed with the
# flood's guest name), summary records (reason=rate-limit), their bytes, and
# the rates per second. Run it twice to compare:
#   LIMITS=default   the [broker] defaults (burst 20, 1 record/s per uid)
#   LIMITS=off       refusal_audit_burst = 1000000, refusal_audit_rate =
#                    1000000: no rate limit, as before it existed
#
# It floods the host's audit log on purpose: without the rate limit, 5 s
# write megabytes and make auditd rotate (max_log_file).
#
# Usage (root, auditd running and auditing enabled; tests/audit/
# auditd_fixture.sh starts one):
#   bench/fdpass/refusal_audit_flood.sh [SECLABEL] [SECONDS]
# Env: LIMITS=default|off (default: default), FLOOD_UID (default 61235),
#      NAME_BYTES: pad the guest name asked for to this many bytes (the
#      broker takes up to 1024): the larger the name, the larger each record.
set -euo pipefail

SECLABEL=$(realpath "${1:-build/tools/seclabel}")
SECONDS_=${2:-5}
LIMITS=${LIMITS:-default}
FLOOD_UID=${FLOOD_UID:-61235}
LOG=/var/log/audit/audit.log
[ "$(id -u)" = 0 ] || { echo "refusal_audit_flood.sh: needs root" >&2; exit 1; }
pgrep -x auditd >/dev/null || { echo "refusal_audit_flood.sh: no auditd runs" >&2; exit 1; }

work=$(mktemp -d /tmp/seclabel-flood-XXXXXX)
broker=
cleanup() {
  [ -n "$broker" ] && kill "$broker" 2>/dev/null && wait "$broker" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
cat > "$work/seclabel.toml" <<TOML
security_driver = ["dac"]
[audit]
sink = "kernel"
TOML
if [ "$LIMITS" = off ]; then
  printf '[broker]\nrefusal_audit_burst = 1000000\nrefusal_audit_rate = 1000000\n' \
    >> "$work/seclabel.toml"
fi
guest="flood-$RANDOM$RANDOM"
if [ -n "${NAME_BYTES:-}" ]; then
  guest="$guest$(printf '%*s' $(( NAME_BYTES - ${#guest} )) '' | tr ' ' x)"
fi

"$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" \
  broker --socket "$work/broker.sock" &
broker=$!
for _ in $(seq 1 100); do [ -S "$work/broker.sock" ] && break; sleep 0.05; done

python_client=$(cat <<'PY'
import socket, sys, time, json
path, guest, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
request = json.dumps({"op": "open", "guest": guest, "disk": "vda", "access": "ro"}).encode()
answered = 0
end = time.time() + seconds
while time.time() < end:
    s.send(request)
    s.recv(16384)
    answered += 1
print(answered)
PY
)
requests=$(setpriv --reuid="$FLOOD_UID" --regid="$FLOOD_UID" --clear-groups \
  /usr/bin/python3 -c "$python_client" "$work/broker.sock" "$guest" "$SECONDS_")
broker_pid=$broker
kill "$broker"; wait "$broker" 2>/dev/null || true; broker=
# auditd writes asynchronously: count until the count stops growing.
# The flood may make auditd rotate (max_log_file): read the rotated files too.
logs() { cat "$LOG".[0-9]* "$LOG" 2>/dev/null; }
count_refusals() { logs | grep -a "reason=open vm=\"$guest\"" | grep -c "res=failed" || true; }
refusals=$(count_refusals)
for _ in $(seq 1 60); do
  sleep 1
  now=$(count_refusals)
  [ "$now" = "$refusals" ] && break
  refusals=$now
done
refusal_bytes=$(logs | grep -a "reason=open vm=\"$guest\"" | wc -c)
# This broker's summaries (written when it stopped): its pid is in the header.
summary_lines=$(logs | grep -a " pid=$broker_pid uid=0 " | grep -a "reason=rate-limit" || true)
echo "limits=$LIMITS seconds=$SECONDS_ requests=$requests"
echo "refusal records: $refusals ($(( refusals / SECONDS_ ))/s), $refusal_bytes bytes" \
     "($(( refusal_bytes / SECONDS_ )) B/s)"
echo "log files: $(ls "$LOG"* | wc -l) (auditd rotates at max_log_file)"
echo "summary records of this broker:"
echo "${summary_lines:-  (none)}"
