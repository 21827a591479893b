#!/usr/bin/env bash
# Usage: scripts/test-rename.sh [--full]
#
# Makes a throwaway clone of this repository (its committed HEAD) a team's
# own, as a copy that has never released anything would: renames its modules
# with scripts/rename.sh zoo.example/acme/greeter, then its API with
# scripts/rename.sh --api acme.greeter.v1, and checks the result; this
# repository is not touched. The path sorts after google.golang.org/grpc on
# purpose: Go initializes packages in import-path order, and the server's
# internal/grpcenv must still set grpc-go's environment-only limits before
# grpc-go reads them. Checked every time:
#   - nothing in the clone names the old module path any more (git grep for
#     the plain string, stricter than rename.sh's own path-boundary check),
#     nor the old proto package: its name, its directory or, when the new
#     package changes it, its Go package name, once the new package's names
#     are taken out of each line (so acme.greeter.v1 may end in the old
#     name); nothing is exempt;
#   - the module rename leaves the proto package and service lines alone;
#   - rename.sh refuses a dirty tree and the path the repository already
#     has; with --api, a dirty tree, a name that is not a versioned package,
#     the package the repository already has, and an API that greeter-api
#     has released (a greeter-api/v* tag), without changing anything;
#   - the API's directory moved (proto/acme/greeter/v1), its Go package is
#     named as buf's managed mode names it, and the breaking-change baseline
#     (proto/released-api.binpb) was rebuilt;
#   - buf lint, buf breaking against that baseline, the regenerated code
#     (scripts/check-generated.sh) and gofmt pass, and the walkthrough
#     patches under docs/, which rename.sh rewrites, still apply;
#   - every go.mod and go.sum is exactly what go mod tidy writes, and every
#     module type-checks with GOWORK=off, tests included (scripts/tidy.sh
#     --check, over every module but scripts/tools/lint, which has no
#     package and names no module of ours): that is also what proves each
#     package compiles under the new names, so there is no go vet of its own
#     here;
#   - the unit tests pass in the workspace: greeter-api, greeter-server's
#     deploy (its manifests and authorization policies against the methods
#     in proto/), and greeter-server's and greeter-client's internal/...
#     (not the slower system tests under */test);
#   - the renamed greeter-server, started without the variable, runs with
#     GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100 in its
#     environment from its exec on (/proc/PID/environ), which is the only
#     way grpc-go can have read it under a path that sorts after grpc-go's
#     (zoo.example does), and its system test
#     TestGRPCLimitsSetBeforeGRPC, which checks that for the clone's own
#     module path, passes; the renamed greeter-client greets it
#     with --api acme.greeter.v1, its health reports the renamed service
#     SERVING, and --api with the old name is a usage error.
# Builds and tests use -trimpath, so that the clone's directory, new on every
# run, is not part of the build cache's keys.
#
# That proves the renames leave a consistent tree that works, not that all of
# it does. With --full it then runs the whole test command, scripts/test.sh,
# in the renamed clone: every test, GOWORK=off builds with the unpublished
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
pid=""
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "test-rename: $*" >&2
  exit 1
}

export GIT_AUTHOR_NAME="Rename Test" GIT_AUTHOR_EMAIL="rename-test@example.invalid"
export GIT_COMMITTER_NAME="Rename Test" GIT_COMMITTER_EMAIL="rename-test@example.invalid"

git clone -q "$root" "$tmp/repo"
cd "$tmp/repo"
rename() { go -C scripts/tools run ./rename -root "$PWD" "$@"; }
old=$(rename -current)
new=zoo.example/acme/greeter
old_api=$(rename -api-current)
api=acme.greeter.v1
# Inside a clone that has been renamed to them already (the --full run),
# rename once more: that tests a second rename, and one whose Go package name
# changes.
[[ $old != "$new" ]] || new=example.net/other/greeter
[[ $old_api != "$api" ]] || api=acme.hello.v2

echo "==> scripts/rename.sh $new (from $old)"
scripts/rename.sh "$new" >"$tmp/out" 2>&1 || {
  cat "$tmp/out" >&2
  fail "scripts/rename.sh $new failed"
}
grep -E '^renamed |^nothing names ' "$tmp/out"

if git grep -n -F --untracked -e "$old"; then
  fail "the renamed clone still names $old (above)"
fi
[[ $(rename -current) == "$new" ]] || fail "greeter-api/go.mod does not have the new path"
for mod in $(git ls-files '*go.mod'); do
  grep -q "^module $new/" "$mod" || fail "$mod: module path is not under $new: $(grep '^module' "$mod")"
done
grep -A1 go_package_prefix buf.gen.yaml | grep -q "value: $new/greeter-api$" ||
  fail "buf.gen.yaml's go_package_prefix is not $new/greeter-api"
