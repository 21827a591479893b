#!/usr/bin/env bash
# Usage: scripts/test-trim.sh [--full]
#
# Trims throwaway clones of this repository's committed HEAD with
# scripts/trim.sh and checks the result; this repository is not touched.
#
# Every part at once, in one clone:
#   - trim.sh refuses a dirty tree and a part that does not exist, trims
#     every part, and has none left to trim afterwards;
#   - nothing names a part any more (the trace strings of HEAD's
#     scripts/trim.parts, outside the files it keeps), no marker is left
#     that names no part, and the walkthrough patches under docs/ still
#     apply;
#   - gofmt, scripts/shellcheck.sh, scripts/buf lint and
#     scripts/check-generated.sh are satisfied;
#   - scripts/tidy.sh --check passes for every module the trim changed (their
#     go.mod and go.sum are tidy, and they type-check with GOWORK=off);
#   - the unit tests pass: greeter-server/internal/...,
#     greeter-client/internal/... and greeter-server/deploy (not the system
#     tests under */test, which take minutes).
# Each part alone, in a clone of its own: the scripts pass shellcheck, and
# every package of every module type-checks and vets, tests included.
#
# With --full, each part alone also builds (links its programs) and passes
# its unit tests, and every clone passes scripts/lint.sh (golangci-lint).
#
# Builds and tests run with -trimpath, so the clones share the build cache
# with each other and with the repository: only what a trim changed is
# compiled again.
set -euo pipefail

full=false
case ${1:-} in
  --full) full=true ;;
  "") ;;
  *)
    echo "usage: scripts/test-trim.sh [--full]" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
# The parts alone run in the background, each in a process group of its own
# (set -m), so that a failure elsewhere stops them and all they started.
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -- -"$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "test-trim: $*" >&2
  exit 1
}

# say WHAT: starts a step, saying how long the last one took.
start=$SECONDS
last=$SECONDS
say() {
  if ((SECONDS > start)); then
    echo "    $((SECONDS - last))s" >&2
  fi
  last=$SECONDS
  echo "==> $*" >&2
}

