#!/usr/bin/env bash
# The project's test command (README.md): format check, release build, clippy -D warnings,
# the workspace tests, then the Salt conformance corpus against the release salt-call.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo build --release"
cargo build --release --workspace --locked
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== conformance"
scripts/conformance.sh "$PWD/target/release/salt-call"
