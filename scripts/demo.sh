#!/usr/bin/env bash
# The main job on the local default: the local Cases service with the demo seed, the function
# under `cargo lambda watch` pointed at it, every sample event invoked, then the resulting cases
# with their fields, related items and audit trail. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA=${CARGO_LAMBDA:-.venv/bin/cargo-lambda}
CASES_PORT=${CASES_PORT:-4566}
STORE_PORT=${STORE_PORT:-4567}
INVOKE_PORT=${INVOKE_PORT:-9000}
MOTO_PYTHON=${MOTO_PYTHON:-.venv-moto/bin/python}
CLAIMS_TABLE=cases-automation-claims
# Logs and state live outside the crate: `cargo lambda watch` rebuilds when files in it change.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cases-automation-demo.XXXXXX")
ENDPOINT="http://127.0.0.1:${CASES_PORT}"
STORE_ENDPOINT="http://127.0.0.1:${STORE_PORT}"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

for port in "$CASES_PORT" "$STORE_PORT" "$INVOKE_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use; set CASES_PORT / STORE_PORT / INVOKE_PORT to free ports" >&2
    exit 1
  fi
done

step "Building (first run: several minutes), while the demo's tools install"
# cargo-lambda and moto's server install from PyPI into their virtualenvs on first use, alongside
# the build rather than before it.
make --no-print-directory -j2 demo-tools >"$WORK/setup.log" 2>&1 &
setup=$!
pids+=("$setup")
# One build of everything the demo runs, with the whole workspace and its dev-dependencies in view:
# the dependencies' features then match what `make test` builds, so the two share every artifact.
# (Built alone, the function would get other features of tokio, hyper and tower, and with them a
# second compile of the AWS SDK.)
cargo build --locked --quiet --workspace --bins --example cases_report
wait "$setup" || { echo "installing cargo-lambda or moto failed:"; cat "$WORK/setup.log"; exit 1; }

step "Starting the local Cases service on $ENDPOINT (demo seed; its search index trails the writes by 1 s, as the real one does)"
setsid target/debug/cases-emulator --listen "127.0.0.1:${CASES_PORT}" --search-lag-ms 1000 \
  --state "$WORK/cases-state.json" --events-out "$WORK/case-events.jsonl" >"$WORK/cases-service.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/cases-service.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$WORK/cases-service.log" || { cat "$WORK/cases-service.log"; exit 1; }

step "Starting the coordination store: a DynamoDB-compatible server (moto) on $STORE_ENDPOINT, with the claims table"
setsid "$MOTO_PYTHON" scripts/moto_server.py --port "$STORE_PORT" >"$WORK/store.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/store.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$WORK/store.log" || { cat "$WORK/store.log"; exit 1; }
AWS_ENDPOINT_URL_DYNAMODB="$STORE_ENDPOINT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
  target/debug/cases-automation claims init --table "$CLAIMS_TABLE" | sed 's/^/  /'
# The function's work queue on the same server: scheduled sweeps send their work items to it.
WORK_QUEUE_URL=$("$MOTO_PYTHON" scripts/work_queue.py --endpoint "$STORE_ENDPOINT" create)
echo "  work queue: $WORK_QUEUE_URL"

step "Starting the function under cargo lambda watch's Runtime API (invoke port $INVOKE_PORT)"
# `cargo lambda watch` serves the Runtime API and the invoke endpoint; the function is the binary
# built above (watch would compile it again, with other dependency features), given only the
# variables of its environment file, as Lambda gives it only the function's.
sed -e "s#^AWS_ENDPOINT_URL_CONNECTCASES=.*#AWS_ENDPOINT_URL_CONNECTCASES=$ENDPOINT#" \
  -e "s#^AWS_ENDPOINT_URL_CUSTOMER_PROFILES=.*#AWS_ENDPOINT_URL_CUSTOMER_PROFILES=$ENDPOINT#" \
  -e "s#^AWS_ENDPOINT_URL_CONNECT=.*#AWS_ENDPOINT_URL_CONNECT=$ENDPOINT#" \
  -e "s#^AWS_ENDPOINT_URL_DYNAMODB=.*#AWS_ENDPOINT_URL_DYNAMODB=$STORE_ENDPOINT#" \
  -e "s#^AWS_ENDPOINT_URL_SQS=.*#AWS_ENDPOINT_URL_SQS=$STORE_ENDPOINT#" \
  -e "s#^WORK_QUEUE_URL=.*#WORK_QUEUE_URL=$WORK_QUEUE_URL#" \
  -e "s#^CLAIMS_TABLE=.*#CLAIMS_TABLE=$CLAIMS_TABLE#" scripts/local.env >"$WORK/function.env"
