#!/usr/bin/env bash
# Print the absolute path of a usable Terraform or OpenTofu CLI on stdout.
#
#   scripts/ensure-cli.sh terraform           PATH terraform if >= 1.5.7, else the pinned build
#   scripts/ensure-cli.sh terraform pinned    always the pinned Terraform 1.5.7 build (the floor)
#   scripts/ensure-cli.sh terraform current   always the pinned Terraform 1.16.4 build
#   scripts/ensure-cli.sh tofu [pinned]       PATH tofu if >= 1.10, else the pinned OpenTofu 1.10.6 build
#   scripts/ensure-cli.sh tofu current        always the pinned OpenTofu 1.12.6 build
#   scripts/ensure-cli.sh KIND X.Y.Z          build that exact version (same recipe as the pinned one)
#
# No prebuilt CLI download works on every machine we use, so pinned CLIs are built from source
# through the Go module proxy and cached outside the work tree; the second run is instant.
# KIE_PINNED_ONLY=1 ignores CLIs found on PATH. KIE_CLI_CACHE overrides the cache directory.
# All logging goes to stderr so callers can capture the path with $(...).
set -euo pipefail

# "pinned" is the oldest supported CLI, "current" the newest release the suite is proven on.
readonly TF_PINNED=1.5.7
readonly TF_CURRENT=1.16.4
readonly TF_MIN=1.5.7
readonly TOFU_PINNED=1.10.6
readonly TOFU_CURRENT=1.12.6
readonly TOFU_MIN=1.10.0

log() { printf 'ensure-cli: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

# version_ge A B: true when version A >= version B (sort -V understands dotted versions).
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$2" ]
}

# cli_version BIN: print the bare version (1.5.7) a Terraform/OpenTofu binary reports.
# A private empty CLI config and no checkpoint call keep the probe quiet and offline.
# sed reads all the output: `| head -n1` could kill the CLI with SIGPIPE and, under pipefail,
# make a good binary look broken.
cli_version() {
  local out
  # First line looks like "Terraform v1.5.7" or "OpenTofu v1.10.6".
  out=$(TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$1" version 2>/dev/null |
    sed -n '1s/^[A-Za-z]* v\([0-9][0-9A-Za-z.+-]*\).*/\1/p') || return 1
  [ -n "$out" ] || return 1
  printf '%s\n' "$out"
}

cache_root() {
  local root=${KIE_CLI_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-kie/cli}
  mkdir -p "$root"
  (cd "$root" && pwd -P)
}

# build_terraform VERSION OUTDIR: build Terraform into OUTDIR/terraform.
build_terraform() {
  if version_ge "$1" 1.6.0; then
    build_terraform_patched "$@"
    return
  fi
  local version=$1 out=$2 scratch
  scratch=$(mktemp -d)
  # Run outside any module (and without inherited GOFLAGS/go.work) so the repo's go.mod never matters.
  local rc=0
  (cd "$scratch" && GOFLAGS='' GOWORK=off GOBIN="$out" go install "github.com/hashicorp/terraform@v${version}") >&2 || rc=$?
  rm -rf "$scratch"
  return "$rc"
}

# sed_file FILE EXPR: edit FILE in place with a sed expression (sed -i differs between GNU and BSD).
sed_file() {
  sed "$2" "$1" >"$1.new" && mv "$1.new" "$1"
}

