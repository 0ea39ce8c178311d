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
# The CLI's version decides what it must run, never the outcome of a command: `terraform test`
# (Terraform 1.6+, every OpenTofu of the matrix) runs tests/ and tests/must-fail/, mock_provider
# (Terraform 1.7+, OpenTofu 1.8+) tests/plan-only/. A CLI skips only what its version lacks; where
# the version has it, a failing probe is a failure, and so is a probe that passes on a CLI whose
# version should lack it (the table is wrong). The summary gives, per CLI and suite, the runs that
# ran and skipped, with each skip's reason. KIE_ACC_CLIS and KIE_PINNED_ONLY work as for
# scripts/testacc.sh.
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

# probe DIR CLI: true when CLI runs DIR's one test and it passes; the output goes to DIR.log.
probe() {
  local out
  out=$(cd "$1" && run_cli "$2" test -no-color 2>&1) || true
  printf '%s\n' "$out" >"$1.log"
  grep -q '1 passed, 0 failed' <<<"$out"
}

pretty_name() {
  case $1 in terraform) echo Terraform ;; tofu) echo OpenTofu ;; *) echo "$1" ;; esac
}

# version_ge A B: true when version A >= version B.
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$2" ]
}

# supports KIND VERSION FEATURE: true when that CLI has FEATURE, "test" (the test command running
# .tftest.hcl files) or "mock_provider".
supports() {
  case $1:$3 in
    terraform:test) version_ge "$2" 1.6.0 ;;
    terraform:mock_provider) version_ge "$2" 1.7.0 ;;
    tofu:test) version_ge "$2" 1.6.0 ;;
    tofu:mock_provider) version_ge "$2" 1.8.0 ;;
    *) return 1 ;;
  esac
}

# What each feature needs, for skip reasons.
needs() {
  case $1 in
    test) echo 'terraform test needs Terraform 1.6+ or OpenTofu 1.6+' ;;
    mock_provider) echo 'mock_provider needs Terraform 1.7+ or OpenTofu 1.8+' ;;
  esac
}

# runs_in DIR: how many run blocks the .tftest.hcl files directly in DIR have.
runs_in() {
  cat "$1"/*.tftest.hcl 2>/dev/null | grep -cE '^run "' || true
}

# counts LOG: "N ran, K skipped" from the last summary line of a test command ("Success! 5 passed,
# 0 failed." / "Failure! 1 passed, 1 failed, 2 skipped."), and the names of the skipped runs.
counts() {
  local line passed failed skipped names
  line=$(grep -E '^(Success|Failure)! [0-9]+ passed, [0-9]+ failed' "$1" | sed -n '$p' || true)
  if [ -z "$line" ]; then
    echo 'no test summary in the output'
    return
  fi
  passed=$(sed -E 's/^[A-Za-z]+! ([0-9]+) passed.*/\1/' <<<"$line")
  failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  skipped=0
  case $line in *skipped*) skipped=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line") ;; esac
  printf '%s ran (%s passed, %s failed), %s skipped' "$((passed + failed))" "$passed" "$failed" "$skipped"
  if [ "$skipped" -gt 0 ]; then
    # A run is skipped after an earlier run of its file failed.
    names=$(sed -nE 's/^ *run "([^"]*)"\.\.\. skip.*/\1/p' "$1" | paste -sd, - || true)
    printf ' (%s: not run, an earlier run failed)' "${names:-?}"
  fi
}

summary=()
any_failed=0
ran=0
ran_plan_only=0
want_plan_only=
# record NAME MODULE SUITE RESULT SECONDS DETAIL
record() {
  summary+=("$(printf '%-20s %-12s %-19s %-5s %4ss  %s' "$1" "$2" "$3" "$4" "$5" "$6")")
  [ "$4" != FAIL ] || any_failed=1
}

# check_probe NAME CLI FEATURE DIR: true when CLI (of the loop's kind and version) should and does
# have FEATURE. A probe that fails where the version has FEATURE, or passes where the version lacks
# it, is recorded as a failure.
check_probe() {
  local name=$1 cli=$2 feature=$3 dir=$4
  rm -rf "$dir/.terraform"
  if supports "$kind" "$version" "$feature"; then
    probe "$dir" "$cli" && return 0
    cat "$dir.log" >&2
    log "$name: the $feature probe failed, though $name has $feature (see above)"
    record "$name" - "$feature probe" FAIL 0 "failed on a version that has $feature"
    return 1
  fi
  if probe "$dir" "$cli"; then
    log "$name: the $feature probe passed, though the version table says $name lacks $feature"
    record "$name" - "$feature probe" FAIL 0 "passed on a version said to lack $feature: fix supports()"
  fi
  return 1
}

