#!/usr/bin/env bash
# No-op apply of 50 pkg.installed and 20 service.running states: Halite's salt-call --local
# beside real Salt 3008.5, in the same sandbox and the same run.
#
# Sandbox (../shared/recipes): a throwaway dpkg/APT root (dpkg-root.sh) holding 50 small
# packages built here (halite-bench-00..49, version 1.0) and a private systemd as PID 1 of its
# own namespaces (systemd-ns.sh) running 20 units (bench-svc-00..19, enabled and started).
# Both salt-calls run inside that systemd's namespaces with the root's environment, so their
# pkg queries read the root's dpkg database and their service queries go to the private
# systemd. Nothing of the host changes; the host's dpkg fingerprint is checked at the end.
# Prints a markdown table (medians, ratio, peak RSS) and writes it to bench/results/.
# Env: REPS_HALITE (default 15), REPS_SALT (default 3), NPKG (50), NSVC (20).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
RECIPES="$SHARED/recipes"
REPS_HALITE="${REPS_HALITE:-15}"
REPS_SALT="${REPS_SALT:-3}"
NPKG="${NPKG:-50}"
NSVC="${NSVC:-20}"
SALT_VENV="${SALT_VENV:-/opt/salt-venv}"

bash "$SHARED/salt-reference/install.sh" >&2
(cd "$REPO" && cargo build --release -p halite >&2)
HALITE="$REPO/target/release/salt-call"
SALT="$SALT_VENV/bin/salt-call"

