//! EventBridge → SQS → the function, as the template deploys it: a real queue and dead-letter queue
//! on moto's SQS (the template's redrive policy and visibility timeout), and Lambda's event source
//! mapping for SQS: at most `MaximumConcurrency` batches in flight, `ReceiveMessage` batches of up
//! to `BatchSize` gathered within the batch window, the function invoked once per batch, and
//! partial batch responses (the records the function names stay in the queue and reappear after
//! the visibility timeout; every record of a batch whose invocation errs, times out or answers
//! something invalid does too). A record received `maxReceiveCount` times and still not deleted
//! goes to the dead-letter queue at its next receive, as SQS does.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use futures_util::future::join_all;
use serde_json::{Value, json};

use super::function::{Function, Invoked};

/// An SQS client for the local server (moto).
pub fn sqs() -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(super::moto::endpoint())
        .build();
    Client::from_conf(config)
}

/// The event queue and its dead-letter queue.
pub struct EventQueue {
    client: Client,
    url: String,
    arn: String,
    dead_letter_url: String,
    pub visibility_timeout: Duration,
}

impl EventQueue {
    /// New queues of their own, the event queue redriving to the other after `max_receive_count`
    /// receives.
    pub async fn create(visibility_timeout: Duration, max_receive_count: u32) -> EventQueue {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("events-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let client = sqs();
        let dead_letter_url =
            client.create_queue().queue_name(format!("{name}-dlq")).send().await.expect("the dead-letter queue").queue_url.expect("a url");
        let dead_letter_arn = attribute(&client, &dead_letter_url, QueueAttributeName::QueueArn).await;
        let redrive = json!({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count.to_string()}).to_string();
        let url = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility_timeout.as_secs().to_string())
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .expect("the event queue")
            .queue_url
            .expect("a url");
        let arn = attribute(&client, &url, QueueAttributeName::QueueArn).await;
        EventQueue { client, url, arn, dead_letter_url, visibility_timeout }
    }

