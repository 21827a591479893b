#!/usr/bin/env bash
# Usage: scripts/use-api.sh VERSION
#
# Moves greeter-server and greeter-client to require greeter-api VERSION, a
# released version (tag greeter-api/VERSION), updating their go.mod and go.sum
# and the matching line of go.work, so their next release builds without the
# workspace. Review the change and commit it; it does not commit.
#
# The go.sum lines come from the tag itself (packed by scripts/tools/modproxy
# the way the module proxy packs it), so they work before the tag is pushed
# and match the checksum database after.
set -euo pipefail

(($# == 1)) || {
  echo "usage: scripts/use-api.sh VERSION" >&2
  exit 2
}
version=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
api=github.com/greeter-go/greeter/greeter-api

git rev-parse -q --verify "refs/tags/greeter-api/$version" >/dev/null || {
  echo "use-api: there is no tag greeter-api/$version; release it first with scripts/release.sh greeter-api $version" >&2
  exit 1
}

for mod in greeter-server greeter-client; do
  go -C "$mod" mod edit -require="$api@$version"
done
# go.work maps the required version to the tree (see the comment there).
# (sed into a new file rather than sed -i, which BSD sed spells differently).
sed -E "s|^(replace $api) v[^ ]+ (=> \./greeter-api)$|\1 $version \2|" go.work >go.work.new
mv go.work.new go.work
grep -q "^replace $api $version => ./greeter-api$" go.work || {
  echo "use-api: could not update the greeter-api replace line in go.work" >&2
  exit 1
}
scripts/tidy.sh greeter-server greeter-client
echo "greeter-server and greeter-client now require greeter-api $version; review and commit:"
git status --short -- go.work greeter-server greeter-client
