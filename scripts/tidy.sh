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
# at all yet (the next release, cut from this tree). The script packs that
# version into a throwaway file-based module proxy, from its tag
# greeter-api/VERSION when there is one and from this tree otherwise, and
# works in a throwaway module cache, so ~/go/pkg/mod never sees a stand-in.
# A version packed from the tree has no release to match, so its go.sum lines
# are dropped; a tagged version's lines are the published hashes and stay.
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
  # Modules already in the local cache come from it, the rest from the proxy.
  proxy="file://$modcache/cache/download,$(go env GOPROXY)"
  from_tree=false
  if [[ -n $version ]]; then
    if git -C "$root" rev-parse -q --verify "refs/tags/greeter-api/$version" >/dev/null; then
      go -C "$root/scripts/tools" run ./modproxy -dir "$tmp/proxy" -git "$root" "$api@$version=greeter-api"
    else
      from_tree=true
      go -C "$root/scripts/tools" run ./modproxy -dir "$tmp/proxy" "$api@$version=$root/greeter-api"
    fi
    proxy="file://$tmp/proxy,$proxy"
  fi
  gomod() {
    GOWORK=off GOFLAGS=-mod=mod GONOSUMDB="$api" GOMODCACHE="$tmp/modcache" GOPROXY="$proxy" \
      go "$@" 2> >(grep -v '^go: downloading' >&2)
  }

  if $check; then
    cp go.mod "$tmp/go.mod.orig"
    cat go.sum > "$tmp/go.sum.orig" 2>/dev/null || : > "$tmp/go.sum.orig"
  fi
  gomod mod tidy
  # A module of tools alone (scripts/tools/lint) has no packages to build;
  # its tool is built where it is used.
  if $check && [[ -n $(gomod list ./... 2>/dev/null) ]]; then
    echo "build $dir with GOWORK=off${version:+ (greeter-api $version from $($from_tree && echo "this tree" || echo "its tag"))}"
    # Type-check every package and its tests (go vet compiles what they
    # import, but links nothing): running is scripts/test.sh's job, in the
    # workspace. -trimpath keeps the throwaway module cache's directory out of
    # the build cache's keys, so the dependencies compiled here are found in
    # the build cache on the next run instead of being compiled again.
    if ! out=$(gomod vet -trimpath ./... 2>&1); then
      echo "$out" >&2
      failed=1
    fi
  fi
  if $from_tree; then
    grep -v "^$api " go.sum > "$tmp/go.sum" || true
    cat "$tmp/go.sum" > go.sum
  fi
  [[ -s go.sum ]] || rm -f go.sum
  if $check; then
    if ! diff -u "$tmp/go.mod.orig" go.mod || ! diff -u "$tmp/go.sum.orig" <(cat go.sum 2>/dev/null); then
      echo "$dir: go.mod or go.sum is not tidy; run scripts/tidy.sh $dir" >&2
      failed=1
    fi
    cp "$tmp/go.mod.orig" go.mod
    if [[ -s $tmp/go.sum.orig ]]; then cp "$tmp/go.sum.orig" go.sum; else rm -f go.sum; fi
  else
    echo "tidied $dir"
  fi
done
exit "$failed"
