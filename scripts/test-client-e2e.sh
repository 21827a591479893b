#!/usr/bin/env bash
# Usage: scripts/test-client-e2e.sh
#
# End-to-end test of greeter-client against the real greeter-server: builds
# both, starts the server with its listeners on free loopback ports, and
# checks every command against the gRPC listener (streaming ones fed from
# flags and from stdin, every API, health, --output json, version, bench),
# the errors (bad input, usage, an unreachable address, an unknown health
# service) with their exit codes, and that failures print nothing on stdout
# and one line on stderr.
# A unary call, a bidirectional stream and health go to the HTTP listener # trim:http
# too, which serves native gRPC as well. # trim:http
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
start_greeter

failed=0
# expect CODE STDOUT STDERR_SUBSTRING -- ARGS...: runs greeter-client with
# ARGS against the server, with $input (if set) on stdin, and checks its exit
# code, its whole stdout, and that stderr contains STDERR_SUBSTRING ("" means
# stderr must be empty).
expect() {
  local code=$1 out=$2 err=$3
  shift 4
  local got_code=0
  printf '%s' "${input:-}" >"$tmp/in"
  GREETER_CLIENT_ADDR=$addr "$tmp/greeter-client" "$@" >"$tmp/out" 2>"$tmp/err" <"$tmp/in" || got_code=$?
  local got_out got_err
  got_out=$(cat "$tmp/out")
  got_err=$(cat "$tmp/err")
  if [[ $got_code != "$code" || $got_out != "$out" ]] ||
    { [[ -z $err ]] && [[ -n $got_err ]]; } || [[ $got_err != *"$err"* ]] ||
    { ((code != 0)) && (($(wc -l <"$tmp/err") != 1)); }; then
    echo "FAIL greeter-client $*: exit $got_code (want $code), stdout \"$got_out\" (want \"$out\"), stderr \"$got_err\" (want \"$err\", one line on failure)" >&2
    failed=1
  else
    echo "ok   greeter-client $*" >&2
  fi
}

expect 0 "Hello, Ada!" "" -- hello --name Ada
expect 0 "Hello, world!" "" -- hello
expect 0 "Hello again, Ada!" "" -- hello-again -n Ada
expect 0 "Hello, Ada!" "" -- --api helloworld hello -n Ada # trim:helloworld
expect 67 "" "InvalidArgument" -- hello --name " "
expect 67 "" "InvalidArgument" -- hello-again --name ""
expect 2 "" "unknown flag" -- hello --nme Ada
expect 2 "" "unknown command" -- helo
expect 2 "" "needs --api greeter.v1" -- --api helloworld hello-group -n Ann # trim:helloworld
expect 3 "" "cannot connect to 127.0.0.1:1" -- --addr 127.0.0.1:1 hello
expect 0 $'Hello, Ada!\nHello, Ada!' "" -- hello-stream -n Ada --count 2 --interval 10ms
expect 0 $'Hello, Z!\nHello, Z!\nHello, Z!' "" -- --api helloworld hello-stream -n Z # trim:helloworld
expect 67 "" "must be from 1 to 100" -- hello-stream -n Ada --count 101
expect 0 "Hello, Ann and Bob!" "" -- hello-group -n Ann -n Bob
input=$'Ann\nBob\nCy\n' expect 0 "Hello, Ann, Bob and Cy!" "" -- hello-group
input=$'ann\nbob\n' expect 0 $'Hello, ann!\nHello, bob!' "" -- chat
input=$'x\n' expect 0 "Hello, x!" "" -- --api helloworld chat # trim:helloworld
expect 0 "SERVING" "" -- health
expect 0 "SERVING" "" -- health --service helloworld.Greeter # trim:helloworld
expect 69 "" "NotFound" -- health --service no.such.Service
# trim:http begin
# The HTTP listener, as a client behind a proxy that sends everything to one
# port reaches it.
expect 0 "Hello, Ada!" "" -- --addr "$http_addr" hello --name Ada
input=$'ann\nbob\n' expect 0 $'Hello, ann!\nHello, bob!' "" -- --addr "$http_addr" chat
expect 0 "SERVING" "" -- --addr "$http_addr" health
# trim:http end

json=$(GREETER_CLIENT_ADDR=$addr "$tmp/greeter-client" --output json hello -n Ada)
if command -v jq >/dev/null; then
  message=$(jq -er .message <<<"$json")
else
  message=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["message"])' <<<"$json")
fi
if [[ $message == "Hello, Ada!" ]]; then echo "ok   --output json: $json" >&2; else
  echo "FAIL --output json printed $json" >&2
  failed=1
fi

version=$("$tmp/greeter-client" version)
if [[ $version == *"greeter-client "* && $version == *"greeter-api "* ]]; then echo "ok   version" >&2; else
  echo "FAIL version printed \"$version\"" >&2
  failed=1
fi

bench=$(GREETER_CLIENT_ADDR=$addr "$tmp/greeter-client" bench --total 200 --concurrency 4 --warmup 10)
if [[ $bench == *"Calls:        200, 0 failed"* ]]; then echo "ok   bench" >&2; else
  echo "FAIL bench printed: $bench" >&2
  failed=1
fi
exit "$failed"
