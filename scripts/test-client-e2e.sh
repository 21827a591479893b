#!/usr/bin/env bash
# Usage: scripts/test-client-e2e.sh
#
# End-to-end test of greeter-client against the real greeter-server: builds
# both, starts the server on a free loopback port, and checks the commands
# that server supports today (hello, hello-again, --output json, version),
# the errors (bad input, an unreachable address, methods the server does not
# implement yet) with their exit codes, and that failures print nothing on
# stdout and one line on stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
start_greeter

failed=0
# expect CODE STDOUT STDERR_SUBSTRING -- ARGS...: runs greeter-client with
# ARGS against the server and checks its exit code, its whole stdout, and
# that stderr contains STDERR_SUBSTRING ("" means stderr must be empty).
expect() {
  local code=$1 out=$2 err=$3
  shift 4
  local got_code=0
  GREETER_ADDR=$addr "$tmp/greeter-client" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || got_code=$?
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
expect 0 "Hello, Ada!" "" -- --api helloworld hello -n Ada
expect 67 "" "InvalidArgument" -- hello --name " "
expect 67 "" "InvalidArgument" -- hello-again --name ""
expect 2 "" "unknown flag" -- hello --nme Ada
expect 2 "" "unknown command" -- helo
expect 2 "" "needs --api greeter.v1" -- --api helloworld hello-group -n Ann
expect 3 "" "cannot connect to 127.0.0.1:1" -- --addr 127.0.0.1:1 hello
# Until greeter-server implements them, these answer Unimplemented.
for cmd in hello-stream "hello-group -n Ann" chat health; do
  # shellcheck disable=SC2086 # $cmd holds a command and its flags
  expect 76 "" "Unimplemented" -- $cmd
done

json=$(GREETER_ADDR=$addr "$tmp/greeter-client" --output json hello -n Ada)
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

bench=$(GREETER_ADDR=$addr "$tmp/greeter-client" bench -n 200 -c 4 --warmup 10)
if [[ $bench == *"Calls:        200, 0 failed"* ]]; then echo "ok   bench" >&2; else
  echo "FAIL bench printed: $bench" >&2
  failed=1
fi
exit "$failed"
