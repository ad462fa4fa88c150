#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright cannot download browsers
# here). Needs root or sudo; does nothing when /usr/bin/chromium is there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
. "$(dirname "$0")/as-root.sh"
as_root Chromium chromium
echo "Installing Debian's chromium for the browser tests (about 480 MB)"
apt_install chromium
