#!/usr/bin/env bash
# The footprint benchmark (BENCHMARKS.md) on the binary exactly as it ships: built with
# `cargo build --release` alone, so no test-only dependency feature is in it, then measured by
# `cargo bench --bench footprint`. Takes about half an hour (two release builds, 10,000 vends in
# real time). Environment knobs: FOOTPRINT_PARTS, FOOTPRINT_PRESSES, FOOTPRINT_IDLE_SECS,
# FOOTPRINT_VENDS, FOOTPRINT_HISTORY_VENDS (see benches/footprint.rs).
# Usage: scripts/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin happiness
mkdir -p target/footprint
cp target/release/happiness target/footprint/happiness
FOOTPRINT_BIN="$PWD/target/footprint/happiness" cargo bench --locked --bench footprint
