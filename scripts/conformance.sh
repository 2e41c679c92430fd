#!/usr/bin/env bash
# Run the project's own conformance cases, then the whole Salt conformance corpus, against
# Halite's salt-call; fail when a case fails that conformance/pending.txt does not list, or
# when a listed case passes. The log ends with the corpus runner's `N passed, M failed`.
# Usage: scripts/conformance.sh [path/to/salt-call]
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
CMD="${1:-$REPO/target/release/salt-call}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
# The project's own cases first (generated with real Salt by scripts/regen-cases.sh); their
# closing line is relabelled, since some of them may be pending. The shared corpus last: its
# closing line `N passed, M failed` ends the log.
echo "== project cases (conformance/cases)"
"$SHARED/conformance/run" --cmd "$CMD" --cases "$REPO/conformance/cases" -j 2 \
  | sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/project cases (pending ones included): \1 passed, \2 failed/' \
  | tee "$OUT"
echo "== Salt conformance corpus (../shared/conformance)"
"$SHARED/conformance/run" --cmd "$CMD" -j 2 | tee -a "$OUT"
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
grep -qE '^project cases \(pending ones included\): [0-9]+ passed' "$OUT" || { echo "conformance: the project run gave no closing line"; status=1; }
grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$OUT" || { echo "conformance: the corpus run gave no closing line"; status=1; }
exit $status
