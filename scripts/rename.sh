#!/usr/bin/env bash
# Usage: scripts/rename.sh [--force] NEW_PATH
#        scripts/rename.sh [--force] --api NEW_PACKAGE
#
# Makes a copy of this repository yours: gives every module a new module path
# prefix, e.g. `scripts/rename.sh example.com/acme/greeter` turns the module
# greeter-api into example.com/acme/greeter/greeter-api (likewise
# greeter-server, greeter-client, greeter-server/deploy and scripts/tools).
# The current prefix is read from greeter-api/go.mod, so a renamed repository
# can be renamed again. It rewrites every text file that names the prefix as
# a whole path: go.mod and go.work, Go imports and strings, buf.gen.yaml's
# go_package_prefix, scripts, docs and the Containerfile's source label; it
# leaves every go.mod exactly as `go mod tidy` writes it (the new prefix sorts
# elsewhere in their require and tool blocks); it makes the walkthrough
# patches under docs/ again for the renamed tree (so docs/adding-an-rpc.md's
# test still applies them); it then regenerates
# greeter-api's code with scripts/generate.sh (the generated code embeds the
# Go import path in its descriptors) and checks that nothing names the old
# prefix any more. It does not commit: review and commit.
#
# With --api, for a copy that has never released its API, it moves the API's
# proto package (the one package under proto/ whose name ends in a version)
# to NEW_PACKAGE, e.g. `scripts/rename.sh --api acme.greeter.v1`: elements in
# lower_snake_case, the last one a version (v1, v2, v1beta1, ...). The
# package's directory moves to match (proto/acme/greeter/v1, as buf lint's
# PACKAGE_DIRECTORY_MATCH wants), and with it the Go import path
# (NEW_PATH/greeter-api/acme/greeter/v1, after buf.gen.yaml's
# go_package_prefix); the Go package name is buf's, its last two elements
# (acme.weather.v1 would be weatherv1). Every name of the package is
# rewritten: package lines and fully-qualified names in the protos, method
# names such as /PACKAGE.GreeterService/SayHello in the server, the client
# (whose --api flag takes the new name), tests, scripts, deployment manifests
# and authorization policies, and docs. It then regenerates the code, starts
# the breaking-change baseline (proto/released-api.binpb, what buf breaking
# in scripts/test.sh compares with) afresh from the new package, and checks
# that nothing names the old package any more. A package whose name has no
# version (gRPC's canonical example) keeps its name.
# It refuses when greeter-api has release tags (greeter-api/v*): released
# clients call the old package's methods by name, and a renamed server
# answers them Unimplemented.
#
# It refuses a tree with uncommitted changes (so the rename can be reviewed,
# and undone with git checkout, on its own); --force skips that check.
#
# What it does not change, on purpose:
#   - The directory and program names (greeter-api, greeter-server, ...).
#   - The proto packages and services, unless --api is given, and
#     unversioned ones (gRPC's canonical example) in any case. They are wire
#     names, not Go names:
#     every client calls /PACKAGE.GreeterService/SayHello, so renaming a
#     released API breaks every existing client and is not a rename but a
#     new API. To make one, by hand: copy the API's directory under proto/
#     to proto/NAME/v1 with
#     `package NAME.v1;`, run scripts/generate.sh, serve the new service
#     next to the old one in greeter-server/internal/service, and point
#     greeter-client at it; retire the old one when its clients are gone.
#     Keep gRPC's canonical example service as it is: its value is that
#     gRPC's examples in every language can call it.
#   - Release tags and changelogs: tags of the old path name modules that
#     no longer exist here, so a copy starts its own releases.
set -euo pipefail

# usage prints the comment above, without its "# ".
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;s/^Usage:/usage:/;p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}
force=false
api=""
while (($# > 0)); do
  case $1 in
    --force) force=true ;;
    --api)
      (($# >= 2)) || usage
      api=$2
      shift
      ;;
    -*) usage ;; # -h, --help
    *) break ;;
  esac
  shift
