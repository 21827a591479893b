#!/usr/bin/env bash
# Usage: scripts/tidy.sh [--check] [MODULE_DIR ...]
#
# Runs `go mod tidy` in each module (default: every one) without the go.work
# workspace, so a requirement that only the workspace provides cannot hide.
# With --check it changes nothing: it fails if any go.mod or go.sum is not
# tidy, and type-checks every module, tests included, with GOWORK=off.
#
# greeter-server and greeter-client require greeter-api at a version that may
# exist only as a tag in this repository (not yet on the module proxy), or not
# at all yet (the next release, cut from this tree):
#   - a version with no tag is this tree's greeter-api: tidy works on a copy
#     of go.mod (go mod tidy -modfile) that replaces greeter-api with this
#     tree's directory, then drops the replacement. A version from the tree
#     has no release to match, so it has no go.sum lines.
#   - a tagged version (greeter-api/VERSION) is packed from its tag into a
#     throwaway file-based module proxy and tidied in a throwaway module
#     cache, so ~/go/pkg/mod never sees a stand-in for a published version;
#     its go.sum lines are the published hashes and stay.
# Everything else comes from the local module cache (and the proxy), so a
# second run unpacks nothing again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
api=github.com/greeter-go/greeter/greeter-api
check=false
if [[ ${1:-} == --check ]]; then
  check=true
  shift
fi
if (($# == 0)); then
  set -- greeter-api greeter-server greeter-client greeter-server/deploy scripts/tools scripts/tools/lint
  set -- "$@" greeter-server/test/browser # trim:http
fi

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
modcache=$(go env GOMODCACHE)
failed=0

for dir in "$@"; do
  dir=${dir%/}
  cd "$root/$dir"
  version=$(go -C "$root/scripts/tools" tool gomod "$root/$dir/go.mod" require "$api")
  # Tidy works on copies of go.mod and go.sum, which replace the module's
  # own when they differ (or, with --check, are compared with them).
  work=$tmp/$dir
  mkdir -p "$work"
  cp go.mod "$work/go.mod"
  cat go.sum >"$work/go.sum" 2>/dev/null || : >"$work/go.sum"
  cache=$modcache proxy=$(go env GOPROXY) from=
  if [[ -n $version ]]; then
    if git -C "$root" rev-parse -q --verify "refs/tags/greeter-api/$version" >/dev/null; then
      from="its tag"
      go -C "$root/scripts/tools" run ./modproxy -dir "$tmp/proxy" -git "$root" "$api@$version=greeter-api"
      # Modules already in the local cache come from it, the rest from the
      # proxy.
      cache=$tmp/modcache proxy="file://$tmp/proxy,file://$modcache/cache/download,$proxy"
    else
      from="this tree"
      go mod edit -replace="$api=$root/greeter-api" "$work/go.mod"
    fi
  fi
  gomod() {
    GOWORK=off GOFLAGS="-mod=mod -modfile=$work/go.mod" GONOSUMDB="$api" GOMODCACHE="$cache" GOPROXY="$proxy" \
      go "$@" 2> >(grep -v '^go: downloading' >&2)
  }

  gomod mod tidy
  # A module of tools alone (scripts/tools/lint) has no packages to build;
  # its tool is built where it is used.
  if $check && [[ -n $(gomod list ./... 2>/dev/null) ]]; then
    echo "build $dir with GOWORK=off${version:+ (greeter-api $version from $from)}"
    # Type-check every package and its tests (go vet compiles what they
    # import, but links nothing): running is scripts/test.sh's job, in the
    # workspace. -trimpath keeps the module cache's directory out of the
    # build cache's keys, so the dependencies compiled here are found in the
    # build cache on the next run instead of being compiled again.
    if ! out=$(gomod vet -trimpath ./... 2>&1); then
      echo "$out" >&2
      failed=1
    fi
  fi
  if [[ $from == "this tree" ]]; then
    go mod edit -dropreplace="$api" "$work/go.mod"
  fi
  if $check; then
    if ! diff -u go.mod "$work/go.mod" || ! diff -u <(cat go.sum 2>/dev/null) "$work/go.sum"; then
      echo "$dir: go.mod or go.sum is not tidy; run scripts/tidy.sh $dir" >&2
      failed=1
    fi
  else
    cmp -s go.mod "$work/go.mod" || cp "$work/go.mod" go.mod
    if [[ -s $work/go.sum ]]; then
      cmp -s go.sum "$work/go.sum" || cp "$work/go.sum" go.sum
    else
      rm -f go.sum
    fi
    echo "tidied $dir"
  fi
done
exit "$failed"
