#!/usr/bin/env bash
# Usage: scripts/test-browser.sh
#
# Runs greeter-server's browser test (TestBrowserPage in greeter-server/test):
# the real binary's page at /?name=... in headless Chromium, driven from Go
# with chromedp, must greet through the API. Installs Debian's chromium with
# apt-get when it is missing and this runs as root; where Chromium cannot be
# had, it says SKIPPED and why.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

skip() {
  echo "test-browser: SKIPPED: $*" >&2
  exit 0
}

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing chromium..." >&2
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
      skip "could not install chromium with apt-get"
  else
    skip "no chromium here (Debian: apt-get install chromium, as root)"
  fi
fi

# With Chromium here, the test must run: it fails rather than skips.
GREETER_TEST_BROWSER=require go -C "$root/greeter-server" test -race -count 1 -run '^TestBrowserPage$' -v ./test