done
if [[ -n $api ]]; then
  (($# == 0)) || usage
else
  (($# == 1)) || usage
  new=$1
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

rename() { go -C scripts/tools run ./rename -root "$root" "$@"; }

# check_clean refuses a tree with uncommitted changes, unless --force.
check_clean() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    if ! $force && [[ -n $(git status --porcelain) ]]; then
      echo "rename: the working tree is not clean; commit or stash first (or use --force):" >&2
      git status --short >&2
      exit 1
    fi
  fi
}

# rewrite_patches ARGS...: makes each walkthrough patch under docs/ (a diff
# against the tree as it was, which scripts/test-add-rpc.sh applies) again
# for the renamed tree. The rename rewrites the patch's text, but gofmt
# realigns and re-sorts the renamed Go files, so its context no longer
# matches: instead, two clones of HEAD, one with the patch applied, are
# renamed as this tree was (ARGS: the rename tool's), and the patch becomes
# their difference.
rewrite_patches() {
  local patch tmp
  tmp=$(mktemp -d)
  for patch in $(git ls-files 'docs/*.patch'); do
    rm -rf "$tmp/plain" "$tmp/walked"
    git clone -q "$root" "$tmp/plain"
    git clone -q "$root" "$tmp/walked"
    if ! git -C "$tmp/walked" apply "$patch" 2>/dev/null; then
      echo "rename: warning: $patch does not apply to the tree before the rename; rewrite it by hand" >&2
      continue
    fi
    go -C scripts/tools run ./rename -root "$tmp/plain" "$@" >/dev/null
    go -C scripts/tools run ./rename -root "$tmp/walked" "$@" >/dev/null
    git -C "$tmp/plain" add -A
    git -C "$tmp/plain" -c user.name=rename -c user.email=rename@example.invalid commit -qm renamed
    local g=(git --git-dir="$tmp/plain/.git" --work-tree="$tmp/walked")
    "${g[@]}" add -N .
    "${g[@]}" diff >"$tmp/walk.patch"
    cp "$tmp/walk.patch" "$patch"
    echo "rewrote $patch for the renamed tree"
  done
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}

# generate regenerates the code that embeds the renamed names.
generate() {
  echo "regenerating greeter-api's code (scripts/generate.sh)..."
  scripts/generate.sh || {
    echo "rename: scripts/generate.sh failed; everything else is renamed: fix that and run scripts/generate.sh" >&2
    exit 1
  }
}

if [[ -n $api ]]; then
  old_api=$(rename -api-current)
  check_clean
  # Refuses a released API (greeter-api/v* tags) before it changes anything.
  rename -api "$api"
  rewrite_patches -api "$api"
  generate
  echo "starting the breaking-change baseline afresh: proto/released-api.binpb is $api as it is now"
  scripts/buf build --exclude-source-info -o proto/released-api.binpb
  if left=$(rename -api-check "$old_api"); then
    echo "nothing names $old_api any more"
  else
    echo "rename: these still name $old_api; fix them by hand:" >&2
    echo "$left" >&2
    exit 1
  fi
  echo "the API is now $api; review with git diff, run scripts/test.sh, and commit"
  exit 0
fi

old=$(rename -current)
check_clean
rename "$new"
rewrite_patches "$new"
generate

if left=$(rename -check "$old"); then
  echo "nothing names $old any more"
else
  echo "rename: these lines still name $old; fix them by hand:" >&2
  echo "$left" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  tags=$(git tag -l 'greeter-api/*' 'greeter-server/*' 'greeter-client/*')
  if [[ -n $tags ]]; then
    echo "note: the release tags ($(echo "$tags" | wc -l) of them) belong to the old module path: scripts/tidy.sh"
    echo "      and scripts/release.sh read them as releases of $new; a copy starts its own releases:"
    echo "      delete them with: git tag -l 'greeter-*/v*' | xargs git tag -d"
  fi
fi
echo "the repository is now $new; review with git diff, run scripts/test.sh, and commit"
