#!/usr/bin/env bash
# Usage: scripts/shellcheck.sh [FILE ...]
#
# Runs shellcheck (Debian's package) over every shell script of the
# repository (default: each file in scripts/ that is a bash script or a
# sourced lib-*.sh, and .ci/run), following `source` into the lib-*.sh files.
# Settings are in scripts/.shellcheckrc. scripts/test.sh runs this script.
#
# When shellcheck is missing it installs it with apt-get as root, and fails if
# that does not work: the check must not pass silently on a machine that can
# have it. Elsewhere it prints SKIPPED and how to install it, except in CI
# (CI=true), where a missing shellcheck fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ! command -v shellcheck >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing shellcheck..." >&2
    # Wait for another apt-get rather than fail on its lock.
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq shellcheck >/dev/null || {
      echo "shellcheck: FAIL: could not install shellcheck with apt-get" >&2
      exit 1
    }
  elif [[ ${CI:-} == true ]]; then
    echo "shellcheck: FAIL: shellcheck is not installed on this CI runner" >&2
    exit 1
  else
    echo "shellcheck: SKIPPED: shellcheck is not installed (Debian: sudo apt-get install shellcheck; or run scripts/test.sh as root)" >&2
    exit 0
  fi
fi

if (($# == 0)); then
  for file in scripts/* .ci/run; do
    [[ -f $file ]] || continue
    if [[ $file == scripts/lib-*.sh ]] || head -n 1 "$file" | grep -qE '^#!.*\b(ba)?sh\b'; then
      set -- "$@" "$file"
    fi
  done
fi
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p'): $*" >&2
shellcheck "$@"
