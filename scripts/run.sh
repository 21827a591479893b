#!/usr/bin/env bash
# Usage: scripts/run.sh [NAME]
#
# Builds greeter-server and greeter-client, starts the server with its gRPC
# listener on localhost:50051 (or $GREETER_SERVER_ADDR), names on stderr the
# gRPC address (from the server's start line), greets NAME (default: you)
# with `greeter-client hello --name NAME`, and stops the server again. Stdout
# is the greeting alone.
# trim:http begin
# The server's HTTP listener is on localhost:8080 (or
# $GREETER_SERVER_HTTP_ADDR; empty turns it off); stderr names the greeting
# page's URL too.
# trim:http end
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-you}

echo "building greeter-server and greeter-client..." >&2
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
listeners=("${GREETER_SERVER_ADDR:-localhost:50051}")
# ${GREETER_SERVER_HTTP_ADDR-...}: set but empty turns the HTTP listener # trim:http
# off, as it does for the server itself. # trim:http
listeners+=("${GREETER_SERVER_HTTP_ADDR-localhost:8080}") # trim:http
start_greeter "${listeners[@]}"
echo "greeter-server's gRPC listener: $addr" >&2
# trim:http begin
if [[ -n $page ]]; then
  echo "the greeting page: $page" >&2
else
  echo "no greeting page: the HTTP listener is off" >&2
fi
# trim:http end
"$tmp/greeter-client" --addr "$addr" hello --name "$name"
