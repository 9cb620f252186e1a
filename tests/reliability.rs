//! Reliability (SPEC §4): redelivery, partial failures, throttling under the real quotas, 5xx and
//! slow responses, a Lambda instance killed mid-batch, and change-event chains. Everything goes
//! through the real `aws-sdk-connectcases` client (with the function's production retry and
//! timeout settings) to the local Cases service, and is read back through the SDK.
//!
//! Bursts at the real quotas, through both delivery paths under AWS's own rules, are in
//! `tests/peak_load.rs`.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_connectcases::types::{FieldValue as SdkFieldValue, FieldValueUnion, UserUnion};
use cases_automation::cases::CasesApi;
use cases_automation::error::Error;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed};
use futures_util::future::join_all;
use serde_json::{Value, json};
use support::cases_service::{self, DOMAIN, IDENTITY};
use support::lambda::{StoreApp, instance_with_store, sample, spawn_function, stop_and_collect_logs};
use support::readback::{self, PRIORITY, PROMISED_BY};
use support::runtime_api::{Answer, RuntimeApi};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cases-automation";
/// The function's timeout in the SAM template.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(30);
/// The seeded case the add-note and order-priority samples name.
const SEEDED_CASE: &str = "068c193b-f65c-4902-9f77-7337923fe54e";

/// How far the local service's search index trails the writes: about what the real one does.
const LAG: Duration = Duration::from_secs(1);

/// The world as the template deploys the function into: the local Cases service with its search
/// index trailing the writes by [`LAG`], and a coordination store table of its own.
struct Local {
    service: Emulator,
    table: String,
}

impl std::ops::Deref for Local {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        &self.service
    }
}

impl Local {
    /// Lets the search index catch up before reading back through SearchCases and
    /// SearchRelatedItems (the service's clock moves; nothing sleeps).
    fn settle(&self) {
        self.service.advance_clock(LAG + Duration::from_millis(1));
    }
}

async fn start_service(with_seeded_cases: bool, quotas: bool) -> Local {
    let seed = if with_seeded_cases { Seed::demo() } else { Seed::demo().without_cases() };
    let service = Emulator::builder().seed(seed).quotas(quotas).search_lag(LAG).start().await.expect("the local Cases service starts");
    Local { service, table: support::moto::claims_table().await }
}

/// One Lambda instance of the template's deployment: production SDK settings, the coordination store.
fn instance(local: &Local, rules: RuleSet, extra: &[(&str, &str)]) -> StoreApp {
    instance_with_store(&local.service, rules, extra, &local.table)
}

/// The environment of the compiled binary for the coordination store of `local`.
fn store_environment(local: &Local) -> [(&'static str, String); 2] {
    [("CLAIMS_TABLE", local.table.clone()), ("AWS_ENDPOINT_URL_DYNAMODB", support::moto::endpoint().to_owned())]
}

async fn handle<
    C: CasesApi,
    P: cases_automation::customers::ProfilesApi,
    S: cases_automation::claims::ClaimStore,
    K: cases_automation::contacts::ContactsApi,
>(
    app: &App<C, P, S, K>,
    payload: Value,
    budget: Duration,
) -> Result<Value, Error> {
    app.handle(payload, &Invocation { deadline: Instant::now() + budget, function_arn: Some(FUNCTION_ARN.into()) }).await
}

fn sqs_record(message_id: &str, event: &Value) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": format!("handle-{message_id}"),
        "body": event.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cases-automation-events",
        "awsRegion": "us-east-1",
    })
}

