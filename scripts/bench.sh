#!/usr/bin/env bash
# make bench: apply N kie_flux_image resources against kie-mock with KIE's limits (time-scaled), and
# the same N images the way users do it today (terraform_data + local-exec + curl, bench/baseline/),
# and the provider with its callback_receiver (kie-mock POSTs a signed callback when a task ends);
# measure wall time, API calls per image, 429s, provider memory, plan time of 1,000 finished images
# and memory while downloading 50 large images. Writes bench/REPORT.md, the figures behind it
# (bench/REPORT.json) and bench/inflight.png; raw CSVs, logs and working dirs stay in bench/work/
# (gitignored). Not part of make test.
#
#   BENCH_SCALE=10          time scale S: generation 10-30 s/S, 20 creates per 10 s/S, poll and
#                           timeout knobs divided by S (S=1 is real time)
#   BENCH_SIZES="100 500"   image counts of the apply runs
#   BENCH_QUICK=1           smoke run: N=20 only, small plan and download scenarios; writes its
#                           report to bench/work/quick/ instead of bench/
#   BENCH_PLAN_N=1000       images in the plan/refresh comparison
#   BENCH_IMAGE_MIN_BYTES=1000000 BENCH_IMAGE_MAX_BYTES=2000000
#                           kie-mock pads each image to a size in this range, like KIE's 1-2 MB
#                           photographs (0 0: the mock's own, much smaller gradients)
#   BENCH_IMAGE_SCALE=0.25  kie-mock's -image-scale for the apply and plan runs: the picture it draws
#                           (padded to the sizes above all the same). Drawing is KIE's work, done on
#                           KIE's servers; here it shares the CPUs with the provider under test, and a
#                           full-size picture (1) costs tens of milliseconds each
#   BENCH_BIG_N=50 BENCH_BIG_MIB=20 BENCH_BIG_RATE_MIB=4
#                           the large-download memory scenario (images, MiB each, MiB/s per download)
#   BENCH_CREATE_RATE_LIMIT=20        the provider's create_rate_limit
#   BENCH_CREATE_WINDOW_ATTR=name     provider attribute of the create window, set to 10 s/S
#                                     (default: create_rate_window when the provider has it)
#   BENCH_APPLY_TIMEOUT=3600          seconds before one apply is interrupted
#   BENCH_LARGE_N=5000      images of the one large apply, run with the real provider and with its floor
#                           (bench/noop-provider with KIE_NOOP=apply: ApplyResourceChange answered at once)
#   BENCH_LARGE_PARALLELISM=50        its -parallelism
#   BENCH_LARGE_IMAGE_SCALE=0.1       its kie-mock -image-scale, unpadded (~10 KB PNGs): the scenario
#                           measures the provider's share of Terraform's walk, not downloads
#   BENCH_PROFILE=1         run the large apply's provider as bench/profile-provider (the same provider,
#                           profiled): CPU, heap, mutex and block profiles in bench/work/TAG/profile/
#   BENCH_SHARED_N=100      images per run of the shared-account scenario (3 concurrent applies with
#                           one key, and a second apply joining a first one half way)
#   BENCH_SHARED_TRIALS=3   trials of each shared-account scenario (its targets use the median trial)
#   BENCH_MIXED_N=100       images per run of the mixed-account scenario (half kie_flux_image, half
#                           kie_image on the Market API; one apply, and 2 concurrent applies)
#   BENCH_MIXED_RT_N=40     images per run of its 3 concurrent applies in real time (S=1, whatever BENCH_SCALE)
#   BENCH_MIXED_TRIALS=3    trials of the concurrent mixed scenarios (their targets use the median trial)
#   BENCH_ONLY="shared"     run only these scenarios (apply shared mixed large plan memory) and write no report:
#                           for trying a change quickly; raw data goes to bench/work/only/
#   KIE_PINNED_ONLY=1       ignore a terraform on PATH (see scripts/ensure-cli.sh)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd -P)
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
KIE_LIB_PREFIX=bench

log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

version=0.0.0-dev
api_key=bench-key
scale=${BENCH_SCALE:-10}
sizes=${BENCH_SIZES:-100 500}
plan_n=${BENCH_PLAN_N:-1000}
image_min=${BENCH_IMAGE_MIN_BYTES:-1000000}
image_max=${BENCH_IMAGE_MAX_BYTES:-2000000}
image_scale=${BENCH_IMAGE_SCALE:-0.25}
big_n=${BENCH_BIG_N:-50}
big_mib=${BENCH_BIG_MIB:-20}
big_rate=${BENCH_BIG_RATE_MIB:-4}
create_rate_limit=${BENCH_CREATE_RATE_LIMIT:-20}
apply_timeout=${BENCH_APPLY_TIMEOUT:-3600}
shared_n=${BENCH_SHARED_N:-100}
shared_trials=${BENCH_SHARED_TRIALS:-3}
mixed_n=${BENCH_MIXED_N:-100}
mixed_rt_n=${BENCH_MIXED_RT_N:-40}
mixed_trials=${BENCH_MIXED_TRIALS:-3}
large_n=${BENCH_LARGE_N:-5000}
large_par=${BENCH_LARGE_PARALLELISM:-50}
large_image_scale=${BENCH_LARGE_IMAGE_SCALE:-0.1}
profile=${BENCH_PROFILE:-}
only=${BENCH_ONLY:-}
for scenario in $only; do
  case $scenario in apply | shared | mixed | large | plan | memory) ;; *) die "BENCH_ONLY: unknown scenario '$scenario' (apply shared mixed large plan memory)" ;; esac
done
# want SCENARIO: whether this run includes it.
want() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
quick=
if [ "${BENCH_QUICK:-}" = 1 ]; then
  quick=1
  sizes=20
  plan_n=${BENCH_PLAN_N:-50}
  big_n=${BENCH_BIG_N:-5}
  shared_n=${BENCH_SHARED_N:-20}
  shared_trials=${BENCH_SHARED_TRIALS:-1}
  mixed_n=${BENCH_MIXED_N:-20}
  mixed_rt_n=${BENCH_MIXED_RT_N:-10}
  mixed_trials=${BENCH_MIXED_TRIALS:-1}
  large_n=${BENCH_LARGE_N:-200}
