#!/usr/bin/env bash
# make release-check: validate .goreleaser.yml and build a full snapshot release (all platforms,
# no signing, no publishing), then check the artifacts against the registry conventions.
# The result is copied to dist/ for inspection.
#
# goreleaser needs a git repository with a commit and a remote; the work tree may have neither
# (or uncommitted changes we want checked), so this runs in a throwaway git snapshot of the tree.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd -P)

log() { printf 'release-check: %s\n' "$*" >&2; }

goreleaser=$(scripts/ensure-tool.sh goreleaser)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/src"
scripts/snapshot-tree.sh "$src"
(
  cd "$src"
  git init -q
  git add -A
  git -c user.name=release-check -c user.email=release-check@localhost -c commit.gpgsign=false \
    commit -q -m "release-check snapshot"
  git remote add origin https://github.com/kie-community/terraform-provider-kie.git
)

start=$(date +%s)
log "goreleaser check"
(cd "$src" && "$goreleaser" check)

log "goreleaser release --snapshot (all platforms, no sign, no publish)"
(cd "$src" && "$goreleaser" release --snapshot --clean --skip=sign,publish)

scripts/check-release-artifacts.sh "$src/dist"

# Keep only the release files (not the per-platform build dirs) for inspection.
rm -rf "$root/dist"
mkdir -p "$root/dist"
find "$src/dist" -maxdepth 1 -type f -exec cp {} "$root/dist/" \;
log "done in $(($(date +%s) - start))s; artifacts in dist/"