fn sqs_batch(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// The message ids in a response's `batchItemFailures`.
fn batch_failures(response: &Value) -> Vec<String> {
    let failures = response["batchItemFailures"].as_array().unwrap_or_else(|| panic!("not a batch response: {response}"));
    let mut ids: Vec<String> = failures.iter().map(|f| f["itemIdentifier"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// The case each answer names (flow map, EventBridge summary).
fn case_of(answer: &Value) -> String {
    answer["caseId"]
        .as_str()
        .or_else(|| answer.pointer("/results/0/caseId").and_then(Value::as_str))
        .unwrap_or_else(|| panic!("no case in {answer}"))
        .to_owned()
}

/// An "Order Delayed" event of its own: its own event id and order number.
fn order_delayed(n: usize) -> Value {
    let mut event = sample("custom-order-delayed.json");
    event["id"] = json!(format!("e0826073-0000-4000-8000-{n:012}"));
    event["detail"]["orderNumber"] = json!(format!("ORD-{:06}", 900_000 + n));
    event
}

/// An abandoned call of its own: its own event id and contact.
fn abandoned_call(n: usize) -> Value {
    let mut event = sample("contact-disconnected-abandoned.json");
    event["id"] = json!(format!("d67050fa-0000-4000-8000-{n:012}"));
    event["detail"]["contactId"] = json!(format!("90bc4c10-0000-4000-8000-{n:012}"));
    event
}

// ---------------------------------------------------------------------------------------------
// Redelivery
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// Three times, one after the other, to the same instance.
    Sequential,
    /// Three times, one after the other, each to a different instance (a new process each time).
    SequentialAcrossInstances,
    /// Three times at once to the same instance (an SQS batch, a flow retried by Connect).
    Concurrent,
}

async fn deliver_three_times(service: &Local, delivery: Delivery, payload: &Value) -> Vec<Value> {
    let budget = Duration::from_secs(20);
    let answers = match delivery {
        Delivery::Sequential => {
            let app = instance(service, RuleSet::default_rules(), &[]);
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(handle(&app, payload.clone(), budget).await);
            }
            answers
        }
        Delivery::SequentialAcrossInstances => {
            let mut answers = Vec::new();
            for _ in 0..3 {
                let app = instance(service, RuleSet::default_rules(), &[]);
                answers.push(handle(&app, payload.clone(), budget).await);
            }
            answers
        }
        Delivery::Concurrent => {
            let app = instance(service, RuleSet::default_rules(), &[]);
            join_all((0..3).map(|_| handle(&app, payload.clone(), budget))).await
        }
    };
    answers.into_iter().map(|a| a.unwrap_or_else(|e| panic!("{delivery:?}: {e}"))).collect()
}

/// The same contact-flow invocation (same ContactId), EventBridge event and SQS record, each
/// delivered three times, sequentially, across instances and concurrently: one case, one contact
/// link, one comment, one SLA — as the README promises.
#[tokio::test]
async fn every_trigger_redelivered_three_times_leaves_one_case_one_link_one_comment_one_sla() {
    let client_for = |service: &Local| cases_service::client(service);
    for delivery in [Delivery::Sequential, Delivery::SequentialAcrossInstances, Delivery::Concurrent] {
        // A flow opening a case: the same case every time, linked once.
        let service = start_service(false, false).await;
        let client = client_for(&service);
        let answers = deliver_three_times(&service, delivery, &sample("flow-voice-open-case.json")).await;
        let cases: HashSet<String> = answers.iter().map(case_of).collect();
        assert_eq!(cases.len(), 1, "{delivery:?}: {answers:?}");
        service.settle();
        assert_eq!(readback::all_cases(&client).await.len(), 1, "{delivery:?}");
        let case = cases.into_iter().next().unwrap();
        service.settle();
        assert_eq!(readback::item_counts(&client, &case).await, (1, 0, 0, 0), "{delivery:?}: one contact link");
        let done = answers.iter().filter(|a| a["actions"] == "linkContact:done").count();
        assert_eq!(done, 1, "{delivery:?}: one delivery linked, the others found the link: {answers:?}");

        // A flow adding a note: one comment.
        let service = service_with_cases().await;
        let client = client_for(&service);
        deliver_three_times(&service, delivery, &sample("flow-task-nested-params.json")).await;
        let note = sample("flow-task-nested-params.json")["Details"]["Parameters"]["note"].as_str().unwrap().to_owned();
        service.settle();
        let notes = readback::comments(&client, SEEDED_CASE).await.into_iter().filter(|c| *c == note).count();
        assert_eq!(notes, 1, "{delivery:?}: one comment");

        // An abandoned call (EventBridge): one case, one link, one SLA.
        let service = start_service(false, false).await;
        let client = client_for(&service);
        let answers = deliver_three_times(&service, delivery, &sample("contact-disconnected-abandoned.json")).await;
        assert_eq!(answers.iter().map(case_of).collect::<HashSet<_>>().len(), 1);
        service.settle();
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "{delivery:?}");
        service.settle();
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0), "{delivery:?}: one link, one SLA");

        // An order delay (EventBridge): one case, one comment, the new date set.
        let service = start_service(false, false).await;
        let client = client_for(&service);
        deliver_three_times(&service, delivery, &sample("custom-order-delayed.json")).await;
        service.settle();
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "{delivery:?}");
        service.settle();
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (0, 1, 0, 0), "{delivery:?}: one comment");
        assert_eq!(readback::text_field(&client, &cases[0], PROMISED_BY).await.as_deref(), Some("2026-12-03T17:00:00Z"));

        // The SQS batch (an abandoned call, an order delay, a malformed record).
        let service = start_service(false, false).await;
        let client = client_for(&service);
        let answers = deliver_three_times(&service, delivery, &sample("sqs-batch.json")).await;
        for answer in &answers {
            assert_eq!(batch_failures(answer), ["5f5609f9-1558-47d8-8695-c7979a5b7058"], "{delivery:?}: only the malformed record fails");
        }
        service.settle();
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 2, "{delivery:?}");
        let mut counts = Vec::new();
        for case in &cases {
            service.settle();
            counts.push(readback::item_counts(&client, case).await);
        }
        counts.sort();
        assert_eq!(
            counts,
            [(0, 1, 0, 0), (1, 0, 1, 0)],
            "{delivery:?}: the order case has one comment, the call case one link and one SLA"
        );
    }
}

