#!/usr/bin/env bash
# Halite's salt-call --local against real Salt 3008.5, same trees, same machine, same run.
# Cases: test.ping; first and no-op state.apply of 100 and 1000 test.succeed_without_changes
# states (10 sls files); first and no-op state.apply of 100 and 1000 file.managed states.
# Prints a markdown table (medians, ratios, peak RSS) and writes it to bench/results/.
# Env: REPS_HALITE (default 15), REPS_SALT (default 3), SIZES (default "100 1000").
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
REPS_HALITE="${REPS_HALITE:-15}"
REPS_SALT="${REPS_SALT:-3}"
SIZES="${SIZES:-100 1000}"
SALT_VENV="${SALT_VENV:-/opt/salt-venv}"

bash "$SHARED/salt-reference/install.sh" >&2
(cd "$REPO" && cargo build --release -p halite >&2)
HALITE="$REPO/target/release/salt-call"
SALT="$SALT_VENV/bin/salt-call"

WORK="$(mktemp -d /tmp/halite-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# make_root NAME KIND N: a root with a minion config and a tree of N states of KIND.
make_root() {
  local root="$WORK/$1" kind="$2" n="$3"
  rm -rf "$root"; mkdir -p "$root/etc/salt" "$root/srv/salt" "$root/srv/pillar" "$root/target"
  cat > "$root/etc/salt/minion" <<CFG
id: bench
root_dir: $root
file_client: local
file_roots: {base: [$root/srv/salt]}
pillar_roots: {base: [$root/srv/pillar]}
log_level: quiet
enable_fqdns_grains: false
CFG
  { echo "base:"; echo "  '*':"; for s in $(seq 0 9); do echo "    - bench$s"; done; } > "$root/srv/salt/top.sls"
  for s in $(seq 0 9); do : > "$root/srv/salt/bench$s.sls"; done
  for i in $(seq 0 $((n - 1))); do
    if [ "$kind" = test ]; then
      printf 'bench_%04d:\n  test.succeed_without_changes\n' "$i"
    else
      printf 'bench_%04d:\n  file.managed:\n    - name: %s/target/f%04d.txt\n    - contents: "state %d of %d"\n' "$i" "$root" "$i" "$i" "$n"
    fi >> "$root/srv/salt/bench$((i % 10)).sls"
  done
  echo "$root"
}

# measure TOOL REPS ROOT ARGS...: "median_ms median_rss_kb"
measure() {
  local bin="$1" reps="$2" root="$3"; shift 3
  python3 "$HERE/harness.py" "$reps" 0 -- "$bin" -c "$root/etc/salt" --local --out=json "$@"
}

# first_apply TOOL REPS KIND N: each rep on a fresh root (nothing cached, nothing present).
first_apply() {
  local bin="$1" reps="$2" kind="$3" n="$4" walls=() rsss=() out
  for _ in $(seq 1 "$reps"); do
    root="$(make_root first "$kind" "$n")"
    out="$(measure "$bin" 1 "$root" state.apply)"
    walls+=("${out% *}"); rsss+=("${out#* }")
  done
  python3 -c 'import statistics,sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print(f"{statistics.median(map(float,a)):.2f} {statistics.median(map(float,b)):.0f}")' "${walls[*]}" "${rsss[*]}"
}

# noop_apply TOOL REPS KIND N: apply once, then measure repeated applies that change nothing.
noop_apply() {
  local bin="$1" reps="$2" kind="$3" n="$4"
  root="$(make_root noop "$kind" "$n")"
  "$bin" -c "$root/etc/salt" --local --out=quiet state.apply >/dev/null
  measure "$bin" "$reps" "$root" state.apply
}

ROWS=()
row() {  # row CASE HALITE_OUT SALT_OUT
  local h_ms="${2% *}" h_kb="${2#* }" s_ms="${3% *}" s_kb="${3#* }"
  ROWS+=("$(python3 -c 'import sys; c,hm,hk,sm,sk=sys.argv[1:]; hm,hk,sm,sk=float(hm),float(hk),float(sm),float(sk); print(f"| {c} | {hm:.1f} ms | {sm:.0f} ms | {sm/hm:.0f}x | {hk/1024:.1f} MB | {sk/1024:.1f} MB |")' "$1" "$h_ms" "$h_kb" "$s_ms" "$s_kb")")
  echo "${ROWS[-1]}" >&2
}

root="$(make_root ping test 1)"
row "test.ping" "$(measure "$HALITE" "$REPS_HALITE" "$root" test.ping)" "$(measure "$SALT" "$REPS_SALT" "$root" test.ping)"
for kind in test file; do
  label="test.succeed_without_changes"; [ "$kind" = file ] && label="file.managed"
  for n in $SIZES; do
    row "first apply, $n $label" "$(first_apply "$HALITE" "$REPS_HALITE" "$kind" "$n")" "$(first_apply "$SALT" "$REPS_SALT" "$kind" "$n")"
    row "no-op apply, $n $label" "$(noop_apply "$HALITE" "$REPS_HALITE" "$kind" "$n")" "$(noop_apply "$SALT" "$REPS_SALT" "$kind" "$n")"
  done
done

mkdir -p "$HERE/results"
OUT="$HERE/results/local-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "salt-call --local, $(nproc) cores, $(date -u +%Y-%m-%d); medians of $REPS_HALITE Halite runs and $REPS_SALT Salt runs; peak RSS is the child's (wait4)."
  echo
  echo "| case | Halite | Salt 3008.5 | Salt/Halite | Halite peak RSS | Salt peak RSS |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT"
echo "(written to $OUT)" >&2
