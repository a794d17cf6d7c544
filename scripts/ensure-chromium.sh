#!/usr/bin/env bash
# Makes sure a Chromium is installed for the report test (test/report-browser.test.ts).
# Prints the browser's path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# Installs the Debian package `chromium` with apt-get when absent and we may (root, apt-get on PATH).
# The npm side never downloads a browser: playwright-core drives this one.
set -uo pipefail

for candidate in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and apt-get is not available to install it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed and installing it needs root (apt-get install -y chromium)" >&2
  exit 1
fi

# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
if ! apt_get install -y --no-install-recommends chromium >&2; then
  apt_get update >&2 && apt_get install -y --no-install-recommends chromium >&2
fi
if [ -x /usr/bin/chromium ]; then
  echo /usr/bin/chromium
  exit 0
fi
echo "apt-get install chromium did not provide /usr/bin/chromium" >&2
exit 1
