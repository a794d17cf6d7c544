#!/usr/bin/env bash
# Makes sure a Chromium is installed for the report test (test/report-browser.test.ts).
# Prints the browser's path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# Installs the Debian package `chromium` with apt-get when absent and we may (root, apt-get on PATH).
# The npm side never downloads a browser: playwright-core drives this one.
exec bash "$(dirname "$0")/ensure-debian-package.sh" chromium chromium "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser
