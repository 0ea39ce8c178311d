# shellcheck shell=bash
# Shared helpers for the scripts that build the provider, install it into a local filesystem
# mirror or point the CLIs at it, and run it against kie-mock (scripts/demo.sh, scripts/bench.sh,
# scripts/docs.sh, scripts/check-examples.sh). Source it; it defines functions and a few KIE_LIB_*
# variables and runs nothing. Every function logs to stderr, so $(...) captures only what it prints on
# purpose.
#
#   kie_build_binaries DIR VERSION        provider and kie-mock into DIR
#   kie_install_mirror WORK BIN VERSION   filesystem mirror + CLI config in WORK; prints the config path
#   kie_write_overrides_config FILE PLUGIN_DIR ADDRESS...
#                                         CLI config serving ADDRESSes from PLUGIN_DIR (dev_overrides)
#   kie_write_dev_override DIR VERSION    pin the dev version of kie-community/kie in a config dir
#   kie_start_mock LOG URLFILE [ARGS...]  start kie-mock on a free loopback port; sets KIE_LIB_MOCK_PID
#                                         and KIE_LIB_MOCK_URL (call it directly, not in $(...))
#   kie_stop_mock                         stop the mock started above (idempotent)

kie_lib_log() { printf '%s: %s\n' "${KIE_LIB_PREFIX:-lib}" "$*" >&2; }

# kie_build_binaries DIR VERSION: build terraform-provider-kie (stamped with VERSION and the commit)
# and kie-mock into DIR. Run from the repository root.
kie_build_binaries() {
  local dir=$1 version=$2 commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
  mkdir -p "$dir"
  go build -trimpath -ldflags "-X main.version=$version -X main.commit=$commit" \
    -o "$dir/terraform-provider-kie" . || return 1
  go build -trimpath -o "$dir/kie-mock" ./cmd/kie-mock || return 1
}

# kie_install_mirror WORK BIN VERSION: put BIN into WORK/mirror for both registries and write
# WORK/cli.tfrc that takes kie-community/kie from there (a real `init`, no network), everything
# else as usual. Prints the path of the CLI config.
kie_install_mirror() {
  local work=$1 bin=$2 version=$3 platform exe='' host dir
  platform="$(go env GOOS)_$(go env GOARCH)"
  [ "$(go env GOOS)" != windows ] || exe=.exe
  for host in registry.terraform.io registry.opentofu.org; do
    dir="$work/mirror/$host/kie-community/kie/$version/$platform"
    mkdir -p "$dir"
    cp "$bin" "$dir/terraform-provider-kie_v$version$exe"
  done
  cat >"$work/cli.tfrc" <<TFRC
# Written by scripts/lib.sh: take kie-community/kie from the local mirror, everything else as usual.
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/kie-community/kie", "registry.opentofu.org/kie-community/kie"]
  }
  direct {
    exclude = ["registry.terraform.io/kie-community/kie", "registry.opentofu.org/kie-community/kie"]
  }
}
TFRC
  printf '%s\n' "$work/cli.tfrc"
}

# kie_write_overrides_config FILE PLUGIN_DIR ADDRESS...: a CLI configuration that takes each provider
# ADDRESS from the binary in PLUGIN_DIR (no init needed) and everything else as usual.
kie_write_overrides_config() {
  local file=$1 dir=$2 addr
  shift 2
  {
    printf '# Written by scripts/lib.sh: these providers come from %s.\nprovider_installation {\n  dev_overrides {\n' "$dir"
    for addr in "$@"; do
      printf '    "%s" = "%s"\n' "$addr" "$dir"
    done
    printf '  }\n  direct {}\n}\n'
  } >"$file"
}

# kie_write_dev_override DIR VERSION: the CLIs only select a pre-release such as 0.0.0-dev when it
# is asked for exactly; an override file pins it without touching the configuration itself.
kie_write_dev_override() {
  cat >"$1/dev_override.tf" <<TF
# Written by scripts/lib.sh: use the locally built development version of the provider.
terraform {
  required_providers {
    kie = {
      source  = "kie-community/kie"
      version = "$2"
    }
  }
}
TF
}

# shellcheck disable=SC2034 # read by the scripts that source this file
KIE_LIB_MOCK_PID=
# shellcheck disable=SC2034
KIE_LIB_MOCK_URL=

# kie_start_mock LOG URLFILE [ARGS...]: start the kie-mock binary named by $KIE_LIB_MOCK_BIN on a
# free loopback port with ARGS, wait (at most 10 s) until it has written its URL.
kie_start_mock() {
  local logfile=$1 urlfile=$2
  shift 2
  : "${KIE_LIB_MOCK_BIN:?set KIE_LIB_MOCK_BIN to the kie-mock binary}"
  rm -f "$urlfile"
  "$KIE_LIB_MOCK_BIN" -addr 127.0.0.1:0 -url-file "$urlfile" "$@" >"$logfile" 2>&1 &
  KIE_LIB_MOCK_PID=$!
  local _
  for _ in $(seq 1 100); do
    [ ! -s "$urlfile" ] || break
    if ! kill -0 "$KIE_LIB_MOCK_PID" 2>/dev/null; then
      cat "$logfile" >&2
      KIE_LIB_MOCK_PID=
      kie_lib_log "kie-mock exited early"
      return 1
    fi
    sleep 0.1
  done
  if [ ! -s "$urlfile" ]; then
    cat "$logfile" >&2
    kie_stop_mock
    kie_lib_log "kie-mock did not start within 10s"
    return 1
  fi
  # shellcheck disable=SC2034
  KIE_LIB_MOCK_URL=$(head -n1 "$urlfile")
}

kie_stop_mock() {
  if [ -n "${KIE_LIB_MOCK_PID:-}" ]; then
    kill "$KIE_LIB_MOCK_PID" 2>/dev/null || true
    wait "$KIE_LIB_MOCK_PID" 2>/dev/null || true
    KIE_LIB_MOCK_PID=
  fi
}