    /// The queue's URL (the function's `WORK_QUEUE_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the events (EventBridge envelopes), ten to a request.
    pub async fn send(&self, events: &[Value]) {
        for chunk in events.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(n, event)| {
                    SendMessageBatchRequestEntry::builder().id(n.to_string()).message_body(event.to_string()).build().unwrap()
                })
                .collect();
            let out = self.client.send_message_batch().queue_url(&self.url).set_entries(Some(entries)).send().await.expect("sent");
            assert!(out.failed.is_empty(), "messages not sent: {:?}", out.failed);
        }
    }

    /// The bodies of every message in the dead-letter queue.
    pub async fn dead_letters(&self) -> Vec<Value> {
        let mut bodies = Vec::new();
        loop {
            let out =
                self.client.receive_message().queue_url(&self.dead_letter_url).max_number_of_messages(10).send().await.expect("received");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(serde_json::from_str(message.body().unwrap_or("null")).unwrap_or(Value::Null));
                self.client
                    .delete_message()
                    .queue_url(&self.dead_letter_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Whether every message was deleted or moved to the dead-letter queue.
    async fn is_drained(&self) -> bool {
        let visible = attribute(&self.client, &self.url, QueueAttributeName::ApproximateNumberOfMessages).await;
        let in_flight = attribute(&self.client, &self.url, QueueAttributeName::ApproximateNumberOfMessagesNotVisible).await;
        visible == "0" && in_flight == "0"
    }
}

async fn attribute(client: &Client, url: &str, name: QueueAttributeName) -> String {
    let out = client.get_queue_attributes().queue_url(url).attribute_names(name.clone()).send().await.expect("queue attributes");
    out.attributes.and_then(|mut a| a.remove(&name)).unwrap_or_else(|| panic!("no {name:?}"))
}

/// The event source mapping's settings.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    pub batch_size: usize,
    pub batch_window: Duration,
    pub maximum_concurrency: usize,
}

/// What the event source mapping did.
#[derive(Debug, Default)]
pub struct SqsReport {
    /// Receives of each event (by its EventBridge id).
    pub receives: BTreeMap<String, u32>,
    /// Events whose record was deleted after the function reported it done (by id).
    pub deleted: Vec<String>,
    pub invocations: u64,
    /// Records the function named in `batchItemFailures`.
    pub failed_records: u64,
    /// Invocations that returned an error, timed out or answered something invalid.
    pub failed_invocations: u64,
    /// Invocations Lambda throttled for want of concurrency (the mapping retries them).
    pub throttled_invocations: u64,
    /// From the start of polling until the queue was drained (or the run gave up).
    pub elapsed: Duration,
    /// Whether the queue was drained before the run gave up.
    pub drained: bool,
}

/// Polls `queue` as the event source mapping does until every message is deleted or dead-lettered,
/// or `give_up_after` has passed.
pub async fn poll_until_drained(queue: &EventQueue, mapping: Mapping, function: &Function, give_up_after: Duration) -> SqsReport {
    let started = Instant::now();
    let report = Mutex::new(SqsReport::default());
    let pollers = (0..mapping.maximum_concurrency).map(|_| poller(queue, mapping, function, started, give_up_after, &report));
    let drained = join_all(pollers).await.into_iter().all(|drained| drained);
    let mut report = report.into_inner().unwrap();
    report.elapsed = started.elapsed();
    report.drained = drained;
    report
}

/// One batch in flight at a time; true when it stopped because the queue was drained.
async fn poller(
    queue: &EventQueue,
    mapping: Mapping,
    function: &Function,
    started: Instant,
    give_up_after: Duration,
    report: &Mutex<SqsReport>,
) -> bool {
    while started.elapsed() < give_up_after {
        let received_at = Instant::now();
        let messages = receive_batch(queue, mapping).await;
        if messages.is_empty() {
            if queue.is_drained().await {
                return true;
            }
            continue;
        }
        let records: Vec<Value> = messages.iter().map(|m| lambda_record(queue, m)).collect();
        let ids: Vec<String> = messages.iter().map(|m| m.message_id().unwrap().to_owned()).collect();
        let keys: BTreeMap<String, String> = messages
            .iter()
            .map(|m| {
                let body: Value = serde_json::from_str(m.body().unwrap_or("null")).unwrap_or(Value::Null);
                (m.message_id().unwrap().to_owned(), body["id"].as_str().unwrap_or("(no id)").to_owned())
            })
            .collect();
        {
            let mut report = report.lock().unwrap();
            report.invocations += 1;
            for key in keys.values() {
                *report.receives.entry(key.clone()).or_default() += 1;
            }
        }
        let payload = json!({ "Records": records });
        // Throttled (flows hold the other instances): the mapping tries again while the batch is
        // still invisible; past that the records are received again anyway.
        let outcome = loop {
            if let Some(invocation) = function.try_invoke(payload.clone()) {
                break Some(invocation.await);
            }
            report.lock().unwrap().throttled_invocations += 1;
            if received_at.elapsed() + Duration::from_millis(200) >= queue.visibility_timeout {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let failed: HashSet<String> = match outcome {
            Some(Invoked::Response(response)) => match batch_failures(&response, &ids) {
                Some(failed) => failed,
                None => {
                    report.lock().unwrap().failed_invocations += 1;
                    ids.iter().cloned().collect()
                }
            },
            Some(Invoked::FunctionError(_) | Invoked::TimedOut) => {
                report.lock().unwrap().failed_invocations += 1;
                ids.iter().cloned().collect()
            }
            None => ids.iter().cloned().collect(),
        };
        let done: Vec<(&String, &str)> = messages
            .iter()
            .filter(|m| !failed.contains(m.message_id().unwrap()))
            .map(|m| (&keys[m.message_id().unwrap()], m.receipt_handle().unwrap()))
            .collect();
        for chunk in done.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(n, (_, handle))| {
                    DeleteMessageBatchRequestEntry::builder().id(n.to_string()).receipt_handle(*handle).build().unwrap()
                })
                .collect();
            let out = queue.client.delete_message_batch().queue_url(&queue.url).set_entries(Some(entries)).send().await.expect("deleted");
            assert!(out.failed.is_empty(), "records not deleted: {:?}", out.failed);
        }
        let mut report = report.lock().unwrap();
        report.failed_records += failed.len() as u64;
        report.deleted.extend(done.into_iter().map(|(key, _)| key.clone()));
    }
    false
}

/// Up to `batch_size` messages: what one receive gives when there is no batch window, else what
/// arrives until the window closes or the batch is full.
async fn receive_batch(queue: &EventQueue, mapping: Mapping) -> Vec<aws_sdk_sqs::types::Message> {
    let window_ends = Instant::now() + mapping.batch_window;
    let mut messages = Vec::new();
    loop {
        let wanted = (mapping.batch_size - messages.len()).min(10) as i32;
        let wait =
            if mapping.batch_window.is_zero() { 1 } else { window_ends.saturating_duration_since(Instant::now()).as_secs().clamp(1, 20) };
        let out = queue
            .client
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(wanted)
            .wait_time_seconds(wait as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("received");
        messages.extend(out.messages.unwrap_or_default());
        if messages.len() >= mapping.batch_size || mapping.batch_window.is_zero() || Instant::now() >= window_ends {
            return messages;
        }
    }
}

/// The record of an SQS event as Lambda builds it.
fn lambda_record(queue: &EventQueue, message: &aws_sdk_sqs::types::Message) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect())
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": "us-east-1",
    })
}

/// The records a batch response names as failed; None when Lambda would take the response as a
/// failure of the whole batch (not a batch response, or an identifier that is empty or not in it).
fn batch_failures(response: &Value, ids: &[String]) -> Option<HashSet<String>> {
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(failures)) => failures,
        Some(_) => return None,
    };
    failures.iter().map(|failure| failure["itemIdentifier"].as_str().filter(|id| ids.iter().any(|i| i == id)).map(str::to_owned)).collect()
}
