#!/usr/bin/env bash
# Usage: scripts/trim.sh [--force] PART...
#
# Removes optional parts of the Greeter that a copy of it does not want, from
# a clean tree, and leaves a tree that builds, lints and passes its tests
# without them, with nothing left that names them. The parts, and what each
# removes, are listed below (from scripts/trim.parts). It does not commit:
# review the change with git status and git diff, run scripts/test.sh, and
# commit; git checkout and git clean undo it.
#
# How a part is found, and why:
#   - Files and directories that belong to one part alone are listed, by
#     part, in one manifest, scripts/trim.parts, and deleted. One list in
#     one place, next to the part's description, is easy to review and to
#     keep current (the trim refuses a path that is not there); a marker
#     inside each such file would be spread over a hundred files and could
#     not mark a directory.
#   - Lines and blocks of shared files are marked where they are, by a
#     comment in the file's own syntax at the end of the line:
#     "trim:PART" deletes its line; a line with only "trim:PART begin", the
#     line with only "trim:PART end" and all between them go together. A
#     marker beside the code it removes stays right when the code around it
#     changes, where a list of line numbers or patterns elsewhere would not.
#     Where one function mixes a part with the rest, the part is moved into
#     a function or file of its own instead, so markers stay few and plain;
#     greeter-server/internal/serve's package doc explains them to readers.
#   - A line that cannot carry a comment (JSON, a YAML block scalar, code
#     in Markdown) is listed in the manifest with its file instead, and the
#     trim refuses when it is not there any more.
#   - The marker processing is the Go program scripts/tools/trim (with unit
#     tests): it checks every marker and the manifest before it changes
#     anything, drops the imports that only deleted lines used, formats the
#     Go files it edits, and deletes one left with nothing in it. This script
#     only orders the steps.
#   - Each part lists tell-tale strings (trace lines in the manifest); when
#     the trim is done, none may be left anywhere but in the files the
#     manifest keeps (changelogs, which record what was released, checksum
#     files, and a few tools' tests). That is what proves a part gone, not
#     the markers.
# The part's section of scripts/trim.parts goes too, so it is trimmed once.
#
# After removing, it rebuilds what is derived from what is gone:
# proto/released-api.binpb (the baseline of buf breaking) without the
# deleted proto files and greeter-api's generated code (scripts/generate.sh)
# when proto/ changed; the walkthrough patches under docs/ (a patch applied
# to a clone of HEAD that is trimmed too, diffed against this tree); the
# go.mod and go.sum of every module it changed (scripts/tidy.sh drops the
# dependencies nothing uses any more); and greeter-client's --help golden
# files. Then it lists anything that still names a part.
#
# It refuses a tree with uncommitted changes (so the trim can be reviewed,
# and undone, on its own); --force skips that check. scripts/test-trim.sh
# trims throwaway clones and checks the result.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Built once, here: the trim deletes none of scripts/tools.
go -C scripts/tools build -o "$tmp/trim" ./trim
trim() { "$tmp/trim" -root "$root" "$@"; }

# usage prints the comment above, without its "# ", and the parts left.
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;s/^Usage:/usage:/;p}' "${BASH_SOURCE[0]}" >&2
  printf '\nThe parts:\n' >&2
  trim -list >&2
  exit 2
}
force=false
if [[ ${1:-} == --force ]]; then
  force=true
  shift
