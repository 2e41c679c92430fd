#!/usr/bin/env bash
# The demo cluster (lab, 5 nodes: bootstrap, cp-2, cp-3, infra-1, worker-1): wall time of the
# first `salt '*' state.highstate` (packages installed from the cluster repository, etcd formed,
# kubelet configured) and of a no-op one, and the RSS of the salt-master and of each
# salt-minion after them. RUNS fresh labs (default 3), NOOP no-op highstates each (default 5);
# medians. Runs as root; prints a markdown table and writes it to bench/results/.
#
# Real Salt cannot apply this tree (kubelet.*, etcd.* and k8s_node.* are Halite's native
# modules), so there is no Salt column here: bench/fleet.sh compares the fleet path with
# real Salt on the same machine.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
RUNS="${RUNS:-3}"
NOOP="${NOOP:-5}"
(cd "$REPO" && scripts/deps.sh >&2 && cargo build --release --locked -p halite --bin halite -p halite-lab --bin lab >&2)
LAB="$REPO/target/release/lab"
DIR="$REPO/target/lab-bench"
trap '"$LAB" down --dir "$DIR" >/dev/null 2>&1 || true' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f\n", b-a}'; }
median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
rss_of() { # rss_of NODE UNIT -> VmRSS of the unit's main process, MB
    "$LAB" exec --dir "$DIR" "$1" -- sh -c \
        "awk '/^VmRSS/{printf \"%.1f\", \$2/1024}' /proc/\$(systemctl show -p MainPID --value $2)/status"
}
highstate() { # -> wall seconds; fails unless every minion's states all succeeded
    local t0 t1 out
    t0=$(now)
    out=$("$LAB" salt --dir "$DIR" '*' state.highstate queue=True --out=json --static -t 900)
    t1=$(now)
    python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = [m for m, r in d.items() if not isinstance(r, dict) or not all(s.get("result") for s in r.values())]
sys.exit("failed on: " + ", ".join(bad) if bad or len(d) != 5 else 0)' <<< "$out"
    elapsed "$t0" "$t1"
}

: > /tmp/hb-first; : > /tmp/hb-noop; : > /tmp/hb-master; : > /tmp/hb-minion
for r in $(seq "$RUNS"); do
    "$LAB" up --dir "$DIR" --nodes 5 --schedule 3600 >&2
    first=$(highstate); echo "$first" >> /tmp/hb-first
    echo "run $r: first highstate ${first}s" >&2
    for _ in $(seq "$NOOP"); do highstate >> /tmp/hb-noop; done
    rss_of bootstrap salt-master >> /tmp/hb-master; echo >> /tmp/hb-master
    for n in bootstrap cp-2 cp-3 infra-1 worker-1; do rss_of "$n" salt-minion >> /tmp/hb-minion; echo >> /tmp/hb-minion; done
    "$LAB" down --dir "$DIR" >&2
done
mkdir -p "$HERE/results"
OUT="$HERE/results/cluster-$(date -u +%Y%m%d-%H%M%S).md"
{
    echo "| 5-node demo cluster (lab), Halite | median | runs |"
    echo "|---|---|---|"
    echo "| first highstate (wall, s) | $(median < /tmp/hb-first) | $RUNS |"
    echo "| no-op highstate (wall, s) | $(median < /tmp/hb-noop) | $((RUNS * NOOP)) |"
    echo "| salt-master RSS after the runs (MB) | $(grep . /tmp/hb-master | median) | $RUNS |"
    echo "| salt-minion RSS after the runs (MB, all nodes) | $(grep . /tmp/hb-minion | median) | $((RUNS * 5)) |"
    echo "| salt-minion RSS, largest (MB) | $(grep . /tmp/hb-minion | sort -g | tail -1) | |"
} | tee "$OUT"
rm -f /tmp/hb-first /tmp/hb-noop /tmp/hb-master /tmp/hb-minion