async fn service_with_cases() -> Local {
    start_service(true, false).await
}

/// One SQS batch holding the same event three times (a producer that sent it three times), handled
/// by one instance with records in parallel: one case, one link, one SLA, and no record fails.
#[tokio::test]
async fn the_same_event_three_times_in_one_sqs_batch_is_applied_once() {
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let app = instance(&service, RuleSet::default_rules(), &[("SQS_CONCURRENCY", "4")]);
    let event = abandoned_call(1);
    let batch = sqs_batch(vec![sqs_record("m-1", &event), sqs_record("m-2", &event), sqs_record("m-3", &event)]);
    let response = handle(&app, batch, LAMBDA_TIMEOUT).await.unwrap();
    assert!(batch_failures(&response).is_empty(), "{response}");
    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 1);
    service.settle();
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0));
}

/// A redelivery after a partial failure (the case was created, a later step failed) completes
/// the work without repeating what was done, for every trigger.
#[tokio::test]
async fn redelivery_after_a_partial_failure_completes_without_duplicates() {
    // EventBridge: the case is created, then every related item fails.
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let app = instance(&service, RuleSet::default_rules(), &[]);
    service.inject_fault(Fault::error_always("CreateRelatedItem", ErrorKind::InternalServerException));
    let error = handle(&app, abandoned_call(1), LAMBDA_TIMEOUT).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.InternalServerException", "{error}");
    service.settle();
    assert_eq!(readback::all_cases(&client).await.len(), 1, "the case was created before the failure");
    service.clear_faults();
    handle(&app, abandoned_call(1), LAMBDA_TIMEOUT).await.unwrap();
    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 1);
    service.settle();
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0));

    // EventBridge: case and comment written, the update fails; the redelivery updates and does
    // not comment again.
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let app = instance(&service, RuleSet::default_rules(), &[]);
    service.inject_fault(Fault::error_always("UpdateCase", ErrorKind::InternalServerException));
    handle(&app, order_delayed(1), LAMBDA_TIMEOUT).await.unwrap_err();
    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (0, 1, 0, 0));
    assert_eq!(readback::text_field(&client, &cases[0], PROMISED_BY).await, None);
    service.clear_faults();
    // A new instance this time: nothing is remembered in memory.
    let fresh = instance(&service, RuleSet::default_rules(), &[]);
    handle(&fresh, order_delayed(1), LAMBDA_TIMEOUT).await.unwrap();
    service.settle();
    assert_eq!(readback::all_cases(&client).await, cases);
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (0, 1, 0, 0), "still one comment");
    assert_eq!(readback::text_field(&client, &cases[0], PROMISED_BY).await.as_deref(), Some("2026-12-03T17:00:00Z"));

    // SQS: the failed records come back (and only they), and complete.
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let app = instance(&service, RuleSet::default_rules(), &[]);
    let batch = sample("sqs-batch.json");
    service.inject_fault(Fault::error_always("CreateRelatedItem", ErrorKind::InternalServerException));
    let response = handle(&app, batch.clone(), LAMBDA_TIMEOUT).await.unwrap();
    let failed = batch_failures(&response);
    assert_eq!(failed.len(), 3, "both events failed after creating their case, and the malformed record: {response}");
    service.settle();
    assert_eq!(readback::all_cases(&client).await.len(), 2);
    service.clear_faults();
    let redelivered: Vec<Value> = batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| failed.contains(&r["messageId"].as_str().unwrap().to_owned()))
        .cloned()
        .collect();
    let response = handle(&app, sqs_batch(redelivered), LAMBDA_TIMEOUT).await.unwrap();
    assert_eq!(batch_failures(&response), ["5f5609f9-1558-47d8-8695-c7979a5b7058"]);
    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 2);
    let mut counts = Vec::new();
    for case in &cases {
        service.settle();
        counts.push(readback::item_counts(&client, case).await);
    }
    counts.sort();
    assert_eq!(counts, [(0, 1, 0, 0), (1, 0, 1, 0)]);

    // A contact flow: the link fails, the flow takes its Error branch; invoked again for the same
    // contact, it gets the same case, linked once.
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let app = instance(&service, RuleSet::default_rules(), &[]);
    service.inject_fault(Fault::error_always("CreateRelatedItem", ErrorKind::InternalServerException));
    let error = handle(&app, sample("flow-voice-open-case.json"), LAMBDA_TIMEOUT).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    service.clear_faults();
    let answer = handle(&app, sample("flow-voice-open-case.json"), LAMBDA_TIMEOUT).await.unwrap();
    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases, [case_of(&answer)]);
    assert_eq!(answer["actions"], "linkContact:done");
    service.settle();
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// 5xx and slow responses
// ---------------------------------------------------------------------------------------------