FP_BEFORE="$("$RECIPES/dpkg-root.sh" host-fingerprint)"
WORK="$(mktemp -d /tmp/halite-benchpkg.XXXXXX)"
cleanup() {
  "$RECIPES/systemd-ns.sh" down "$WORK/sd" >/dev/null 2>&1 || true
  "$RECIPES/dpkg-root.sh" destroy "$WORK/root" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The root (on the recipe's demo repository) and the bench packages installed into it.
"$RECIPES/dpkg-root.sh" repo "$WORK/repo" >/dev/null
"$RECIPES/dpkg-root.sh" root "$WORK/root" "file:$WORK/repo" > "$WORK/root.env"
set -a; . "$WORK/root.env"; set +a
mkdir -p "$WORK/debs"
for i in $(seq -f '%02g' 0 $((NPKG - 1))); do
  d="$WORK/build/halite-bench-$i"
  mkdir -p "$d/DEBIAN" "$d/usr/share/halite-bench"
  printf 'Package: halite-bench-%s\nVersion: 1.0\nArchitecture: all\nMaintainer: Halite <bench@localhost>\nDescription: Halite benchmark package %s\n' "$i" "$i" > "$d/DEBIAN/control"
  echo "$i" > "$d/usr/share/halite-bench/$i"
  dpkg-deb --root-owner-group -b "$d" "$WORK/debs/halite-bench-$i.deb" >/dev/null
done
dpkg --root="$DPKG_ROOT" --admindir="$DPKG_ADMINDIR" --log="$DPKG_LOG" --force-script-chrootless \
  -i "$WORK/debs"/*.deb >/dev/null

# The private systemd and its units.
SD_RW_PATHS="$WORK" "$RECIPES/systemd-ns.sh" up "$WORK/sd" > "$WORK/sd.env"
set -a; . "$WORK/sd.env"; set +a
for i in $(seq -f '%02g' 0 $((NSVC - 1))); do
  printf '[Unit]\nDescription=bench %s\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' "$i" \
    > "$SD_UNIT_DIR/bench-svc-$i.service"
done
"$RECIPES/systemd-ns.sh" exec "$WORK/sd" -- systemctl daemon-reload
for i in $(seq -f '%02g' 0 $((NSVC - 1))); do
  "$RECIPES/systemd-ns.sh" exec "$WORK/sd" -- systemctl enable --now "bench-svc-$i.service" 2>/dev/null
done

# The tree: one SLS with every state, and a minion config per tool.
mkdir -p "$WORK/srv/salt" "$WORK/srv/pillar"
{
  for i in $(seq -f '%02g' 0 $((NPKG - 1))); do
    printf 'pkg_%s:\n  pkg.installed:\n    - name: halite-bench-%s\n    - version: "1.0"\n' "$i" "$i"
  done
  for i in $(seq -f '%02g' 0 $((NSVC - 1))); do
    printf 'svc_%s:\n  service.running:\n    - name: bench-svc-%s\n    - enable: True\n' "$i" "$i"
  done
} > "$WORK/srv/salt/bench.sls"
for tool in halite salt; do
  mkdir -p "$WORK/$tool/etc"
  cat > "$WORK/$tool/etc/minion" <<CFG
id: bench
root_dir: $WORK/$tool
file_client: local
file_roots: {base: [$WORK/srv/salt]}
pillar_roots: {base: [$WORK/srv/pillar]}
log_level: quiet
enable_fqdns_grains: false
CFG
done

# run TOOL BIN: the command line that applies the SLS inside the sandbox.
inside() {
  local tool="$1" bin="$2"
  echo "$RECIPES/systemd-ns.sh" exec "$WORK/sd" -- env \
    "APT_CONFIG=$APT_CONFIG" "DPKG_ROOT=$DPKG_ROOT" "DPKG_ADMINDIR=$DPKG_ADMINDIR" \
    "$bin" -c "$WORK/$tool/etc" --local --out=json state.apply bench
}

# Each tool applies once first (and must report no change: the sandbox is converged).
for tool in halite salt; do
  bin="$HALITE"; [ "$tool" = salt ] && bin="$SALT"
  out="$($(inside "$tool" "$bin"))"
  changed="$(python3 -c 'import json,sys; d=json.load(sys.stdin)["local"]; bad=[k for k,v in d.items() if v["changes"] or v["result"] is not True]; print(len(d), len(bad)); [print(k, d[k]["comment"], file=sys.stderr) for k in bad[:5]]' <<<"$out")"
  echo "$tool: states, not-clean: $changed" >&2
  [ "${changed#* }" = 0 ] || { echo "$tool: the no-op apply changed or failed something" >&2; exit 1; }
done

measure() { python3 "$HERE/harness.py" "$2" 0 -- $(inside "$1" "$3"); }
H="$(measure halite "$REPS_HALITE" "$HALITE")"
S="$(measure salt "$REPS_SALT" "$SALT")"

FP_AFTER="$("$RECIPES/dpkg-root.sh" host-fingerprint)"
[ "$FP_BEFORE" = "$FP_AFTER" ] || { echo "the host's dpkg/apt state changed" >&2; exit 1; }

ROW="$(python3 -c 'import sys; n,hm,hk,sm,sk=sys.argv[1:]; hm,hk,sm,sk=float(hm),float(hk),float(sm),float(sk); print(f"| no-op apply, {n} | {hm:.1f} ms | {sm:.0f} ms | {sm/hm:.0f}x | {hk/1024:.1f} MB | {sk/1024:.1f} MB |")' \
  "$NPKG pkg.installed + $NSVC service.running" "${H% *}" "${H#* }" "${S% *}" "${S#* }")"
mkdir -p "$HERE/results"
OUT="$HERE/results/pkg-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "salt-call --local in a throwaway dpkg root + private systemd (../shared/recipes), $(nproc) cores, $(date -u +%Y-%m-%d); medians of $REPS_HALITE Halite runs and $REPS_SALT Salt runs, each through nsenter into the private systemd's namespaces; peak RSS is the child's (GNU time)."
  echo
  echo "| case | Halite | Salt 3008.5 | Salt/Halite | Halite peak RSS | Salt peak RSS |"
  echo "|---|---|---|---|---|---|"
  echo "$ROW"
} | tee "$OUT"
echo "(written to $OUT)" >&2
