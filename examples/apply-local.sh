#!/usr/bin/env bash
# Apply examples/local to a fresh temp directory with `salt-call --local`, twice:
# the first run changes things, the second finds everything in the correct state.
# Usage: examples/apply-local.sh [path/to/salt-call]   (default: the release build)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
SALT_CALL="${1:-$REPO/target/release/salt-call}"
if [ ! -x "$SALT_CALL" ]; then
  (cd "$REPO" && cargo build --release -p halite >&2)
fi
ROOT="$(mktemp -d /tmp/halite-example.XXXXXX)"
mkdir -p "$ROOT/etc/salt" "$ROOT/target"
cat > "$ROOT/etc/salt/minion" <<CFG
id: demo-node
root_dir: $ROOT
file_client: local
file_roots: {base: [$HERE/local/salt]}
pillar_roots: {base: [$HERE/local/pillar]}
log_level: warning
CFG
echo "== first apply (writes under $ROOT/target)"
rc=0
"$SALT_CALL" -c "$ROOT/etc/salt" --local state.apply pillar="{target: $ROOT/target}" || rc=$?
echo "== second apply (no changes expected)"
"$SALT_CALL" -c "$ROOT/etc/salt" --local --state-output=terse state.apply pillar="{target: $ROOT/target}" || rc=$?
echo "== files written"
find "$ROOT/target" -type f | sort
echo "(left in $ROOT; remove it with: rm -rf $ROOT)"
exit $rc
