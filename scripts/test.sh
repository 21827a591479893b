#!/usr/bin/env bash
# Usage: scripts/test.sh
#
# Runs every test and check of the repository but golangci-lint (below):
# the API rules (buf lint, format, breaking changes, generated-code drift),
# gofmt, the shell scripts with shellcheck (scripts/shellcheck.sh),
# actionlint over the CI workflows, go vet and go test -race in every
# module, tidy go.mod files and GOWORK=off builds, throwaway clones that are
# renamed (scripts/test-rename.sh; --full runs this script in it), trimmed
# (scripts/test-trim.sh) and given a new RPC by the docs' walkthrough
# (scripts/test-add-rpc.sh), the docs' links and flags
# (scripts/check-docs.sh), end-to-end runs of the real binaries and of
# greeter-server with real peers (scripts/test-peers.sh), three replicas on
# network hosts (namespaces) that are cut off, crashed and restarted
# (scripts/test-fleet.sh), the container image run for real
# (scripts/test-image.sh), and one short round of the benchmarks.
# It also runs greeter-server's page in headless Chromium # trim:http
# (scripts/test-browser.sh) and every protocol through HAProxy # trim:http
# (scripts/test-proxy.sh). # trim:http
# Stops at the first failing step.
#
# golangci-lint is not here: scripts/lint.sh runs it, and CI (.ci/run and
# .github/workflows/ci.yml) runs it right after this script. Built from
# source with every linter it has, it is the slowest tool to build (3m20s
# on two cores from an empty build cache, 2026-12-03), which would put this
# command over its budget of 20 minutes from empty caches; warm, it takes
# seconds: run it before you push.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# One build configuration for every step: the tidy check and the throwaway
# clones (rename, trim, add-an-RPC) build with -trimpath, so that a package
# compiled in one directory is found in the build cache from any other;
# building everything else the same way compiles the dependencies once
# instead of twice. -ldflags=-w leaves out the DWARF tables that only a
# debugger reads (stack traces, the race detector and profiles use the
# symbol table): linking the test binaries and programs takes a quarter
# less (a scripts/-level -ldflags, such as a version stamp, replaces it).
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -ldflags=-w"
# The workspace's modules (go.work) are vetted and tested by one go command
# each, so one module's tests run while the next one compiles; scripts/tools
# has a workspace of its own.
workspace=(./greeter-api/... ./greeter-server/... ./greeter-client/... ./greeter-server/deploy/...)
workspace+=(./greeter-server/test/browser/...) # trim:http

# step NAME COMMAND...: runs one named step and says how long it took, so
# that slow steps show up in every run's log.
step() {
  local name=$1 start=$SECONDS
  echo "==> $name" >&2
  shift
  "$@"
  echo "    $((SECONDS - start))s: $name (total $((SECONDS - test_start))s)" >&2
}
test_start=$SECONDS

# From empty caches, the workspace's modules are downloaded while buf is
# built (which downloads its own first): go list loads every package the
# workspace's tests need, so go vet below finds them in the module cache.
# Measured side by side from empty caches on 2 cores (2026-12-03): buf lint
# and go vet took 318 s with it, 404 s without.
go list -e -deps -test "${workspace[@]}" >/dev/null 2>&1 &
prefetch=$!
trap 'kill "$prefetch" 2>/dev/null || true' EXIT

step "buf lint" scripts/buf lint
step "buf format" scripts/buf format --diff --exit-code
step "buf breaking against the last released API (proto/released-api.binpb)" \
  scripts/buf breaking --against proto/released-api.binpb
step "generated code matches proto/" scripts/check-generated.sh
step "the generated-code check rejects drift" scripts/test-drift-check.sh

unformatted=$(gofmt -l greeter-api greeter-server greeter-client scripts)
if [[ -n $unformatted ]]; then
  echo "gofmt would change these files; run gofmt -w on them:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "shellcheck over scripts/ (scripts/shellcheck.sh)" scripts/shellcheck.sh
step "actionlint over .github/workflows (scripts/actionlint.sh)" scripts/actionlint.sh

wait "$prefetch" || true # go vet reports whatever it could not load
step "go vet (the workspace)" go vet "${workspace[@]}"
# -count=1: the system tests (*/test) run programs they build themselves,
# which go test's result cache cannot see; a cached result could hide a
# change to greeter-server or greeter-client.
step "go test -race (the workspace)" go test -race -count=1 "${workspace[@]}"
step "go vet (scripts/tools)" go -C scripts/tools vet ./...
step "go test -race (scripts/tools)" go -C scripts/tools test -race ./...

step "go.mod files are tidy and every module type-checks with GOWORK=off" scripts/tidy.sh --check
# Only these tests import grpc-go's authz package, and with it Envoy's RBAC
# protos: a tag keeps them out of the builds above.
step "authorization policies decided as grpc-go's authz decides them (go test -tags authzconformance)" \
  go -C greeter-server test -tags authzconformance -run GRPCGo ./internal/auth
step "release workflow and outside use (go get, go install @tag)" scripts/test-release.sh
step "rename: a clone renamed (module path and API) passes buf, the tidy check and its unit tests (scripts/test-rename.sh)" \
  scripts/test-rename.sh
step "trim: clones without each optional part build and pass their checks (scripts/test-trim.sh)" scripts/test-trim.sh
step "add an RPC: docs/adding-an-rpc.md executed on a clone (scripts/test-add-rpc.sh)" scripts/test-add-rpc.sh
step "docs: links, anchors and every flag documented (scripts/check-docs.sh)" scripts/check-docs.sh

# run_sh_greets: scripts/run.sh starts the server and greets through the
# client: the greeting alone on stdout. The listeners take free ports: the
# defaults may be in use here.
# The greeting page's URL is on stderr. # trim:http
run_sh_greets() {
  local out err status=0 vars=(GREETER_SERVER_ADDR=127.0.0.1:0)
  local page # trim:http
  vars+=(GREETER_SERVER_HTTP_ADDR=127.0.0.1:0) # trim:http
  err=$(mktemp)
  out=$(env "${vars[@]}" scripts/run.sh end-to-end 2>"$err") || status=$?
  cat "$err" >&2
  page=$(sed -n 's/^the greeting page: //p' "$err") # trim:http
  rm -f "$err"
  ((status == 0)) || return "$status"
  [[ $out == "Hello, end-to-end!" ]] || { echo "scripts/run.sh printed \"$out\", want \"Hello, end-to-end!\"" >&2; return 1; }
  [[ $page == http://127.0.0.1:*/ ]] || { echo "scripts/run.sh named the greeting page \"$page\" on stderr, want http://127.0.0.1:PORT/" >&2; return 1; } # trim:http
}
step "end to end: scripts/run.sh" run_sh_greets

step "end to end: greeter-client against greeter-server" scripts/test-client-e2e.sh

step "browser: the greeting page in headless Chromium (scripts/test-browser.sh)" scripts/test-browser.sh # trim:http

step "proxy: every protocol through HAProxy pooling its upstream connections (scripts/test-proxy.sh)" scripts/test-proxy.sh # trim:http

step "fleet: a silent replica, a crash and a rolling restart on network hosts (scripts/test-fleet.sh)" \
  scripts/test-fleet.sh

step "end to end: greeter-server with real peers (scripts/test-peers.sh)" scripts/test-peers.sh

step "container image: build, probe, greet, SIGTERM, read-only (scripts/test-image.sh)" scripts/test-image.sh

step "benchmarks run (one short round; scripts/bench.sh measures)" \
  go -C greeter-server test -run '^$' -bench . -benchtime 20x ./internal/serve

echo "==> all checks passed" >&2
