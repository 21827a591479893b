#!/usr/bin/env bash
# Usage: scripts/generate.sh
#
# Regenerates the Go code of the greeter-api module from proto/ with the pinned
# buf and protoc plugins. Generated files are committed: run this after every
# change under proto/ and commit the result.
# It also regenerates the connect-go handler that greeter-server's benchmarks # trim:http
# compare with (greeter-server/internal/benchconnect). # trim:http
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# buf.gen.yaml cannot use clean: true (it would delete greeter-api's own
# files), so remove the previous output here: a proto that was deleted or
# renamed must not leave its old .pb.go behind.
find greeter-api -name '*.pb.go' -type f -delete
find greeter-server/internal/benchconnect -name '*.connect.go' -type f -delete # trim:http
scripts/buf generate
scripts/buf generate --template greeter-server/internal/benchconnect/buf.gen.yaml # trim:http
