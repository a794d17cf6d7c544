#!/usr/bin/env bash
# Makes sure OpenBSD netcat (`nc`) is installed for the chat-raw test (test/chat-raw.test.ts).
# Prints its path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# Installs the Debian package `netcat-openbsd` with apt-get when absent and we may (root, apt-get on PATH).
set -uo pipefail

for candidate in "${NETCAT:-}" /usr/bin/nc.openbsd /bin/nc.openbsd; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "netcat-openbsd is not installed and apt-get is not available to install it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "netcat-openbsd is not installed and installing it needs root (apt-get install -y netcat-openbsd)" >&2
  exit 1
fi

# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
if ! apt_get install -y --no-install-recommends netcat-openbsd >&2; then
  apt_get update >&2 && apt_get install -y --no-install-recommends netcat-openbsd >&2
fi
if [ -x /usr/bin/nc.openbsd ]; then
  echo /usr/bin/nc.openbsd
  exit 0
fi
echo "apt-get install netcat-openbsd did not provide /usr/bin/nc.openbsd" >&2
exit 1
