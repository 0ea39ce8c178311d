#!/usr/bin/env bash
# Generate one image with KIE's Flux Kontext API and download it: the script people run today from a
# terraform_data resource's local-exec provisioner, written the way a careful user would write it.
#
# Environment (terraform passes its own environment on to local-exec):
#   KIE_API_KEY     required
#   KIE_BASE_URL    default https://api.kie.ai
#   PROMPT, OUTPUT  set per resource in main.tf
#   POLL_INTERVAL   seconds between status checks, default 3
#   RETRY_SLEEP     seconds to wait after a 429 before posting again, default 5
set -euo pipefail

: "${KIE_API_KEY:?KIE_API_KEY is not set}" "${PROMPT:?PROMPT is not set}" "${OUTPUT:?OUTPUT is not set}"
base=${KIE_BASE_URL:-https://api.kie.ai}
poll=${POLL_INTERVAL:-3}
retry_sleep=${RETRY_SLEEP:-5}
auth="Authorization: Bearer $KIE_API_KEY"

body=$(jq -n --arg prompt "$PROMPT" '{prompt: $prompt, outputFormat: "png"}')

# Start the task. KIE allows 20 new tasks per 10 s: on 429 wait and try again (at most 60 times).
code=
for _ in $(seq 1 60); do
  resp=$(curl -sS -H "$auth" -H 'Content-Type: application/json' -d "$body" \
    "$base/api/v1/flux/kontext/generate")
  code=$(jq -r '.code' <<<"$resp")
  if [ "$code" = 200 ]; then
    break
  fi
  if [ "$code" != 429 ]; then
    echo "generate failed: $resp" >&2
    exit 1
  fi
  sleep "$retry_sleep"
done
if [ "$code" != 200 ]; then
  echo "generate: still rate limited after 60 attempts" >&2
  exit 1
fi
task_id=$(jq -r '.data.taskId' <<<"$resp")
echo "task $task_id started"

# Wait for it: check every few seconds, give up after 300 checks (15 minutes at 3 s).
for _ in $(seq 1 300); do
  sleep "$poll"
  info=$(curl -sS -H "$auth" "$base/api/v1/flux/kontext/record-info?taskId=$task_id")
  flag=$(jq -r '.data.successFlag // empty' <<<"$info")
  case $flag in
    1)
      url=$(jq -r '.data.response.resultImageUrl' <<<"$info")
      mkdir -p "$(dirname "$OUTPUT")"
      curl -sS --fail -o "$OUTPUT" "$url"
      echo "task $task_id done: $OUTPUT"
      exit 0
      ;;
    2 | 3)
      echo "task $task_id failed: $info" >&2
      exit 1
      ;;
  esac
done
echo "task $task_id: gave up waiting" >&2
exit 1
