#!/usr/bin/env bash
# Run the acceptance tests once per CLI of the compatibility matrix (scripts/cli-matrix.sh) and
# print a summary. Extra arguments go to "go test" (e.g. -run TestAccFluxImage_basic, -v is on already).
# KIE_ACC_CLIS="terraform" or "tofu" limits the matrix; KIE_PINNED_ONLY=1 skips CLIs found on PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { printf 'testacc: %s\n' "$*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A CLI config of our own: the environment may point TF_CLI_CONFIG_FILE at a missing file (the CLI
# then warns) or at one with dev_overrides or mirrors that would change what the tests run.
: >"$work/empty.tfrc"

if ! scripts/cli-matrix.sh >"$work/matrix"; then
  log "error: could not assemble the CLI matrix"
  exit 1
fi
if [ ! -s "$work/matrix" ]; then
  log "error: the CLI matrix is empty"
  exit 1
fi

# The unchanged-image shortcut must answer as the framework does: run the suite once more without it,
# on the newest pinned Terraform, so every acceptance test also checks the framework path.
current=$(awk '$1 == "terraform" && $4 == "pinned" { line = $0 } END { print line }' "$work/matrix")
if [ -n "$current" ]; then
  printf '%s\n' "${current% pinned} no-shortcut" >>"$work/matrix"
fi

pretty_name() {
  case $1 in terraform) echo Terraform ;; tofu) echo OpenTofu ;; *) echo "$1" ;; esac
}

summary=()
any_failed=0
while read -r kind path version origin; do
  name="$(pretty_name "$kind") v$version"
  printf '\n== acceptance tests with %s ==\n(%s)\n' "$name" "$path"

  envs=(TF_ACC=1 "TF_ACC_TERRAFORM_PATH=$path" "TF_CLI_CONFIG_FILE=$work/empty.tfrc" CHECKPOINT_DISABLE=1)
  # OpenTofu resolves the provider under its own registry host.
  if [ "$kind" = tofu ]; then
    envs+=(TF_ACC_PROVIDER_HOST=registry.opentofu.org)
  fi
  if [ "${origin:-}" = no-shortcut ]; then
    envs+=(KIE_UNCHANGED_SHORTCUT=off)
    name="$name, no shortcut"
  fi
  log_file="$work/$kind-$version-${origin:-path}.log"
  start=$(date +%s)

  # Unset anything that could point the tests at the real API (and spend credits) or at another CLI.
  set +e
  env -u TF_ACC_PROVIDER_HOST -u TF_ACC_TERRAFORM_VERSION -u KIE_API_KEY -u KIE_BASE_URL \
    -u KIE_UPLOAD_BASE_URL "${envs[@]}" \
    go test -race -count=1 -v ./internal/provider/ -run '^TestAcc' -timeout 30m "$@" </dev/null 2>&1 |
    tee "$log_file"
  rc=${PIPESTATUS[0]}
  set -e

  passed=$(grep -cE '^ *--- PASS: ' "$log_file" || true)
  failed=$(grep -cE '^ *--- FAIL: ' "$log_file" || true)
  skipped=$(grep -cE '^ *--- SKIP: ' "$log_file" || true)
  result=PASS
  if [ "$rc" -ne 0 ]; then
    result=FAIL
  elif grep -q 'no tests to run' "$log_file" || [ "$passed" -eq 0 ]; then
    # An acceptance run that executed nothing proves nothing: treat it as a failure.
    result="FAIL (no acceptance test ran)"
  fi
  [ "$result" = PASS ] || any_failed=1
  summary+=("$(printf '%-32s %-11s %-5s %4s passed %4s failed %4s skipped %5ss' "$name" "${origin:-}" "${result%% *}" \
    "$passed" "$failed" "$skipped" "$(($(date +%s) - start))")")
  if [ "$result" != PASS ]; then
    log "$name: $result"
  fi
done <"$work/matrix"

printf '\n== acceptance test summary ==\n'
printf '%s\n' "${summary[@]}"
if [ "$any_failed" -ne 0 ]; then
  log "error: acceptance tests failed for at least one CLI"
  exit 1
fi
