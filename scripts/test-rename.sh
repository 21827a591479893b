#!/usr/bin/env bash
# Usage: scripts/test-rename.sh [--full]
#
# Renames a throwaway clone of this repository (its committed HEAD) with
# scripts/rename.sh zoo.example/acme/greeter and checks the result; this
# repository is not touched. The path sorts after google.golang.org/grpc on
# purpose: Go initializes packages in import-path order, and the server's
# internal/grpcenv must still set grpc-go's environment-only limits before
# grpc-go reads them. Checked every time:
#   - nothing in the clone names the old module path any more (git grep for
#     the plain string, stricter than rename.sh's own path-boundary check);
#   - rename.sh refuses a dirty tree and the path the repository already has;
#   - the regenerated code matches proto/ (scripts/check-generated.sh), gofmt
#     is satisfied, and go vet passes in every module of the workspace, so
#     every package and test compiles under the new path;
#   - the renamed greeter-server, started without the variable, runs with
#     GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100 in its
#     environment from its exec on (/proc/PID/environ), which is the only
#     way grpc-go can have read it.
# That proves the rename leaves a consistent tree, not that it works. With
# --full it then runs the whole test command, scripts/test.sh, in the renamed
# clone: the tests themselves, GOWORK=off builds with the unpublished
# greeter-api under its new path, and the release workflow. That takes as
# long as scripts/test.sh, so scripts/test.sh runs the fast form only.
set -euo pipefail

full=false
case ${1:-} in
  --full) full=true ;;
  "") ;;
  *)
    echo "usage: scripts/test-rename.sh [--full]" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

fail() {
  echo "test-rename: $*" >&2
  exit 1
}

export GIT_AUTHOR_NAME="Rename Test" GIT_AUTHOR_EMAIL="rename-test@example.invalid"
export GIT_COMMITTER_NAME="Rename Test" GIT_COMMITTER_EMAIL="rename-test@example.invalid"

git clone -q "$root" "$tmp/repo"
cd "$tmp/repo"
old=$(go -C scripts/tools run ./rename -root "$PWD" -current)
new=zoo.example/acme/greeter
# Inside a clone that has been renamed to it already (the --full run), rename
# once more: that tests a second rename.
[[ $old != "$new" ]] || new=example.net/other/greeter

echo "==> scripts/rename.sh $new (from $old)"
scripts/rename.sh "$new" >"$tmp/out" 2>&1 || {
  cat "$tmp/out" >&2
  fail "scripts/rename.sh $new failed"
}
grep -E '^renamed |^nothing names ' "$tmp/out"

if git grep -n -F --untracked -e "$old"; then
  fail "the renamed clone still names $old (above)"
fi
[[ $(go -C scripts/tools run ./rename -root "$PWD" -current) == "$new" ]] || fail "greeter-api/go.mod does not have the new path"
for mod in $(git ls-files '*go.mod'); do
  grep -q "^module $new/" "$mod" || fail "$mod: module path is not under $new: $(grep '^module' "$mod")"
done
grep -A1 go_package_prefix buf.gen.yaml | grep -q "value: $new/greeter-api$" ||
  fail "buf.gen.yaml's go_package_prefix is not $new/greeter-api"
grep -q "^replace $new/greeter-api v[^ ]* => ./greeter-api$" go.work || fail "go.work's greeter-api replace line is not renamed"
# The wire names stay.
grep -q '^package greeter\.v1;' proto/greeter/v1/greeter.proto || fail "the proto package greeter.v1 changed"
grep -q '^service GreeterService ' proto/greeter/v1/greeter.proto || fail "the service greeter.v1.GreeterService changed"
grep -q '^package helloworld;' proto/helloworld/helloworld.proto || fail "the proto package helloworld changed"

echo "==> scripts/rename.sh refuses a dirty tree and the current path"
if scripts/rename.sh example.org/third/greeter >"$tmp/out" 2>&1; then
  fail "rename.sh renamed a dirty tree"
fi
grep -q "not clean" "$tmp/out" || fail "rename.sh refused a dirty tree without saying so: $(cat "$tmp/out")"
git add -A
git commit -qm "rename to $new"
if scripts/rename.sh "$new" >"$tmp/out" 2>&1; then
  fail "rename.sh accepted the path the repository has already"
fi
grep -q "already" "$tmp/out" || fail "rename.sh refused the current path without saying so: $(cat "$tmp/out")"

echo "==> the renamed clone: generated code, gofmt, go vet in every module"
scripts/check-generated.sh
unformatted=$(gofmt -l greeter-api greeter-server greeter-client scripts)
[[ -z $unformatted ]] || fail "gofmt would change: $unformatted"
for mod in greeter-api greeter-server greeter-client greeter-server/deploy scripts/tools; do
  go -C "$mod" vet ./... || fail "go vet failed in $mod of the renamed clone"
done

echo "==> the renamed server sets grpc-go's limits before grpc-go reads them"
if [[ -r /proc/self/environ ]]; then
  go -C greeter-server build -o "$tmp/greeter-server" ./cmd/greeter-server
  env -u GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT \
    "$tmp/greeter-server" --addr 127.0.0.1:0 --http-addr "" 2>"$tmp/server.log" &
  pid=$!
  for _ in $(seq 300); do
    grep -q "greeter-server listening" "$tmp/server.log" && break
    sleep 0.1
  done
  grep -q "greeter-server listening" "$tmp/server.log" || {
    kill "$pid" 2>/dev/null || true
    fail "the renamed greeter-server did not start: $(cat "$tmp/server.log")"
  }
  environ=$(tr '\0' '\n' </proc/"$pid"/environ)
  kill "$pid"
  wait "$pid" || true
  grep -qx "GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100" <<<"$environ" ||
    fail "the renamed greeter-server ($new sorts after google.golang.org/grpc) runs without GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100 in its environment: grpc-go read its default"
else
  echo "SKIP: no /proc/self/environ here to read a process's environment from"
fi

if $full; then
  echo "==> scripts/test.sh in the renamed clone"
  scripts/test.sh
fi
if $full; then
  echo "==> the renamed clone ($new) passes scripts/test.sh"
else
  echo "==> the renamed clone ($new) is consistent and compiles"
fi
