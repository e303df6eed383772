#!/usr/bin/env bash
# Runs the aarch64 release binary under qemu-aarch64 on the simulator with a scripted session
# and checks that the vend happened: the item delivered and in the tray, the books balanced.
# Usage: scripts/qemu-check.sh   (after scripts/cross-build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/aarch64-unknown-linux-gnu/release/happiness
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
[ -x "$bin" ] || { echo "build it first: scripts/cross-build.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The books get a directory of their own: the kiosk starts new books only where there are none.
data="$work/data"
run() { "$qemu" -L /usr/aarch64-linux-gnu "$bin" "$@"; }

run --version
run check-config config
printf 'coin 200\npress 1\nwait 3000\nquit\n' |
  run run --hardware sim --events json --listen off --seed 1 --data "$data" --key "$work/seal.key" > "$work/trace.json"
grep -q '"notice":"vend_delivered"' "$work/trace.json" || { echo "FAIL: no delivery"; cat "$work/trace.json"; exit 1; }
grep -q '"kind":"item_in_tray"' "$work/trace.json" || { echo "FAIL: nothing in the tray"; exit 1; }
run report --data "$data" --key "$work/seal.key" --json > "$work/report.json"
grep -q '"balanced": true' "$work/report.json" || { echo "FAIL: the books do not balance"; cat "$work/report.json"; exit 1; }
echo "qemu-aarch64: paid vend delivered, item in the tray, books balanced"
