#!/usr/bin/env bash
# Usage: scripts/test-release.sh
#
# Plays the release workflow and an outside user of it, end to end, in a
# throwaway clone of this repository (its committed HEAD), changing nothing
# here:
#   1. scripts/release.sh refuses what it must (bad version, dirty tree,
#      missing changelog entry, a breaking change in a minor release, an
#      existing tag), then tags greeter-api at a throwaway test version;
#   2. scripts/use-api.sh moves greeter-server and greeter-client to it, and
#      both are tagged too;
#   3. the tags are served to the go command by a file-based module proxy;
#   4. a brand-new module outside the repository runs `go get greeter-api@tag`,
#      builds a small client, and calls a greeter-server installed with
#      `go install ...@tag`;
#      its HTTP listener serves the page and a Connect JSON call (with curl, if it is here); # trim:http
#   5. `go install greeter-client/cmd/greeter-client@tag` gives a binary that
#      works and whose `version` command reports the tagged versions.
# Everything runs with GOWORK=off in a throwaway module cache.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_path=github.com/greeter-go/greeter
api=$repo_path/greeter-api
api_version=v0.0.0-test.1
server_version=v0.0.0-test.1
client_version=v0.0.0-test.1

# lib-server.sh makes $tmp, removed with the server when the script exits.
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"

fail() {
  echo "test-release: $*" >&2
  exit 1
}

export GIT_AUTHOR_NAME="Release Test" GIT_AUTHOR_EMAIL="release-test@example.invalid"
export GIT_COMMITTER_NAME="Release Test" GIT_COMMITTER_EMAIL="release-test@example.invalid"

git clone -q "$root" "$tmp/repo"
cd "$tmp/repo"
# Earlier releases would constrain the test versions; this clone starts fresh.
git tag -l | xargs -r git tag -d >/dev/null

# expect_refusal WHAT PATTERN COMMAND...: COMMAND must fail saying PATTERN.
expect_refusal() {
  local what=$1 pattern=$2
  shift 2
  if "$@" >"$tmp/out" 2>&1; then
    cat "$tmp/out" >&2
    fail "release.sh accepted $what"
  fi
  grep -q -- "$pattern" "$tmp/out" || {
    cat "$tmp/out" >&2
    fail "release.sh refused $what without saying \"$pattern\""
  }
  echo "refused as expected: $what"
}

add_changelog_entry() { # MODULE VERSION
  sed -i "s/^## \[Unreleased\]$/## [Unreleased]\n\n## [${2#v}] - $(date -u +%F)/" "$1/CHANGELOG.md"
}

echo "==> release.sh refuses what it must"
expect_refusal "a version that is not semver" "not a semantic version" scripts/release.sh greeter-api 1.2
expect_refusal "a v2 release without a /v2 module path" "must end in /v2" scripts/release.sh greeter-api v2.0.0
expect_refusal "a version without a changelog entry" "no entry for" scripts/release.sh greeter-api "$api_version"
add_changelog_entry greeter-api "$api_version"
expect_refusal "a dirty tree" "not clean" scripts/release.sh greeter-api "$api_version"
git commit -qam "greeter-api: changelog for $api_version"

# A breaking change (a renamed field) must not pass as a minor release.
sed -i 's/string message = 1;/string text = 1;/' proto/greeter/v1/greeter.proto
scripts/generate.sh
git commit -qam "break the API on purpose"
expect_refusal "a breaking change in a minor release" "breaking changes" scripts/release.sh greeter-api "$api_version"
git reset -q --hard HEAD~1

echo "==> release greeter-api $api_version"
scripts/release.sh --dry-run greeter-api "$api_version" >"$tmp/out"
grep -q "would run: git tag -a greeter-api/$api_version" "$tmp/out" || fail "dry run did not say it would tag: $(cat "$tmp/out")"
git rev-parse -q --verify "refs/tags/greeter-api/$api_version" >/dev/null && fail "dry run created a tag"
scripts/release.sh greeter-api "$api_version"
expect_refusal "a tag that exists" "already exists" scripts/release.sh greeter-api "$api_version"
git diff --quiet HEAD || fail "release left uncommitted changes"
# A release orders after its own prereleases (sort -V alone gets this wrong).
add_changelog_entry greeter-api v0.0.0
add_changelog_entry greeter-api v0.0.0-alpha.1
git commit -qam "greeter-api: changelog for v0.0.0 and v0.0.0-alpha.1"
scripts/release.sh --dry-run greeter-api v0.0.0 >"$tmp/out" 2>&1 ||
  fail "release.sh refused v0.0.0 after v0.0.0-test.1: $(cat "$tmp/out")"
