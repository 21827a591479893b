#!/usr/bin/env bash
# Usage: scripts/test-image.sh
#
# Builds greeter-server's image with scripts/image.sh (under a throwaway tag)
# and runs it for real: its size and configuration (non-root numeric user,
# the listen addresses, the exposed ports, the OCI labels, the stamped
# version), a gRPC health probe (grpc-health-probe) and greeter-client
# through the published gRPC port, a stream in flight when the container
# gets SIGTERM (it must finish, and the container exit 0 before the server's
# shutdown timeout), the same again with a read-only root file system, and a
# second SIGTERM during a long drain (PID 1 must still stop at once, exit
# 143).
# Through the published HTTP port: GET /healthz and a Connect JSON call with curl. # trim:http
#
# Uses podman (installed with apt-get if missing and running as root), or
# docker, and curl for the HTTP port (installed the same way). Where neither
# engine can run a container here, or curl cannot be had, it says SKIPPED and
# why.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=localhost/greeter-server:test-$$
max_size=$((40 * 1000 * 1000)) # the image must stay under 40 MB
shutdown_timeout=15            # greeter-server's default --shutdown-timeout, in seconds

skip() {
  echo "test-image: SKIPPED: $*" >&2
  exit 0
}
fail() {
  echo "test-image: FAIL: $*" >&2
  exit 1
}

if ! command -v podman >/dev/null && ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing podman and runc..." >&2
    # Wait for another apt-get rather than fail on its lock.
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq podman runc >/dev/null ||
      skip "could not install podman and runc with apt-get"
  else
    skip "neither podman nor a running docker is here (Debian: apt-get install podman runc, as root)"
  fi
fi
# trim:http begin
if ! command -v curl >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing curl..." >&2
    apt-get -o DPkg::Lock::Timeout=300 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq curl >/dev/null ||
      skip "could not install curl with apt-get"
  else
    skip "no curl here to call the HTTP listener (Debian: apt-get install curl, as root)"
  fi
fi
# trim:http end
if command -v podman >/dev/null; then
  # runc and cgroupfs: podman's default runtime and cgroup manager fail on
  # some kernels and in containers; these work there and everywhere else.
  engine=(podman --runtime runc --cgroup-manager=cgroupfs)
else
  engine=(docker)
fi
# Explicit limits: some hosts refuse the engine's defaults. nofile leaves room
# for the server's 5000 connections.
limits=(--ulimit nofile=8192:8192 --ulimit nproc=4096:4096)

# shellcheck source=lib-tools.sh
source "$root/scripts/lib-tools.sh"
tmp=$(mktemp -d)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do "${engine[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
  "${engine[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

IMAGE=$image "$root/scripts/image.sh" >/dev/null
go -C "$root/greeter-client" build -o "$tmp/greeter-client" ./cmd/greeter-client
probe=$(go_tool "$health_probe")

# The engine must be able to run a container here at all.
if ! version=$("${engine[@]}" run --rm "${limits[@]}" "$image" --version 2>"$tmp/run.err"); then
  skip "${engine[0]} cannot run a container on this machine: $(tail -n 1 "$tmp/run.err")"
fi
echo "image runs: $version" >&2

# Size and configuration.
size=$("${engine[@]}" image inspect --format '{{.Size}}' "$image")
((size < max_size)) || fail "the image is $size bytes, want under $max_size"
inspect() { "${engine[@]}" image inspect --format "$1" "$image"; }
[[ $(inspect '{{.Config.User}}') == 65532:65532 ]] || fail "image user is '$(inspect '{{.Config.User}}')', want 65532:65532"
[[ $(inspect '{{json .Config.Entrypoint}}') == '["/greeter-server"]' ]] || fail "entrypoint is $(inspect '{{json .Config.Entrypoint}}')"
envs=(GREETER_SERVER_ADDR=:50051)
ports=(50051/tcp)
envs+=(GREETER_SERVER_HTTP_ADDR=:8080) # trim:http
ports+=(8080/tcp)                      # trim:http
for env in "${envs[@]}"; do
  inspect '{{json .Config.Env}}' | grep -q "\"$env\"" || fail "the image does not set $env: $(inspect '{{json .Config.Env}}')"