grep -q "^replace $new/greeter-api v[^ ]* => ./greeter-api$" go.work || fail "go.work's greeter-api replace line is not renamed"
# The wire names stay: no package or service line of a proto changed.
if git diff HEAD -- '*.proto' | grep -E '^[-+](package|service) '; then
  fail "the module rename changed a proto package or service (above)"
fi

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

# refuses WHY ARGS...: scripts/rename.sh ARGS... fails, says WHY, and leaves
# the tree as it was.
refuses() {
  local why=$1
  shift
  if scripts/rename.sh "$@" >"$tmp/out" 2>&1; then
    fail "scripts/rename.sh $* did not refuse: $(cat "$tmp/out")"
  fi
  grep -qF -e "$why" "$tmp/out" || fail "scripts/rename.sh $* refused without saying \"$why\": $(cat "$tmp/out")"
  [[ -z $(git status --porcelain) ]] || fail "scripts/rename.sh $* refused but changed the tree: $(git status --short)"
}

echo "==> scripts/rename.sh --api refuses a released API, a dirty tree and a name that is not a versioned package"
# A copy starts its own releases (rename.sh's note): the template's tags go.
git tag -l 'greeter-*/v*' | xargs -r git tag -d >/dev/null
git tag greeter-api/v0.1.0
refuses "/$old_api.GreeterService/" --api "$api"
grep -q "released" "$tmp/out" || fail "rename.sh --api refused a released API without saying it is released: $(cat "$tmp/out")"
git tag -d greeter-api/v0.1.0 >/dev/null
refuses "does not end in a version" --api acme.greeter
touch dirty
if scripts/rename.sh --api "$api" >"$tmp/out" 2>&1; then
  fail "rename.sh --api renamed a dirty tree"
fi
grep -q "not clean" "$tmp/out" || fail "rename.sh --api refused a dirty tree without saying so: $(cat "$tmp/out")"
rm dirty

echo "==> scripts/rename.sh --api $api (from $old_api)"
scripts/rename.sh --api "$api" >"$tmp/out" 2>&1 || {
  cat "$tmp/out" >&2
  fail "scripts/rename.sh --api $api failed"
}
grep -E '^renamed |^nothing names ' "$tmp/out"

