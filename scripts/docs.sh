#!/usr/bin/env bash
# Generate the provider docs (docs/) with tfplugindocs, or check that they are up to date.
#
#   scripts/docs.sh          regenerate docs/ in place (make docs)
#   scripts/docs.sh check    regenerate into a scratch copy and fail if docs/ differs (make docs-check)
#
# tfplugindocs normally runs `terraform` from PATH and needs Terraform >= 1.10; to get the same
# output on every machine we export the schema with the pinned OpenTofu build instead and hand it
# to tfplugindocs with --providers-schema.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
root=$(pwd -P)
mode=${1:-generate}
case $mode in generate | check) ;; *) echo "usage: $0 [check]" >&2; exit 2 ;; esac

log() { printf 'docs: %s\n' "$*" >&2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tofu=$(scripts/ensure-cli.sh tofu pinned)

log "building the provider"
mkdir -p "$tmp/plugins" "$tmp/schema"
go build -o "$tmp/plugins/terraform-provider-kie" .

# Without required_providers, `provider "kie"` means hashicorp/kie: after the host rewrite below
# that is the address tfplugindocs looks the schema up under.
kie_write_overrides_config "$tmp/cli.tfrc" "$tmp/plugins" registry.opentofu.org/hashicorp/kie
printf 'provider "kie" {}\n' >"$tmp/schema/main.tf"

export TF_CLI_CONFIG_FILE="$tmp/cli.tfrc" CHECKPOINT_DISABLE=1

log "exporting the provider schema with $("$tofu" version | sed -n 1p)"
(cd "$tmp/schema" && "$tofu" providers schema -json) >"$tmp/schema.tofu.json"
sed 's#registry\.opentofu\.org/#registry.terraform.io/#g' "$tmp/schema.tofu.json" >"$tmp/schema.json"

# tfplugindocs validate logs at debug level: show its output only when it fails.
tfplugindocs_validate() {
  if ! go tool tfplugindocs validate --provider-name kie --providers-schema "$tmp/schema.json" \
    --provider-dir "$1" >"$tmp/validate.log" 2>&1; then
    cat "$tmp/validate.log" >&2
    log "error: tfplugindocs validate failed"
    exit 1
  fi
}

tfplugindocs_generate() {
  go tool tfplugindocs generate --provider-name kie --rendered-provider-name KIE \
    --providers-schema "$tmp/schema.json" --provider-dir "$1" \
    --examples-dir examples --website-source-dir templates --rendered-website-dir docs
}

if [ "$mode" = generate ]; then
  # The model table of the "Choosing a model" guide comes from the catalogue.
  go generate ./internal/catalog
  tfplugindocs_generate "$root"
  tfplugindocs_validate "$root"
  log "docs/ regenerated"
  exit 0
fi

# check: generate into a copy of the tree so the work tree is never modified.
scripts/snapshot-tree.sh "$tmp/tree"
tfplugindocs_generate "$tmp/tree" >"$tmp/generate.log" 2>&1 || { cat "$tmp/generate.log" >&2; exit 1; }
tfplugindocs_validate "$tmp/tree"

if ! diff -ru docs "$tmp/tree/docs" >"$tmp/docs.diff" 2>&1; then
  # "regenerated/docs" is what make docs would write; "docs" is the tree as it is.
  sed "s#$tmp/tree/#regenerated/#g" "$tmp/docs.diff" >&2
  log "error: docs/ is out of date with the schema, templates/ or examples/: run 'make docs' and commit docs/"
  exit 1
fi
# In a clean clone (CI) uncommitted docs cannot hide; locally, remind about files not yet added.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  untracked=$(git ls-files --others --exclude-standard -- docs/)
  if [ -n "$untracked" ]; then
    log "warning: docs files not yet added to git (CI will not see them):"
    printf '  %s\n' "$untracked" >&2
  fi
fi
log "docs/ is up to date"
