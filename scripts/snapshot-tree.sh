#!/usr/bin/env bash
# Copy the work tree as git would see it (tracked files plus untracked, not-ignored ones; no .git)
# into DEST, so checks can run on a scratch copy without touching the real tree.
#   scripts/snapshot-tree.sh DEST
set -euo pipefail

dest=${1:?usage: $0 DEST}
cd "$(dirname "$0")/.."
mkdir -p "$dest"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Skip tracked files deleted in the work tree: tar would fail on them.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar --null -T - -cf - | tar -C "$dest" -xf -
else
  # Not a git checkout (e.g. a source archive): copy everything but scratch dirs.
  tar --exclude=./.git --exclude=./.demo --exclude=./dist -cf - . | tar -C "$dest" -xf -
fi
