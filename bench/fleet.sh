#!/usr/bin/env bash
# A master and M minions on 127.0.0.1, Halite beside real Salt 3008.5, same machine, same run.
# For M in $SIZES (default "1 10"): start → all minions answer test.ping; `salt '*' test.ping`;
# a no-op `salt '*' state.apply` of 100 file.managed states (the shared gen_tree.sh tree,
# one target dir per minion); RSS and PSS of the master and of one idle minion.
# Prints a markdown table (medians, ratios) and writes it to bench/results/.
# Env: REPS_HALITE (default 9), REPS_SALT (default 3), SIZES, SALT_VENV.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
REPS_HALITE="${REPS_HALITE:-9}"
REPS_SALT="${REPS_SALT:-3}"
SIZES="${SIZES:-1 10}"
SALT_VENV="${SALT_VENV:-/opt/salt-venv}"

bash "$SHARED/salt-reference/install.sh" >&2
(cd "$REPO" && cargo build --release -p halite >&2)
HALITE_BIN="$REPO/target/release"
SALT_BIN="$SALT_VENV/bin"
PY="$SALT_VENV/bin/python"   # has psutil

WORK="$(mktemp -d /tmp/halite-fleet-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start DAEMON_BIN ARGS...: run in its own process group, remember the group.
start() { setsid "$@" >/dev/null 2>&1 & LAST_PID="$!"; PIDS+=("$LAST_PID"); }

# median_ms REPS EXPECT CMD...: median wall time (ms) of REPS runs; aborts on another rc.
median_ms() {
  local reps="$1" expect="$2"; shift 2
  "$PY" - "$reps" "$expect" "$@" <<'PYEOF'
import statistics, subprocess, sys, time
reps, expect, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
walls = []
for _ in range(reps):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    walls.append((time.perf_counter() - t) * 1000)
    if p.returncode != expect:
        sys.exit(f"benchmark command failed (rc {p.returncode}): {' '.join(cmd)}\n{p.stdout.decode()[-2000:]}\n{p.stderr.decode()[-2000:]}")
print(f"{statistics.median(walls):.1f}")
PYEOF
}

# mem PID: "rss_mb pss_mb" of the process tree under PID.
mem() {
  "$PY" - "$1" <<'PYEOF'
import sys, psutil
top = psutil.Process(int(sys.argv[1]))
procs = [top] + top.children(recursive=True)
def pss(p):
    try:
        for line in open(f"/proc/{p.pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
rss = sum(p.memory_info().rss for p in procs) / 2**20
print(f"{rss:.1f} {sum(pss(p) for p in procs) / 1024:.1f}")
PYEOF
}

# fleet IMPL M (run in the main shell, not a subshell, so PIDS is kept): sets RESULT to "start_ms ping_ms apply_ms master_rss master_pss minion_rss minion_pss"
fleet() {
  local impl="$1" m="$2" bin reps
  if [ "$impl" = halite ]; then bin="$HALITE_BIN"; reps="$REPS_HALITE"; else bin="$SALT_BIN"; reps="$REPS_SALT"; fi
  local w="$WORK/$impl-$m" pub ret
  pub="$(free_port)"; ret="$(free_port)"
  mkdir -p "$w/master" "$w/srv/salt" "$w/srv/pillar"
  cat > "$w/master/master" <<CFG
root_dir: $w/master
interface: 127.0.0.1
publish_port: $pub
ret_port: $ret
auto_accept: True
user: $(id -un)
file_roots: {base: [$w/srv/salt]}
pillar_roots: {base: [$w/srv/pillar]}
log_level: quiet
CFG
  bash "$SHARED/salt-reference/gen_tree.sh" 100 "$w/srv/salt" "$w/target/{{ grains['id'] }}" 10
  printf "base:\n  '*':\n    - common\n" > "$w/srv/pillar/top.sls"
  printf "role: worker\n" > "$w/srv/pillar/common.sls"
  local t0 master_pid minion_pid
  t0="$(date +%s%N)"
  start "$bin/salt-master" -c "$w/master"; master_pid="$LAST_PID"
  for i in $(seq 0 $((m - 1))); do
    id="$(printf 'minion-%02d' "$i")"; mkdir -p "$w/$id"
    cat > "$w/$id/minion" <<CFG
root_dir: $w/$id
id: $id
master: 127.0.0.1
master_port: $ret
publish_port: $pub
user: $(id -un)
acceptance_wait_time: 1
log_level: quiet
CFG
    start "$bin/salt-minion" -c "$w/$id"
    [ "$i" = 0 ] && minion_pid="$LAST_PID"
  done
  local up=0
  for _ in $(seq 1 600); do
    up=$("$bin/salt" -c "$w/master" '*' test.ping --out=json --static -t 5 2>/dev/null \
      | "$PY" -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin).values() if v is True))' 2>/dev/null || echo 0)
    [ "$up" = "$m" ] && break
    sleep 0.2
  done
  [ "$up" = "$m" ] || { echo "$impl: only $up of $m minions answered" >&2; exit 1; }
  local start_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local ping apply
  ping="$(median_ms "$reps" 0 "$bin/salt" -c "$w/master" '*' test.ping --out=json --static -t 120)"
  "$bin/salt" -c "$w/master" '*' state.apply --out=json --static -t 300 >/dev/null 2>&1
  apply="$(median_ms "$reps" 0 "$bin/salt" -c "$w/master" '*' state.apply --out=json --static -t 300)"
  sleep 2
  local mm mi
  mm="$(mem "$master_pid")"; mi="$(mem "$minion_pid")"
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  sleep 2
  for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  PIDS=()
  RESULT="$start_ms $ping $apply $mm $mi"
}

ROWS=()
for m in $SIZES; do
  fleet halite "$m"; h="$RESULT"; echo "halite m=$m: $h" >&2
  fleet salt "$m"; s="$RESULT"; echo "salt   m=$m: $s" >&2
  ROWS+=("$("$PY" - "$m" "$h" "$s" <<'PYEOF'
import sys
m = sys.argv[1]
h = [float(x) for x in sys.argv[2].split()]
s = [float(x) for x in sys.argv[3].split()]
names = ["start → all answer", "`test.ping`", "no-op `state.apply`, 100 states"]
out = []
for i, n in enumerate(names):
    out.append(f"| {m} | {n} | {h[i]:.0f} ms | {s[i]:.0f} ms | {s[i]/h[i]:.0f}x |")
out.append(f"| {m} | master RSS / PSS | {h[3]:.1f} / {h[4]:.1f} MB | {s[3]:.0f} / {s[4]:.0f} MB | {s[3]/h[3]:.0f}x |")
out.append(f"| {m} | one minion RSS / PSS (after the runs) | {h[5]:.1f} / {h[6]:.1f} MB | {s[5]:.0f} / {s[6]:.0f} MB | {s[5]/h[5]:.0f}x |")
print("\n".join(out))
PYEOF
)")
done

mkdir -p "$HERE/results"
OUT="$HERE/results/fleet-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "1 master + M minions on 127.0.0.1, $(nproc) cores, $(date -u +%Y-%m-%d); medians of $REPS_HALITE Halite runs and $REPS_SALT Salt runs (\`--out=json --static\`)."
  echo
  echo "| M | case | Halite | Salt 3008.5 | Salt/Halite |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT"
echo "(written to $OUT)" >&2