/// InternalServerException on every call: a flow gets an error (its Error branch) before its
/// timeout, an asynchronous invocation a retryable error, an SQS record a batch item failure;
/// nothing is written. A transient one is absorbed by the SDK's retries.
#[tokio::test]
async fn server_errors_fail_retryably_and_transient_ones_are_absorbed() {
    let service = start_service(false, false).await;
    let app = instance(&service, RuleSet::default_rules(), &[("FLOW_TIMEOUT_MS", "3000")]);
    service.inject_fault(Fault::error_always("*", ErrorKind::InternalServerException));

    let started = Instant::now();
    let error = handle(&app, sample("flow-voice-open-case.json"), LAMBDA_TIMEOUT).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "the flow got its answer within its timeout: {:?}", started.elapsed());
    assert_eq!(error.error_type(), "Retryable.InternalServerException", "{error}");

    let error = handle(&app, sample("custom-order-delayed.json"), LAMBDA_TIMEOUT).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.InternalServerException", "{error}");

    let response = handle(&app, sample("sqs-batch.json"), LAMBDA_TIMEOUT).await.unwrap();
    assert_eq!(batch_failures(&response).len(), 3, "{response}");
    let writes: u64 = ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| service.call_count(op)).sum();
    assert_eq!(writes, 0);

    // Two failures in a row, then the service recovers: the SDK's retries absorb them.
    service.clear_faults();
    service.inject_fault(Fault::error("CreateCase", ErrorKind::InternalServerException, 2));
    let outcome = handle(&app, sample("custom-order-delayed.json"), LAMBDA_TIMEOUT).await.unwrap();
    assert_eq!(outcome["outcome"], "applied");
    assert_eq!(service.call_count("CreateCase"), 3);
}