n=0
while read -r kind cli version _; do
  name="$(pretty_name "$kind") v$version"
  printf '\n== terraform test with %s ==\n(%s)\n' "$name" "$cli"
  has_test=1
  check_probe "$name" "$cli" test "$work/probe-test" || has_test=
  has_mock=
  if [ -n "$has_test" ]; then
    has_mock=1
    check_probe "$name" "$cli" mock_provider "$work/probe-mock" || has_mock=
  fi

  while IFS= read -r tests; do
    module=${tests%/tests}
    mod=${module##*/}
    [ ! -d "$tests/plan-only" ] || want_plan_only=1
    if [ -z "$has_test" ]; then
      if ! supports "$kind" "$version" test; then
        for suite in tests tests/must-fail tests/plan-only; do
          [ -d "$module/$suite" ] || continue
          record "$name" "$mod" "$suite/" SKIP 0 "skipped, $(runs_in "$module/$suite") runs: $(needs test)"
        done
      fi
      continue
    fi
    n=$((n + 1))
    # A fresh copy per CLI: the tests write files and .terraform/ relative to the module.
    copy="$work/run/$n"
    mkdir -p "$copy"
    cp -R "$module/." "$copy/"
    rm -rf "$copy/.terraform" "$copy/test-output"

    printf -- '-- %s: %s\n' "$module" "tests/"
    start=$(date +%s)
    if (cd "$copy" && run_cli "$cli" test -no-color) 2>&1 | tee "$copy/tests.log"; then
      record "$name" "$mod" tests/ PASS $(($(date +%s) - start)) "$(counts "$copy/tests.log")"
    else
      record "$name" "$mod" tests/ FAIL $(($(date +%s) - start)) "$(counts "$copy/tests.log")"
    fi
    ran=$((ran + 1))

    if [ -d "$copy/tests/must-fail" ]; then
      printf -- '-- %s: %s (must fail)\n' "$module" "tests/must-fail/"
      start=$(date +%s)
      rc=0
      (cd "$copy" && run_cli "$cli" test -no-color -test-directory=tests/must-fail) >"$copy/must-fail.log" 2>&1 || rc=$?
      cat "$copy/must-fail.log"
      left=$(find "$copy" -path "$copy/tests" -prune -o -type f \( -name '*.png' -o -name '*.jpg' \) -print)
      got=$(counts "$copy/must-fail.log")
      if [ "$rc" -eq 0 ]; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "passed, but must fail; $got"
      elif ! grep -q 'Image generation failed' "$copy/must-fail.log" ||
        ! grep -q 'GENERATE_FAILED' "$copy/must-fail.log"; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "failed without the task's error; $got"
      elif [ -n "$left" ]; then
        record "$name" "$mod" tests/must-fail/ FAIL $(($(date +%s) - start)) "left files behind: $left"
      else
        record "$name" "$mod" tests/must-fail/ PASS $(($(date +%s) - start)) "failed as it should; $got"
      fi
    fi

    if [ -d "$copy/tests/plan-only" ]; then
      if [ -z "$has_mock" ]; then
        if ! supports "$kind" "$version" mock_provider; then
          record "$name" "$mod" tests/plan-only/ SKIP 0 \
            "skipped, $(runs_in "$copy/tests/plan-only") runs: $(needs mock_provider)"
        fi
      else
        printf -- '-- %s: %s\n' "$module" "tests/plan-only/"
        start=$(date +%s)
        # No kie-mock here: a mocked provider must not need one.
        if (cd "$copy" && run_cli env -u KIE_BASE_URL -u KIE_UPLOAD_BASE_URL -u KIE_API_KEY \
          "$cli" test -no-color -test-directory=tests/plan-only) 2>&1 | tee "$copy/plan-only.log"; then
          record "$name" "$mod" tests/plan-only/ PASS $(($(date +%s) - start)) "$(counts "$copy/plan-only.log")"
        else
          record "$name" "$mod" tests/plan-only/ FAIL $(($(date +%s) - start)) "$(counts "$copy/plan-only.log")"
        fi
        ran_plan_only=$((ran_plan_only + 1))
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
  log "error: no CLI of the matrix ran terraform test"
  exit 1
fi
if [ -n "$want_plan_only" ] && [ "$ran_plan_only" -eq 0 ]; then
  log "error: no CLI of the matrix ran the tests/plan-only/ suites (mock_provider)"
  exit 1
fi
