#!/usr/bin/env bash
# The demo (README, command one; run as root): installs what it needs, builds Halite, then
# `lab demo`: a 5-node MetalK8s-style cluster on this machine (bootstrap, cp-2, cp-3, infra-1,
# worker-1; each a network namespace, a mount namespace and a private systemd), keys accepted,
# `salt '*' state.highstate`, a summary per node, and the story: worker-1 moves to `infra` by
# an edit of topology.sls, cp-3 leaves etcd, broken topologies are refused, a deleted kubelet
# config comes back on the schedule. The lab is taken down at the end (--keep leaves it up;
# then `target/release/lab down`). Options: --nodes 3|5, --schedule SECONDS, --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --release --locked -p halite --bin halite -p halite-lab --bin lab
exec target/release/lab demo "$@"