/// Slow responses: answers come before the deadline, as retryable errors, for every trigger.
#[tokio::test]
async fn slow_responses_get_a_retryable_answer_before_the_deadline() {
    let service = start_service(false, false).await;
    service.inject_fault(Fault::latency("*", Duration::from_secs(5)));
    let app = instance(&service, RuleSet::default_rules(), &[("FLOW_TIMEOUT_MS", "1000")]);

    // A flow: cut at its own timeout (1 s here) although Lambda would allow 30 s.
    let started = Instant::now();
    let error = handle(&app, sample("flow-voice-open-case.json"), LAMBDA_TIMEOUT).await.unwrap_err();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(1), "within the flow's timeout: {waited:?}");
    assert!(error.is_retryable(), "{error}");

    // An asynchronous invocation with 2 s left: a retryable error before the deadline.
    let started = Instant::now();
    let error = handle(&app, sample("custom-order-delayed.json"), Duration::from_secs(2)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(error.error_type(), "Retryable.DeadlineExceeded", "{error}");

    // An SQS batch with 2 s left: every record is reported failed, before the deadline.
    let started = Instant::now();
    let response = handle(&app, sample("sqs-batch.json"), Duration::from_secs(2)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(batch_failures(&response).len(), 3, "{response}");

    // One response slower than an attempt may take (3 s): the attempt times out and the SDK's
    // retry gets the answer, well within the Lambda timeout.
    service.clear_faults();
    service.reset_calls();
    service.inject_fault(Fault {
        operation: cases_emulator::Operation::SearchCases.into(),
        error: None,
        count: Some(1),
        latency_ms: Some(4_000),
        message: None,
    });
    let started = Instant::now();
    let outcome = handle(&app, sample("custom-order-delayed.json"), LAMBDA_TIMEOUT).await.unwrap();
    assert_eq!(outcome["outcome"], "applied");
    assert_eq!(service.call_count("SearchCases"), 2, "the slow attempt, then the retry");
    assert!(started.elapsed() < Duration::from_secs(4), "the slow attempt was cut: {:?}", started.elapsed());
}

/// The compiled binary under a Runtime API: a contact flow against a Cases service that takes
/// 10 s to answer gets an error within its FLOW_TIMEOUT_MS, so Connect takes the Error branch
/// instead of timing out itself.
#[tokio::test]
async fn the_binary_answers_a_flow_before_connect_gives_up_when_cases_is_slow() {
    let service = start_service(false, false).await;
    service.inject_fault(Fault::latency("*", Duration::from_secs(10)));
    let runtime = RuntimeApi::start().await;
    let child = spawn_function(&runtime, &service.endpoint_url(), &[("FLOW_TIMEOUT_MS", "2000")]);
    while runtime.first_next().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    let id = runtime.invoke(sample("flow-voice-open-case.json"), Duration::from_secs(8));
    let (answered, answer) = runtime.answer(Duration::from_secs(30)).await.expect("an answer");
    let waited = started.elapsed();
    assert_eq!(answered, id);
    assert!(waited < Duration::from_millis(2000), "answered within the flow's 2 s: {waited:?}");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type.starts_with("Retryable.")), "{answer:?}");
    stop_and_collect_logs(child).await;
}

/// The compiled binary's first invocation is a flow that waited 3 s for the cold start (the
/// Runtime API holds the first `next`, as a slow initialisation would), against a Cases service
/// that takes 10 s: Connect has been waiting since the process started, so the function answers
/// within the block's 4 s counted from then, not from when the invocation reached it (which
/// would be 7 s after the start). The check is against the flow's own timeout, measured from
/// before the process was spawned; the function keeps `FLOW_MARGIN` and its reporting margin
/// (750 ms) for the answer's way back and what precedes the process.
#[tokio::test]
async fn a_slow_cold_start_is_taken_out_of_the_flows_budget() {
    let flow_timeout = Duration::from_millis(4000);
    let service = start_service(false, false).await;
    service.inject_fault(Fault::latency("*", Duration::from_secs(10)));
    let runtime = RuntimeApi::start().await;
    runtime.delay_first_invocation(Duration::from_secs(3));
    // The invocation is there before the process: it is what the process is started for.
    let id = runtime.invoke(sample("flow-voice-open-case.json"), LAMBDA_TIMEOUT);
    let spawned = Instant::now();
    let child = spawn_function(&runtime, &service.endpoint_url(), &[("FLOW_TIMEOUT_MS", "4000")]);
    let (answered, answer) = runtime.answer(LAMBDA_TIMEOUT).await.expect("an answer");
    let waited = spawned.elapsed();
    assert_eq!(answered, id);
    assert!(waited < flow_timeout, "answered {waited:?} after the process was started, past the flow's {flow_timeout:?}");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type == "Retryable.DeadlineExceeded"), "{answer:?}");
    stop_and_collect_logs(child).await;
}

