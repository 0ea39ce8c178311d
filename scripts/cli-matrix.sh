#!/usr/bin/env bash
# Print the acceptance-test CLI matrix, one "kind path version origin" line per CLI:
#   - the pinned builds (always; built if missing): Terraform 1.5.7 and OpenTofu 1.10.6, the oldest
#     versions supported, and Terraform 1.16.4 and OpenTofu 1.12.6, current releases
#     (scripts/ensure-cli.sh pinned / current); origin "pinned",
#   - plus any terraform/tofu on PATH whose version is none of those and is at least the supported
#     floor (Terraform 1.5.7, OpenTofu 1.10.0), unless KIE_PINNED_ONLY is set; origin "path".
# KIE_ACC_CLIS="terraform" (or "tofu") limits the matrix to one kind, for quick local runs.
# Logs go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kinds=${KIE_ACC_CLIS:-terraform tofu}
# Order within a kind: the floor first, then the current release.
pins="pinned current"

log() { printf 'cli-matrix: %s\n' "$*" >&2; }

# version_ge A B: true when version A >= version B.
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$2" ]
}

# floor KIND: the oldest CLI version the provider supports.
floor() {
  case $1 in terraform) echo 1.5.7 ;; tofu) echo 1.10.0 ;; esac
}

# Same probe as ensure-cli.sh: first line of "version" is "Terraform v1.5.7" / "OpenTofu v1.10.6".
# (sed, not head: head could SIGPIPE the CLI and fail the pipeline.)
cli_version() {
  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$1" version 2>/dev/null |
    sed -n '1s/^[A-Za-z]* v\([0-9][0-9A-Za-z.+-]*\).*/\1/p'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Build missing pinned CLIs in one lane per kind, the lanes in parallel: a build is partly
# downloading, which overlaps well with the other lane's compiling, and within a lane the second
# OpenTofu reuses compiled packages the first one left in the Go build cache. Four builds at once
# on 2 cores would only compile the shared packages twice.
pids=()
for kind in $kinds; do
  case $kind in terraform | tofu) ;; *) log "unknown kind '$kind' in KIE_ACC_CLIS"; exit 2 ;; esac
  (
    for pin in $pins; do
      "$here/ensure-cli.sh" "$kind" "$pin" >"$tmp/$kind-$pin" || exit 1
    done
  ) &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if [ "$failed" -ne 0 ]; then
  log "error: building a pinned CLI failed (see above)"
  exit 1
fi

for kind in $kinds; do
  seen=" "
  for pin in $pins; do
    pinned_path=$(cat "$tmp/$kind-$pin")
    pinned_version=$(cli_version "$pinned_path") || true
    [ -n "$pinned_version" ] || { log "error: $pinned_path does not run"; exit 1; }
    printf '%s %s %s pinned\n' "$kind" "$pinned_path" "$pinned_version"
    seen="$seen$pinned_version "
  done

  [ -z "${KIE_PINNED_ONLY:-}" ] || continue
  path_bin=$(command -v "$kind" 2>/dev/null) || continue
  case $path_bin in /*) ;; *) path_bin="$PWD/$path_bin" ;; esac
  path_version=$(cli_version "$path_bin") || true
  case $seen in *" $path_version "*) dup=1 ;; *) dup= ;; esac
  if [ -z "$path_version" ]; then
    log "ignoring $path_bin: 'version' failed"
  elif [ -n "$dup" ]; then
    log "skipping $kind $path_version on PATH ($path_bin): the same version is pinned, one run is enough"
  elif ! version_ge "$path_version" "$(floor "$kind")"; then
    log "ignoring $kind $path_version on PATH ($path_bin): older than the supported floor"
  else
    printf '%s %s %s path\n' "$kind" "$path_bin" "$path_version"
  fi
done
