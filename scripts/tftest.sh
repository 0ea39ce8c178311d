#!/usr/bin/env bash
# Run the `terraform test` / `tofu test` suites of every module under examples/modules/ on each CLI of
# the compatibility matrix (scripts/cli-matrix.sh) that supports them, against a kie-mock started here,
# with the freshly built provider (dev_overrides: no init, no network). Per module:
#
#   tests/             against kie-mock; must pass
#   tests/must-fail/   must fail, with the failed task's error: a failed generation is an apply error,
#                      which no run can expect (expect_failures only expects custom conditions)
#   tests/plan-only/   mock_provider, no kie-mock; must pass
#
# Support is probed, not read from version strings: a CLI whose `test` command does not run a
# .tftest.hcl file (Terraform before 1.6) skips everything, one without mock_provider (Terraform
# before 1.7, OpenTofu before 1.8) skips tests/plan-only. KIE_ACC_CLIS and KIE_PINNED_ONLY work as
# for scripts/testacc.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
KIE_LIB_PREFIX=tftest

log() { printf 'tftest: %s\n' "$*" >&2; }

work=$(mktemp -d)
cleanup() {
  kie_stop_mock
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

modules=$(find examples/modules -mindepth 2 -maxdepth 2 -type d -name tests 2>/dev/null | LC_ALL=C sort)
if [ -z "$modules" ]; then
  log "error: no module with a tests/ directory under examples/modules/"
  exit 1
fi

if ! scripts/cli-matrix.sh >"$work/matrix"; then
  log "error: could not assemble the CLI matrix"
  exit 1
fi

log "building the provider and kie-mock"
kie_build_binaries "$work/bin" 0.0.0-dev
kie_write_overrides_config "$work/cli.tfrc" "$work/bin" \
  registry.terraform.io/kie-community/kie registry.opentofu.org/kie-community/kie

# The tests set api_key = "mock-key" themselves; the mock must expect that key.
KIE_LIB_MOCK_BIN="$work/bin/kie-mock"
kie_start_mock "$work/mock.log" "$work/mock.url" -latency 200ms -image-scale 0.25 -api-key mock-key
log "kie-mock is listening on $KIE_LIB_MOCK_URL"

# Only what the tests should see: the mock's URLs, our CLI config, no caps or caches from outside.
run_cli() {
  env -u KIE_MAX_NEW_IMAGES -u TF_PLUGIN_CACHE_DIR -u TF_DATA_DIR -u TF_WORKSPACE \
    TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
    KIE_BASE_URL="$KIE_LIB_MOCK_URL" KIE_UPLOAD_BASE_URL="$KIE_LIB_MOCK_URL" KIE_API_KEY=mock-key \
    "$@" </dev/null
}

# Probe configurations: a one-run test file without providers, and one with mock_provider "kie".
mkdir -p "$work/probe-test" "$work/probe-mock"
printf 'output "probe" {\n  value = "ok"\n}\n' >"$work/probe-test/main.tf"
cat >"$work/probe-test/probe.tftest.hcl" <<'HCL'
run "probe" {
  command = plan
  assert {
    condition     = output.probe == "ok"
    error_message = "probe"
  }
}
HCL
cat >"$work/probe-mock/main.tf" <<'HCL'
terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

resource "kie_flux_image" "probe" {
  prompt = "probe"
}
HCL
cat >"$work/probe-mock/probe.tftest.hcl" <<'HCL'
mock_provider "kie" {}

run "probe" {
  command = plan
  assert {
    condition     = kie_flux_image.probe.prompt == "probe"
    error_message = "probe"
  }
}
HCL

# probe DIR CLI: true when CLI runs DIR's one test and it passes.
probe() {
  local out
  out=$(cd "$1" && run_cli "$2" test -no-color 2>&1) || true
  printf '%s\n' "$out" >"$1.log"
  grep -q '1 passed, 0 failed' <<<"$out"
}

pretty_name() {
  case $1 in terraform) echo Terraform ;; tofu) echo OpenTofu ;; *) echo "$1" ;; esac
}

