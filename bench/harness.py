#!/usr/bin/env python3
"""Time one command line several times: median wall time and median peak RSS of the child.

Usage: harness.py REPS EXPECT_RC -- CMD ARGS...   (prints "median_ms median_rss_kb")
Each run is a fresh process. Wall time is measured around plain runs; peak RSS comes from
extra runs under GNU time (`/usr/bin/time -f %M`), because the rusage of a child forked from
Python counts the interpreter's pages copied before exec.
A run whose exit code differs from EXPECT_RC aborts the benchmark (a failing command is not
a measurement).
"""
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    reps, expect = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    walls, rss = [], []
    for _ in range(reps):
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        walls.append((time.perf_counter() - start) * 1000.0)
        if proc.returncode != expect:
            err = proc.stderr.decode(errors="replace")
            sys.exit(f"benchmark command failed (rc {proc.returncode}, want {expect}): {' '.join(cmd)}\n{err}")
    with tempfile.NamedTemporaryFile("r") as out:
        for _ in range(min(reps, 3)):
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            out.seek(0)
            rss.append(int(out.read().split()[-1]))
    print(f"{statistics.median(walls):.2f} {statistics.median(rss):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
