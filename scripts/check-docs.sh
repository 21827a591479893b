#!/usr/bin/env bash
# Usage: scripts/check-docs.sh [SERVER_DOC CLIENT_DOC]
#
# Checks that the documentation stays true:
#   1. mdcheck: every relative link and #anchor of every Markdown file of the
#      repository (git's files, not testdata) points at a file, directory or
#      heading that exists;
#   2. flagcheck: greeter-server and greeter-client, built from this tree,
#      and their docs (default docs/server.md and docs/client.md; paths
#      relative to the repository root) agree on the flags: the docs
#      mention every flag, show no flag that does not exist, and a shorthand
#      means the same flag in every command; and no other Markdown file
#      (git's files, not testdata, not the changelogs, which name removed
#      flags on purpose) shows a flag that does not exist. See
#      scripts/tools/flagcheck for how a doc's flags are read, and how to
#      allow another tool's flag.
# Fails if either finds a problem, or if a doc is missing.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;s/^Usage:/usage:/;p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}
(($# == 0 || $# == 2)) || usage
[[ ${1:-} != -* ]] || usage # -h, --help
server_doc=${1:-docs/server.md}
client_doc=${2:-docs/client.md}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building mdcheck, flagcheck, greeter-server and greeter-client..." >&2
go -C scripts/tools build -o "$tmp/" ./mdcheck ./flagcheck
go -C greeter-server build -o "$tmp/greeter-server" ./cmd/greeter-server
go -C greeter-client build -o "$tmp/greeter-client" ./cmd/greeter-client

failed=0
echo "mdcheck: links and anchors of the Markdown files" >&2
"$tmp/mdcheck" -root "$root" || failed=1

missing=()
for doc in "$server_doc" "$client_doc"; do
  [[ -f $doc ]] || missing+=("$doc")
done
if ((${#missing[@]} > 0)); then
  echo "check-docs: FAIL: no ${missing[*]}: flagcheck checks the flags of greeter-server against $server_doc and of greeter-client against $client_doc (or give other docs: scripts/check-docs.sh SERVER_DOC CLIENT_DOC)" >&2
  exit 1
fi
echo "flagcheck: flags of greeter-server ($server_doc) and greeter-client ($client_doc), and in every other Markdown file" >&2
others=()
while IFS= read -r doc; do
  others+=(-doc "$doc")
done < <(git ls-files '*.md' | grep -v -e '/testdata/' -e '^testdata/' -e 'CHANGELOG\.md$')
"$tmp/flagcheck" \
  -program "greeter-server=$tmp/greeter-server=$server_doc" \
  -program "greeter-client=$tmp/greeter-client=$client_doc" "${others[@]}" || failed=1

if ((failed)); then
  echo "check-docs: FAIL" >&2
else
  echo "check-docs: ok" >&2
fi
exit $failed
