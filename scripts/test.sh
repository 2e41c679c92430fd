#!/usr/bin/env bash
# The project's test command (README.md): format check, the release salt-call, clippy -D
# warnings, the workspace tests (debug builds), then the Salt conformance corpus against the
# release salt-call. (The other release binaries are the demo's: scripts/demo.sh builds them.)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo build --release --bin salt-call"
cargo build --release --locked -p halite --bin salt-call
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== conformance"
scripts/conformance.sh "$PWD/target/release/salt-call"
