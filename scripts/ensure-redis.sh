#!/usr/bin/env bash
# Makes sure redis-server is installed for the agents' tests (test/agents.test.ts) and bench:scale-out.
# Prints its path on stdout and exits 0, or prints why it cannot on stderr and exits 1 (the tests then skip, saying so).
# Installs the Debian package `redis-server` with apt-get when absent and we may. The tests start their own
# redis-server, bound to the addresses they name (never every interface).
exec "$(dirname "$0")/ensure-apt.sh" redis-server "${REDIS_SERVER:-}" /usr/bin/redis-server /usr/local/bin/redis-server
