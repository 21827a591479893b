#!/usr/bin/env bash
# Usage: scripts/test-proxy.sh
#
# Runs greeter-server's proxy test (TestProxy in greeter-server/test): the
# real binary behind HAProxy with greeter-server/deploy/proxy/haproxy.cfg,
# which pools its upstream h2c connections and shares them between clients
# and protocols; gRPC (from the real greeter-client too), Connect, gRPC-Web
# and the page, interleaved through it, must all be answered. Installs
# Debian's haproxy with apt-get when it is missing and this runs as root;
# where HAProxy cannot be had, it says SKIPPED and why.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

skip() {
  echo "test-proxy: SKIPPED: $*" >&2
  exit 0
}

if ! command -v haproxy >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing haproxy..." >&2
    # Wait for another apt-get rather than fail on its lock.
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq haproxy >/dev/null ||
      skip "could not install haproxy with apt-get"
  else
    skip "no haproxy here (Debian: apt-get install haproxy, as root)"
  fi
fi

# With HAProxy here, the test must run: it fails rather than skips.
GREETER_TEST_PROXY=require go -C "$root/greeter-server" test -count=1 -run '^TestProxy(Auth)?$' -v ./test
