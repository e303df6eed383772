#!/usr/bin/env bash
# Builds the Debian package for a 64-bit Raspberry Pi (after scripts/cross-build.sh) and checks
# its contents and its systemd unit. Installs cargo-deb if missing.
# Usage: scripts/package.sh    (output: target/aarch64-unknown-linux-gnu/debian/happiness_*_arm64.deb)
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb
cargo deb --target "$target" --no-build -o "target/$target/debian/"
deb=$(ls -t "target/$target/debian/"happiness_*_arm64.deb | head -1)
echo "== $deb"
dpkg-deb --info "$deb"
contents=$(dpkg-deb --contents "$deb")
echo "$contents"
for path in ./usr/bin/happiness ./etc/happiness/machine.toml ./etc/happiness/surprises.toml \
            ./usr/lib/systemd/system/happiness.service ./lib/udev/rules.d/60-happiness-gpio.rules; do
  echo "$contents" | grep -q " $path$" || { echo "FAIL: $path missing from the package" >&2; exit 1; }
done
if command -v systemd-analyze >/dev/null; then
  # Verify the unit (ExecStart's binary is an aarch64 one here, so point it at a stand-in).
  tmp=$(mktemp -d)
  sed 's#^ExecStart=/usr/bin/happiness#ExecStart=/bin/true#' packaging/happiness.service > "$tmp/happiness.service"
  systemd-analyze verify "$tmp/happiness.service" 2>&1 | grep -v "Cannot add dependency" || true
  rm -rf "$tmp"
fi
echo "package OK: $deb"