done
for port in "${ports[@]}"; do
  inspect '{{json .Config.ExposedPorts}}' | grep -q "\"$port\"" || fail "the image does not expose $port: $(inspect '{{json .Config.ExposedPorts}}')"
done
label() { inspect "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
[[ $(label licenses) == Apache-2.0 ]] || fail "licenses label is '$(label licenses)'"
[[ $(label source) == https://* ]] || fail "source label is '$(label source)'"
stamped=$(label version)
[[ $stamped == v* && $version == "greeter-server $stamped (greeter-api "* ]] ||
  fail "--version says '$version' but the version label is '$stamped'; want the same stamped version in both"
# Nothing in the image but the binary.
"${engine[@]}" create --name "greeter-image-files-$$" "$image" >/dev/null
containers+=("greeter-image-files-$$")
"${engine[@]}" export "greeter-image-files-$$" | tar -t >"$tmp/files"
grep -qx 'greeter-server' "$tmp/files" || fail "the image has no /greeter-server: $(tr '\n' ' ' <"$tmp/files")"
extra=$(grep -vxE 'greeter-server|(dev|proc|sys|etc|run|tmp)(/.*)?' "$tmp/files" || true)
[[ -z $extra ]] || fail "the image holds more than the binary: $extra"
echo "image: $((size / 1000 / 1000)) MB (under 40), user 65532, labels and version $stamped" >&2

# free_ports N: prints N different loopback ports that were free a moment
# ago, each on a line (held open together, so no two are the same).
free_ports() {
  python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
for s in ss: print(s.getsockname()[1])' "$1"
}

# run_case NAME [ENGINE RUN FLAGS...]: starts the image, probes it, greets
# through every listener, and stops it with SIGTERM while a stream is open.
run_case() {
  local name=$1 ports addr i pid uid started took code publish
  local http # trim:http
  shift
  mapfile -t ports < <(free_ports 2)
  addr=127.0.0.1:${ports[0]}
  publish=(-p "$addr:50051")
  http=127.0.0.1:${ports[1]} # trim:http
  publish+=(-p "$http:8080")  # trim:http
  "${engine[@]}" run -d --name "$name" "${limits[@]}" "${publish[@]}" "$@" "$image" >/dev/null
  containers+=("$name")
  for i in $(seq 100); do
    "$probe" -addr "$addr" -connect-timeout 1s >/dev/null 2>&1 && break
    [[ $("${engine[@]}" inspect --format '{{.State.Running}}' "$name") == true ]] ||
      fail "$name stopped: $("${engine[@]}" logs "$name" 2>&1 | tail -n 5)"
    ((i < 100)) || fail "$name: grpc-health-probe never saw SERVING at $addr"
    sleep 0.1
  done
  "$probe" -addr "$addr" -service greeter.v1.GreeterService >/dev/null || fail "$name: greeter.v1.GreeterService is not SERVING"
  pid=$("${engine[@]}" inspect --format '{{.State.Pid}}' "$name")
  uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
  [[ $uid == 65532 ]] || fail "$name: the server runs as uid $uid, want 65532"
  got=$("$tmp/greeter-client" --addr "$addr" hello --name container)
  [[ $got == "Hello, container!" ]] || fail "$name: greeter-client hello printed '$got'"
  # trim:http begin
  # The HTTP listener, as a load balancer's health check and a curl user
  # reach it.
  got=$(curl -sS --max-time 5 -w ' %{http_code}' "http://$http/healthz") || fail "$name: GET /healthz on $http: $got"
  [[ $got == "SERVING"*" 200" ]] || fail "$name: GET /healthz answered '$got', want SERVING and 200"
  got=$(curl -sS --max-time 5 -H 'Content-Type: application/json' -d '{"name":"container"}' \
    "http://$http/greeter.v1.GreeterService/SayHello") || fail "$name: Connect call on $http: $got"
  # protojson varies its spacing on purpose, so no exact comparison.
  [[ $got == *'"message":'*'"Hello, container!"'* ]] || fail "$name: the Connect JSON call answered '$got'"
  # trim:http end

  # A 2-second stream is in flight when SIGTERM arrives: it must finish
  # whole, and the container stop with exit code 0 before the shutdown timeout.
  "$tmp/greeter-client" --addr "$addr" hello-stream --name drain --count 20 --interval 100ms >"$tmp/stream" 2>"$tmp/stream.err" &
  local client=$!
  for i in $(seq 100); do
    [[ -s $tmp/stream ]] && break
    ((i < 100)) || fail "$name: the stream sent nothing"
    sleep 0.05
  done
  started=$(date +%s%N)
  "${engine[@]}" kill --signal TERM "$name" >/dev/null
  code=$("${engine[@]}" wait "$name")
  took=$((($(date +%s%N) - started) / 1000000))
  wait "$client" || fail "$name: the stream open at SIGTERM failed: $(cat "$tmp/stream.err")"
  [[ $(grep -c 'Hello, drain!' "$tmp/stream") == 20 ]] || fail "$name: the stream open at SIGTERM got $(grep -c 'Hello, drain!' "$tmp/stream") of 20 greetings"
  [[ $code == 0 ]] || fail "$name: exit code $code after SIGTERM, want 0; log: $("${engine[@]}" logs "$name" 2>&1 | tail -n 5)"
  ((took < shutdown_timeout * 1000)) || fail "$name: took ${took}ms to stop, longer than the ${shutdown_timeout}s shutdown timeout"
  "${engine[@]}" logs "$name" 2>&1 | grep -q 'greeter-server stopped' || fail "$name: no stop line in the log"
  echo "$name: SERVING, greeted, uid 65532; SIGTERM with a stream open: 20/20 greetings, exit 0 after ${took}ms" >&2
}

run_case "greeter-image-$$"
run_case "greeter-image-ro-$$" --read-only

# As PID 1, a second SIGTERM still stops the server at once (exit 143), even
# while a long stream holds its graceful shutdown open for a minute.
name=greeter-image-twice-$$
port=$(free_ports 1)
"${engine[@]}" run -d --name "$name" "${limits[@]}" -p "127.0.0.1:$port:50051" "$image" \
  --stream-grace 60s --shutdown-timeout 90s >/dev/null
containers+=("$name")
for i in $(seq 100); do
  "$probe" -addr "127.0.0.1:$port" -connect-timeout 1s >/dev/null 2>&1 && break
  ((i < 100)) || fail "$name: grpc-health-probe never saw SERVING"
  sleep 0.1
done
"$tmp/greeter-client" --addr "127.0.0.1:$port" --timeout 2m hello-stream --name long --count 100 --interval 1s >"$tmp/long" 2>&1 &
long=$!
for i in $(seq 100); do
  [[ -s $tmp/long ]] && break
  ((i < 100)) || fail "$name: the long stream sent nothing"
  sleep 0.05
done
"${engine[@]}" kill --signal TERM "$name" >/dev/null
for i in $(seq 100); do
  "${engine[@]}" logs "$name" 2>&1 | grep -q 'greeter-server shutting down' && break
  ((i < 100)) || fail "$name: no shutdown line after the first SIGTERM"
  sleep 0.05
done
[[ $("${engine[@]}" inspect --format '{{.State.Running}}' "$name") == true ]] ||
  fail "$name: stopped on the first SIGTERM although a stream holds the shutdown open"
"${engine[@]}" kill --signal TERM "$name" >/dev/null
code=$(timeout 30 "${engine[@]}" wait "$name") || fail "$name: still running 30s after the second SIGTERM"
[[ $code == 143 ]] || fail "$name: exit code $code after the second SIGTERM, want 143"
kill "$long" 2>/dev/null || true
echo "$name: a second SIGTERM during the drain stopped PID 1 at once (exit 143)" >&2
echo "test-image: ok" >&2
