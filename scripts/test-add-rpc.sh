#!/usr/bin/env bash
# Usage: scripts/test-add-rpc.sh
#
# Executes docs/adding-an-rpc.md on a throwaway clone of this repository's
# committed HEAD, so the walkthrough cannot drift from the code: it applies
# docs/adding-an-rpc.patch (every file a person edits by hand to add the
# unary RPC SayGoodbye, with its server rule, a client command and their
# tests), runs the commands the walkthrough names (scripts/generate.sh and the
# help goldens' -update), and checks the result as scripts/test.sh would:
# buf lint, buf format, buf breaking (adding a method breaks nothing), the
# generated-code check, gofmt, go vet of both programs, the unit tests of
# both programs (internal/...) and of greeter-server/deploy (whose manifests
# and example policies are checked against every method in proto/), and
# greeter-client goodbye against the real greeter-server. It fails if the
# patch no longer applies (rewrite it from a clone where the walkthrough was
# done by hand: see the document) or if it edits more than max_files files.
# Run by scripts/test.sh.
set -euo pipefail

# The most files the walkthrough may edit by hand (generated code and
# goldens rewritten by a command do not count).
max_files=9

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
patch=$root/docs/adding-an-rpc.patch
work=$(mktemp -d)
cleanup_work() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup_work EXIT

fail() {
  echo "test-add-rpc: $*" >&2
  exit 1
}

git clone -q "$root" "$work/repo"
cd "$work/repo"

echo "==> apply docs/adding-an-rpc.patch"
git apply --index "$patch" ||
  fail "docs/adding-an-rpc.patch no longer applies to HEAD: redo the walkthrough on a clone and rewrite the patch (see docs/adding-an-rpc.md)"
files=$(git apply --numstat "$patch" | wc -l)
echo "the walkthrough edits $files files by hand"
((files <= max_files)) || fail "the walkthrough edits $files files by hand, more than $max_files"

echo "==> the walkthrough's commands: scripts/generate.sh, help goldens"
scripts/generate.sh
go -C greeter-client test ./internal/cmd/root -run TestHelp -update >/dev/null
[[ -f greeter-client/internal/cmd/root/testdata/help/goodbye.golden ]] ||
  fail "go test ./internal/cmd/root -update wrote no golden file for the goodbye command"

echo "==> buf lint, format, breaking; generated code; gofmt"
scripts/buf lint
scripts/buf format --diff --exit-code
scripts/buf breaking --against proto/released-api.binpb
scripts/check-generated.sh
unformatted=$(gofmt -l greeter-server greeter-client)
[[ -z $unformatted ]] || fail "gofmt would change: $unformatted"

# -trimpath keeps this clone's directory out of the build cache's keys, so
# every package the patch does not change comes from the cache.
echo "==> go vet and unit tests"
go -C greeter-server vet -trimpath ./...
go -C greeter-client vet -trimpath ./...
go -C greeter-server test -trimpath ./internal/...
go -C greeter-client test -trimpath ./internal/...
# The manifests' and example policies' tests read every method in proto/.
go -C greeter-server/deploy test -trimpath ./...

echo "==> greeter-client goodbye against the real greeter-server"
# shellcheck source=lib-server.sh
source scripts/lib-server.sh
trap 'stop_greeter; cleanup_work' EXIT
start_greeter
out=$("$tmp/greeter-client" --addr "$addr" goodbye --name Ada)
[[ $out == "Goodbye, Ada!" ]] || fail "greeter-client goodbye --name Ada printed \"$out\", want \"Goodbye, Ada!\""
code=0
"$tmp/greeter-client" --addr "$addr" goodbye --name "" 2>"$work/err" || code=$?
if ((code != 67)) || ! grep -q "invalid name" "$work/err"; then
  fail "goodbye --name '': exit code $code, stderr $(cat "$work/err"), want 67 and the name rule"
fi
# trim:helloworld begin
code=0
"$tmp/greeter-client" --addr "$addr" --api helloworld goodbye --name Ada 2>"$work/err" || code=$?
((code == 2)) || fail "goodbye with --api helloworld: exit code $code, want 2 (usage): $(cat "$work/err")"
# trim:helloworld end
echo "==> the walkthrough (docs/adding-an-rpc.md) adds SayGoodbye end to end in $files hand-edited files"