# The names of a proto package: PKG, its directory, escaped as in a regular
# expression, and the Go package name buf's managed mode gives it (its last
# two elements).
old_dir=${old_api//.//} old_esc=${old_api//./\\.} old_go=$(awk -F. '{print $(NF-1) $NF}' <<<"$old_api")
api_dir=${api//.//} api_esc=${api//./\\.} api_go=$(awk -F. '{print $(NF-1) $NF}' <<<"$api")
names=(-e "$old_api" -e "$old_dir" -e "$old_esc")
[[ $api_go == "$old_go" ]] || names+=(-e "$old_go")
left=$({ git grep -n -I -F --untracked "${names[@]}" || true; } | while IFS=: read -r file line text; do
  rest=${text//"$api"/} rest=${rest//"$api_dir"/} rest=${rest//"$api_esc"/}
  [[ $api_go == "$old_go" ]] || rest=${rest//"$api_go"/}
  if [[ $rest == *"$old_api"* || $rest == *"$old_dir"* || $rest == *"$old_esc"* ]] ||
    { [[ $api_go != "$old_go" ]] && [[ $rest == *"$old_go"* ]]; }; then
    echo "$file:$line: $text"
  fi
done)
[[ -z $left ]] || fail "the renamed clone still names $old_api:"$'\n'"$left"
[[ $(rename -api-current) == "$api" ]] || fail "the API's package is $(rename -api-current), not $api"
[[ -d proto/$api_dir && ! -e proto/$old_dir ]] || fail "proto/$old_dir did not move to proto/$api_dir"
grep -q "^package ${api_esc};" proto/"$api_dir"/*.proto || fail "proto/$api_dir has no package $api line"
got_go=$(go -C greeter-api list -trimpath -f '{{.Name}}' "./$api_dir")
[[ $got_go == "$api_go" ]] || fail "the Go package of $api is $got_go, want $api_go (buf's managed mode: the last two elements)"
if git diff --quiet HEAD -- proto/released-api.binpb; then
  fail "proto/released-api.binpb was not rebuilt for $api"
fi

echo "==> the renamed clone: buf lint, buf breaking, generated code, gofmt"
scripts/buf lint
scripts/buf breaking --against proto/released-api.binpb
scripts/check-generated.sh
unformatted=$(gofmt -l greeter-api greeter-server greeter-client scripts)
[[ -z $unformatted ]] || fail "gofmt would change: $unformatted"

echo "==> the walkthrough patches under docs/ apply to the renamed clone"
for patch in $(git ls-files 'docs/*.patch'); do
  git apply --check "$patch" || fail "$patch does not apply to the renamed clone (scripts/test-add-rpc.sh applies it): rename.sh must rewrite it"
done

echo "==> the renamed clone: go.mod files are tidy and every module type-checks with GOWORK=off (scripts/tidy.sh --check)"
# Every module but one of tools alone that names no module of ours (today
# scripts/tools/lint, golangci-lint's): the rename changes only its module
# line, which go mod tidy leaves as it is, and it has no package to
# type-check, while tidying it is four tenths of the check's time (it
# extracts golangci-lint's modules into tidy.sh's throwaway module cache).
tidy=()
for mod in $(git ls-files '*go.mod'); do
  dir=$(dirname "$mod")
  if grep -v '^module ' "$mod" | grep -q "$new/" || [[ -n $(git ls-files "$dir/*.go") ]]; then
    tidy+=("$dir")
  fi
done
scripts/tidy.sh --check "${tidy[@]}"

echo "==> the renamed clone: unit tests"
go -C greeter-api test -trimpath ./...
go -C greeter-server/deploy test -trimpath ./...
go -C greeter-server test -trimpath ./internal/...
go -C greeter-client test -trimpath ./internal/...

echo "==> the renamed server sets grpc-go's limits before grpc-go reads them (its system test), and the renamed client greets it"
# The one system test that depends on the module path: the order in which
# Go initializes the binary's packages (see internal/grpcenv).
go -C greeter-server test -trimpath -count=1 -v -run '^TestGRPCLimitsSetBeforeGRPC$' ./test | grep -E '^(--- |ok|FAIL)'
go -C greeter-server build -trimpath -o "$tmp/greeter-server" ./cmd/greeter-server
go -C greeter-client build -trimpath -o "$tmp/greeter-client" ./cmd/greeter-client
server_args=(--addr 127.0.0.1:0)
server_args+=(--http-addr "") # trim:http
env -u GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT \
  "$tmp/greeter-server" "${server_args[@]}" 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 300); do
  grep -q "greeter-server listening" "$tmp/server.log" && break
  sleep 0.1
done
line=$(grep -m 1 "greeter-server listening" "$tmp/server.log") || fail "the renamed greeter-server did not start: $(cat "$tmp/server.log")"
addr=$(sed -n 's/.* addr=\([^ ]*\).*/\1/p' <<<"$line")
# Only a binary whose grpcenv sorts after grpc-go's envconfig starts itself
# again, with the variable in its environment from its exec on; one that
# sorts before (the --full run's second rename) sets it before grpc-go reads
# it, which the system test above checked by the order of initialization.
envconfig=google.golang.org/grpc/internal/envconfig
if [[ $(printf '%s\n' "$new/greeter-server/internal/grpcenv" "$envconfig" | LC_ALL=C sort | head -n 1) != "$envconfig" ]]; then
  echo "$new sorts before grpc-go: no second start to see in its environment"
elif [[ -r /proc/$pid/environ ]]; then
  grep -qx "GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100" < <(tr '\0' '\n' </proc/"$pid"/environ) ||
    fail "the renamed greeter-server ($new sorts after google.golang.org/grpc) runs without GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=100 in its environment: grpc-go read its default"
else
  echo "SKIP: no /proc/PID/environ here to read a process's environment from"
fi
client() { GREETER_CLIENT_ADDR=$addr "$tmp/greeter-client" "$@" 2>"$tmp/client.err"; }
got=$(client --api "$api" hello --name Rename) || fail "greeter-client --api $api hello failed: $(cat "$tmp/client.err")"
[[ $got == "Hello, Rename!" ]] || fail "greeter-client --api $api hello printed \"$got\", want \"Hello, Rename!\""
got=$(client health --service "$api.GreeterService") || fail "greeter-client health --service $api.GreeterService failed: $(cat "$tmp/client.err")"
[[ $got == SERVING ]] || fail "the health of $api.GreeterService is \"$got\", want SERVING"
status=0
client --api "$old_api" hello >/dev/null || status=$?
((status == 2)) || fail "greeter-client --api $old_api: exit $status, want 2 (a usage error): $(cat "$tmp/client.err")"
kill "$pid"
wait "$pid" || true
pid=""

git add -A
git commit -qm "rename the API to $api"
refuses "already" --api "$api"

if $full; then
  echo "==> scripts/test.sh in the renamed clone"
  scripts/test.sh
fi
if $full; then
  echo "==> the renamed clone ($new, $api) passes scripts/test.sh"
else
  echo "==> the renamed clone ($new, $api) is consistent, compiles and greets"
fi
