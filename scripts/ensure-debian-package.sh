#!/usr/bin/env bash
# ensure-debian-package.sh PACKAGE PROGRAM [CANDIDATE...]: makes sure PROGRAM is installed, for a test or a benchmark.
# Prints its path on stdout and exits 0, or prints why it cannot on stderr and exits 1.
# Looks at each CANDIDATE path first (an empty one is skipped), then installs the Debian package PACKAGE with
# apt-get when we may (root, apt-get on PATH) and expects /usr/bin/PROGRAM. It only installs: nothing is started.
set -uo pipefail
package=$1
program=$2
shift 2

for candidate in "$@" "/usr/bin/$program"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$program is not installed and apt-get is not available to install it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "$program is not installed and installing it needs root (apt-get install -y $package)" >&2
  exit 1
fi

# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
if ! apt_get install -y --no-install-recommends "$package" >&2; then
  apt_get update >&2 && apt_get install -y --no-install-recommends "$package" >&2
fi
if [ -x "/usr/bin/$program" ]; then
  echo "/usr/bin/$program"
  exit 0
fi
echo "apt-get install $package did not provide /usr/bin/$program" >&2
exit 1
