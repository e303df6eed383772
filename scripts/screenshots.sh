#!/usr/bin/env bash
# Refresh the README's screenshots of the kiosk page, the console and the fleet page: the browser tests take them (in headless
# Chromium, at the page sizes customers have) under target/screenshots; this copies the ones the
# README shows into docs/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --test browser --test console --test fleet_page
for shot in kiosk-800x480-surprise kiosk-800x480-jammed kiosk-800x480-deutsch kiosk-800x480-attract \
            kiosk-phone-surprise kiosk-desktop-surprise dashboard-desktop operator-alerts-phone \
            kiosk-800x480-odds operator-gift-phone fleet-desktop fleet-phone; do
  cp "target/screenshots/$shot.png" "docs/screenshots/$shot.png"
done
echo "docs/screenshots updated"