setsid "$CARGO_LAMBDA" lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
  >"$WORK/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$INVOKE_PORT") 2>/dev/null && break
  sleep 0.1
done
grep -v '^#' "$WORK/function.env" | grep . >"$WORK/function.vars"
setsid env -i PATH="$PATH" $(cat "$WORK/function.vars") \
  AWS_LAMBDA_FUNCTION_NAME=cases-automation AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:${INVOKE_PORT}/.rt/cases-automation" \
  target/debug/cases-automation >"$WORK/function.log" 2>&1 &
pids+=($!)

invoke() {
  "$CARGO_LAMBDA" lambda invoke cases-automation --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
    --output-format json --data-file "$1" 2>&1
}

# The first invocation waits for the Runtime API and the function to start.
ready=""
for _ in $(seq 1 120); do
  if invoke events/contact-connected-to-agent.json >/dev/null 2>&1; then ready=yes; break; fi
  sleep 1
done
[ -n "$ready" ] || { echo "the function did not start:"; tail -30 "$WORK/watch.log" "$WORK/function.log"; exit 1; }

step "An order case nobody has touched for 20 days before the sample sweep's scheduled time (the local service's clock set back while it is created)"
set_clock() {
  python3 - "$ENDPOINT" "$1" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(f"{sys.argv[1]}/_emulator/clock", method="PUT", data=json.dumps({"now": sys.argv[2]}).encode(),
                             headers={"content-type": "application/json"})
urllib.request.urlopen(req).read()
PY
}
python3 - "$WORK/old-order.json" "$WORK/old-order.time" <<'PY'
import datetime, json, sys
scheduled = json.load(open("events/schedule-auto-close.json"))["sweep"]["scheduledTime"]
at = datetime.datetime.fromisoformat(scheduled.replace("Z", "+00:00")) - datetime.timedelta(days=20)
event = json.load(open("events/custom-order-delayed.json"))
event["id"] = "e0826073-4b1f-4c52-9d0e-000000000020"
event["detail"]["orderNumber"] = "ORD-30020"
json.dump(event, open(sys.argv[1], "w"))
open(sys.argv[2], "w").write(at.strftime("%Y-%m-%dT%H:%M:%SZ"))
PY
set_clock "$(cat "$WORK/old-order.time")"
old_case=$(invoke "$WORK/old-order.json" | python3 -c 'import json,sys; raw=sys.stdin.read(); print(json.loads(raw[raw.index("{"):])["results"][0]["caseId"])')
set_clock "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
echo "  case $old_case (order ORD-30020), last updated $(cat "$WORK/old-order.time")"

step "Invoking the function with every sample event (events/)"
printf '%-40s %s\n' "event" "what the function did"
for file in events/*.json; do
  name=$(basename "$file")
  if output=$(invoke "$file"); then status=ok; else status=error; fi
  summary=$(python3 - "$status" "$output" <<'PY'
import json, sys
status, raw = sys.argv[1], sys.argv[2]
try:
    out = json.loads(raw[raw.index("{"):])
except Exception:
    print(("ERROR " if status == "error" else "") + " ".join(raw.split())[:160]); sys.exit()
if status == "error" or "errorType" in out:
    print("ERROR %s: %s" % (out.get("errorType", "?"), out.get("errorMessage", raw)[:140])); sys.exit()
if "batchItemFailures" in out:
    failed = [f["itemIdentifier"] for f in out["batchItemFailures"]]
    print("SQS batch: %d record(s) reported failed for redelivery: %s" % (len(failed), ", ".join(failed))); sys.exit()
if "caseId" in out:
    print("flow: rules=%s case=%s created=%s actions=%s" % (out.get("rules"), out["caseId"], out.get("caseCreated"), out.get("actions"))); sys.exit()
if out.get("sweep"):
    sw = out["sweep"]
    print("sweep %s: %s case(s) selected, sent to the work queue%s" % (sw.get("rule"), sw.get("sent"), "" if sw.get("done") else " (continues)")); sys.exit()
if out.get("outcome") == "skipped":
    print("skipped: %s" % out.get("reason")); sys.exit()
parts = []
for r in out.get("results", []):
    acts = ",".join("%s:%s" % (a["action"], a["status"]) for a in r.get("actions", []))
    parts.append("%s -> case %s (%s) %s" % (r["rule"], r.get("caseId", "-"), r["case"], acts))
print("; ".join(parts))
PY
)
  printf '%-40s %s\n' "$name" "$summary"
done

step "The sweep's work items, from the queue to the function in SQS batches (the event source mapping's job in AWS)"
batches=0
while :; do
  received=$("$MOTO_PYTHON" scripts/work_queue.py --endpoint "$STORE_ENDPOINT" receive "$WORK/work-batch.json")
  [ "$received" -gt 0 ] || break
  invoke "$WORK/work-batch.json" >"$WORK/work-answer.json" || true
  failed=$("$MOTO_PYTHON" scripts/work_queue.py --endpoint "$STORE_ENDPOINT" settle "$WORK/work-batch.json" "$WORK/work-answer.json")
  echo "  a batch of $received work item(s): $failed returned for redelivery"
  batches=$((batches + 1))
  [ "$batches" -lt 20 ] || { echo "  the queue did not drain in 20 batches"; break; }
done
[ "$batches" -gt 0 ] || echo "  the queue is empty: the sweep selected no case"
python3 - "$ENDPOINT" "$old_case" <<'PY'
import json, sys, urllib.request
endpoint, case_id = sys.argv[1], sys.argv[2]
req = urllib.request.Request(f"{endpoint}/domains/demo-domain/cases/{case_id}", method="POST",
                             data=json.dumps({"fields": [{"id": "status"}]}).encode(), headers={"content-type": "application/json"})
status = json.load(urllib.request.urlopen(req))["fields"][0]["value"]["stringValue"]
print(f"  the 20-day-old case {case_id}: status {status}; every case touched since is left open")
PY

step "Invoking the abandoned-call event twice more (redelivery): still one case, one link, one SLA"
for _ in 1 2; do
  invoke events/contact-disconnected-abandoned.json | python3 -c 'import json,sys; r=json.loads(sys.stdin.read())["results"][0]; print("  ", r["rule"], "case", r["caseId"], [a["action"]+":"+a["status"] for a in r["actions"]])'
done

step "One case per business fact: two different events about one new order, at the same moment"
for n in 1 2; do
  python3 - "$WORK/order-$n.json" "$n" <<'PY'
import json, sys
event = json.load(open("events/custom-order-delayed.json"))
event["id"] = "e0826073-4b1f-4c52-9d0e-00000000000%s" % sys.argv[2]
event["detail"]["orderNumber"] = "ORD-77001"
event["detail"]["reason"] = ["carrier delay", "warehouse backlog"][int(sys.argv[2]) - 1]
json.dump(event, open(sys.argv[1], "w"))
PY
done
invoke "$WORK/order-1.json" >"$WORK/order-1.out" &
first=$!
invoke "$WORK/order-2.json" >"$WORK/order-2.out" &
second=$!
wait "$first" "$second" || true
for n in 1 2; do
  python3 -c 'import json,sys; raw=open(sys.argv[1]).read(); r=json.loads(raw[raw.index("{"):])["results"][0]; print("   event", sys.argv[2], "->", r["rule"], "case", r["caseId"], "("+r["case"]+")", [a["action"]+":"+a["status"] for a in r["actions"]])' "$WORK/order-$n.out" "$n"
done
python3 - "$WORK/order-1.out" "$WORK/order-2.out" <<'PY'
import json, sys
results = []
for path in sys.argv[1:]:
    raw = open(path).read()
    results.append(json.loads(raw[raw.index("{"):])["results"][0])
if len({r["caseId"] for r in results}) == 1:
    how = [r["case"] for r in results if r["case"] != "created"]
    print("  Both end on one case (the other event: %s)." % (how[0] if how else "created it too?"))
else:
    print("  TWO cases for one order: %s" % ", ".join(r["caseId"] for r in results))
PY

step "Customer Profiles: the abandoned call named no profile; the caller was found by phone number"
customer_of() {
  python3 - "$ENDPOINT" "$1" <<'PY'
import json, sys, urllib.request
endpoint, case_id = sys.argv[1], sys.argv[2]
req = urllib.request.Request(f"{endpoint}/domains/demo-domain/cases/{case_id}", method="POST",
                             data=json.dumps({"fields": [{"id": "customer_id"}]}).encode(), headers={"content-type": "application/json"})
fields = json.load(urllib.request.urlopen(req))["fields"]
arn = fields[0]["value"]["stringValue"]
profiles = json.load(urllib.request.urlopen(f"{endpoint}/_emulator/profiles/demo-profiles"))
profile = next((p for p in profiles if arn.endswith("/" + p["ProfileId"])), {})
name = " ".join(filter(None, [profile.get("FirstName"), profile.get("LastName")])) or "(new profile)"
print(f"   case {case_id}: customer_id = {arn}\n   profile: {name}, phone {profile.get('PhoneNumber')}, attributes {profile.get('Attributes', {})}")
PY
}
case_id=$(invoke events/contact-disconnected-abandoned.json | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["results"][0]["caseId"])')
customer_of "$case_id"
echo "  A caller no profile knows: SearchProfiles finds nothing, so the rule (ifNone: create) creates one"
python3 - "$WORK/unknown-caller.json" <<'PY'
import json, sys
event = json.load(open("events/contact-disconnected-abandoned.json"))
event["id"] = "5f0c2f4e-8a9b-4c1d-9e2f-000000000111"
event["detail"]["contactId"] = "7a6b5c4d-3e2f-4a1b-8c9d-000000000111"
event["detail"]["customerEndpoint"]["address"] = "+12065550111"
json.dump(event, open(sys.argv[1], "w"))
PY
case_id=$(invoke "$WORK/unknown-caller.json" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["results"][0]["caseId"])')
customer_of "$case_id"

step "Contact attributes: the CONTACT_DATA_UPDATED event carried none; the rule read them from Amazon Connect"
python3 - "$ENDPOINT" <<'PY'
import json, sys, urllib.request
endpoint = sys.argv[1]
event = json.load(open("events/contact-updated-attributes.json"))["detail"]
instance = event["instanceArn"].rsplit("/", 1)[-1]
# What GetContactAttributes answers (the local service's Amazon Connect subset), and the case.
attributes = json.load(urllib.request.urlopen(f"{endpoint}/contact/attributes/{instance}/{event['initialContactId']}"))["Attributes"]
req = urllib.request.Request(f"{endpoint}/domains/demo-domain/list-cases-for-contact", method="POST",
                             data=json.dumps({"contactArn": f"{event['instanceArn']}/contact/{event['contactId']}"}).encode(),
                             headers={"content-type": "application/json"})
cases = json.load(urllib.request.urlopen(req))["cases"]
print(f"   contact {event['contactId']}: attribute orderNumber = {attributes.get('orderNumber')} (not in the event)")
for case in cases:
    req = urllib.request.Request(f"{endpoint}/domains/demo-domain/cases/{case['caseId']}", method="POST",
                                 data=json.dumps({"fields": [{"id": "6f1e2d3c-0000-4000-8000-000000000002"}]}).encode(),
                                 headers={"content-type": "application/json"})
    fields = json.load(urllib.request.urlopen(req))["fields"]
    order = next((f["value"].get("stringValue") for f in fields), None)
    print(f"   its case {case['caseId']}: Order number = {order}")
PY

step "The resulting cases, read back through the AWS SDK (GetCase, SearchRelatedItems, GetCaseAuditEvents)"
sleep 1.2 # the search index the report lists cases with trails the writes by a second
target/debug/examples/cases_report --endpoint "$ENDPOINT" --domain demo-domain

step "Cases change events the writes caused (loop prevention skips those performed by cases-automation)"
python3 - "$WORK/case-events.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for e in events:
    u = e["detail"].get("performedBy", {}).get("user", {})
    who = u.get("customEntity") or u.get("userArn", "?").rsplit("/", 1)[-1]
    by.setdefault(who, []).append(e["detail"]["eventType"])
for who, types in by.items():
    print("  %3d events by %s (%s)" % (len(types), who, ", ".join(sorted(set(types)))))
PY
head -n 1 "$WORK/case-events.jsonl" >"$WORK/echo.json"
printf '  one of them sent back to the function, as the EventBridge rule would: '
invoke "$WORK/echo.json" | python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print(o["outcome"], "-", o.get("reason"))'

echo
echo "State, events and logs of this run: $WORK"
