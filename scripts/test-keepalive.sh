#!/usr/bin/env bash
# Usage: scripts/test-keepalive.sh [QUIET]
#
# The long form of greeter-client's keepalive check
# (greeter-client/test/keepalive_default_test.go, TestKeepaliveDefaultPolicy;
# the fast form is internal/conn's TestKeepaliveWithinDefaultPolicy): against
# servers that keep gRPC's default ping policy (grpc-go's
# examples/helloworld/greeter_server, a grpc-go server with the health
# service, and the Python helloworld server of scripts/peers on Debian's
# python3-grpcio), greeter-client connections stay idle, and hold a quiet
# stream, for QUIET (default 1m) and must earn no GOAWAY "too_many_pings";
# the old settings (pings every 10 s, also without a stream) run beside them
# and must earn it. Takes QUIET plus a few seconds, and the first run builds
# the grpc-go example. Not part of scripts/test.sh.
#
# Installs what is missing as scripts/test-peers.sh does: python3-grpcio and
# python3-grpc-tools with apt-get, and greeter_server at the grpc-go examples
# version test-peers.sh pins, into ${XDG_CACHE_HOME:-~/.cache}/greeter-test-tools.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quiet=${1:-1m}
python=/usr/bin/python3

# shellcheck source=lib-tools.sh
source "$root/scripts/lib-tools.sh"
# One pin of the grpc-go examples, in test-peers.sh.
grpc_examples_version=$(sed -n 's/^grpc_examples_version=//p' "$root/scripts/test-peers.sh")
[[ -n $grpc_examples_version ]] || { echo "test-keepalive: no grpc_examples_version in scripts/test-peers.sh" >&2; exit 1; }

if ! "$python" -c 'import grpc, grpc_tools.protoc' 2>/dev/null; then
  echo "installing python3-grpcio and python3-grpc-tools..." >&2
  sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-grpcio python3-grpc-tools >/dev/null
fi

# Built as test-peers.sh builds greeter_client: from the module as
# published, with its replace lines (to its parent directory in the grpc-go
# repository) dropped.
greeter_server=$tools/grpc-examples-$grpc_examples_version/greeter_server
if [[ ! -x $greeter_server ]]; then
  echo "building grpc-go's examples/helloworld/greeter_server $grpc_examples_version..." >&2
  tmp=$(mktemp -d)
  trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
  src=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "google.golang.org/grpc/examples@$grpc_examples_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -r "$src" "$tmp/examples"
  chmod -R u+w "$tmp/examples"
  (
    cd "$tmp/examples"
    mapfile -t drops < <(sed -n 's/^replace \([^ (]*\) .*/-dropreplace=\1/p' go.mod)
    go mod edit "${drops[@]}"
    GOWORK=off GOFLAGS=-mod=mod go build -o "$greeter_server" ./helloworld/greeter_server
  )
fi

go -C "$root/greeter-client" test -count=1 -v -timeout 10m -run '^TestKeepaliveDefaultPolicy$' ./test \
  -keepalive.long -keepalive.quiet="$quiet" \
  -keepalive.grpc-go-server="$greeter_server" -keepalive.python="$python" 2>&1 |
  grep -E '^(=== RUN|[[:space:]]*--- |PASS|FAIL|ok)|_test\.go:[0-9]+:|^panic'
