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
# Usage (root, auditd running and auditing enabled; tests/audit/
# auditd_fixture.sh starts one):
#   bench/fdpass/refusal_audit_flood.sh [SECLABEL] [SECONDS]
# Env: LIMITS=default|off (default: default), FLOOD_UID (default 61235).
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
  python3 -c "$python_client" "$work/broker.sock" "$guest" "$SECONDS_")
broker_pid=$broker
kill "$broker"; wait "$broker" 2>/dev/null || true; broker=
sleep 2  # auditd writes asynchronously

refusals=$(grep -a "reason=open vm=\"$guest\"" "$LOG" | grep -c "res=failed" || true)
refusal_bytes=$(grep -a "reason=open vm=\"$guest\"" "$LOG" | wc -c)
# This broker's summaries (written when it stopped): its pid is in the header.
summary_lines=$(grep -a " pid=$broker_pid uid=0 " "$LOG" | grep -a "reason=rate-limit" || true)
echo "limits=$LIMITS seconds=$SECONDS_ requests=$requests"
echo "refusal records: $refusals ($(( refusals / SECONDS_ ))/s), $refusal_bytes bytes" \
     "($(( refusal_bytes / SECONDS_ )) B/s)"
echo "summary records of this broker:"
echo "${summary_lines:-  (none)}"
