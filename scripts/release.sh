#!/usr/bin/env bash
# Usage: scripts/release.sh [--dry-run] MODULE VERSION
#
# Cuts VERSION of MODULE (greeter-api, greeter-server or greeter-client) by
# creating the tag Go expects for a module in a subdirectory, MODULE/VERSION
# (for example greeter-api/v1.2.3). It does not push; it prints the command.
#
# It refuses a dirty tree, a tag that exists, a VERSION that is not semantic
# versioning (vMAJOR.MINOR.PATCH[-PRERELEASE]) or not above the last release,
# a MODULE/CHANGELOG.md without a "## [VERSION]" entry, and a v2+ version
# whose module path does not end in /vMAJOR. Those decisions, and the
# ordering of versions, are made by the Go program scripts/tools/release
# (golang.org/x/mod's semver and modfile).
#
# greeter-api: it first checks the generated code and runs buf breaking
# against proto/released-api.binpb (the API as last released); a breaking
# change refuses anything but a major release. It then refreshes that
# baseline in a release commit, which the tag points at.
# greeter-server, greeter-client: the greeter-api version they require must
# already be released (scripts/use-api.sh moves them to one).
#
# --dry-run runs every check and prints what it would change, changing nothing.
set -euo pipefail

usage() {
  echo "usage: scripts/release.sh [--dry-run] greeter-api|greeter-server|greeter-client VERSION" >&2
  exit 2
}

dry_run=false
if [[ ${1:-} == --dry-run ]]; then
  dry_run=true
  shift
fi
(($# == 2)) || usage
module=$1
version=$2
case $module in
  greeter-api | greeter-server | greeter-client) ;;
  *) usage ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tag=$module/$version

fail() {
  echo "release: $*" >&2
  exit 1
}

# act runs a command that changes something, or only prints it in a dry run.
act() {
  if $dry_run; then
    echo "would run: $*"
  else
    "$@"
  fi
}

# scripts/tools/release makes every decision about versions (see its doc
# comment); it prints new-major when VERSION's major is above the last
# release's, so the API may break.
kind=$(go -C scripts/tools tool release -root "$root" "$module" "$version")

if [[ $module == greeter-api ]]; then
  scripts/check-generated.sh || fail "generated code is out of date; run scripts/generate.sh and commit"
  if ! scripts/buf breaking --against proto/released-api.binpb; then
    if [[ $kind == new-major ]]; then
      echo "breaking changes above are allowed: $version is a new major version"
    else
      fail "the API has breaking changes since the last release (above); a minor or patch release cannot break it"
    fi
  fi
  act scripts/buf build --exclude-source-info -o proto/released-api.binpb
  if $dry_run || ! git diff --quiet -- proto/released-api.binpb; then
    act git add proto/released-api.binpb
    act git commit -q -m "greeter-api: release $version" -m "Refresh proto/released-api.binpb, the baseline of buf breaking, to the API as released."
  fi
fi

act git tag -a "$tag" -m "$module $version"
if $dry_run; then
  echo "dry run: nothing was changed"
else
  echo "tagged $tag at $(git rev-parse --short HEAD). Publish it with:"
  echo "  git push origin HEAD $tag"
fi
