#!/usr/bin/env bash
# Counts fsync/fdatasync system calls per paid vend: runs the release binary on the simulator with
# a journal on disk, for N paid vends each paid with one coin, under strace. Surprises are left
# out (no surprises.toml) so the count is the vend's own.
# Usage: scripts/fsyncs-per-vend.sh [VENDS]   (VENDS at most 20; needs strace: apt-get install strace)
set -euo pipefail
cd "$(dirname "$0")/.."
vends="${1:-12}"
if [ "$vends" -gt 20 ]; then echo "at most 20 vends (the stock of columns 1 to 3)" >&2; exit 2; fi
command -v strace >/dev/null || { echo "strace is needed: apt-get install strace" >&2; exit 1; }
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/config"
cp config/machine.toml "$work/config/"
run() {
  strace -f -e trace=fsync,fdatasync -o "$1" \
    ./target/release/happiness run --hardware sim --config "$work/config" --data "$work/db" \
      --events none --seed 1 2>/dev/null
}
# First start creates the journal; the second shows what any start costs.
echo quit | run "$work/create.trace"
echo quit | run "$work/startup.trace"
startup=$(grep -cE 'fsync|fdatasync' "$work/startup.trace" || true)
{
  for i in $(seq 1 "$vends"); do
    echo "coin 200"
    echo "press $(( (i % 3) + 1 ))"
    echo "wait 1500"
  done
  echo quit
} | run "$work/run.trace"
total=$(grep -cE 'fsync|fdatasync' "$work/run.trace" || true)
sold=$(./target/release/happiness report --data "$work/db" --config "$work/config" --json |
  python3 -c 'import json,sys; print(sum(s["count"] for s in json.load(sys.stdin)["sales"]))')
echo "start-up: $startup fsyncs; session: $total fsyncs for $sold paid vends, each paid with one coin"
python3 - "$total" "$startup" "$sold" <<'PY'
import sys
total, startup, sold = map(int, sys.argv[1:])
per = (total - startup) / max(sold, 1)
print(f"fsyncs per paid vend including its coin: {per:.2f} (coin 1 + vend intent 1 + outcome 1)")
print(f"fsyncs per paid vend excluding the coin: {per - 1:.2f}")
PY
