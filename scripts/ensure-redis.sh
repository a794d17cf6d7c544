#!/usr/bin/env bash
# Makes sure redis-server is installed for the agents' tests (test/agents.test.ts) and benchmark (bench/scale-out.ts).
# Prints its path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# Installs the Debian package `redis-server` with apt-get when absent and we may (root, apt-get on PATH).
# It only installs: the tests start their own redis-server, bound to the addresses they name.
set -uo pipefail

for candidate in "${REDIS_SERVER:-}" /usr/bin/redis-server /usr/local/bin/redis-server; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is not installed and apt-get is not available to install it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "redis-server is not installed and installing it needs root (apt-get install -y redis-server)" >&2
  exit 1
fi

# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
if ! apt_get install -y --no-install-recommends redis-server >&2; then
  apt_get update >&2 && apt_get install -y --no-install-recommends redis-server >&2
fi
if [ -x /usr/bin/redis-server ]; then
  echo /usr/bin/redis-server
  exit 0
fi
echo "apt-get install redis-server did not provide /usr/bin/redis-server" >&2
exit 1
