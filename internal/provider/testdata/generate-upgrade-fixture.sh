#!/usr/bin/env bash
# Regenerate terraform.tfstate and out/ of an upgrade fixture (upgrade-v*/) with the provider of the
# checkout the script is run from (see the fixture's README.md). Usage, from the root of that checkout:
#   bash <testdata>/generate-upgrade-fixture.sh <fixture folder> <terraform or tofu binary>
# It builds the provider and kie-mock, starts the mock with small images, imports one task created
# outside Terraform, applies main.tf, checks that a second plan is empty, and copies the state and the
# downloaded images back into this folder.
set -euo pipefail

here=$(cd "${1:?usage: generate-upgrade-fixture.sh <fixture folder> <terraform or tofu binary>}" && pwd -P)
cli=${2:?usage: generate-upgrade-fixture.sh <fixture folder> <terraform or tofu binary>}
[ -f scripts/lib.sh ] || { echo "run from the root of the provider checkout" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=/dev/null
. scripts/lib.sh
KIE_LIB_PREFIX=$(basename "$here")
trap 'kie_stop_mock; rm -rf "$work"' EXIT

kie_build_binaries "$work/bin" 0.0.0-dev
KIE_LIB_MOCK_BIN="$work/bin/kie-mock"
# Small images keep the committed files at a few KB; the state does not depend on the size.
kie_start_mock "$work/mock.log" "$work/mock.url" -latency 300ms -image-scale 0.05
url=$KIE_LIB_MOCK_URL

kie_write_overrides_config "$work/cli.tfrc" "$work/bin" \
  registry.terraform.io/kie-community/kie registry.opentofu.org/kie-community/kie
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_VAR_kie_base_url="$url"
unset KIE_API_KEY KIE_BASE_URL KIE_UPLOAD_BASE_URL TF_CLI_ARGS TF_DATA_DIR

mkdir -p "$work/cfg"
cp "$here/main.tf" "$work/cfg/"
cp -R "$here/input" "$work/cfg/"
cd "$work/cfg"

# A task started outside Terraform, as a script would, with the arguments of kie_flux_image.imported.
body='{"prompt":"a brass compass on an old map","model":"flux-kontext-max","aspectRatio":"21:9","outputFormat":"png","watermark":"ACME"}'
id=$(curl -fsS -H 'Authorization: Bearer mock-key' -H 'Content-Type: application/json' \
  -d "$body" "$url/api/v1/flux/kontext/generate" | sed -n 's/.*"taskId":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "external generate failed" >&2; exit 1; }
sleep 1 # the mock finishes it after 300ms

"$cli" import -no-color -input=false kie_flux_image.imported "$id"
"$cli" apply -no-color -input=false -auto-approve
"$cli" plan -no-color -input=false -detailed-exitcode

rm -rf "$here/out"
cp -R out "$here/out"
cp terraform.tfstate "$here/terraform.tfstate"
echo "wrote $here/terraform.tfstate and $here/out/" >&2
