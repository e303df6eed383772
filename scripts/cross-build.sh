#!/usr/bin/env bash
# Cross-builds the release binary for a 64-bit Raspberry Pi (aarch64, Raspberry Pi OS 64-bit),
# installing what it needs: the Rust target, Debian's gcc-aarch64-linux-gnu (linker, and C
# compiler for the bundled SQLite) and qemu-user for scripts/qemu-check.sh.
# Usage: scripts/cross-build.sh        (output: target/aarch64-unknown-linux-gnu/release/happiness)
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${need[*]}: run as root or install them with apt-get" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
cargo build --release --locked --target "$target" --bin happiness
file "target/$target/release/happiness" 2>/dev/null || true
ls -l "target/$target/release/happiness"
