#!/usr/bin/env bash
# Usage: scripts/test-peers.sh
#
# End-to-end test of greeter-server against real peers that were not written
# for it: grpcurl (list and describe through server reflection) and
# grpc-health-probe, on the gRPC listener.
# trim:helloworld begin
# Also a Python helloworld client (Debian's python3-grpcio, stubs generated
# now from proto/helloworld/helloworld.proto) and grpc-go's
# examples/helloworld/greeter_client; and greeter-client --api helloworld
# against a Python helloworld server.
# trim:helloworld end
# trim:http begin
# The peers call the HTTP listener too, whose HTTP/2 is net/http's rather
# than grpc-go's.
# trim:http end
# Installs what is missing: the
# Debian packages with apt-get, the Go tools at pinned versions (lib-tools.sh)
# into ${XDG_CACHE_HOME:-~/.cache}/greeter-test-tools, so reruns are quick.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Pinned peer versions (grpcurl's and grpc-health-probe's are in
# lib-tools.sh).
# trim:helloworld begin
# google.golang.org/grpc/examples has no release tags on the module proxy;
# this pseudo-version is its newest commit there.
grpc_examples_version=v0.0.0-20260825154716-030ee8becb20
python=/usr/bin/python3
# trim:helloworld end

# shellcheck source=lib-tools.sh
source "$root/scripts/lib-tools.sh"
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
py_server_pid= # trim:helloworld
cleanup() {
  if [[ -n $py_server_pid ]]; then kill "$py_server_pid" 2>/dev/null || true; fi # trim:helloworld
  stop_greeter
}
trap cleanup EXIT

fail() {
  echo "test-peers: $*" >&2
  exit 1
}

# trim:helloworld begin
if ! "$python" -c 'import grpc, grpc_tools.protoc' 2>/dev/null; then
  echo "installing python3-grpcio and python3-grpc-tools..." >&2
  sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-grpcio python3-grpc-tools >/dev/null
fi
# grpc-go's examples module replaces google.golang.org/grpc with its parent
# directory in the grpc-go repository, so `go install ...@version` refuses it.
# Build greeter_client from the module as published, with those replace lines
# dropped: the client code is unchanged and uses the released grpc its go.mod
# requires.
greeter_client=$tools/grpc-examples-$grpc_examples_version/greeter_client
if [[ ! -x $greeter_client ]]; then
  echo "building grpc-go's examples/helloworld/greeter_client $grpc_examples_version..." >&2
  src=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "google.golang.org/grpc/examples@$grpc_examples_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -r "$src" "$tmp/examples"
  chmod -R u+w "$tmp/examples"
  (
    cd "$tmp/examples"
    mapfile -t drops < <(sed -n 's/^replace \([^ (]*\) .*/-dropreplace=\1/p' go.mod)
    go mod edit "${drops[@]}"
    GOWORK=off GOFLAGS=-mod=mod go build -o "$greeter_client" ./helloworld/greeter_client
  )
fi
# trim:helloworld end
grpcurl_bin=$(go_tool "$grpcurl")
probe_bin=$(go_tool "$health_probe")

echo "building greeter-server and greeter-client..." >&2
start_greeter

# expect NAME WANT CMD...: runs CMD and fails unless its output contains WANT.
expect() {
  local name=$1 want=$2 out
  shift 2
  out=$("$@" 2>&1) || { echo "$out" >&2; fail "$name failed"; }
  [[ $out == *"$want"* ]] || { echo "$out" >&2; fail "$name: output does not contain \"$want\""; }
  echo "ok  $name" >&2
}

# trim:helloworld begin
mkdir "$tmp/py"
"$python" -m grpc_tools.protoc -I "$root/proto/helloworld" --python_out="$tmp/py" --grpc_python_out="$tmp/py" helloworld.proto
expect "python helloworld client" "Greeter client received: Hello, you!" \
  env PYTHONPATH="$tmp/py" "$python" "$root/scripts/peers/helloworld_client.py" --addr "$addr"
expect "grpc-go examples greeter_client" "Greeting: Hello, world!" "$greeter_client" -addr "$addr"
expect "grpc-go examples greeter_client --name" "Greeting: Hello, Ada!" "$greeter_client" -addr "$addr" -name Ada
# trim:helloworld end