// ---------------------------------------------------------------------------------------------
// A Lambda instance killed mid-batch
// ---------------------------------------------------------------------------------------------

/// The compiled binary is killed while it works through an SQS batch (its Cases calls slowed down
/// so that it is mid-batch); the queue then hands the same batch to a fresh process. The end
/// state has one case per event, each with one contact link and one SLA.
#[tokio::test]
async fn an_instance_killed_mid_batch_leaves_no_duplicates_after_redelivery() {
    const EVENTS: usize = 6;
    let service = start_service(false, false).await;
    let client = cases_service::client(&service);
    let batch = sqs_batch((0..EVENTS).map(|n| sqs_record(&format!("m-{n}"), &abandoned_call(n))).collect());

    let slow_link = Duration::from_millis(1500);
    service.inject_fault(Fault::latency("CreateRelatedItem", slow_link));
    let runtime = RuntimeApi::start().await;
    // The claims of a dead instance block others for CLAIM_LEASE_SECONDS; the redelivery comes
    // after the queue's visibility timeout, which the template keeps well above it (180 s against
    // 60 s). Here both are scaled down: a 5 s lease, and the redelivery after it.
    let lease = Duration::from_secs(5);
    let [(table_var, table), (endpoint_var, endpoint)] = store_environment(&service);
    let environment =
        [("SQS_CONCURRENCY", "2"), ("CLAIM_LEASE_SECONDS", "5"), (table_var, table.as_str()), (endpoint_var, endpoint.as_str())];
    let mut first = spawn_function(&runtime, &service.endpoint_url(), &environment);
    runtime.invoke(batch.clone(), LAMBDA_TIMEOUT);
    service.wait_for_calls("CreateRelatedItem", 1, Duration::from_secs(30)).await.expect("the function reaches a related item");
    first.kill().await.expect("the instance is killed");
    let killed_at = Instant::now();
    service.settle();
    let cases_at_kill = readback::all_cases(&client).await.len();
    assert!((1..EVENTS).contains(&cases_at_kill), "killed mid-batch: {cases_at_kill} of {EVENTS} cases existed");
    assert!(runtime.answer(Duration::from_millis(100)).await.is_none(), "the killed instance answered nothing");

    // SQS makes the batch visible again only after its visibility timeout, after the dead
    // instance's leases ran out.
    tokio::time::sleep_until((killed_at + lease + Duration::from_millis(200)).into()).await;
    service.clear_faults();
    let second = spawn_function(&runtime, &service.endpoint_url(), &environment);
    runtime.invoke(batch, LAMBDA_TIMEOUT);
    let (_, answer) = runtime.answer(Duration::from_secs(60)).await.expect("the fresh instance answers");
    let Answer::Response(response) = answer else { panic!("{answer:?}") };
    assert!(batch_failures(&response).is_empty(), "{response}");

    service.settle();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), EVENTS, "one case per event");
    for case in &cases {
        service.settle();
        assert_eq!(readback::item_counts(&client, case).await, (1, 0, 1, 0), "{case}: one link and one SLA");
    }
    stop_and_collect_logs(second).await;
}

// ---------------------------------------------------------------------------------------------
// Loops
// ---------------------------------------------------------------------------------------------

