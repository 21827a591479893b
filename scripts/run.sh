#!/usr/bin/env bash
# Usage: scripts/run.sh [NAME]
#
# Builds greeter-server and greeter-client, starts the server with its gRPC
# listener on localhost:50051 (or $GREETER_SERVER_ADDR) and its HTTP listener
# on localhost:8080 (or $GREETER_SERVER_HTTP_ADDR; empty turns it off), names
# the greeting page's URL on stderr, greets NAME (default: you) with
# `greeter-client hello --name NAME`, and stops the server again. Stdout is
# the greeting alone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-you}

echo "building greeter-server and greeter-client..." >&2
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
# ${GREETER_SERVER_HTTP_ADDR-...}: set but empty turns the HTTP listener
# off, as it does for the server itself.
start_greeter "${GREETER_SERVER_ADDR:-localhost:50051}" "${GREETER_SERVER_HTTP_ADDR-localhost:8080}"
if [[ -n $page ]]; then
  echo "the greeting page: $page" >&2
fi
"$tmp/greeter-client" --addr "$addr" hello --name "$name"
