#!/usr/bin/env bash
# Usage: [IMAGE=REF] [VERSION=vX.Y.Z] scripts/image.sh
#
# Builds the OCI image of greeter-server (greeter-server/Containerfile),
# tagged REF (default localhost/greeter-server:dev), with podman, or with
# docker if podman is missing. The binary is built here on the host, static
# (CGO_ENABLED=0) and with -trimpath, for the host's architecture unless
# GOARCH says otherwise; the image starts FROM scratch, so nothing is pulled
# and it builds without a registry. Its version, which `--version` reports
# and the image's org.opencontainers.image.version label carries, is VERSION
# if set; else the greeter-server/vX.Y.Z tag on HEAD; else a Go-style
# pseudo-version from the last such tag and HEAD's commit (v0.0.0-... when
# there is none), with +dirty if greeter-server/ or greeter-api/ has
# uncommitted changes. Prints the image reference on stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${IMAGE:-localhost/greeter-server:dev}

fail() {
  echo "image.sh: $*" >&2
  exit 1
}

if command -v podman >/dev/null; then
  engine=podman
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=docker
else
  fail "neither podman nor a running docker was found; install one (Debian: apt-get install podman runc)"
fi

# version prints the version to stamp, as described above.
version() {
  local tag last base stamp
  if tag=$(git -C "$root" describe --tags --exact-match --match 'greeter-server/v*' HEAD 2>/dev/null); then
    echo "${tag#greeter-server/}"
    return
  fi
  stamp=$(TZ=UTC git -C "$root" log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd)-$(git -C "$root" rev-parse --short=12 HEAD)
  last=$(git -C "$root" tag --list 'greeter-server/v*' --merged HEAD | sed 's|^greeter-server/||' | grep -v -- - | sort -V | tail -n 1)
  if [[ -n $last ]]; then
    # After vX.Y.Z, Go's pseudo-version is vX.Y.(Z+1)-0.STAMP.
    base=${last%.*}.$((${last##*.} + 1))-0.$stamp
  else
    base=v0.0.0-$stamp
  fi
  if [[ -n $(git -C "$root" status --porcelain -- greeter-server greeter-api) ]]; then
    base+=+dirty
  fi
  echo "$base"
}

if [[ -z ${VERSION:-} ]]; then
  git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
    fail "not a git checkout, so no version can be derived; set VERSION=vX.Y.Z"
  VERSION=$(version)
fi
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
echo "building greeter-server $VERSION..." >&2
CGO_ENABLED=0 GOOS=linux go -C "$root/greeter-server" build -trimpath \
  -ldflags "-s -w -X github.com/greeter-go/greeter/greeter-server/internal/version.stamped=$VERSION" \
  -o "$ctx/greeter-server" ./cmd/greeter-server
chmod 0555 "$ctx/greeter-server"

echo "building $image with $engine..." >&2
"$engine" build --quiet --file "$root/greeter-server/Containerfile" \
  --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" \
  --tag "$image" "$ctx" >/dev/null
echo "$image"