fi

awk -v s="$scale" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 1000) }' || die "BENCH_SCALE must be a number in (0, 1000], not '$scale'"
for n in $sizes $plan_n $big_n $shared_n $shared_trials $mixed_n $mixed_rt_n $mixed_trials $large_n $large_par; do
  case $n in '' | *[!0-9]*) die "image counts must be whole numbers, got '$n'" ;; esac
  [ "$n" -gt 0 ] || die "image counts must be positive"
done
case $big_mib$big_rate in '' | *[!0-9.]*) die "BENCH_BIG_MIB and BENCH_BIG_RATE_MIB must be numbers" ;; esac
case $image_min$image_max in '' | *[!0-9]*) die "BENCH_IMAGE_MIN_BYTES and BENCH_IMAGE_MAX_BYTES must be whole numbers" ;; esac
[ "$image_min" -le "$image_max" ] || die "BENCH_IMAGE_MIN_BYTES must not exceed BENCH_IMAGE_MAX_BYTES"
awk -v s="$image_scale" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 4) }' || die "BENCH_IMAGE_SCALE must be a number in (0, 4], not '$image_scale'"
awk -v s="$large_image_scale" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 4) }' ||
  die "BENCH_LARGE_IMAGE_SCALE must be a number in (0, 4], not '$large_image_scale'"
# kie-mock's picture size and padding for the apply and plan runs.
image_pad=(-image-scale "$image_scale" -image-min-bytes "$image_min" -image-max-bytes "$image_max")

# Scaled durations: ms BASE_MS prints BASE_MS/S rounded to whole milliseconds (at least 1);
# secs BASE_MS prints BASE_MS/S in seconds.
ms() { awk -v b="$1" -v s="$scale" 'BEGIN { v = int(b / s + 0.5); if (v < 1) v = 1; print v }'; }
secs() { awk -v b="$1" -v s="$scale" 'BEGIN { printf "%.3f", b / 1000 / s }'; }
# KIE's timing (README's Benchmark section; internal/kiemock/options.go): generation 10-30 s, at
# most 20 new tasks per 10 s.
latency_ms=$(ms 10000)
jitter_ms=$(ms 20000)
window_ms=$(ms 10000)
# kie-mock's Retry-After comes in whole seconds at S=1; scaled, in tenths of a second at S=10.
retry_after_unit_ms=$(ms 1000)
# The provider's defaults, each divided by S: poll_initial_delay 8s, poll_min_interval 3s,
# poll_max_interval 30s, request_timeout 60s, status_query_rate 10/s.
initial_delay_ms=$(ms 8000)
poll_min_ms=$(ms 3000)
poll_max_ms=$(ms 30000)
request_timeout_ms=$(ms 60000)
query_rate=$(awk -v s="$scale" 'BEGIN { printf "%g", 10 * s }')
# callback_receiver's safety_poll_interval (default 60s), divided by S.
safety_poll_ms=$(ms 60000)
# The baseline script polls every 3 s and sleeps 5 s after a 429.
baseline_poll=$(secs 3000)
baseline_retry=$(secs 5000)

tag=s$scale
[ -z "$quick" ] || tag=quick
[ -z "$only" ] || tag=only
work="$root/bench/work"
run_dir="$work/$tag"
bin="$work/bin"
if [ -n "$quick" ]; then
  report_dir="$run_dir"
else
  report_dir="$root/bench"
fi

