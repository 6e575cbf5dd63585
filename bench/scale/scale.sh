#!/bin/bash
# Does a command cost the same whatever the number of guests in the store?
# Whole processes, alternated in one run against an empty store and stores
# pre-filled (untimed, through the library: prefill_store) with SIZES guests
# (both drivers, one disk each, state "prepared"; RUNNING_PERCENT of them
# "running" as a live process). Every store also holds one real prepared
# guest, "probe" (its own qcow2), the target of dominfo and of the broker
# lookup; an "empty" store is the probe alone.
#
# Per store and round, in a store order that rotates every round:
#   prepare + restore   a fresh uuid each round, one qcow2 disk, selinux + dac
#   run -- /bin/true    a fresh uuid each round
#   dominfo probe
#   broker lookup       requests to a `seclabel broker` serving that store,
#                       each on a fresh connection: open probe's vda, rw
#                       (round trip timed in this process, median of 5)
#   setpriv             the bare identity switch (as lifecycle.sh), for the
#                       ratio seclabel run / setpriv
# then LIST_RUNS rounds of `list --json`: wall time and peak RSS (wait4).
# Reports medians of wall time and of CPU time (user + system, from wait4:
# steadier on a loaded host), and each store's ratio to the empty store, as
# tables for docs/performance.md ("Scale"). Filling the 100,000-guest store
# takes about 40 s of CPU; the rounds against it dominate the run time (on
# code whose cost grows with the store, seconds per command).
#
# Usage (root): bench/scale/scale.sh [--quick] [SECLABEL [PREFILL]]
#   SECLABEL  the built binary (default build/tools/seclabel)
#   PREFILL   the fill tool (default build/bench/scale/prefill_store)
#   --quick   SIZES="1000 10000", RUNS=5, LIST_RUNS=2 (a few minutes)
# Env: SIZES (default "1000 10000 100000"), RUNS (rounds, default 11),
#      LIST_RUNS (default 3), RUNNING_PERCENT (default 0), AUDIT_SINK (none).
set -euo pipefail

QUICK=0
if [ "${1:-}" = --quick ]; then QUICK=1; shift; fi
SECLABEL=$(realpath "${1:-build/tools/seclabel}")
PREFILL=$(realpath "${2:-build/bench/scale/prefill_store}")
if [ "$QUICK" = 1 ]; then
  SIZES=${SIZES:-1000 10000}; RUNS=${RUNS:-5}; LIST_RUNS=${LIST_RUNS:-2}
else
  SIZES=${SIZES:-1000 10000 100000}; RUNS=${RUNS:-11}; LIST_RUNS=${LIST_RUNS:-3}
fi
RUNNING_PERCENT=${RUNNING_PERCENT:-0}
export AUDIT_SINK=${AUDIT_SINK:-none}
. "$(dirname "$0")/../lib/whole_process.sh"
bench_require_root scale.sh
[ -x "$PREFILL" ] || { echo "scale.sh: no $PREFILL (build the prefill_store target)" >&2; exit 1; }

daemons=()
stop_daemons() { for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done; }
bench_make_workdir 'stop_daemons'
# 262,144 uids: room for the largest store and the rounds' guests.
bench_write_config "$work/seclabel.toml" 1879048192-1879310335

# The live process the "running" guests claim to be (alive for the run).
sleep infinity &
guest_process=$!
daemons+=("$guest_process")

sizes=(0 $SIZES)
for size in "${sizes[@]}"; do
  state="$work/state-$size"
  args="--config $work/seclabel.toml --state-dir $state"
  if [ "$size" -gt 0 ]; then
    running=$((size * RUNNING_PERCENT / 100))
    "$PREFILL" --config "$work/seclabel.toml" --state-dir "$state" --guests "$size" \
      --running "$running" --running-pid "$guest_process"
  fi
  bench_make_disk "$work/probe-$size.qcow2"
  bench_make_disk "$work/bench-$size.qcow2"
  bench_write_domain "$work/probe-$size.xml" probe "$work/probe-$size.qcow2"
  # shellcheck disable=SC2086
  "$SECLABEL" $args prepare "$work/probe-$size.xml" >/dev/null 2>"$work/probe.err" ||
    { cat "$work/probe.err" >&2; exit 1; }
  # shellcheck disable=SC2086
  "$SECLABEL" $args broker --socket "$work/broker-$size.sock" &
  daemons+=("$!")
done
for size in "${sizes[@]}"; do
  for _ in $(seq 100); do [ -S "$work/broker-$size.sock" ] && break; sleep 0.1; done
done

# setpriv switches to the ids of the empty store's probe guest.
ids=$(bench_dac_ids_of "$SECLABEL" "--config $work/seclabel.toml --state-dir $work/state-0" probe)

echo "store sizes: ${sizes[*]} guests (+ probe), ${RUNNING_PERCENT}% running; $RUNS rounds, $LIST_RUNS of list --json"
echo "database sizes: $(for size in "${sizes[@]}"; do printf '%s=%s ' "$size" "$(du -sh "$work/state-$size" | cut -f1)"; done)"
bench_machine_line

PYTHONPATH="$BENCH_LIB_DIR" python3 - "$SECLABEL" "$work" "$RUNS" "$LIST_RUNS" "$ids" "${sizes[@]}" <<'PY'
import json, os, socket, sys, time, uuid
from whole_process import run_timed, median

