#!/usr/bin/env bash
# Makes sure a Chromium is installed for the report test (test/report-browser.test.ts).
# Prints the browser's path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# The npm side never downloads a browser: playwright-core drives this one.
exec "$(dirname "$0")/ensure-apt.sh" chromium "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser
