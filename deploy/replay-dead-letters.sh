#!/usr/bin/env bash
# Replays the messages of a cases-automation dead-letter queue: each message's original event is
# sent to the function again (a synchronous invoke, so the outcome is known), and the message is
# deleted only when the function succeeded. Failed messages stay in the queue and become visible
# again after the visibility timeout below.
#
#   deploy/replay-dead-letters.sh QUEUE_URL FUNCTION_NAME [--dry-run]
#
# Works for the queues of the stack whose messages are not SQS-redrivable:
#   EventDeliveryDeadLetterQueue  messages are the original EventBridge events
#   AsyncFailureQueue             messages are invocation records; the event is requestPayload
#   SweepDeadLetterQueue          messages are the schedules' payloads (a Scheduled Sweep event)
# The original event keeps its EventBridge `id`, from which the function derives its idempotency
# tokens, so a replay of an event that partly took effect does not duplicate cases. (Replaying
# through `aws events put-events` would give the event a new id, and AWS sources such as
# aws.connect cannot be put at all.)
#
# For the buffer queue's dead-letter queue use SQS redrive instead (docs/deployment.md):
#   aws sqs start-message-move-task --source-arn EVENT_QUEUE_DLQ_ARN
#
# Needs the AWS CLI and jq, and credentials allowed sqs:ReceiveMessage/DeleteMessage on the queue
# and lambda:InvokeFunction on the function.
set -euo pipefail

usage() {
    echo "usage: $0 QUEUE_URL FUNCTION_NAME [--dry-run]" >&2
    exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
queue_url=$1
function_name=$2
dry_run=false
if [[ $# -eq 3 ]]; then
    [[ $3 == --dry-run ]] || usage
    dry_run=true
fi
for tool in aws jq; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is not installed" >&2; exit 2; }
done

# Long enough for a synchronous invoke of the whole batch (10 x the function's 30 s timeout).
visibility_timeout=300
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

replayed=0
failed=0
while :; do
    aws sqs receive-message --queue-url "$queue_url" --max-number-of-messages 10 \
        --visibility-timeout "$visibility_timeout" --wait-time-seconds 2 --output json >"$work/batch.json"
    count=$(jq '.Messages // [] | length' "$work/batch.json")
    [[ $count -gt 0 ]] || break
    for ((i = 0; i < count; i++)); do
        jq -r ".Messages[$i].Body" "$work/batch.json" >"$work/body.json"
        receipt=$(jq -r ".Messages[$i].ReceiptHandle" "$work/batch.json")
        if jq -e 'type == "object" and has("requestContext") and has("requestPayload")' "$work/body.json" >/dev/null 2>&1; then
            jq '.requestPayload' "$work/body.json" >"$work/event.json"
        else
            cp "$work/body.json" "$work/event.json"
        fi
        what=$(jq -r '[.source // "?", ."detail-type" // "?", .id // "?"] | join(" ")' "$work/event.json" 2>/dev/null || echo "unparsable message")
        if $dry_run; then
            echo "would replay: $what"
            continue
        fi
        if ! aws lambda invoke --function-name "$function_name" --invocation-type RequestResponse \
            --payload "fileb://$work/event.json" "$work/response.json" --output json >"$work/invoke.json"; then
            echo "not replayed (invoke failed): $what" >&2
            failed=$((failed + 1))
            continue
        fi
        if jq -e '.FunctionError' "$work/invoke.json" >/dev/null; then
            echo "failed again: $what: $(jq -c . "$work/response.json")" >&2
            failed=$((failed + 1))
            continue
        fi
        aws sqs delete-message --queue-url "$queue_url" --receipt-handle "$receipt"
        echo "replayed: $what"
        replayed=$((replayed + 1))
    done
done

echo "$replayed replayed, $failed failed (failed messages stay in the queue)"
[[ $failed -eq 0 ]]
