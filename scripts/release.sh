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
# whose module path does not end in /vMAJOR.
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
api=github.com/greeter-go/greeter/greeter-api
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

semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
[[ $version =~ $semver ]] ||
  fail "$version is not a semantic version of the form vMAJOR.MINOR.PATCH[-PRERELEASE]"
major=${BASH_REMATCH[1]}

module_path=$(awk '$1 == "module" { print $2 }' "$module/go.mod")
if ((major >= 2)) && [[ $module_path != */v$major ]]; then
  fail "$version is a v$major release, so $module's module path must end in /v$major (it is $module_path); see \"Major versions\" in README.md"
fi

git rev-parse -q --verify "refs/tags/$tag" >/dev/null && fail "tag $tag already exists"
[[ -z $(git status --porcelain) ]] || fail "the working tree is not clean; commit or stash first:
$(git status --short)"

grep -qE "^## \[${version#v}\]" "$module/CHANGELOG.md" ||
  fail "$module/CHANGELOG.md has no entry for ${version#v}; add a \"## [${version#v}] - $(date -u +%F)\" section"

# semver_sort sorts versions in semantic-version order: sort -V alone puts
# v1.0.0-rc.1 after v1.0.0; with the first "-" turned into "~" it sorts first.
semver_sort() { sed 's/-/~/' | sort -V | sed 's/~/-/'; }

# The last release of this module, by semantic-version order.
previous=$(git tag -l "$module/v*" | sed "s|^$module/||" | semver_sort | tail -n 1)
if [[ -n $previous ]]; then
  newest=$(printf '%s\n%s\n' "$previous" "$version" | semver_sort | tail -n 1)
  [[ $newest == "$version" ]] || fail "$version is not above the last release of $module, $previous"
fi
previous_major=0
if [[ $previous =~ $semver ]]; then
  previous_major=${BASH_REMATCH[1]}
fi

case $module in
  greeter-api)
    scripts/check-generated.sh || fail "generated code is out of date; run scripts/generate.sh and commit"
    if ! scripts/buf breaking --against proto/released-api.binpb; then
      if ((major > previous_major)); then
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
    ;;
  *)
    required=$(awk -v api="$api" '$1 == api { print $2 } $1 == "require" && $2 == api { print $3 }' "$module/go.mod")
    git rev-parse -q --verify "refs/tags/greeter-api/$required" >/dev/null ||
      fail "$module requires greeter-api $required, which is not released; release it first, then run scripts/use-api.sh VERSION"
    ;;
esac

act git tag -a "$tag" -m "$module $version"
if $dry_run; then
  echo "dry run: nothing was changed"
else
  echo "tagged $tag at $(git rev-parse --short HEAD). Publish it with:"
  echo "  git push origin HEAD $tag"
fi
