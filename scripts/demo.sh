#!/usr/bin/env bash
# make demo: build the provider and kie-mock, start the mock on loopback, and run a real
# `terraform init` + `terraform apply` of examples/demo/ in .demo/ (a fresh run every time).
#
#   KIE_CLI=tofu            use OpenTofu instead of Terraform
#   KIE_DEMO_REAL=1         with KIE_API_KEY set: use the real KIE API (costs credits, ~$0.20)
#   KIE_PINNED_ONLY=1       ignore a terraform/tofu on PATH and use the pinned build
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd -P)
work="$root/.demo"
kind=${KIE_CLI:-terraform}
version=0.0.0-dev

bold='' plain=''
if [ -t 2 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); fi
log() { printf '%sdemo:%s %s\n' "$bold" "$plain" "$*" >&2; }
die() { log "error: $*"; exit 1; }

case $kind in
  terraform | tofu) ;;
  *) die "KIE_CLI must be terraform or tofu, not '$kind'" ;;
esac

mode=mock
if [ "${KIE_DEMO_REAL:-}" = 1 ]; then
  [ -n "${KIE_API_KEY:-}" ] || die "KIE_DEMO_REAL=1 needs KIE_API_KEY in the environment"
  mode=real
elif [ -n "${KIE_API_KEY:-}" ]; then
  log "KIE_API_KEY is set but ignored: the demo uses the local mock unless KIE_DEMO_REAL=1"
fi

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
KIE_LIB_PREFIX=demo

cleanup() {
  local rc=$? pid=${KIE_LIB_MOCK_PID:-}
  if [ -n "$pid" ]; then
    kie_stop_mock
    log "stopped kie-mock (pid $pid)"
  fi
  if [ "$rc" -ne 0 ]; then
    log "failed (exit $rc)${pid:+; mock log: .demo/mock.log}"
  fi
  exit "$rc"
}
trap cleanup EXIT
# Make Ctrl-C and kill run the EXIT trap too.
trap 'exit 130' INT
trap 'exit 143' TERM

cli=$(scripts/ensure-cli.sh "$kind")
log "using $(TF_CLI_CONFIG_FILE=/dev/null "$cli" version 2>/dev/null | sed -n 1p) at $cli"

# A fresh working dir every run, so `make demo` always shows images being generated.
rm -rf "$work"
mkdir -p "$work/bin" "$work/out"
cp examples/demo/*.tf "$work/"

log "building terraform-provider-kie $version and kie-mock..."
kie_build_binaries "$work/bin" "$version"
# Install the provider into a filesystem mirror so `init` is a real init that needs no network.
TF_CLI_CONFIG_FILE=$(kie_install_mirror "$work" "$work/bin/terraform-provider-kie" "$version")
export TF_CLI_CONFIG_FILE
export CHECKPOINT_DISABLE=1
# A shared plugin cache would keep serving an older build of the same 0.0.0-dev version.
unset TF_PLUGIN_CACHE_DIR
kie_write_dev_override "$work" "$version"

if [ "$mode" = mock ]; then
  mock_key=mock-key
  KIE_LIB_MOCK_BIN="$work/bin/kie-mock"
  kie_start_mock "$work/mock.log" "$work/mock.url" -latency 3s -image-scale 1 -api-key "$mock_key" ||
    die "kie-mock did not start"
  url=$KIE_LIB_MOCK_URL
  log "kie-mock is listening on $url (pid $KIE_LIB_MOCK_PID, 3s simulated generation time)"
  export KIE_BASE_URL="$url" KIE_UPLOAD_BASE_URL="$url" KIE_API_KEY="$mock_key"
  # The mock costs nothing: a spend cap meant for the real API must not stop the demo.
  unset KIE_MAX_NEW_IMAGES
else
  # The demo makes six images; cap new paid tasks per run unless the caller chose a cap.
  export KIE_MAX_NEW_IMAGES="${KIE_MAX_NEW_IMAGES:-6}"
  log "using the REAL KIE API${KIE_BASE_URL:+ at $KIE_BASE_URL}: six images, about \$0.22. Ctrl-C within 5s to stop."
  sleep 5
fi

cd "$work"
log "$kind init"
"$cli" init -input=false
log "(a warning about incomplete lock file checksums is expected: the provider comes from a local mirror, not a registry)"
log "$kind apply"
# apply ends by printing the outputs (files, task ids, hashes), so no separate `output` call.
"$cli" apply -auto-approve -input=false

printf '\n%sImages written:%s\n' "$bold" "$plain"
find out -type f | LC_ALL=C sort | while read -r f; do
  bytes=$(wc -c <"$f" | tr -d ' ')
  info=
  if command -v file >/dev/null 2>&1; then
    # e.g. "PNG image data, 1392 x 752, 8-bit/color RGB, non-interlaced"
    info=$(file -b "$f" | cut -c1-70)
  fi
  printf '  .demo/%-28s %9s bytes  %s\n' "$f" "$bytes" "$info"
done

cat <<DONE

Done: $kind ran a real init (provider $version from the local mirror) and apply against the
$([ "$mode" = mock ] && echo "local kie-mock" || echo "real KIE API"). The images are in $work/out/.
To poke around: cd .demo && TF_CLI_CONFIG_FILE=\$PWD/cli.tfrc $cli state list
(with the mock stopped, plan/apply there cannot reach an API; just run make demo again).
DONE
