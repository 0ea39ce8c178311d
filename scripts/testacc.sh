#!/usr/bin/env bash
# Run the acceptance tests once per CLI of the compatibility matrix (scripts/cli-matrix.sh) and
# print a summary. Extra arguments go to "go test" (e.g. -run TestAccFluxImage_generateAndRefreshForFree, -v is on already).
# KIE_ACC_CLIS="terraform" or "tofu" limits the matrix; KIE_PINNED_ONLY=1 skips CLIs found on PATH.
#
# A test may skip only where the CLI lacks a capability it needs, as its version says: such a skip
# carries the tag [capability-skip NAME TEST] (internal/provider/cli_capability_test.go). A run in
# which a test skips without the tag, or with it on a CLI that has NAME, fails.
#
# A test that fails while the others pass runs once more on its own; passing then, it is reported as
# FLAKY by name with its first failure, and does not fail the run. Two failures of one test, more
# than two failed tests, or a panic fail the run.
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

# version_ge A B: true when version A >= version B.
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$2" ]
}

# cli_has KIND VERSION CAPABILITY: exit 0 when that CLI has the capability, 1 when it lacks it, 2
# for a capability this table does not know. The same table as cliCapabilities in
# internal/provider/cli_capability_test.go, kept apart so that neither can excuse a skip alone.
cli_has() {
  case $3 in
    import-identity) # import blocks by resource identity
      case $1 in
        terraform) version_ge "$2" 1.12.0 ;;
        tofu) version_ge "$2" 1.12.0 ;;
        *) return 2 ;;
      esac
      ;;
    terraform-test) # the test command runs .tftest.hcl files
      case $1 in
        terraform | tofu) version_ge "$2" 1.6.0 ;;
        *) return 2 ;;
      esac
      ;;
    destroy-false) # lifecycle { destroy = false }
      case $1 in
        terraform) version_ge "$2" 1.16.0 ;;
        tofu) version_ge "$2" 1.12.0 ;;
        *) return 2 ;;
      esac
      ;;
    *) return 2 ;;
  esac
}

# check_skips LOG KIND VERSION: print one line per test the run skipped, with its reason, and fail
# when any skipped for another reason than a capability this CLI lacks.
check_skips() {
  local log=$1 kind=$2 version=$3 test tagged cap reason rc bad=0
  while IFS= read -r test; do
    # The tag names the test, so parallel tests' interleaved output cannot mix reasons up.
    tagged=$(grep -F '[capability-skip ' "$log" | grep -F " $test] " | sed -n 1p || true)
    if [ -z "$tagged" ]; then
      # No tag: show the last message the test logged before it skipped, as its likely reason.
      reason=$(awk -v t="--- SKIP: $test " 'index($0, t) { print last; exit }
        /^ +[^ ]+\.go:[0-9]+: / { sub(/^ +/, ""); last = $0 }' "$log")
      printf '  FAIL %s skipped without a capability tag: %s\n' "$test" "${reason:-(no message)}"
      bad=1
      continue
    fi
    cap=$(sed 's/.*\[capability-skip \([^ ]*\) .*/\1/' <<<"$tagged")
    reason=${tagged#*"$test] "}
    rc=0
    cli_has "$kind" "$version" "$cap" || rc=$?
    case $rc in
      0)
        printf '  FAIL %s skipped for lack of %s, which %s %s has: %s\n' "$test" "$cap" "$kind" "$version" "$reason"
        bad=1
        ;;
      1) printf '  skip %s: [%s] %s\n' "$test" "$cap" "$reason" ;;
      *)
        printf '  FAIL %s skipped for an unknown capability %s: %s\n' "$test" "$cap" "$reason"
        bad=1
        ;;
    esac
  done < <(sed -n 's/^ *--- SKIP: \([^ ]*\) .*/\1/p' "$log")
  return "$bad"
}

