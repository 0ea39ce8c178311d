#!/usr/bin/env bash
# Check the example configurations: `fmt -check` over examples/ (with the current Terraform, which
# also formats .tftest.hcl files), then `validate` of every example directory with the pinned
# Terraform 1.5.7 and OpenTofu 1.10.6 (the oldest supported) and 1.16.4 and 1.12.6 (current; they
# validate a module's test files too), all pointed at a freshly built provider through
# dev_overrides (no init, no network).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

log() { printf 'examples: %s\n' "$*" >&2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

clis=()
for kind in terraform tofu; do
  for pin in pinned current; do
    clis+=("$(scripts/ensure-cli.sh "$kind" "$pin")")
  done
done
terraform_current=$(scripts/ensure-cli.sh terraform current)
export CHECKPOINT_DISABLE=1

log "terraform fmt -check -recursive examples/"
if ! TF_CLI_CONFIG_FILE=/dev/null "$terraform_current" fmt -check -diff -recursive examples/; then
  log "error: examples are not formatted: run 'make fmt'"
  exit 1
fi

mkdir -p "$tmp/plugins"
go build -o "$tmp/plugins/terraform-provider-kie" .
# Examples may name the provider by its full source (kie-community/kie) or, as tfplugindocs
# snippets often do, only as "kie" (which means hashicorp/kie): override all of them.
kie_write_overrides_config "$tmp/cli.tfrc" "$tmp/plugins" \
  registry.terraform.io/kie-community/kie registry.opentofu.org/kie-community/kie \
  registry.terraform.io/hashicorp/kie registry.opentofu.org/hashicorp/kie

dirs=$(find examples -name '*.tf' -exec dirname {} \; | LC_ALL=C sort -u)
if [ -z "$dirs" ]; then
  log "error: no example configurations found under examples/"
  exit 1
fi

failed=0
n=0
while IFS= read -r dir; do
  n=$((n + 1))
  # Validate a copy: the CLIs may write .terraform/ and we keep examples/ pristine. The copy
  # includes a module's tests/ directory, which the current CLIs validate as well.
  copy="$tmp/work/$n"
  mkdir -p "$copy"
  cp "$dir"/*.tf "$copy/"
  if [ -d "$dir/tests" ]; then cp -R "$dir/tests" "$copy/"; fi
  for cli in "${clis[@]}"; do
    name="$(basename "$cli") $(basename "$(dirname "$cli")" | sed 's/^[a-z]*-//')"
    if out=$(cd "$copy" && TF_CLI_CONFIG_FILE="$tmp/cli.tfrc" "$cli" validate -no-color </dev/null 2>&1); then
      log "ok    $name validate $dir"
    else
      log "FAIL  $name validate $dir"
      printf '%s\n' "$out" >&2
      failed=1
    fi
  done
done <<<"$dirs"
if [ "$failed" -ne 0 ]; then
  log "error: some examples do not validate"
  exit 1
fi
log "all $n example directories are formatted and valid"