apis=(greeter.v1.GreeterService)
apis+=(helloworld.Greeter) # trim:helloworld
for svc in "${apis[@]}" grpc.health.v1.Health grpc.reflection.v1.ServerReflection; do
  expect "grpcurl list has $svc" "$svc" "$grpcurl_bin" -plaintext "$addr" list
done
expect "grpcurl describe greeter.v1.GreeterService" "rpc SayHelloChat ( stream .greeter.v1.SayHelloChatRequest ) returns ( stream .greeter.v1.SayHelloChatResponse );" \
  "$grpcurl_bin" -plaintext "$addr" describe greeter.v1.GreeterService
# trim:helloworld begin
expect "grpcurl describe helloworld.Greeter" "rpc SayHelloBidiStream ( stream .helloworld.HelloRequest ) returns ( stream .helloworld.HelloReply );" \
  "$grpcurl_bin" -plaintext "$addr" describe helloworld.Greeter
# trim:helloworld end
expect "grpcurl describe greeter.v1.SayHelloStreamRequest" ".google.protobuf.Duration interval = 3;" \
  "$grpcurl_bin" -plaintext "$addr" describe greeter.v1.SayHelloStreamRequest
expect "grpcurl calls greeter.v1.GreeterService/SayHello" '"message": "Hello, grpcurl!"' \
  "$grpcurl_bin" -plaintext -d '{"name": "grpcurl"}' "$addr" greeter.v1.GreeterService/SayHello
# trim:helloworld begin
expect "grpcurl calls helloworld.Greeter/SayHello" '"message": "Hello, grpcurl!"' \
  "$grpcurl_bin" -plaintext -d '{"name": "grpcurl"}' "$addr" helloworld.Greeter/SayHello
# trim:helloworld end

expect "grpc-health-probe" "status: SERVING" "$probe_bin" -addr "$addr"
for svc in "${apis[@]}"; do
  expect "grpc-health-probe -service $svc" "status: SERVING" "$probe_bin" -addr "$addr" -service "$svc"
done

# trim:http begin
# The HTTP listener serves native gRPC too, for proxies that send every
# protocol to one port; these peers must not tell the difference.
# trim:helloworld begin
expect "python helloworld client (HTTP listener)" "Greeter client received: Hello, you!" \
  env PYTHONPATH="$tmp/py" "$python" "$root/scripts/peers/helloworld_client.py" --addr "$http_addr"
expect "grpc-go examples greeter_client (HTTP listener)" "Greeting: Hello, Ada!" "$greeter_client" -addr "$http_addr" -name Ada
# trim:helloworld end
expect "grpcurl calls greeter.v1.GreeterService/SayHello (HTTP listener)" '"message": "Hello, grpcurl!"' \
  "$grpcurl_bin" -plaintext -d '{"name": "grpcurl"}' "$http_addr" greeter.v1.GreeterService/SayHello
expect "grpc-health-probe (HTTP listener)" "status: SERVING" "$probe_bin" -addr "$http_addr"
# trim:http end

# trim:helloworld begin
# greeter-client against a canonical helloworld server: the Python one.
: >"$tmp/py-server.log" # exists before the loop below reads it
PYTHONPATH="$tmp/py" "$python" "$root/scripts/peers/helloworld_server.py" --addr 127.0.0.1:0 >>"$tmp/py-server.log" 2>&1 &
py_server_pid=$!
py_addr=
for _ in $(seq 100); do
  py_addr=$(sed -n 's/^listening on \(.*\)$/\1/p' "$tmp/py-server.log")
  [[ -n $py_addr ]] && break
  kill -0 "$py_server_pid" 2>/dev/null || { cat "$tmp/py-server.log" >&2; fail "the Python helloworld server exited"; }
  sleep 0.1
done
[[ -n $py_addr ]] || fail "the Python helloworld server did not start within 10s"
expect "greeter-client --api helloworld hello (Python server)" "Hello, Ada!" \
  "$tmp/greeter-client" --addr "$py_addr" --api helloworld hello --name Ada
expect "greeter-client --api helloworld hello-again (Python server)" "Hello again, Ada!" \
  "$tmp/greeter-client" --addr "$py_addr" --api helloworld hello-again --name Ada
kill -TERM "$py_server_pid"
wait "$py_server_pid" || true
# trim:helloworld end

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[[ $status == 0 ]] || { cat "$tmp/server.log" >&2; fail "greeter-server exited with $status after SIGTERM, want 0"; }
echo "ok  greeter-server exits 0 on SIGTERM" >&2
