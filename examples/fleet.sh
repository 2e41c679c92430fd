#!/usr/bin/env bash
# A fleet on this machine: a Halite salt-master and three salt-minions (bootstrap, cp-2,
# worker-1) as processes on 127.0.0.1 (free ports, a temp dir, nothing outside it), the
# examples/fleet state and pillar trees served by the master. It accepts the keys with
# salt-key, runs `salt '*' state.highstate` twice (changes, then none) and a grain-targeted
# ping, then stops exactly the processes it started.
# Usage: examples/fleet.sh [dir holding salt, salt-master, ...]   (default: the release build)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
BIN="${1:-$REPO/target/release}"
if [ ! -x "$BIN/salt-master" ]; then
  (cd "$REPO" && cargo build --release -p halite >&2)
fi
W="$(mktemp -d /tmp/halite-fleet.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PUB="$(port)"; RET="$(port)"
mkdir -p "$W/master"
cat > "$W/master/master" <<CFG
root_dir: $W/master
interface: 127.0.0.1
publish_port: $PUB
ret_port: $RET
user: $(id -un)
file_roots: {base: [$HERE/fleet/salt]}
pillar_roots: {base: [$HERE/fleet/pillar]}
nodegroups:
  control_plane: 'G@roles:etcd'
CFG
"$BIN/salt-master" -c "$W/master" -l warning 2> "$W/master.log" & PIDS+=("$!")
declare -A ROLES=([bootstrap]="[bootstrap, etcd]" [cp-2]="[etcd]" [worker-1]="[node]")
for id in bootstrap cp-2 worker-1; do
  mkdir -p "$W/$id/root"
  cat > "$W/$id/minion" <<CFG
id: $id
root_dir: $W/$id
master: 127.0.0.1
master_port: $RET
publish_port: $PUB
user: $(id -un)
acceptance_wait_time: 1
recon_default: 100
recon_max: 1000
grains:
  roles: ${ROLES[$id]}
  node_root: $W/$id/root
CFG
  "$BIN/salt-minion" -c "$W/$id" -l warning 2> "$W/$id.log" & PIDS+=("$!")
done
salt() { "$BIN/salt" -c "$W/master" "$@"; }
echo "== waiting for the three minion keys"
for _ in $(seq 1 100); do
  [ "$("$BIN/salt-key" -c "$W/master" -l un | grep -c -v 'Keys:' || true)" = 3 ] && break
  sleep 0.2
done
"$BIN/salt-key" -c "$W/master" -A -y
echo "== waiting for the minions to answer"
for _ in $(seq 1 100); do
  n="$(salt '*' test.ping --out=txt -t 3 2>/dev/null | grep -c ': True' || true)"
  [ "$n" = 3 ] && break
  sleep 0.3
done
echo "== salt '*' state.highstate"
rc=0
salt '*' state.highstate --state-output=mixed -t 60 || rc=$?
echo "== salt '*' state.highstate (again: no changes expected)"
salt '*' state.highstate --state-output=terse -t 60 || rc=$?
echo "== salt -N control_plane test.ping"
salt -N control_plane test.ping || rc=$?
echo "== salt-run manage.status"
"$BIN/salt-run" -c "$W/master" manage.status || rc=$?
echo "(logs and minion roots left in $W)"
exit $rc
