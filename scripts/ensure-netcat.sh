#!/usr/bin/env bash
# Makes sure OpenBSD netcat (`nc`) is installed for the chat-raw test (test/chat-raw.test.ts).
# Prints its path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
exec "$(dirname "$0")/ensure-apt.sh" netcat-openbsd "${NETCAT:-}" /usr/bin/nc.openbsd /bin/nc.openbsd
