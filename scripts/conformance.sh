#!/usr/bin/env bash
# Run the whole Salt conformance corpus, then the project's own cases, against Halite's salt-call, print the runner's output
# (closing line `N passed, M failed`), and fail when a case fails that conformance/pending.txt
# does not list, or when a listed case passes.
# Usage: scripts/conformance.sh [path/to/salt-call]
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
CMD="${1:-$REPO/target/release/salt-call}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
"$SHARED/conformance/run" --cmd "$CMD" -j 2 | tee "$OUT"
# The project's own cases (generated with real Salt by scripts/regen-cases.sh).
echo "== project cases (conformance/cases)"
"$SHARED/conformance/run" --cmd "$CMD" --cases "$REPO/conformance/cases" -j 2 | tee -a "$OUT"
pending="$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$REPO/conformance/pending.txt" | grep -v '^$' || true)"
status=0
while read -r line; do
  case "$line" in
    FAIL\ *)
      name="${line#FAIL }"; name="${name%%:*}"
      if ! grep -qx "$name" <<<"$pending"; then
        echo "conformance: unexpected failure: $name"; status=1
      fi ;;
    PASS\ *)
      name="${line#PASS }"
      if grep -qx "$name" <<<"$pending"; then
        echo "conformance: $name passes now: remove it from conformance/pending.txt"; status=1
      fi ;;
  esac
done < "$OUT"
[ "$(grep -cE '^[0-9]+ passed, [0-9]+ failed$' "$OUT")" = 2 ] || { echo "conformance: a runner gave no closing line"; status=1; }
exit $status