# failures LOG prints each failed test of LOG with up to five lines the test logged, so the summary
# at the end of a long run tells what failed without the full log.
failures() {
  awk '
    /^=== (RUN|CONT|PAUSE|NAME)/ { cur = $3; next }
    /^ *--- (PASS|SKIP)/ { next }
    /^ *--- FAIL: / { name = $3; printf "  FAIL %s\n", name; shown = 0; for (i = 1; i <= n[name] && shown < 5; i++) { printf "       %s\n", substr(out[name, i], 1, 200); shown++ } ; next }
    cur != "" && /^ +[a-z_0-9]+\.go:[0-9]+:/ { n[cur]++; out[cur, n[cur]] = $0 }
  ' "$1"
}

# acc_run LOG [go test args]: the acceptance tests with the current envs, output shown and kept in
# LOG; returns go test's status. Of several -run flags the last wins. Anything that could point the
# tests at the real API (and spend credits) or at another CLI is unset.
acc_run() {
  local log=$1
  shift
  env -u TF_ACC_PROVIDER_HOST -u TF_ACC_TERRAFORM_VERSION -u KIE_API_KEY -u KIE_BASE_URL \
    -u KIE_UPLOAD_BASE_URL "${envs[@]}" \
    go test -race -count=1 -v ./internal/provider/ -timeout 30m "$@" </dev/null 2>&1 |
    tee "$log"
  return "${PIPESTATUS[0]}"
}

max_reruns=2
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

  set +e
  acc_run "$log_file" -run '^TestAcc' "$@"
  rc=$?
  set -e
  # A test that fails once, while every other passes, runs once more on its own (at most
  # $max_reruns of them): it passes the run only if it passes then, and the summary names it as
  # flaky, with its first failure, so it is seen and mended rather than hidden.
  flaky=()
  first_failed=($(sed -n 's/^--- FAIL: \(TestAcc[^ ]*\) .*/\1/p' "$log_file" | sort -u))
  if [ "$rc" -ne 0 ] && [ "${#first_failed[@]}" -gt 0 ] && [ "${#first_failed[@]}" -le "$max_reruns" ] &&
    ! grep -qE '^(panic:|FAIL\s.*\[build failed\]|\*\*\* Test killed)' "$log_file"; then
    pattern="^($(IFS='|'; echo "${first_failed[*]}"))\$"
    printf '\n== %s: running again on their own: %s ==\n' "$name" "${first_failed[*]}"
    set +e
    acc_run "$log_file.rerun" "$@" -run "$pattern"
    rerun_rc=$?
    set -e
    if [ "$rerun_rc" -eq 0 ] && grep -qE '^--- PASS: ' "$log_file.rerun"; then
      flaky=("${first_failed[@]}")
      rc=0
    fi
  fi

  passed=$(grep -cE '^ *--- PASS: ' "$log_file" || true)
  failed=$(grep -cE '^ *--- FAIL: ' "$log_file" || true)
  skipped=$(grep -cE '^ *--- SKIP: ' "$log_file" || true)
  skips_ok=1
  check_skips "$log_file" "$kind" "$version" >"$log_file.skips" || skips_ok=
  result=PASS
  if [ "$rc" -ne 0 ]; then
    result=FAIL
  elif grep -q 'no tests to run' "$log_file" || [ "$((passed + ${#flaky[@]}))" -eq 0 ]; then
    # An acceptance run that executed nothing proves nothing: treat it as a failure.
    result="FAIL (no acceptance test ran)"
  fi
  if [ -z "$skips_ok" ]; then
    # A skip where the CLI has what the test needs hides whatever made the test skip.
    result="FAIL (a test skipped on a CLI that can run it)"
  fi
  [ "$result" = PASS ] || any_failed=1
  summary+=("$(printf '%-32s %-11s %-5s %4s ran (%s passed, %s failed; %s flaky) %4s skipped %5ss' "$name" \
    "${origin:-}" "${result%% *}" "$((passed + failed))" "$passed" "$failed" "${#flaky[@]}" "$skipped" \
    "$(($(date +%s) - start))")")
  while IFS= read -r line; do
    summary+=("$line")
  done <"$log_file.skips"
  # Name every failed test, with its first lines of output, where a log's tail is all that is kept.
  label=FAIL
  if [ "${#flaky[@]}" -gt 0 ]; then
    label='FLAKY (passed when run again)'
  fi
  while IFS= read -r line; do
    summary+=("$line")
  done < <(failures "$log_file" | sed "s/^  FAIL /  $label /")
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