# ---------------------------------------------------------------------------------------------
# Everything started in the background is tracked here and stopped on exit.
bg_pids=()
mock_pids=()
cleanup() {
  local rc=$? p
  for p in "${bg_pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -INT "$p" 2>/dev/null || true
    fi
  done
  for p in "${bg_pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for p in "${mock_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    log "failed (exit $rc); logs in ${run_dir#"$root"/}/logs/"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local p keep=()
  for p in "${bg_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  bg_pids=("${keep[@]}")
}

# start_mock NAME ARGS...: start a kie-mock; sets mock_url and mock_pid.
start_mock() {
  local name=$1
  shift
  KIE_LIB_MOCK_BIN="$bin/kie-mock" kie_start_mock "$run_dir/logs/mock-$name.log" "$run_dir/mock-$name.url" \
    -api-key "$api_key" "$@"
  mock_url=$KIE_LIB_MOCK_URL
  mock_pid=$KIE_LIB_MOCK_PID
  mock_pids+=("$mock_pid")
  KIE_LIB_MOCK_PID=
  local args="$*"
  [ -z "${callback_secret:-}" ] || args=${args//"$callback_secret"/<secret>}
  log "kie-mock '$name' on $mock_url: $args"
}

stop_mock() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

mock_get() { curl -fsS --max-time 10 "$1/_mock/$2"; }
mock_post() { curl -fsS --max-time 10 -X POST "$1/_mock/$2" >/dev/null; }

# wait_idle URL: wait (bounded) until no task is generating, then one create window more, so the
# next run starts with an empty rate-limit window.
wait_idle() {
  local i inflight
  for i in $(seq 1 600); do
    inflight=$(mock_get "$1" stats | jq -r '.inFlight')
    [ "$inflight" != 0 ] || break
    [ "$i" -lt 600 ] || die "the mock still has $inflight tasks generating after 120 s"
    sleep 0.2
  done
  sleep "$(awk -v w="$window_ms" 'BEGIN { printf "%.3f", w / 1000 + 0.2 }')"
}

now_ns() { date +%s%N; }

# ---------------------------------------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "scale S=$scale, sizes: $sizes, large apply: $large_n, plan: $plan_n images, large downloads: $big_n x ${big_mib} MiB${quick:+ (quick)}"
cli=$(scripts/ensure-cli.sh terraform)
# sed reads all of the output: `| head -n1` could end the CLI with SIGPIPE and fail under pipefail.
cli_version=$(TF_CLI_CONFIG_FILE=/dev/null "$cli" version 2>/dev/null | sed -n 1p)
log "using $cli_version at $cli"

rm -rf "$run_dir"
mkdir -p "$run_dir"/{logs,csv,runs,tf} "$bin"

log "building everything (go build ./...), the provider, kie-mock and the bench tools..."
go build ./...
kie_build_binaries "$bin" "$version"
# The commit the binaries were built from (others may commit while the benchmark runs).
build_commit="$(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- . ':!bench' ':!scripts/bench.sh' ':!scripts/lib.sh' 2>/dev/null || echo '+local changes')"
for tool in sampler chart report cdn; do
  go build -trimpath -o "$bin/bench-$tool" "./bench/$tool"
done
# The provider with instant Validate/Read/Plan answers (bench/noop-provider), for the plan floor; with
# KIE_NOOP=apply, instant ApplyResourceChange answers instead, for the large apply's floor.
mkdir -p "$bin/noop"
go build -trimpath -o "$bin/noop/terraform-provider-kie" ./bench/noop-provider
if [ -n "$profile" ]; then
  mkdir -p "$bin/profile" "$run_dir/profile"
  go build -trimpath -o "$bin/profile/terraform-provider-kie" ./bench/profile-provider
fi

rm -rf "$work/mirror"
cli_config=$(kie_install_mirror "$work" "$bin/terraform-provider-kie" "$version")
export TF_CLI_CONFIG_FILE="$cli_config"
# The CLI configuration of the floor plans: the same working dirs, served by bench/noop-provider.
noop_config="$work/noop.tfrc"
kie_write_overrides_config "$noop_config" "$bin/noop" kie-community/kie
profile_config="$work/profile.tfrc"
kie_write_overrides_config "$profile_config" "$bin/profile" kie-community/kie
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_PLUGIN_CACHE_DIR TF_LOG TF_LOG_PROVIDER
export KIE_API_KEY=$api_key

# prepare_dir KIND DIR: a working dir with the configuration of KIND (provider or baseline), initialised.
prepare_dir() {
  local kind=$1 dir=$2
  mkdir -p "$dir"
  cp "bench/$kind"/*.tf "$dir/"
  if [ "$kind" = baseline ]; then
    cp bench/baseline/generate.sh "$dir/"
  else
    kie_write_dev_override "$dir" "$version"
  fi
  (cd "$dir" && "$cli" init -input=false -no-color) >"$run_dir/logs/init-$kind-$(basename "$dir").log" 2>&1 ||
    die "terraform init in $dir failed: see $run_dir/logs/"
}

prepare_dir provider "$run_dir/tf/provider"
prepare_dir baseline "$run_dir/tf/baseline"

# Scaled knobs that only newer providers have are set in provider_override.tf when the schema
# has them: the create window (create_rate_limit counts per 10 s otherwise) and poll_initial_delay.
attrs=$(cd "$run_dir/tf/provider" && "$cli" providers schema -json |
  jq -r '.provider_schemas | to_entries[] | select(.key | test("kie-community/kie$")) | .value.provider.block.attributes | keys[]')
window_attr=${BENCH_CREATE_WINDOW_ATTR:-$(grep -E '^create_rate_(window|period|interval|per)$' <<<"$attrs" | sed -n 1p || true)}
if [ -n "$window_attr" ] && ! grep -qx "$window_attr" <<<"$attrs"; then
  die "the provider has no attribute '$window_attr'"
fi
initial_attr=
if grep -qx poll_initial_delay <<<"$attrs"; then initial_attr=poll_initial_delay; fi
provider_window=10s
if [ -n "$window_attr" ]; then
  provider_window="${window_ms}ms"
  log "provider create window: $window_attr = $provider_window"
elif [ "$window_ms" != 10000 ]; then
  log "WARNING: the provider has no create-window option; create_rate_limit=$create_rate_limit stays per 10 s" \
    "while the mock's window is ${window_ms} ms, so the provider creates at most 1/$scale of what the scaled" \
    "mock allows. The report says so; BENCH_SCALE=1 measures without this distortion."
fi

# write_provider_override DIR WINDOW INITIAL_DELAY: set the optional knobs in DIR.
write_provider_override() {
  local f="$1/provider_override.tf"
  rm -f "$f"
  [ -n "$window_attr$initial_attr" ] || return 0
  {
    printf '# Written by scripts/bench.sh: knobs of this provider version, scaled.\nprovider "kie" {\n'
    [ -z "$window_attr" ] || printf '  %s = "%s"\n' "$window_attr" "$2"
    [ -z "$initial_attr" ] || printf '  %s = "%s"\n' "$initial_attr" "$3"
    printf '}\n'
  } >"$f"
}
write_provider_override "$run_dir/tf/provider" "$provider_window" "${initial_delay_ms}ms"

# Provider knob values of the timed runs (scaled); the other scenarios override some of them.
provider_vars() {
  printf '%s\n' -var="base_url=$1" -var="request_timeout=${2:-${request_timeout_ms}ms}" \
    -var="poll_min_interval=${3:-${poll_min_ms}ms}" -var="poll_max_interval=${4:-${poll_max_ms}ms}" \
    -var="create_rate_limit=${5:-$create_rate_limit}" -var="status_query_rate=${6:-$query_rate}"
}

# cpu_ticks PID: user+system CPU time of a process in clock ticks (0 when it is gone).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# timed_apply ID KIND DIR N PARALLELISM MOCK_URL [VAR ARGS...]: one apply from an empty state,
# sampled; writes runs/ID.json. With timed_mock_pid set, the run also records that kie-mock's CPU time.
timed_mock_pid=
timed_apply() {
  local id=$1 kind=$2 dir=$3 n=$4 par=$5 url=$6
  shift 6
  local -a extra=("$@")
  rm -rf "$dir/terraform.tfstate" "$dir/terraform.tfstate.backup" "$dir/out"
  wait_idle "$url"
  mock_post "$url" reset-stats
  log "run $id: $kind, N=$n, -parallelism=$par..."
  local start end rc=0 tf_pid sampler_pid mock_ticks=0
  [ -z "$timed_mock_pid" ] || mock_ticks=$(cpu_ticks "$timed_mock_pid")
  start=$(now_ns)
  (
    cd "$dir"
    # shellcheck disable=SC2030 # only for this apply
    export KIE_BASE_URL="$url" POLL_INTERVAL="$baseline_poll" RETRY_SLEEP="$baseline_retry"
    # The callback runs' signing key reaches the provider through the environment, not argv.
    [ "$kind" != callback ] || export TF_VAR_callback_hmac_key="$callback_secret"
    exec timeout -s INT -k 60 "$apply_timeout" "$cli" apply -auto-approve -input=false -no-color \
      -parallelism="$par" -var="n=$n" -var="out_dir=out" "${extra[@]}"
  ) >"$run_dir/logs/$id.log" 2>&1 &
  tf_pid=$!
  bg_pids+=("$tf_pid")
  "$bin/bench-sampler" -pid "$tf_pid" -mock "$url" -cli-name "$(basename "$cli")" -log "$run_dir/logs/$id.log" \
    -stats "$run_dir/csv/$id-stats.csv" -rss "$run_dir/csv/$id-rss.csv" \
    -summary "$run_dir/runs/$id-sampler.json" -max "$((apply_timeout + 120))s" &
  sampler_pid=$!
  bg_pids+=("$sampler_pid")
  wait "$tf_pid" || rc=$?
  end=$(now_ns)
  [ -z "$timed_mock_pid" ] || mock_ticks=$(($(cpu_ticks "$timed_mock_pid") - mock_ticks))
  forget_pid "$tf_pid"
  wait "$sampler_pid" || log "sampler of $id exited with an error"
  forget_pid "$sampler_pid"
  mock_get "$url" stats >"$run_dir/runs/$id-stats.json"
  mock_get "$url" tasks >"$run_dir/runs/$id-tasks.json"
  local files=0 bytes=0
  if [ -d "$dir/out" ]; then
    files=$(find "$dir/out" -type f ! -name '.*' | wc -l | tr -d ' ')
    bytes=$(find "$dir/out" -type f ! -name '.*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  fi
  jq -n --arg id "$id" --arg kind "$kind" --argjson n "$n" --argjson par "$par" --argjson rc "$rc" \
    --argjson start "$start" --argjson finish "$end" --argjson files "$files" --argjson bytes "$bytes" \
    --slurpfile stats "$run_dir/runs/$id-stats.json" --slurpfile sampler "$run_dir/runs/$id-sampler.json" \
    --argjson mockCpu "$([ -n "$timed_mock_pid" ] && awk -v t="$mock_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }' || echo null)" \
    '{id: $id, kind: $kind, n: $n, parallelism: $par, exitCode: $rc, startNs: $start, endNs: $finish,
      wallSec: (($finish - $start) / 1e9), files: $files, bytes: $bytes, stats: $stats[0], sampler: $sampler[0]}
      + (if $mockCpu == null then {} else {mockCpuSec: $mockCpu} end)' \
    >"$run_dir/runs/$id.json"
  rm -f "$run_dir/runs/$id-stats.json" "$run_dir/runs/$id-sampler.json"
  local wall
  wall=$(jq -r '.wallSec | . * 10 | round / 10' "$run_dir/runs/$id.json")
  if [ "$rc" -ne 0 ]; then
    log "run $id FAILED (exit $rc) after ${wall}s; see ${run_dir#"$root"/}/logs/$id.log"
  else
    log "run $id: ${wall}s, $(jq -r '"\(.stats.generateRequests) POSTs, \(.stats.statusQueries) status queries, \(.stats.rateLimited) 429s, \(.stats.callbacksSent)/\(.stats.callbacksFailed) callbacks sent/failed, \(.files) files"' "$run_dir/runs/$id.json")"
  fi
}

# ---------------------------------------------------------------------------------------------
# 1. Timed applies against the realistic (scaled) mock.
if want apply; then
start_mock main -latency "${latency_ms}ms" -jitter "${jitter_ms}ms" -create-limit 20 \
  -create-window "${window_ms}ms" -retry-after-unit "${retry_after_unit_ms}ms" "${image_pad[@]}"
main_url=$mock_url
main_pid=$mock_pid
# The callback variant runs against a second mock with the same limits that signs its callbacks
# with a key made for this run (the provider gets it as hmac_key, so unsigned callbacks would be
# refused). The provider listens on a free loopback port and derives its callBackUrl from it.
callback_secret=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
[ "${#callback_secret}" = 32 ] || die "could not make a callback secret"
start_mock callback -latency "${latency_ms}ms" -jitter "${jitter_ms}ms" -create-limit 20 \
  -create-window "${window_ms}ms" -retry-after-unit "${retry_after_unit_ms}ms" "${image_pad[@]}" \
  -callback-secret "$callback_secret"
callback_url=$mock_url
callback_pid=$mock_pid
for n in $sizes; do
  mapfile -t pvars < <(provider_vars "$main_url")
  timed_apply "provider-n$n-p50" provider "$run_dir/tf/provider" "$n" 50 "$main_url" "${pvars[@]}"
  timed_apply "provider-n$n-p10" provider "$run_dir/tf/provider" "$n" 10 "$main_url" "${pvars[@]}"
  mapfile -t cvars < <(provider_vars "$callback_url")
  timed_apply "callback-n$n-p50" callback "$run_dir/tf/provider" "$n" 50 "$callback_url" "${cvars[@]}" \
    -var="callback_listen=127.0.0.1:0" -var="callback_safety_poll_interval=${safety_poll_ms}ms"
  timed_apply "baseline-n$n-p50" baseline "$run_dir/tf/baseline" "$n" 50 "$main_url"
done
stop_mock "$callback_pid"
stop_mock "$main_pid"
fi

# ---------------------------------------------------------------------------------------------
# One account, several runs (the shared and mixed scenarios): separate working directories and provider
# processes, one key, one kie-mock. Each run tags its prompts ([mock:tag=...]) so that the mock counts
# its requests apart. A scenario sets: acct_url, acct_n (images per run), acct_sub (working dirs
# tf/SUB-I, results SUB/ID.json), acct_pvars (provider_vars), acct_vars (the image-count -var
# arguments) and acct_meta (JSON merged into ID.json).
acct_meta='{}'

# account_start ID I: start run I of scenario ID in the background (sets acct_last_pid); it writes
# "START_NS END_NS EXIT" to SUB/ID-rI.times when it ends.
account_start() {
  local id=$1 i=$2 dir="$run_dir/tf/$acct_sub-$2"
  rm -rf "$dir/terraform.tfstate" "$dir/terraform.tfstate.backup" "$dir/out"
  (
    start=$(now_ns)
    rc=0
    cd "$dir"
    KIE_BASE_URL="$acct_url" timeout -s INT -k 60 "$apply_timeout" "$cli" apply -auto-approve -input=false \
      -no-color -parallelism=50 "${acct_vars[@]}" -var="out_dir=out" -var="prompt_tag=[mock:tag=$id-r$i] " \
      "${acct_pvars[@]}" >"$run_dir/logs/$id-r$i.log" 2>&1 || rc=$?
    echo "$start $(now_ns) $rc" >"$run_dir/$acct_sub/$id-r$i.times"
  ) &
  acct_last_pid=$!
  bg_pids+=("$acct_last_pid")
}

# account_scenario ID RUNS JOIN: RUNS applies of acct_n images; with JOIN=1 run 2 starts once
# run 1 has created half of its images, else all start together.
account_scenario() {
  local id=$1 runs=$2 join=$3 i p created out="$run_dir/$acct_sub"
  local -a pids=()
  wait_idle "$acct_url"
  mock_post "$acct_url" reset-stats
  log "account $id: $runs runs of N=$acct_n, -parallelism=50 each$([ "$join" = 1 ] && echo ', run 2 joins half way')..."
  for i in $(seq 1 "$runs"); do
    if [ "$join" = 1 ] && [ "$i" -gt 1 ]; then
      for _ in $(seq 1 $((apply_timeout * 10))); do
        created=$(mock_get "$acct_url" tag-stats | jq -r --arg t "$id-r1" '.[$t].tasksCreated // 0')
        [ "$created" -lt $(((acct_n + 1) / 2)) ] || break
        sleep 0.1
      done
    fi
    account_start "$id" "$i"
    pids+=("$acct_last_pid")
  done
  for p in "${pids[@]}"; do
    wait "$p" || true
    forget_pid "$p"
  done
  mock_get "$acct_url" stats >"$out/$id-stats.json"
  mock_get "$acct_url" tag-stats >"$out/$id-tags.json"
  # Both APIs' tasks (the Market's list is empty when no kie_image ran).
  { mock_get "$acct_url" tasks && mock_get "$acct_url" market-tasks; } | jq -s 'map(. // []) | add' >"$out/$id.tasks"
  local runs_json='[]' start end rc files
  for i in $(seq 1 "$runs"); do
    read -r start end rc <"$out/$id-r$i.times"
    files=0
    [ ! -d "$run_dir/tf/$acct_sub-$i/out" ] || files=$(find "$run_dir/tf/$acct_sub-$i/out" -type f ! -name '.*' | wc -l | tr -d ' ')
    runs_json=$(jq -c --arg tag "$id-r$i" --argjson start "$start" --argjson finish "$end" --argjson rc "$rc" \
      --argjson files "$files" '. + [{tag: $tag, startNs: $start, endNs: $finish, exitCode: $rc, files: $files}]' <<<"$runs_json")
    log "  run $i: $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) / 1e9 }')s, exit $rc, $files files"
  done
  jq -n --arg id "$id" --argjson n "$acct_n" --argjson join "$join" --argjson runs "$runs_json" \
    --slurpfile stats "$out/$id-stats.json" --slurpfile tags "$out/$id-tags.json" --argjson extra "$acct_meta" \
    '{id: $id, n: $n, parallelism: 50, join: ($join == 1), runs: $runs, stats: $stats[0], tags: $tags[0]} + $extra' \
    >"$out/$id.json"
  rm -f "$out/$id-stats.json" "$out/$id-tags.json" "$out/$id"-r*.times
  log "account $id: $(jq -r '.stats | "\(.tasksCreated) tasks (\(.marketTasksCreated // 0) Market), \(.generateRequests + (.marketCreateRequests // 0)) create POSTs, \(.rateLimited) 429s, \(.statusQueries) status queries"' "$out/$id.json")"
}

# ---------------------------------------------------------------------------------------------
# 1b. One account, several runs of kie_flux_image. Writes shared/ID.json.
if want shared; then
start_mock shared -latency "${latency_ms}ms" -jitter "${jitter_ms}ms" -create-limit 20 \
  -create-window "${window_ms}ms" -retry-after-unit "${retry_after_unit_ms}ms" "${image_pad[@]}"
shared_pid=$mock_pid
mkdir -p "$run_dir/shared"
for i in 1 2 3; do
  prepare_dir provider "$run_dir/tf/shared-$i"
  write_provider_override "$run_dir/tf/shared-$i" "$provider_window" "${initial_delay_ms}ms"
done
acct_url=$mock_url acct_n=$shared_n acct_sub=shared acct_meta='{}'
acct_vars=(-var="n=$shared_n")
mapfile -t acct_pvars < <(provider_vars "$acct_url")
# The shared runs vary more from trial to trial than the single ones (who collides with whom): each
# scenario runs several times, and the report judges the median trial and shows every one.
for trial in $(seq 1 "$shared_trials"); do
  account_scenario "shared-3-t$trial" 3 0
  account_scenario "shared-join-t$trial" 2 1
done
stop_mock "$shared_pid"
for i in 1 2 3; do rm -rf "$run_dir/tf/shared-$i/out"; done
fi

# ---------------------------------------------------------------------------------------------
# 1b, mixed. Mixed account: every run applies half kie_flux_image and half kie_image (bench/mixed/market.tf,
# google/nano-banana) with one key, so Flux generate and Market createTask draw on one create window.
# One apply of BENCH_MIXED_N, two together, then three of BENCH_MIXED_RT_N together in real time
# (S = 1 whatever BENCH_SCALE: KIE's own 10 s window and 10-30 s generations). Writes mixed/ID.json
# with each scenario's limits, which the report's bounds use.
mixed_scenarios() {
  local i trial rt_pid
  mkdir -p "$run_dir/mixed"
  for i in 1 2 3; do
    prepare_dir provider "$run_dir/tf/mixed-$i"
    cp bench/mixed/*.tf "$run_dir/tf/mixed-$i/"
  done
  # mixed_set N SCALE LATENCY_MS JITTER_MS WINDOW_MS RETRY_AFTER_UNIT: the next scenarios' settings.
  mixed_set() {
    acct_n=$1 acct_sub=mixed
    acct_vars=(-var="n=$(($1 / 2))" -var="market_n=$(($1 - $1 / 2))")
    acct_meta=$(jq -nc --argjson s "$2" --argjson l "$3" --argjson j "$4" --argjson w "$5" --arg u "$6" \
      --argjson f "$(($1 / 2))" --argjson m "$(($1 - $1 / 2))" \
      '{limits: {scale: $s, createLimit: 20, latencyMs: $l, jitterMs: $j, windowMs: $w, retryAfterUnit: $u},
        mix: {flux: $f, market: $m, model: "google/nano-banana"}}')
  }
  start_mock mixed -latency "${latency_ms}ms" -jitter "${jitter_ms}ms" -create-limit 20 \
    -create-window "${window_ms}ms" -retry-after-unit "${retry_after_unit_ms}ms" "${image_pad[@]}"
  acct_url=$mock_url
  for i in 1 2 3; do write_provider_override "$run_dir/tf/mixed-$i" "$provider_window" "${initial_delay_ms}ms"; done
  mapfile -t acct_pvars < <(provider_vars "$acct_url")
  mixed_set "$mixed_n" "$scale" "$latency_ms" "$jitter_ms" "$window_ms" "${retry_after_unit_ms}ms"
  account_scenario mixed-1 1 0
  for trial in $(seq 1 "$mixed_trials"); do account_scenario "mixed-2-t$trial" 2 0; done
  stop_mock "$mock_pid"

  start_mock mixed-rt -latency 10000ms -jitter 20000ms -create-limit 20 -create-window 10000ms \
    -retry-after-unit 1000ms "${image_pad[@]}"
  acct_url=$mock_url rt_pid=$mock_pid
  # The provider's defaults, unscaled.
  for i in 1 2 3; do write_provider_override "$run_dir/tf/mixed-$i" 10s 8s; done
  mapfile -t acct_pvars < <(provider_vars "$acct_url" 60s 3s 30s "$create_rate_limit" 10)
  mixed_set "$mixed_rt_n" 1 10000 20000 10000 1000ms
  # wait_idle waits out one create window of this mock, not of the scaled ones.
  local window_ms=10000
  for trial in $(seq 1 "$mixed_trials"); do account_scenario "mixed-rt3-t$trial" 3 0; done
  stop_mock "$rt_pid"
  for i in 1 2 3; do rm -rf "$run_dir/tf/mixed-$i/out"; done
}
if want mixed; then mixed_scenarios; fi

# ---------------------------------------------------------------------------------------------
# 1c. One large apply (BENCH_LARGE_N images, 5,000 by default) against the same scaled limits, and its
# floor: the same apply served by bench/noop-provider with KIE_NOOP=apply (the real provider, its
# ApplyResourceChange answered at once: no request, no wait, no file), i.e. Terraform's own cost of
# walking that many resources of this schema. Pictures are small and unpadded (~10 KB at 0.1) so that
# neither the mock's drawing nor the disk competes with Terraform and the provider for the 2 CPUs.
if want large; then
start_mock large -latency "${latency_ms}ms" -jitter "${jitter_ms}ms" -create-limit 20 \
  -create-window "${window_ms}ms" -retry-after-unit "${retry_after_unit_ms}ms" \
  -image-scale "$large_image_scale" -image-min-bytes 0 -image-max-bytes 0
large_url=$mock_url
large_pid=$mock_pid
prepare_dir provider "$run_dir/tf/large"
write_provider_override "$run_dir/tf/large" "$provider_window" "${initial_delay_ms}ms"
mapfile -t large_pvars < <(provider_vars "$large_url")
timed_mock_pid=$large_pid
if [ -n "$profile" ]; then
  TF_CLI_CONFIG_FILE="$profile_config" KIE_PROFILE_DIR="$run_dir/profile" timed_apply "large-provider-n$large_n-p$large_par" \
    provider "$run_dir/tf/large" "$large_n" "$large_par" "$large_url" "${large_pvars[@]}"
  log "profiles of the large apply's provider: ${run_dir#"$root"/}/profile/"
else
  timed_apply "large-provider-n$large_n-p$large_par" provider "$run_dir/tf/large" "$large_n" "$large_par" "$large_url" \
    "${large_pvars[@]}"
fi
KIE_NOOP=apply TF_CLI_CONFIG_FILE="$noop_config" timed_apply "large-floor-n$large_n-p$large_par" floor \
  "$run_dir/tf/large" "$large_n" "$large_par" "$large_url" "${large_pvars[@]}"
timed_mock_pid=
stop_mock "$large_pid"
rm -rf "$run_dir/tf/large/out" "$run_dir/tf/large/terraform.tfstate" "$run_dir/tf/large/terraform.tfstate.backup"
fi

# ---------------------------------------------------------------------------------------------
# 2. Plan/refresh of finished images: both states come from real applies against a mock without
# limits or latency (setup only); then each is planned three times with the mock's counters reset.
if want plan; then
start_mock plan -latency 0 "${image_pad[@]}"
plan_url=$mock_url
plan_pid=$mock_pid
prepare_dir provider "$run_dir/tf/plan-provider"
prepare_dir provider "$run_dir/tf/plan-provider-nofile"
prepare_dir provider "$run_dir/tf/plan-provider-empty"
prepare_dir baseline "$run_dir/tf/plan-baseline"
prepare_dir baseline "$run_dir/tf/plan-baseline-empty"
for d in plan-provider plan-provider-nofile plan-provider-empty; do
  write_provider_override "$run_dir/tf/$d" 10s 50ms
done
mapfile -t plan_pvars < <(provider_vars "$plan_url" 60s 50ms 1s 100000 1000)
saved_poll=$baseline_poll saved_retry=$baseline_retry
baseline_poll=0.05 baseline_retry=0.5
timed_apply "setup-plan-provider" provider "$run_dir/tf/plan-provider" "$plan_n" 50 "$plan_url" "${plan_pvars[@]}"
timed_apply "setup-plan-provider-nofile" provider "$run_dir/tf/plan-provider-nofile" "$plan_n" 50 "$plan_url" \
  "${plan_pvars[@]}" -var="out_dir="
timed_apply "setup-plan-baseline" baseline "$run_dir/tf/plan-baseline" "$plan_n" 50 "$plan_url"
baseline_poll=$saved_poll baseline_retry=$saved_retry

# timed_plan ID DIR N OUT_DIR [VAR ARGS...]: terraform plan (with refresh) of an applied state;
# writes runs/ID.json.
timed_plan() {
  local id=$1 dir=$2 n=$3 out=$4
  shift 4
  local -a extra=("$@")
  local start end rc=0 tf_pid sampler_pid before after
  before=$(mock_get "$plan_url" stats)
  start=$(now_ns)
  (
    cd "$dir"
    # shellcheck disable=SC2031
    export KIE_BASE_URL="$plan_url"
    exec timeout -s INT -k 30 600 "$cli" plan -input=false -no-color -detailed-exitcode \
      -var="n=$n" -var="out_dir=$out" "${extra[@]}"
  ) >"$run_dir/logs/$id.log" 2>&1 &
  tf_pid=$!
  bg_pids+=("$tf_pid")
  "$bin/bench-sampler" -pid "$tf_pid" -cli-name "$(basename "$cli")" -rss "$run_dir/csv/$id-rss.csv" \
    -summary "$run_dir/runs/$id-sampler.json" -max 700s &
  sampler_pid=$!
  bg_pids+=("$sampler_pid")
  wait "$tf_pid" || rc=$?
  end=$(now_ns)
  forget_pid "$tf_pid"
  wait "$sampler_pid" || true
  forget_pid "$sampler_pid"
  after=$(mock_get "$plan_url" stats)
  jq -n --arg id "$id" --argjson n "$n" --argjson rc "$rc" --argjson start "$start" --argjson finish "$end" \
    --argjson before "$before" --argjson after "$after" --slurpfile sampler "$run_dir/runs/$id-sampler.json" \
    '{id: $id, n: $n, exitCode: $rc, wallSec: (($finish - $start) / 1e9), sampler: $sampler[0],
      apiCalls: ([ "generateRequests", "statusQueries", "downloads", "creditQueries", "downloadUrlRequests", "uploads" ]
        | map(. as $k | $after[$k] - $before[$k]) | add),
      delta: ($after | with_entries(.value -= ($before[.key] // 0)))}' >"$run_dir/runs/$id.json"
  rm -f "$run_dir/runs/$id-sampler.json"
  log "plan $id: $(jq -r '"\(.wallSec * 100 | round / 100)s, exit \(.exitCode) (0 = no changes), \(.apiCalls) API calls"' "$run_dir/runs/$id.json")"
}

# The first plan after an apply hashes every output file once (the local index cannot vouch for a file
# it has not seen settle); it is measured on its own, and the repeated plans below are the target's.
timed_plan "plan-provider-first-1" "$run_dir/tf/plan-provider" "$plan_n" out "${plan_pvars[@]}"
# The target compares the first two; the others split the provider's time into the fixed cost of
# starting it (an empty configuration) and the cost of checking the local files (no output_path), and
# measure the floor: the same state planned with bench/noop-provider, which answers at once.
for rep in 1 2 3; do
  timed_plan "plan-provider-$rep" "$run_dir/tf/plan-provider" "$plan_n" out "${plan_pvars[@]}"
  TF_CLI_CONFIG_FILE="$noop_config" timed_plan "plan-provider-floor-$rep" "$run_dir/tf/plan-provider" "$plan_n" out "${plan_pvars[@]}"
  timed_plan "plan-baseline-$rep" "$run_dir/tf/plan-baseline" "$plan_n" out
  timed_plan "plan-provider-nofile-$rep" "$run_dir/tf/plan-provider-nofile" "$plan_n" "" "${plan_pvars[@]}"
  timed_plan "plan-provider-empty-$rep" "$run_dir/tf/plan-provider-empty" 0 out "${plan_pvars[@]}"
  timed_plan "plan-baseline-empty-$rep" "$run_dir/tf/plan-baseline-empty" 0 out
done
stop_mock "$plan_pid"
rm -rf "$run_dir/tf/plan-provider/out" "$run_dir/tf/plan-baseline/out"
fi

# ---------------------------------------------------------------------------------------------
# 3. Memory while downloading many large images at once. kie-mock's own images stay small (see the
# report), so its result links point at bench/cdn, which serves a PNG of noise of BENCH_BIG_MIB MiB.
# Creates are unlimited and every task takes the same time, so all downloads start together.
if want memory; then
prepare_dir provider "$run_dir/tf/big"
write_provider_override "$run_dir/tf/big" 10s 2s
rm -f "$run_dir/cdn.url"
"$bin/bench-cdn" -addr 127.0.0.1:0 -url-file "$run_dir/cdn.url" -mib "$big_mib" -rate-mib "$big_rate" -max 30m \
  >"$run_dir/logs/cdn.log" 2>&1 &
cdn_pid=$!
mock_pids+=("$cdn_pid")
for _ in $(seq 1 300); do [ ! -s "$run_dir/cdn.url" ] || break; sleep 0.1; done
[ -s "$run_dir/cdn.url" ] || die "bench/cdn did not start within 30 s"
cdn_url=$(cat "$run_dir/cdn.url")
start_mock big -latency 3s -image-scale 1 -public-url "$cdn_url"
big_url=$mock_url
big_pid=$mock_pid
mapfile -t big_pvars < <(provider_vars "$big_url" 60s 500ms 5s 100000 1000)
timed_apply "bigdl-cdn-n$big_n" provider "$run_dir/tf/big" "$big_n" 50 "$big_url" "${big_pvars[@]}"
curl -fsS --max-time 10 "$cdn_url/_cdn/stats" >"$run_dir/runs/bigdl-cdn-n$big_n-cdn.json"
stop_mock "$big_pid"
stop_mock "$cdn_pid"
rm -rf "$run_dir/tf/big/out"

# The same with kie-mock's largest own images (-image-scale 4, JPEG), for comparison.
start_mock big4 -latency 3s -image-scale 4
mapfile -t big_pvars < <(provider_vars "$mock_url" 60s 500ms 5s 100000 1000)
timed_apply "bigdl-mock4-n$big_n" provider "$run_dir/tf/big" "$big_n" 50 "$mock_url" "${big_pvars[@]}" \
  -var="output_format=jpeg"
stop_mock "$mock_pid"
rm -rf "$run_dir/tf/big/out"
fi

# ---------------------------------------------------------------------------------------------
# 4. Report and chart.
if [ -n "$only" ]; then
  log "BENCH_ONLY=\"$only\": partial run, no report written (raw data: ${run_dir#"$root"/}/)"
  exit 0
fi
jq -n --arg date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  --arg command "$(env | grep -E '^BENCH_' | LC_ALL=C sort | tr '\n' ' ')make bench" \
  --arg scale "$scale" --arg sizes "$sizes" --argjson quick "$([ -n "$quick" ] && echo true || echo false)" \
  --arg nproc "$(nproc)" --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p)" \
  --arg mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
  --arg loadStart "$load_start" --arg loadEnd "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg kernel "$(uname -sr)" --arg cli "$cli_version" --arg go "$(go version | cut -d' ' -f3-)" \
  --arg commit "$build_commit" \
  --argjson latencyMs "$latency_ms" --argjson jitterMs "$jitter_ms" --argjson windowMs "$window_ms" \
  --arg pollMin "${poll_min_ms}ms" --arg pollMax "${poll_max_ms}ms" --arg requestTimeout "${request_timeout_ms}ms" \
  --arg queryRate "$query_rate" --argjson createRateLimit "$create_rate_limit" \
  --arg initialAttr "$initial_attr" --arg initialDelay "${initial_delay_ms}ms" --arg safetyPoll "${safety_poll_ms}ms" \
  --arg windowAttr "$window_attr" --arg providerWindow "$provider_window" \
  --arg baselinePoll "$baseline_poll" --arg baselineRetry "$baseline_retry" \
  --argjson imageMin "$image_min" --argjson imageMax "$image_max" --arg imageScale "$image_scale" \
  --argjson sharedN "$shared_n" --arg retryAfterUnit "${retry_after_unit_ms}ms" \
  --argjson planN "$plan_n" --argjson bigN "$big_n" --arg bigMiB "$big_mib" --arg bigRate "$big_rate" \
  --argjson largeN "$large_n" --argjson largePar "$large_par" --arg largeImageScale "$large_image_scale" \
  '{date: $date, command: $command, scale: ($scale | tonumber), sizes: ($sizes | split(" ") | map(select(. != "") | tonumber)),
    quick: $quick, nproc: $nproc, cpu: $cpu, mem: $mem, kernel: $kernel, loadStart: $loadStart, loadEnd: $loadEnd, cli: $cli, go: $go, commit: $commit,
    createLimit: 20, latencyMs: $latencyMs, jitterMs: $jitterMs, windowMs: $windowMs,
    provider: {pollMin: $pollMin, pollMax: $pollMax, requestTimeout: $requestTimeout, queryRate: $queryRate,
      createRateLimit: $createRateLimit, windowAttr: $windowAttr, window: $providerWindow,
      initialDelayAttr: $initialAttr, initialDelay: $initialDelay, safetyPoll: $safetyPoll},
    baseline: {poll: $baselinePoll, retrySleep: $baselineRetry},
    imageMinBytes: $imageMin, imageMaxBytes: $imageMax, imageScale: ($imageScale | tonumber),
    sharedN: $sharedN, retryAfterUnit: $retryAfterUnit,
    planN: $planN, bigN: $bigN, bigMiB: ($bigMiB | tonumber), bigRateMiB: ($bigRate | tonumber),
    largeN: $largeN, largeParallelism: $largePar, largeImageScale: ($largeImageScale | tonumber)}' >"$run_dir/meta.json"

# shellcheck disable=SC2086 # split the list
largest=$(printf '%s\n' $sizes | sort -n | tail -n1)
"$bin/bench-chart" -out "$report_dir/inflight.png" \
  -title "KIE tasks in flight, N=$largest, S=$scale" \
  "kie_flux_image, -parallelism=50=$run_dir/csv/provider-n$largest-p50-stats.csv" \
  "kie_flux_image, -parallelism=10=$run_dir/csv/provider-n$largest-p10-stats.csv" \
  "kie_flux_image + callback_receiver, -parallelism=50=$run_dir/csv/callback-n$largest-p50-stats.csv" \
  "terraform_data + curl, -parallelism=50=$run_dir/csv/baseline-n$largest-p50-stats.csv"
"$bin/bench-report" -dir "$run_dir" -out "$report_dir/REPORT.md" -json "$report_dir/REPORT.json" -chart inflight.png
[ "$report_dir" = "$run_dir" ] || cp "$report_dir/REPORT.md" "$report_dir/REPORT.json" "$report_dir/inflight.png" "$run_dir/"
log "wrote ${report_dir#"$root"/}/REPORT.md and ${report_dir#"$root"/}/inflight.png (raw data: ${run_dir#"$root"/}/)"
