#!/usr/bin/env bash
# Usage: scripts/run.sh [NAME]
#
# Builds greeter-server and greeter-client, starts the server on
# localhost:50051 (or $GREETER_SERVER_ADDR), greets NAME (default: you) with
# `greeter-client hello --name NAME`, and stops the server again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-you}

echo "building greeter-server and greeter-client..." >&2
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
start_greeter "${GREETER_SERVER_ADDR:-localhost:50051}"
"$tmp/greeter-client" --addr "$addr" hello --name "$name"
