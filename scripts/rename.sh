#!/usr/bin/env bash
# Usage: scripts/rename.sh [--force] NEW_PATH
#
# Makes a copy of this repository yours: gives every module a new module path
# prefix, e.g. `scripts/rename.sh example.com/acme/greeter` turns the module
# greeter-api into example.com/acme/greeter/greeter-api (likewise
# greeter-server, greeter-client, greeter-server/deploy and scripts/tools).
# The current prefix is read from greeter-api/go.mod, so a renamed repository
# can be renamed again. It rewrites every text file that names the prefix as
# a whole path: go.mod and go.work, Go imports and strings, buf.gen.yaml's
# go_package_prefix, scripts, docs and the Containerfile's source label; it
# then regenerates greeter-api's code with scripts/generate.sh (the generated
# code embeds the Go import path in its descriptors) and checks that nothing
# names the old prefix any more. It does not commit: review and commit.
#
# It refuses a tree with uncommitted changes (so the rename can be reviewed,
# and undone with git checkout, on its own); --force skips that check.
#
# What it does not change, on purpose:
#   - The directory and program names (greeter-api, greeter-server, ...).
#   - The proto packages and services, greeter.v1.GreeterService and
#     helloworld.Greeter. They are wire names, not Go names: every client
#     calls /greeter.v1.GreeterService/SayHello, so renaming them breaks
#     every existing client and is not a rename but a new API. To make one,
#     by hand: copy proto/greeter/v1 to proto/NAME/v1 with `package NAME.v1;`
#     and the service renamed, run scripts/generate.sh, serve the new service
#     next to (or, for a brand-new API with no clients yet, instead of) the
#     old one in greeter-server/internal/service, and point greeter-client
#     at it. Removing greeter.v1 then fails buf breaking in scripts/test.sh,
#     as it should; only if your copy has never released its API, rebuild
#     the baseline: scripts/buf build --exclude-source-info -o
#     proto/released-api.binpb. Keep helloworld.Greeter as it is: its value
#     is that gRPC's helloworld examples in every language can call it.
#   - Release tags and changelogs: tags of the old path name modules that
#     no longer exist here, so a copy starts its own releases.
set -euo pipefail

# usage prints the comment above, without its "# ".
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;s/^Usage:/usage:/;p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}
force=false
if [[ ${1:-} == --force ]]; then
  force=true
  shift
fi
(($# == 1)) || usage
[[ $1 != -* ]] || usage # -h, --help
new=$1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

rename() { go -C scripts/tools run ./rename -root "$root" "$@"; }

old=$(rename -current)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! $force && [[ -n $(git status --porcelain) ]]; then
    echo "rename: the working tree is not clean; commit or stash first (or use --force):" >&2
    git status --short >&2
    exit 1
  fi
fi

rename "$new"
echo "regenerating greeter-api's code (scripts/generate.sh)..."
scripts/generate.sh || {
  echo "rename: scripts/generate.sh failed; everything else is renamed: fix that and run scripts/generate.sh" >&2
  exit 1
}

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
