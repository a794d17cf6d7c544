#!/usr/bin/env bash
# ensure-apt.sh PACKAGE PATH...: makes sure a Debian package's program is installed, for a test that needs it.
# Prints the first PATH that is an executable (an empty PATH is skipped) and exits 0, or prints why it
# cannot on stderr and exits 1. Installs PACKAGE with apt-get when none is there and we may (root, apt-get on PATH).
set -uo pipefail
package=$1
shift

found() {
  for candidate in "$@"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

found "$@" && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$package is not installed and apt-get is not available to install it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "$package is not installed and installing it needs root (apt-get install -y $package)" >&2
  exit 1
fi

# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
if ! apt_get install -y --no-install-recommends "$package" >&2; then
  apt_get update >&2 && apt_get install -y --no-install-recommends "$package" >&2
fi
found "$@" && exit 0
echo "apt-get install $package did not provide any of: $*" >&2
exit 1
