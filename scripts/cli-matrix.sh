#!/usr/bin/env bash
# Print the acceptance-test CLI matrix, one "kind path version" line per CLI:
#   - the pinned Terraform 1.5.7 and OpenTofu 1.10.6 builds (always; built if missing),
#   - plus any terraform/tofu on PATH whose version differs from those and is at least the supported
#     floor (Terraform 1.5.7, OpenTofu 1.10.0), unless KIE_PINNED_ONLY is set.
# KIE_ACC_CLIS="terraform" (or "tofu") limits the matrix to one kind, for quick local runs.
# Logs go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kinds=${KIE_ACC_CLIS:-terraform tofu}

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

# Build the pinned CLIs in parallel: each build is mostly downloading and linking, so two at once
# finish well before two in a row, even on 2 cores.
pids=()
for kind in $kinds; do
  case $kind in terraform | tofu) ;; *) log "unknown kind '$kind' in KIE_ACC_CLIS"; exit 2 ;; esac
  "$here/ensure-cli.sh" "$kind" pinned >"$tmp/$kind" &
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
  pinned_path=$(cat "$tmp/$kind")
  pinned_version=$(cli_version "$pinned_path") || { log "error: $pinned_path does not run"; exit 1; }
  printf '%s %s %s\n' "$kind" "$pinned_path" "$pinned_version"

  [ -z "${KIE_PINNED_ONLY:-}" ] || continue
  path_bin=$(command -v "$kind" 2>/dev/null) || continue
  path_version=$(cli_version "$path_bin") || true
  if [ -z "$path_version" ]; then
    log "ignoring $path_bin: 'version' failed"
  elif [ "$path_version" = "$pinned_version" ]; then
    : # same version as the pinned build: one run is enough
  elif ! version_ge "$path_version" "$(floor "$kind")"; then
    log "ignoring $kind $path_version on PATH ($path_bin): older than the supported floor"
  else
    printf '%s %s %s\n' "$kind" "$path_bin" "$path_version"
  fi
done
