#!/bin/sh
# CTest fixture `auditd`: makes sure an auditd writes the kernel's audit
# records to /var/log/audit/audit.log while the audit tests run.
#   auditd_fixture.sh start STATE   start auditd if none runs, enable auditing
#   auditd_fixture.sh stop STATE    undo exactly what `start` did
# STATE remembers what start changed (the pid of the auditd it started, the
# kernel's previous `enabled` flag), so stop never kills an auditd it did not
# start. When the kernel has no audit, start says so and succeeds: the tests
# then skip with that reason (tests/audit/auditd_helpers.h).
set -eu
action=$1
state=$2

kernel_enabled() { auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }'; }

case "$action" in
start)
  : >"$state"
  if ! auditctl -s >/dev/null 2>&1; then
    echo "auditd fixture: the kernel has no audit support (auditctl -s failed); audit tests will skip"
    echo "unavailable=1" >>"$state"
    exit 0
  fi
  was_enabled=$(kernel_enabled)
  echo "was_enabled=$was_enabled" >>"$state"
  [ "$was_enabled" = 0 ] && auditctl -e 1 >/dev/null
  if pid=$(pgrep -x auditd); then
    echo "auditd fixture: using the running auditd (pid $pid)"
    exit 0
  fi
  mkdir -p /var/log/audit
  auditd
  # auditd forks into the background and writes its pid file when ready.
  for _ in $(seq 1 50); do
    if pid=$(pgrep -x auditd) && [ -s /var/run/auditd.pid ]; then
      echo "started_pid=$pid" >>"$state"
      echo "auditd fixture: started auditd (pid $pid)"
      exit 0
    fi
    sleep 0.1
  done
  echo "auditd fixture: auditd did not start" >&2
  exit 1
  ;;
stop)
  [ -f "$state" ] || exit 0
  started_pid=$(sed -n 's/^started_pid=//p' "$state")
  was_enabled=$(sed -n 's/^was_enabled=//p' "$state")
  if [ -n "$started_pid" ] && kill -0 "$started_pid" 2>/dev/null; then
    kill -TERM "$started_pid"
    for _ in $(seq 1 50); do
      kill -0 "$started_pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "auditd fixture: stopped auditd (pid $started_pid)"
  fi
  # auditd turns auditing on at start and may leave it so: put back the
  # kernel flag we found.
  if [ "$was_enabled" = 0 ]; then auditctl -e 0 >/dev/null; fi
  rm -f "$state"
  ;;
*)
  echo "usage: $0 start|stop STATE" >&2
  exit 2
  ;;
esac
