#!/usr/bin/env bash
# Print the absolute path of a pinned Go-installed developer tool, installing it on first use.
#
#   scripts/ensure-tool.sh golangci-lint    golangci-lint v2.15.0
#   scripts/ensure-tool.sh goreleaser       goreleaser v2.16.0 (2.17+ do not build with our toolchain)
#
# Tools go to a cache outside the work tree (KIE_TOOL_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/terraform-provider-kie/tools) so they never touch go.mod and the
# second run is instant. Logs go to stderr.
set -euo pipefail

log() { printf 'ensure-tool: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

main() {
  local name=${1:-} pkg version root dest bin start scratch
  case $name in
    golangci-lint) pkg=github.com/golangci/golangci-lint/v2/cmd/golangci-lint version=v2.15.0 ;;
    goreleaser) pkg=github.com/goreleaser/goreleaser/v2 version=v2.16.0 ;;
    *) die "unknown tool '$name' (want golangci-lint or goreleaser)" ;;
  esac

  root=${KIE_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-kie/tools}
  mkdir -p "$root"
  root=$(cd "$root" && pwd -P)
  dest="$root/$name-$version"
  bin="$dest/$name"
  if [ -x "$bin" ]; then
    printf '%s\n' "$bin"
    return 0
  fi

  # Serialise installs of the same tool (parallel make targets).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$root/.$name-$version.lock"
    flock 9
    if [ -x "$bin" ]; then
      printf '%s\n' "$bin"
      return 0
    fi
  fi

  log "installing $name $version with go install (first run only)..."
  start=$(date +%s)
  scratch=$(mktemp -d)
  # Outside any module, without inherited GOFLAGS/go.work, so the repo's go.mod is never touched.
  # GOBIN points at a scratch dir first, so an interrupted install leaves nothing half-written.
  if ! (cd "$scratch" && GOFLAGS='' GOWORK=off GOBIN="$scratch/bin" go install "$pkg@$version") >&2; then
    rm -rf "$scratch"
    die "go install $pkg@$version failed"
  fi
  mkdir -p "$dest"
  # Copy next to the target, then rename: the rename is atomic, a cross-filesystem move is not.
  cp "$scratch/bin/$name" "$bin.tmp.$$"
  mv "$bin.tmp.$$" "$bin"
  rm -rf "$scratch"
  log "installed $name $version in $(($(date +%s) - start))s: $bin"
  printf '%s\n' "$bin"
}

main "$@"; exit