fi
(($# > 0)) || usage
for part in "$@"; do
  [[ $part != -* ]] || usage # -h, --help
done

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "trim: $root is not a git work tree: trim.sh reads what changed from git" >&2
  exit 1
fi
if ! $force && [[ -n $(git status --porcelain) ]]; then
  echo "trim: the working tree is not clean; commit or stash first (or use --force):" >&2
  git status --short >&2
  exit 1
fi

# The manifest loses the parts' sections; the check at the end needs them.
cp scripts/trim.parts "$tmp/trim.parts"
# The walkthrough patches under docs/ are diffs against the tree as it is:
# done again below on the trimmed tree.
mapfile -t patches < <(git ls-files 'docs/*.patch')
# The proto files the trim deletes, found before they are gone.
mapfile -t protos < <(trim -list-deleted "$@" | grep '^proto/.*\.proto$' || true)

trim "$@"

if ((${#protos[@]} > 0)); then
  echo "rebuilding the buf breaking baseline (proto/released-api.binpb) without ${protos[*]}"
  excludes=()
  for p in "${protos[@]}"; do
    excludes+=(--exclude-path "${p#proto/}")
  done
  scripts/buf build proto/released-api.binpb "${excludes[@]}" -o "$tmp/released-api.binpb"
  cp "$tmp/released-api.binpb" proto/released-api.binpb
  echo "regenerating greeter-api's code (scripts/generate.sh)..."
  scripts/generate.sh
fi
# Each walkthrough patch, applied to a clone of HEAD that is then trimmed
# too, and diffed against the trimmed tree: the walkthrough done on the
# trimmed tree (its own lines of a part go with their markers).
for patch in "${patches[@]}"; do
  walk=$tmp/walk
  rm -rf "$walk"
  git clone -q "$root" "$walk"
  if ! git -C "$walk" apply "$patch" 2>/dev/null; then
    echo "trim: warning: $patch does not apply to HEAD; left as it is" >&2
    continue
  fi
  "$tmp/trim" -root "$walk" "$@" >/dev/null
  mapfile -t files < <(git -C "$root" apply --numstat "$patch" | cut -f3)
  # The walkthrough's files aside, the clone's files become the trimmed
  # tree's, and are committed; then the walkthrough's come back.
  rm -rf "$tmp/walked" && mkdir "$tmp/walked"
  (cd "$walk" && cp --parents "${files[@]}" "$tmp/walked/")
  for f in "${files[@]}"; do
    if [[ -e $f ]]; then cp "$f" "$walk/$f"; else rm -f "$walk/$f"; fi
  done
  git -C "$walk" add -A
  git -C "$walk" -c user.name=trim -c user.email=trim@example.invalid commit -qm trimmed
  cp -r "$tmp/walked/." "$walk/"
  git -C "$walk" add -N -- "${files[@]}"
  git -C "$walk" diff -- "${files[@]}" >"$tmp/walk.patch"
  cp "$tmp/walk.patch" "$patch"
  echo "rewrote $patch for the trimmed tree"
done
# Tidy the modules the trim changed, each the innermost module of a changed
# path (tidying all of them takes a minute more).
mapfile -t modules < <(git ls-files '*/go.mod' | sed 's|/go.mod$||')
for i in "${!modules[@]}"; do
  [[ -f ${modules[i]}/go.mod ]] || unset 'modules[i]' # a module trimmed whole
done
changed=()
while IFS= read -r path; do
  best=
  for mod in "${modules[@]}"; do
    if [[ $path == "$mod"/* && ${#mod} -gt ${#best} ]]; then
      best=$mod
    fi
  done
  if [[ -n $best && " ${changed[*]} " != *" $best "* ]]; then
    changed+=("$best")
  fi
done < <(git status --porcelain --no-renames | cut -c4-)
if ((${#changed[@]} > 0)); then
  echo "tidying ${changed[*]} (scripts/tidy.sh)..."
  scripts/tidy.sh "${changed[@]}" >/dev/null
fi
if [[ -n $(git status --porcelain -- greeter-client) ]]; then
  echo "rewriting greeter-client's --help golden files..."
  go -C greeter-client test -run '^TestHelp$' ./internal/cmd/root -update >/dev/null
fi

if left=$(trim -manifest "$tmp/trim.parts" -left "$@"); then
  echo "nothing names $* any more"
else
  echo "trim: these lines still name what was trimmed; fix them by hand:" >&2
  echo "$left" >&2
  exit 1
fi
echo "trimmed $*; review with git status and git diff, run scripts/test.sh, and commit"
