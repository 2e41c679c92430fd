#!/usr/bin/env bash
# Run the cargo-fuzz targets (fuzz/fuzz_targets: the request envelope decoder, the Crypticle
# decrypt path, the event-bus stream decoder) for FUZZ_SECONDS each (default 20).
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the machine's stable toolchain
# accept them. Installs cargo-fuzz when it is missing. A crash fails the script and leaves
# the input under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-20}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
export RUSTC_BOOTSTRAP=1
cd fuzz
cargo fuzz build -O
for t in envelope crypticle msgpack_stream; do
  echo "== fuzz $t for ${SECONDS_EACH}s"
  cargo fuzz run -O "$t" -- -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=0 2>&1 | tail -2
done
