//! The function's work queue on the local SQS-compatible server (moto), and a consumer that hands
//! its messages to an app in SQS batches, as the event source mapping does, until it is empty.

use std::time::Duration;

use cases_automation::cases::CasesApi;
use cases_automation::claims::ClaimStore;
use cases_automation::customers::ProfilesApi;
use cases_automation::handler::{App, Invocation};
use serde_json::{Value, json};

use super::moto;

/// A new queue of its own; its URL.
pub async fn create() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("work-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let client = aws_sdk_sqs::Client::new(moto::sdk_config());
    client.create_queue().queue_name(name).send().await.expect("the queue is created").queue_url().expect("a queue URL").to_owned()
}

/// What draining a queue did.
#[derive(Debug, Default)]
pub struct Drained {
    pub batches: usize,
    /// Messages received, a message received again counted again.
    pub records: usize,
    /// Work items (event ids) received: SQS delivers at least once, and a send the SDK retried
    /// may have queued an item twice.
    pub distinct: usize,
    pub failed: usize,
}

/// Receives batches of up to ten messages and hands them to `app` until the queue is empty;
/// records reported failed become visible again at once (a shortened visibility timeout).
pub async fn drain<C: CasesApi, P: ProfilesApi, S: ClaimStore, K: cases_automation::contacts::ContactsApi>(
    app: &App<C, P, S, K>,
    url: &str,
) -> Drained {
    let client = aws_sdk_sqs::Client::new(moto::sdk_config());
    let mut drained = Drained::default();
    let mut items = std::collections::HashSet::new();
    loop {
        assert!(drained.batches < 10_000, "the queue does not drain");
        let received = client.receive_message().queue_url(url).max_number_of_messages(10).send().await.expect("receive");
        let messages = received.messages();
        if messages.is_empty() {
            drained.distinct = items.len();
            return drained;
        }
        drained.batches += 1;
        drained.records += messages.len();
        items.extend(messages.iter().filter_map(|m| serde_json::from_str::<Value>(m.body()?).ok()?.get("id")?.as_str().map(str::to_owned)));
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "messageId": m.message_id().unwrap_or_default(),
                    "receiptHandle": m.receipt_handle().unwrap_or_default(),
                    "body": m.body().unwrap_or_default(),
                    "attributes": {},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
                    "awsRegion": "us-east-1",
                })
            })
            .collect();
        let invocation = Invocation::with_budget(Duration::from_secs(30));
        let response = app.handle(json!({ "Records": records }), &invocation).await.expect("a batch is always answered");
        let failed: Vec<&str> =
            response["batchItemFailures"].as_array().into_iter().flatten().filter_map(|f| f["itemIdentifier"].as_str()).collect();
        drained.failed += failed.len();
        for message in messages {
            let handle = message.receipt_handle().unwrap_or_default();
            if failed.contains(&message.message_id().unwrap_or_default()) {
                client.change_message_visibility().queue_url(url).receipt_handle(handle).visibility_timeout(0).send().await.unwrap();
            } else {
                client.delete_message().queue_url(url).receipt_handle(handle).send().await.unwrap();
            }
        }
    }
}
