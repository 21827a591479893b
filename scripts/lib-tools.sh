# shellcheck shell=bash
# Sourced by test scripts that need third-party gRPC tools; not run on its
# own.
#
# go_tool PKG@VERSION prints the path of the tool's binary, installing it
# with `go install` into ${XDG_CACHE_HOME:-~/.cache}/greeter-test-tools, in a
# directory of its own keyed by version, if it is not there yet, so reruns
# are quick and a version bump installs afresh.

# Pinned versions of the peers the tests run.
# shellcheck disable=SC2034 # read by the scripts that source this file
grpcurl=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3
# shellcheck disable=SC2034 # read by the scripts that source this file
health_probe=github.com/grpc-ecosystem/grpc-health-probe@v0.4.61

tools=${XDG_CACHE_HOME:-$HOME/.cache}/greeter-test-tools

go_tool() {
  local dir=$tools/${1//[\/@]/_}
  if [[ -z $(ls "$dir/bin" 2>/dev/null) ]]; then
    echo "installing $1..." >&2
    GOBIN=$dir/bin GOWORK=off GOFLAGS='' go install "$1"
  fi
  echo "$dir/bin/$(ls "$dir/bin")"
}