/// A chain of Cases change events fed back round after round, with a rule that reacts to changes
/// made by others (an agent, and a CRM integration that itself reacts to every change the
/// automation makes). Every CRM change is a new event, so each gets its review comment, and each
/// comment brings a new CRM change: the automation's own changes are skipped, and the case's
/// budget of automated writes ends the chain (`CASE_WRITES_PER_HOUR`, 5 here).
#[tokio::test]
async fn a_multi_round_chain_of_change_events_terminates() {
    let service = start_service(true, false).await;
    let client = cases_service::client(&service);
    let rules = RuleSet::from_yaml(
        r#"
rules:
  - name: review-changes-by-others
    match: { source: [aws.cases], detail: { eventType: [CASE.UPDATED] } }
    case: { find: [ { id: $.detail.case.caseId } ] }
    actions:
      - comment: "Reviewed by the automation: case {{ detail.case.caseId }} was changed."
  - name: raise-priority-on-new-items
    match: { source: [aws.cases], detail: { eventType: [RELATED_ITEM.CREATED] } }
    case: { find: [ { id: $.detail.relatedItem.caseId } ] }
    actions:
      - update: { fields: { Priority: high } }
"#,
        "chain.yaml",
    )
    .unwrap();
    const BUDGET: usize = 5;
    let app = instance(&service, rules, &[("CASE_WRITES_PER_HOUR", "5")]);
    let agent = UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into());
    let crm = UserUnion::CustomEntity("crm-sync".into());
    let priority = |v: &str| SdkFieldValue::builder().id(PRIORITY).value(FieldValueUnion::StringValue(v.into())).build().unwrap();

    // An agent changes the case and comments on it.
    client
        .update_case()
        .domain_id(DOMAIN)
        .case_id(SEEDED_CASE)
        .fields(priority("normal"))
        .performed_by(agent.clone())
        .send()
        .await
        .unwrap();
    client
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(SEEDED_CASE)
        .r#type(aws_sdk_connectcases::types::RelatedItemType::Comment)
        .content(aws_sdk_connectcases::types::RelatedItemInputContent::Comment(
            aws_sdk_connectcases::types::CommentContent::builder()
                .body("Customer called again")
                .content_type(aws_sdk_connectcases::types::CommentBodyTextType::Plaintext)
                .build()
                .unwrap(),
        ))
        .performed_by(agent)
        .send()
        .await
        .unwrap();

    let mut rounds = 0;
    let (mut automation_writes, mut spent) = (0, 0);
    loop {
        let events = service.events();
        service.clear_events();
        if events.is_empty() {
            break;
        }
        rounds += 1;
        assert!(rounds <= 4 * BUDGET, "the chain does not end");
        for event in events {
            assert_eq!(event["source"], "aws.cases");
            // The function, as EventBridge delivers the event to it.
            let outcome = handle(&app, event.clone(), LAMBDA_TIMEOUT).await.unwrap();
            let by = event.pointer("/detail/performedBy/user/customEntity").and_then(Value::as_str);
            if by == Some(IDENTITY) {
                assert_eq!(outcome["reason"], "caused by this automation", "{outcome}");
            } else if let Some(results) = outcome["results"].as_array() {
                let actions: Vec<Value> = results.iter().flat_map(|r| r["actions"].as_array().cloned().unwrap_or_default()).collect();
                automation_writes += actions.iter().filter(|a| a["status"] == "done").count();
                spent += actions.iter().filter(|a| a["status"] == "budget-spent").count();
            }
            // The CRM integration, which updates the case after every change the automation makes.
            if by == Some(IDENTITY) {
                let case_id = event.pointer("/detail/case/caseId").or_else(|| event.pointer("/detail/relatedItem/caseId"));
                let case_id = case_id.and_then(Value::as_str).expect("the event names its case");
                client
                    .update_case()
                    .domain_id(DOMAIN)
                    .case_id(case_id)
                    .fields(priority("urgent"))
                    .performed_by(crm.clone())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    assert!(rounds >= 3, "the chain went through the automation and the CRM and back: {rounds} rounds");
    assert!(app.skipped_self_caused() >= 2, "{}", app.skipped_self_caused());
    service.settle();
    let reviews =
        readback::comments(&client, SEEDED_CASE).await.into_iter().filter(|c| c.starts_with("Reviewed by the automation")).count();
    assert_eq!(automation_writes, BUDGET, "the automation wrote until its budget for the case was spent");
    assert!(spent >= 1, "the stop is reported in the outcome");
    assert!((1..BUDGET).contains(&reviews), "each change by the CRM got its review, until the budget: {reviews}");
    eprintln!(
        "change-event chain: ended after {rounds} rounds; the automation made {automation_writes} writes, then its budget stopped it"
    );
}
