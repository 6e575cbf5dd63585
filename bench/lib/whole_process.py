"""Timing whole processes for the benchmark scripts in bench/ (imported by
bench/launcher/lifecycle.sh and bench/scale/scale.sh through PYTHONPATH)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_timed(argv):
    """Runs argv with stdout to /dev/null; returns (wall ms from fork to reap,
    peak RSS in KiB, user + system CPU ms) of that one child. Exits the benchmark, with the child's
    stderr, if it fails: a benchmark of a failing command measures nothing."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter_ns()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(argv)} exited {child.returncode}: "
                     f"{err.read().decode(errors='replace').strip()}")
    return elapsed, usage.ru_maxrss, (usage.ru_utime + usage.ru_stime) * 1e3


def median(values):
    return statistics.median(values)


def quantile(values, p):
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))]
