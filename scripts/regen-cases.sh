#!/usr/bin/env bash
# Regenerate the expected outputs of the project's own conformance cases (conformance/cases)
# with real Salt 3008.5, twice, and check the two runs agree (determinism).
# Usage: scripts/regen-cases.sh [CASE|GLOB ...]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
bash "$SHARED/salt-reference/install.sh" >&2
SALT=/opt/salt-venv/bin/salt-call
"$SHARED/conformance/run" --salt "$SALT" --regen --cases "$REPO/conformance/cases" -j 2 "$@"
"$SHARED/conformance/run" --salt "$SALT" --cases "$REPO/conformance/cases" -j 2 "$@"