# The trim program, and the manifest as HEAD has it: the trims remove their
# parts' sections from the clones' copies.
git -C "$root" show HEAD:scripts/trim.parts >"$tmp/trim.parts"
go -C "$root/scripts/tools" build -o "$tmp/trim" ./trim
mapfile -t parts < <("$tmp/trim" -manifest "$tmp/trim.parts" -names)
if ((${#parts[@]} == 0)); then
  # A copy that trimmed every part has nothing left for this test to do.
  echo "test-trim: SKIPPED: scripts/trim.parts at HEAD has no part left to trim" >&2
  exit 0
fi

# clone NAME: a fresh clone of HEAD in $tmp/NAME.
clone() {
  git clone -q "$root" "$tmp/$1"
}

# trim DIR PART...: runs scripts/trim.sh in DIR, its output kept in
# DIR.trim.log and shown if it fails.
trim() {
  local dir=$1
  shift
  "$dir/scripts/trim.sh" "$@" >"$dir.trim.log" 2>&1 || {
    cat "$dir.trim.log" >&2
    fail "scripts/trim.sh $* failed in a clone of HEAD"
  }
}

# modules DIR: the Go modules of the clone at DIR that have packages.
modules() {
  (cd "$1" && git ls-files '*go.mod' | sed 's|/*go.mod$||; s|^$|.|' | while read -r m; do
    [[ -f $m/go.mod && $m != scripts/tools/lint ]] && echo "$m"
  done)
}

# build_and_vet DIR [vet]: every package of every module, tests included:
# the workspace's modules in one go command each for build and vet, then
# those outside it (scripts/tools has a workspace of its own). With "vet",
# go vet alone: it type-checks every package and its tests and compiles
# what they import, but links nothing.
build_and_vet() {
  local dir=$1 mod ws=() other=() cmds=(build vet) cmd
  [[ ${2:-} != vet ]] || cmds=(vet)
  for mod in $(modules "$dir"); do
    if grep -q "^[[:space:]]*\./$mod\b" "$dir/go.work"; then ws+=("./$mod/..."); else other+=("$mod"); fi
  done
  for cmd in "${cmds[@]}"; do
    (cd "$dir" && go "$cmd" -trimpath "${ws[@]}") || fail "go $cmd failed (${dir##*/})"
    for mod in "${other[@]}"; do
      go -C "$dir/$mod" "$cmd" -trimpath ./... || fail "go $cmd failed in $mod (${dir##*/})"
    done
  done
}

# unit_tests DIR: the unit tests of the clone at DIR.
unit_tests() {
  local pkgs
  for pkgs in greeter-server:./internal/... greeter-client:./internal/... greeter-server/deploy:./...; do
    if ! go -C "$1/${pkgs%%:*}" test -trimpath "${pkgs#*:}" >"$1.test.log" 2>&1; then
      grep -v '^ok\|no test files' "$1.test.log" >&2
      fail "unit tests failed in ${pkgs%%:*} (${1##*/})"
    fi
  done
}

# alone PART: trims PART alone in a clone of its own and checks it.
alone() {
  local part=$1
  clone "$part"
  trim "$tmp/$part" "$part"
  "$tmp/$part/scripts/shellcheck.sh" >/dev/null 2>&1 || fail "shellcheck failed with $part trimmed"
  if $full; then
    build_and_vet "$tmp/$part"
    unit_tests "$tmp/$part"
    "$tmp/$part/scripts/lint.sh" || fail "golangci-lint failed with $part trimmed"
  else
    build_and_vet "$tmp/$part" vet
  fi
}

# Each part alone, in the background while every part is trimmed at once
# below: most of a trim's time is tidy.sh unpacking modules, and most of a
# check's is compiling, so they overlap well. Not with --full: two
# golangci-lint runs refuse to run at once.
if ! $full; then
  set -m
  for part in "${parts[@]}"; do
    alone "$part" >"$tmp/$part.log" 2>&1 &
    pids+=($!)
  done
  set +m
fi

say "all parts at once: scripts/trim.sh ${parts[*]}"
clone all
all=$tmp/all
echo "dirty" >>"$all/README.md"
if "$all/scripts/trim.sh" "${parts[0]}" >"$tmp/out" 2>&1; then
  fail "trim.sh trimmed a dirty tree"
fi
grep -q "not clean" "$tmp/out" || fail "trim.sh refused a dirty tree without saying so: $(cat "$tmp/out")"
git -C "$all" checkout -q -- README.md
if "$all/scripts/trim.sh" no-such-part >"$tmp/out" 2>&1; then
  fail "trim.sh accepted a part that does not exist"
fi
grep -q "no part named no-such-part" "$tmp/out" || fail "trim.sh refused an unknown part without naming it: $(cat "$tmp/out")"
[[ -z $(git -C "$all" status --porcelain) ]] || fail "a refused trim changed the tree: $(git -C "$all" status --short)"
trim "$all" "${parts[@]}"

say "nothing left of them"
if left=$("$tmp/trim" -root "$all" -manifest "$tmp/trim.parts" -left "${parts[@]}"); then :; else
  echo "$left" >&2
  fail "the trimmed clone still names what was trimmed (above)"
fi
if problems=$("$tmp/trim" -root "$all" -check); then :; else
  echo "$problems" >&2
  fail "the trimmed clone's markers or manifest are wrong (above)"
fi
"$all/scripts/trim.sh" >"$tmp/out" 2>&1 || true
grep -q "none left" "$tmp/out" || fail "trim.sh's usage lists parts after all were trimmed: $(cat "$tmp/out")"
if "$all/scripts/trim.sh" --force "${parts[0]}" >"$tmp/out" 2>&1; then
  fail "trim.sh trimmed ${parts[0]} a second time"
fi
while read -r patch; do
  git -C "$all" apply --check "$patch" || fail "$patch does not apply to the trimmed tree"
done < <(git -C "$all" ls-files 'docs/*.patch')

say "gofmt, shellcheck, buf lint, generated code, tidy go.mod files"
mapfile -t mods < <(modules "$all")
unformatted=$(cd "$all" && gofmt -l "${mods[@]}")
[[ -z $unformatted ]] || fail "gofmt would change: $unformatted"
"$all/scripts/shellcheck.sh" >/dev/null || fail "shellcheck failed in the trimmed clone"
"$all/scripts/buf" lint || fail "buf lint failed in the trimmed clone"
"$all/scripts/check-generated.sh" || fail "the trimmed clone's generated code is out of date"
mapfile -t tidied < <(sed -n 's/^tidying \(.*\) (scripts\/tidy.sh).*/\1/p' "$all.trim.log" | tr ' ' '\n')
if ((${#tidied[@]} > 0)); then
  "$all/scripts/tidy.sh" --check "${tidied[@]}" || fail "scripts/tidy.sh --check failed in the trimmed clone"
fi

say "unit tests"
unit_tests "$all"
say "build and vet every module"
build_and_vet "$all"
if $full; then
  say "scripts/lint.sh"
  "$all/scripts/lint.sh" || fail "golangci-lint failed in the trimmed clone"
fi

say "each part alone (${parts[*]}): scripts/trim.sh PART, shellcheck and vet"
if $full; then
  for part in "${parts[@]}"; do
    say "$part alone"
    alone "$part"
  done
fi
for i in "${!pids[@]}"; do
  if ! wait "${pids[i]}"; then
    cat "$tmp/${parts[i]}.log" >&2
    fail "${parts[i]} alone failed (above)"
  fi
done
pids=()
say "every part trims away, at once (${parts[*]}) and each alone ($((SECONDS - start))s)"