summary=()
any_failed=0
ran=0
# record NAME MODULE SUITE RESULT SECONDS DETAIL
record() {
  summary+=("$(printf '%-20s %-12s %-17s %-5s %4ss  %s' "$1" "$2" "$3" "$4" "$5" "$6")")
  [ "$4" != FAIL ] || any_failed=1
}

n=0
while read -r kind cli version _; do
  name="$(pretty_name "$kind") v$version"
  printf '\n== terraform test with %s ==\n(%s)\n' "$name" "$cli"
  rm -rf "$work/probe-test/.terraform" "$work/probe-mock/.terraform"
  if ! probe "$work/probe-test" "$cli"; then
    log "$name: its test command does not run .tftest.hcl files; skipped"
    record "$name" - - SKIP 0 "its test command runs no .tftest.hcl file"
    continue
  fi
  has_mock=1
  if ! probe "$work/probe-mock" "$cli"; then
    if grep -q 'Unsupported block type' "$work/probe-mock.log"; then
      has_mock=
    else
      cat "$work/probe-mock.log" >&2
      log "$name: the mock_provider probe failed for another reason than support (see above)"
      record "$name" - "mock_provider" FAIL 0 "see the log above"
      has_mock=
    fi
  fi

  while IFS= read -r tests; do
    module=${tests%/tests}
    mod=${module##*/}
    n=$((n + 1))
    # A fresh copy per CLI: the tests write files and .terraform/ relative to the module.
    copy="$work/run/$n"
    mkdir -p "$copy"
    cp -R "$module/." "$copy/"
    rm -rf "$copy/.terraform" "$copy/test-output"

    printf -- '-- %s: %s\n' "$module" "tests/"
    start=$(date +%s)
    if (cd "$copy" && run_cli "$cli" test -no-color); then
      record "$name" "$mod" tests/ PASS $(($(date +%s) - start)) ""
    else
      record "$name" "$mod" tests/ FAIL $(($(date +%s) - start)) "tests/ failed"
    fi
    ran=$((ran + 1))

    if [ -d "$copy/tests/must-fail" ]; then
      printf -- '-- %s: %s (must fail)\n' "$module" "tests/must-fail/"
      start=$(date +%s)
      rc=0
      (cd "$copy" && run_cli "$cli" test -no-color -test-directory=tests/must-fail) >"$copy/must-fail.log" 2>&1 || rc=$?
      cat "$copy/must-fail.log"
      left=$(find "$copy" -path "$copy/tests" -prune -o -type f \( -name '*.png' -o -name '*.jpg' \) -print)
      if [ "$rc" -eq 0 ]; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "passed, but must fail"
      elif ! grep -q 'Image generation failed' "$copy/must-fail.log" ||
        ! grep -q 'GENERATE_FAILED' "$copy/must-fail.log"; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "failed without the task's error"
      elif [ -n "$left" ]; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "left files behind: $left"
      else
        record "$name" "$mod" tests/must-fail/ PASS $(($(date +%s) - start)) "failed as it should"
      fi
    fi

    if [ -d "$copy/tests/plan-only" ]; then
      if [ -z "$has_mock" ]; then
        record "$name" "$mod" tests/plan-only/ SKIP 0 "no mock_provider"
      else
        printf -- '-- %s: %s\n' "$module" "tests/plan-only/"
        start=$(date +%s)
        # No kie-mock here: a mocked provider must not need one.
        if (cd "$copy" && run_cli env -u KIE_BASE_URL -u KIE_UPLOAD_BASE_URL -u KIE_API_KEY \
          "$cli" test -no-color -test-directory=tests/plan-only); then
          record "$name" "$mod" tests/plan-only/ PASS $(($(date +%s) - start)) ""
        else
          record "$name" "$mod" tests/plan-only/ FAIL $(($(date +%s) - start)) ""
        fi
      fi
    fi
  done <<<"$modules"
done <"$work/matrix"

printf '\n== terraform test summary ==\n'
printf '%s\n' "${summary[@]}"
if [ "$any_failed" -ne 0 ]; then
  log "error: a test suite failed (see above)"
  exit 1
fi
if [ "$ran" -eq 0 ]; then
  log "error: no CLI of the matrix could run terraform test"
  exit 1
fi