expect_refusal "a prerelease below the last release" "not above" scripts/release.sh --dry-run greeter-api v0.0.0-alpha.1

echo "==> move greeter-server and greeter-client to greeter-api $api_version and release them"
add_changelog_entry greeter-server "$server_version"
add_changelog_entry greeter-client "$client_version"
git commit -qam "greeter-server, greeter-client: changelogs for their test release"
expect_refusal "a server that requires an unreleased greeter-api" "not released" scripts/release.sh greeter-server "$server_version"
scripts/use-api.sh "$api_version"
grep -q "^$api $api_version h1:" greeter-client/go.sum || fail "use-api.sh wrote no go.sum line for greeter-api $api_version"
git commit -qam "greeter-server, greeter-client: use greeter-api $api_version"
scripts/release.sh greeter-server "$server_version"
scripts/release.sh greeter-client "$client_version"

echo "==> serve the tags from a file-based module proxy"
go -C scripts/tools run ./modproxy -dir "$tmp/proxy" -git "$tmp/repo" \
  "$api@$api_version=greeter-api" \
  "$repo_path/greeter-server@$server_version=greeter-server" \
  "$repo_path/greeter-client@$client_version=greeter-client"

# The outside user's go command: no workspace, its own module cache, our
# module path served by the file proxy and exempt from the checksum database
# (it is not public); everything else as usual. -trimpath changes nothing the
# test looks at; it keeps the throwaway module cache's directory out of the
# build cache's keys, so the next run finds what this one compiled.
outside() {
  GOWORK=off GOFLAGS="-mod=mod -trimpath" GONOSUMDB=$repo_path GOMODCACHE="$tmp/modcache" GOBIN="$tmp/bin" \
    GOPROXY="file://$tmp/proxy,file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" \
    go "$@" 2> >(grep -v '^go: downloading' >&2)
}

echo "==> go install greeter-server@$server_version and start it"
outside install "$repo_path/greeter-server/cmd/greeter-server@$server_version"
serve_greeter "$tmp/bin/greeter-server" || fail "the installed greeter-server did not start"

echo "==> a new module outside the repository: go get greeter-api@$api_version"
mkdir "$tmp/user"
cd "$tmp/user"
outside mod init example.com/outsider
outside get "$api@$api_version"
cat >main.go <<'EOF'
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	conn, err := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "outsider"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetMessage())
}
EOF
outside mod tidy
grep -q "^require $api $api_version\$\|^	$api $api_version\$" go.mod || fail "go.mod does not require $api $api_version: $(cat go.mod)"
outside build -o "$tmp/bin/outsider" .
got=$("$tmp/bin/outsider" "$addr")
[[ $got == "Hello, outsider!" ]] || fail "outside client printed \"$got\", want \"Hello, outsider!\""
echo "outside client: $got"

# trim:http begin
echo "==> the installed greeter-server's HTTP listener: the page and a Connect call"
if command -v curl >/dev/null; then
  got=$(curl -fsS --max-time 5 "$page") || fail "GET $page failed"
  [[ $got == *'<title>Greeter</title>'* ]] || fail "the installed greeter-server serves no greeting page at $page"
  got=$(curl -fsS --max-time 5 -H 'Content-Type: application/json' -d '{"name":"outsider"}' \
    "http://$http_addr/greeter.v1.GreeterService/SayHello") || fail "Connect call on $http_addr failed"
  # protojson varies its spacing on purpose, so no exact comparison.
  [[ $got == *'"message":'*'"Hello, outsider!"'* ]] || fail "Connect call on $http_addr answered $got"
  echo "page at $page; Connect JSON: $got"
else
  echo "SKIPPED: no curl here to call the HTTP listener"
fi
# trim:http end

echo "==> go install greeter-client@$client_version"
outside install "$repo_path/greeter-client/cmd/greeter-client@$client_version"
got=$("$tmp/bin/greeter-client" --addr "$addr" hello --name installed)
[[ $got == "Hello, installed!" ]] || fail "installed greeter-client printed \"$got\", want \"Hello, installed!\""
version_out=$("$tmp/bin/greeter-client" version)
grep -q -- "$client_version" <<<"$version_out" || fail "greeter-client version does not report $client_version: $version_out"
grep -q -- "greeter-api $api_version" <<<"$version_out" || fail "greeter-client version does not report greeter-api $api_version: $version_out"
echo "installed greeter-client version: $version_out"
echo "==> release workflow and outside use work"
