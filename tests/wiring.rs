//! The production wiring under test: the compiled binary, configured only through its environment
//! (its endpoints through the standard `AWS_ENDPOINT_URL_*` variables), against the local Cases
//! service with SearchCases always throttled. What the function's SDK settings do (attempts per
//! call, the retry partition) is counted at the service. An event's call the service still throttles
//! after the SDK's 4 attempts is sent again at the operation's next paced turns
//! (`TURNS_AFTER_THROTTLING`), each send tried 4 times by the SDK.

mod support;

use std::time::Duration;

use cases_automation::cases::paced::TURNS_AFTER_THROTTLING;
use cases_emulator::{ErrorKind, Fault};
use serde_json::{Value, json};
use support::lambda::{sample, spawn_function, sqs_batch, stop_and_collect_logs};
use support::runtime_api::{Answer, RuntimeApi};

/// The SDK's attempts per send: the first and three retries.
const ATTEMPTS: u64 = 4;

/// Requests a paced event's call makes when every attempt is throttled.
const REQUESTS_PER_THROTTLED_CALL: u64 = ATTEMPTS * (1 + TURNS_AFTER_THROTTLING as u64);

/// The timeout given to each invocation.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An "Order Delayed" event of its own; its rule looks the case up with SearchCases first.
fn order_delayed(n: usize) -> Value {
    let mut event = sample("custom-order-delayed.json");
    event["id"] = json!(format!("e0826073-0000-4000-8000-{n:012}"));
    event["detail"]["orderNumber"] = json!(format!("ORD-{:06}", 700_000 + n));
    event
}

async fn answer(runtime: &RuntimeApi) -> Answer {
    runtime.answer_within(TIMEOUT).await.expect("an answer by the deadline").1
}

#[tokio::test]
async fn a_throttled_call_is_tried_four_times_then_reported_as_retryable() {
    let service = support::cases_service::start().await;
    service.inject_fault(Fault::error_always("SearchCases", ErrorKind::ThrottlingException));
    let runtime = RuntimeApi::start().await;
    let child = spawn_function(&runtime, &service.endpoint_url(), &[]);

    runtime.invoke(order_delayed(0), TIMEOUT);
    let answer = answer(&runtime).await;
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type == "Retryable.ThrottlingException"), "{answer:?}");
    assert_eq!(
        service.call_count("SearchCases"),
        REQUESTS_PER_THROTTLED_CALL,
        "each send tried four times (the first attempt and three retries), at {} turns",
        1 + TURNS_AFTER_THROTTLING
    );
    assert_eq!(service.call_count("CreateCase"), 0);
    let logs = stop_and_collect_logs(child).await;
    assert!(!logs.contains("panicked"), "{logs}");
}

/// The SDK's default retry quota (500 tokens, 5 a throttled retry, refilled only by successes)
/// would stop retrying after about 100 throttles for the rest of the instance's life; the
/// function's retry partition keeps every call's retries, bounded by the attempts and the deadline.
#[tokio::test]
async fn a_warm_instance_keeps_retrying_throttled_calls_past_the_default_retry_quota() {
    let service = support::cases_service::start().await;
    service.inject_fault(Fault::error_always("SearchCases", ErrorKind::ThrottlingException));
    let runtime = RuntimeApi::start().await;
    let child = spawn_function(&runtime, &service.endpoint_url(), &[("SQS_CONCURRENCY", "10")]);

    const BATCHES: usize = 4;
    const RECORDS: usize = 10;
    for batch in 0..BATCHES {
        let bodies = (0..RECORDS).map(|i| order_delayed(batch * RECORDS + i).to_string()).collect();
        runtime.invoke(sqs_batch(bodies), TIMEOUT);
        let answer = answer(&runtime).await;
        let Answer::Response(response) = &answer else { panic!("batch {batch}: {answer:?}") };
        assert_eq!(response["batchItemFailures"].as_array().map(Vec::len), Some(RECORDS), "batch {batch}: {response}");
    }
    assert_eq!(
        service.call_count("SearchCases"),
        (BATCHES * RECORDS) as u64 * REQUESTS_PER_THROTTLED_CALL,
        "every one of the {} throttled calls was tried four times at each of its turns",
        BATCHES * RECORDS
    );

    // Still retried after all those throttles: a call throttled twice succeeds on its third attempt.
    service.clear_faults();
    service.inject_fault(Fault::error("SearchCases", ErrorKind::ThrottlingException, 2));
    runtime.invoke(order_delayed(1_000), TIMEOUT);
    let answer = answer(&runtime).await;
    assert!(matches!(&answer, Answer::Response(r) if r["outcome"] == "applied"), "{answer:?}");
    let logs = stop_and_collect_logs(child).await;
    assert!(!logs.contains("panicked"), "{logs}");
}