# build_terraform_patched VERSION OUTDIR: Terraform 1.6+ cannot be go-installed: its go.mod replaces
# nested modules (remote-state backends such as s3 and gcs, and internal/legacy) with directories the
# module zip leaves out, and the proxy does not serve them. Build a writable copy without those
# modules and the backends that import them; local, http, inmem, remote and cloud remain.
build_terraform_patched() {
  local version=$1 out=$2 scratch dir src mods mod alias aliases='' rc=0
  scratch=$(mktemp -d)
  dir=$(cd "$scratch" && GOFLAGS='' GOWORK=off go mod download -json "github.com/hashicorp/terraform@v${version}" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p') || true
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    rm -rf "$scratch"
    die "could not download github.com/hashicorp/terraform@v${version}"
  fi
  src="$scratch/terraform"
  cp -R "$dir" "$src"
  chmod -R u+w "$src"

  # The nested modules are exactly those replaced by a relative path whose directory is missing.
  mods=$(sed -n 's#^replace \(github.com/hashicorp/terraform/[^ ]*\) => \./\([^ ]*\)$#\1 \2#p' "$src/go.mod" |
    while read -r mod rel; do [ -f "$src/$rel/go.mod" ] || printf '%s\n' "$mod"; done)
  for mod in $mods; do
    # Drop its require and replace lines (a dot in the path must match literally).
    sed_file "$src/go.mod" "\#[[:space:]]$(printf '%s' "$mod" | sed 's/\./\\./g')[[:space:]]#d"
    # Drop its import and remember the alias, so the registrations that use it can go too.
    alias=$(sed -n "s#^[[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*\"$mod\"\$#\1#p" "$src/internal/backend/init/init.go")
    sed_file "$src/internal/backend/init/init.go" "\#\"$mod\"\$#d"
    [ -z "$alias" ] || aliases="$aliases $alias"
  done
  for alias in $aliases; do
    sed_file "$src/internal/backend/init/init.go" "/[^A-Za-z0-9_]$alias\./d"
  done
  [ -n "$mods" ] || log "terraform $version: no missing nested modules found; building unpatched"

  # version.dev=no stops the binary from calling itself a -dev build; -trimpath keeps the
  # scratch path out of it.
  (cd "$src" && GOFLAGS=-mod=mod GOWORK=off go build -trimpath \
    -ldflags "-X github.com/hashicorp/terraform/version.dev=no" -o "$out/terraform" .) >&2 || rc=$?
  # Module-cache copies are read-only; make them removable.
  chmod -R u+w "$scratch"
  rm -rf "$scratch"
  return "$rc"
}

# build_tofu VERSION OUTDIR: build OpenTofu from its module-cache source into OUTDIR/tofu.
build_tofu() {
  local version=$1 out=$2 scratch dir
  scratch=$(mktemp -d)
  dir=$(cd "$scratch" && GOFLAGS='' GOWORK=off go mod download -json "github.com/opentofu/opentofu@v${version}" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$scratch"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    die "could not download github.com/opentofu/opentofu@v${version}"
  fi
  # The module dir is read-only, so build there with -C and write the binary outside it.
  # version.dev=no stops the binary from calling itself a -dev build.
  GOFLAGS=-mod=mod GOWORK=off go build -C "$dir" \
    -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$out/tofu" ./cmd/tofu >&2
}

# ensure_built KIND VERSION: print the path of the cached build, building it first if needed.
ensure_built() {
  local kind=$1 version=$2 root dest bin tmp lockfile start got
  root=$(cache_root)
  dest="$root/$kind-$version"
  bin="$dest/$kind"

  if [ -x "$bin" ] && got=$(cli_version "$bin") && [ "$got" = "$version" ]; then
    printf '%s\n' "$bin"
    return 0
  fi

  # Serialise builds of the same CLI (parallel make targets); the fd closes when this process exits.
  lockfile="$root/.$kind-$version.lock"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lockfile"
    if ! flock -n 9; then
      log "waiting for another build of $kind $version to finish..."
      flock 9
    fi
    # Another process may have finished the build while we waited.
    if [ -x "$bin" ] && got=$(cli_version "$bin") && [ "$got" = "$version" ]; then
      printf '%s\n' "$bin"
      return 0
    fi
    # Holding the lock, any scratch dir of this CLI is left over from an interrupted build.
    rm -rf "$root/.build-$kind-$version".*
  else
    log "flock not found: building without a lock (a concurrent build only wastes time)"
  fi

  log "building $kind $version from source via the Go module proxy (about 2 minutes the first time)..."
  start=$(date +%s)
  # Build into a scratch dir and rename into place so nobody ever sees a half-written binary.
  tmp=$(mktemp -d "$root/.build-$kind-$version.XXXXXX")
  build_tmp=$tmp
  chmod 0755 "$tmp"
  case $kind in
    terraform) build_terraform "$version" "$tmp" || die "building terraform $version failed" ;;
    tofu) build_tofu "$version" "$tmp" || die "building tofu $version failed" ;;
  esac
  got=$(cli_version "$tmp/$kind") || die "the freshly built $kind does not run"
  if [ "$got" != "$version" ]; then
    die "the freshly built $kind reports version $got, expected $version"
  fi
  rm -rf "$dest"
  mv "$tmp" "$dest"
  build_tmp=
  log "built $kind $version in $(($(date +%s) - start))s: $bin"
  printf '%s\n' "$bin"
}

# from_path KIND MIN: print the PATH binary of KIND if its version >= MIN.
from_path() {
  local kind=$1 min=$2 path got
  [ -z "${KIE_PINNED_ONLY:-}" ] || return 1
  path=$(command -v "$kind" 2>/dev/null) || return 1
  case $path in /*) ;; *) path="$PWD/$path" ;; esac
  got=$(cli_version "$path") || { log "ignoring $path: 'version' failed"; return 1; }
  if version_ge "$got" "$min"; then
    log "using $kind $got from PATH: $path"
    printf '%s\n' "$path"
    return 0
  fi
  log "ignoring $kind $got on PATH ($path): older than $min"
  return 1
}

# Remove an unfinished build if we are interrupted.
build_tmp=
trap 'if [ -n "$build_tmp" ]; then rm -rf "$build_tmp"; fi' EXIT

main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
  local kind=$1 mode=${2:-auto} pinned current min
  case $kind in
    terraform) pinned=$TF_PINNED current=$TF_CURRENT min=$TF_MIN ;;
    tofu | opentofu) kind=tofu pinned=$TOFU_PINNED current=$TOFU_CURRENT min=$TOFU_MIN ;;
    -h | --help) usage ;;
    *) die "unknown CLI '$kind' (want terraform or tofu)" ;;
  esac
  command -v go >/dev/null 2>&1 || die "go is required to build $kind"

  case $mode in
    auto)
      from_path "$kind" "$min" && return 0
      ensure_built "$kind" "$pinned"
      ;;
    pinned) ensure_built "$kind" "$pinned" ;;
    current) ensure_built "$kind" "$current" ;;
    [0-9]*.[0-9]*.[0-9]*) ensure_built "$kind" "${mode#v}" ;;
    v[0-9]*.[0-9]*.[0-9]*) ensure_built "$kind" "${mode#v}" ;;
    *) die "unknown mode '$mode' (want pinned, current or a version like $pinned)" ;;
  esac
}

# "; exit" keeps bash from reading past this line if the file is edited while a build runs.
main "$@"; exit
