#!/usr/bin/env bash
# Usage: scripts/actionlint.sh [WORKFLOW_FILE ...]
#
# Checks the GitHub Actions workflows (default: every file in
# .github/workflows) with the actionlint version pinned in
# scripts/tools/go.mod, building it on first use. actionlint also checks
# the `run:` scripts with shellcheck when shellcheck is on PATH (it is on
# GitHub's ubuntu runners, and scripts/test.sh installs it first, see
# scripts/shellcheck.sh), and skips that check when it is not. scripts/test.sh
# runs this script.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
actionlint=$(go -C "$root/scripts/tools" tool -n actionlint)
cd "$root"
if (($# == 0)); then
  shopt -s nullglob
  set -- .github/workflows/*.yml .github/workflows/*.yaml
  if (($# == 0)); then
    echo "actionlint: no workflow files in .github/workflows" >&2
    exit 1
  fi
fi
exec "$actionlint" "$@"