seclabel, work, runs, list_runs, ids = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sizes = [int(s) for s in sys.argv[6:]]
uid, gid = ids.split(":")
setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all",
           "--bounding-set=-all", "--no-new-privs", "--", "/bin/true"]

def cli(size, *args):
    return [seclabel, "--config", f"{work}/seclabel.toml", "--state-dir", f"{work}/state-{size}", *args]

def write_guest(size):
    """The round's guest: same XML as the probe's shape, a fresh uuid."""
    path = f"{work}/guest-{size}.xml"
    with open(f"{work}/probe-{size}.xml") as template:
        xml = template.read()
    start, end = xml.index("<uuid>") + 6, xml.index("</uuid>")
    xml = xml[:start] + str(uuid.uuid4()) + xml[end:]
    xml = xml.replace("<name>probe</name>", "<name>bench-guest</name>")
    xml = xml.replace(f"probe-{size}.qcow2", f"bench-{size}.qcow2")
    with open(path, "w") as out:
        out.write(xml)
    return path

def broker_lookup(size):
    """The median of 5 requests for probe's vda, each on a fresh connection; ms.
    (One request is a fraction of a millisecond, so one scheduling delay of
    the loaded host would be the whole sample.)"""
    request = json.dumps({"op": "open", "guest": "probe", "disk": "vda", "access": "rw"}).encode()
    samples = []
    for _ in range(5):
        start = time.perf_counter_ns()
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.connect(f"{work}/broker-{size}.sock")
            s.send(request)
            reply, fds, _, _ = socket.recv_fds(s, 16384, 4)
        samples.append((time.perf_counter_ns() - start) / 1e6)
        for fd in fds:
            os.close(fd)
        if not json.loads(reply).get("ok") or not fds:
            sys.exit(f"broker of store {size} refused: {reply!r}")
    return median(samples)

# Wall ms and CPU ms (user + system of the child) per store and command.
commands = ("prep+rest", "run", "dominfo", "broker", "setpriv")
wall = {size: {k: [] for k in commands} for size in sizes}
cpu = {size: {k: [] for k in commands} for size in sizes}
warmup = 2
for round in range(warmup + runs):
    order = sizes[round % len(sizes):] + sizes[:round % len(sizes)]
    for size in order:
        guest = write_guest(size)
        prep = run_timed(cli(size, "prepare", guest))
        rest = run_timed(cli(size, "restore", "bench-guest"))
        guest = write_guest(size)
        run = run_timed(cli(size, "run", guest, "--", "/bin/true"))
        info = run_timed(cli(size, "dominfo", "probe"))
        broker = broker_lookup(size)
        priv = run_timed(setpriv)
        if round < warmup:
            continue
        for key, w, c in (("prep+rest", prep[0] + rest[0], prep[2] + rest[2]),
                          ("run", run[0], run[2]), ("dominfo", info[0], info[2]),
                          ("broker", broker, None), ("setpriv", priv[0], priv[2])):
            wall[size][key].append(w)
            if c is not None:
                cpu[size][key].append(c)
    print(f"round {round + 1}/{warmup + runs} done, load {open('/proc/loadavg').read().split()[0]}",
          file=sys.stderr, flush=True)

listing = {size: ([], []) for size in sizes}
for round in range(list_runs):
    order = sizes[round % len(sizes):] + sizes[:round % len(sizes)]
    for size in order:
        ms, rss, _ = run_timed(cli(size, "list", "--json"))
        listing[size][0].append(ms)
        listing[size][1].append(rss)

base = sizes[0]
def medians(table):
    return {size: {k: median(v) for k, v in table[size].items() if v} for size in sizes}
mwall, mcpu = medians(wall), medians(cpu)
def cell(table, size, key, digits=2):
    text = f"{table[size][key]:.{digits}f}"
    return text if size == base else f"{text} ({table[size][key] / table[base][key]:.2f}x)"

print()
print(f"Wall time, medians of {runs} alternated rounds (ms); in brackets the ratio to the empty store")
print()
print("| guests | prepare+restore | run -- /bin/true | dominfo | broker lookup | run / setpriv | list --json | list --json peak RSS |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for size in sizes:
    ms, rss = median(listing[size][0]), max(listing[size][1])
    bms, brss = median(listing[base][0]), max(listing[base][1])
    list_time = f"{ms:.0f}" if size == base else f"{ms:.0f} ({ms / bms:.1f}x)"
    list_rss = f"{rss / 1024:.1f} MiB" if size == base else f"{rss / 1024:.1f} MiB ({rss / brss:.1f}x)"
    m = mwall[size]
    print(f"| {size:,} | {cell(mwall, size, 'prep+rest')} | {cell(mwall, size, 'run')} | "
          f"{cell(mwall, size, 'dominfo')} | {cell(mwall, size, 'broker')} | "
          f"{m['run'] / m['setpriv']:.2f} (setpriv {m['setpriv']:.2f}) | {list_time} | {list_rss} |")
print()
print("CPU time (user + system) of the same processes, medians (ms): steadier than wall time on a loaded host")
print()
print("| guests | prepare+restore | run -- /bin/true | dominfo | run / setpriv |")
print("|---:|---:|---:|---:|---:|")
for size in sizes:
    m = mcpu[size]
    print(f"| {size:,} | {cell(mcpu, size, 'prep+rest')} | {cell(mcpu, size, 'run')} | "
          f"{cell(mcpu, size, 'dominfo')} | {m['run'] / m['setpriv']:.2f} (setpriv {m['setpriv']:.2f}) |")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
