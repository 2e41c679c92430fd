#!/usr/bin/env python3
"""Time one command line several times: median wall time and median peak RSS of the child.

Usage: harness.py REPS EXPECT_RC -- CMD ARGS...   (prints "median_ms median_rss_kb")
Each run is a fresh process; its peak RSS comes from wait4()'s rusage for that child only.
A run whose exit code differs from EXPECT_RC aborts the benchmark (a failing command is not
a measurement).
"""
import os
import statistics
import subprocess
import sys
import time


def main() -> int:
    reps, expect = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    walls, rss = [], []
    for _ in range(reps):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append((time.perf_counter() - start) * 1000.0)
        rss.append(usage.ru_maxrss)
        code = os.waitstatus_to_exitcode(status)
        if code != expect:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            sys.exit(f"benchmark command failed (rc {code}, want {expect}): {' '.join(cmd)}\n{err}")
        if proc.stderr:
            proc.stderr.close()
    print(f"{statistics.median(walls):.2f} {statistics.median(rss):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
