#!/usr/bin/env bash
# Usage: scripts/test-proxy.sh
#
# Runs greeter-server's proxy test (TestProxy in greeter-server/test): the
# real binary behind HAProxy with greeter-server/deploy/proxy/haproxy.cfg,
# which pools its upstream h2c connections and shares them between clients
# and protocols; gRPC (from the real greeter-client too), Connect, gRPC-Web
# and the page, interleaved through it, must all be answered, and curl's
# Connect JSON too. Installs Debian's haproxy and curl with apt-get when
# they are missing and this runs as root; where they cannot be had, it says
# SKIPPED and why.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

skip() {
  echo "test-proxy: SKIPPED: $*" >&2
  exit 0
}

missing=()
for tool in haproxy curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}..." >&2
    # Wait for another apt-get rather than fail on its lock.
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null ||
      skip "could not install ${missing[*]} with apt-get"
  else
    skip "no ${missing[*]} here (Debian: apt-get install ${missing[*]}, as root)"
  fi
fi

# With HAProxy here, the test must run: it fails rather than skips.
GREETER_TEST_PROXY=require go -C "$root/greeter-server" test -count=1 -run '^TestProxy(Auth)?$' -v ./test
