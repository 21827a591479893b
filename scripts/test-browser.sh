#!/usr/bin/env bash
# Usage: scripts/test-browser.sh
#
# Runs greeter-server's browser test (TestBrowserPage, the module
# greeter-server/test/browser): the real binary, built with the race
# detector and started by lib-server.sh on a free loopback port, serves its
# page at /?name=..., and headless Chromium, driven from Go with chromedp,
# must greet through the API. The server must then stop cleanly on SIGTERM
# (a race it detected makes it exit 66). Installs Debian's chromium with
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

# A developer's GREETER_* variables, which the server reads as flag
# defaults, must not change the server under test.
for var in $(compgen -e); do
  [[ $var != GREETER_* ]] || unset "$var"
done
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
go -C "$root/greeter-server" build -race -o "$tmp/greeter-server" ./cmd/greeter-server
serve_greeter "$tmp/greeter-server"
[[ -n $page ]] || { echo "test-browser: greeter-server's start line names no page" >&2; exit 1; }

# With Chromium here, the test must run: it fails rather than skips.
if ! GREETER_TEST_BROWSER_PAGE=$page go -C "$root/greeter-server/test/browser" test -race -count 1 -run '^TestBrowserPage$' -v .; then
  echo "greeter-server's log:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
if ((status != 0)); then
  echo "test-browser: greeter-server exited $status after SIGTERM, want 0 (66: the race detector found a data race); its log:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
