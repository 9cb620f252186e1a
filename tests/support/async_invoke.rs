//! Lambda's asynchronous invocation (an EventBridge rule targeting the function), as documented in
//! "How Lambda handles errors and retries with asynchronous invocation":
//! - a function error (an error returned, or a timeout) is retried after about one minute, then
//!   after about two, up to `MaximumRetryAttempts`; then the event goes to the failure destination;
//! - an invocation over the function's concurrency is throttled: the event goes back to the queue
//!   and is tried again later, without using an attempt, the interval growing exponentially from
//!   1 second to at most 5 minutes, for at most `MaximumEventAgeInSeconds` (then the failure
//!   destination too).
//!
//! Every delay is multiplied by the run's time scale (the Cases quotas are not: they stay real, and
//! so does the maximum age of an event).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;

use super::function::{Function, Invoked};

/// The asynchronous invocation settings of the function.
#[derive(Debug, Clone, Copy)]
pub struct AsyncSettings {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age: Duration,
    /// What every Lambda delay is multiplied by.
    pub time_scale: f64,
}

/// The delay before retry `n` (1-based) of a function error: about one minute, then two.
fn retry_delay(retry: u32) -> Duration {
    Duration::from_secs(60 * u64::from(retry.min(2)))
}

/// The delay after the `n`th throttle (1-based) of one event: 1 s, doubling, at most 5 minutes.
fn throttle_delay(throttles: u32) -> Duration {
    Duration::from_secs(1u64 << throttles.saturating_sub(1).min(9)).min(Duration::from_secs(300))
}

/// What happened to the events of a run.
#[derive(Debug, Default)]
pub struct AsyncReport {
    /// Events the function handled without error, by event key.
    pub succeeded: Vec<String>,
    /// Events sent to the failure destination, with why.
    pub failure_destination: Vec<(String, String)>,
    /// Invocations (attempts) per event.
    pub attempts: BTreeMap<String, u32>,
    /// Times Lambda throttled an event for want of concurrency.
    pub throttles: u64,
    /// From the first invocation to the last event settled.
    pub elapsed: Duration,
}

struct Queued {
    key: String,
    payload: Value,
    attempts: u32,
    throttles: u32,
    queued_at: Instant,
}

/// Puts `events` (key, payload) on the function's asynchronous queue at once and runs until each
/// has succeeded or gone to the failure destination, or `give_up_after` has passed.
pub async fn invoke_all(
    function: &Function,
    events: Vec<(String, Value)>,
    settings: AsyncSettings,
    give_up_after: Duration,
) -> AsyncReport {
    let scaled = |d: Duration| d.mul_f64(settings.time_scale);
    let started = Instant::now();
    let mut report = AsyncReport::default();
    let mut queue: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut entries: BTreeMap<usize, Queued> = BTreeMap::new();
    for (n, (key, payload)) in events.into_iter().enumerate() {
        entries.insert(n, Queued { key, payload, attempts: 0, throttles: 0, queued_at: started });
        queue.push(Reverse((started, n)));
    }
    let mut running = FuturesUnordered::new();
    while !(queue.is_empty() && running.is_empty()) && started.elapsed() < give_up_after {
        // Start every event that is due, as long as the function takes them.
        let now = Instant::now();
        while let Some(Reverse((due, n))) = queue.peek().copied()
            && due <= now
        {
            queue.pop();
            let entry = entries.get_mut(&n).expect("queued");
            // Not scaled: the age bounds real waiting, and draining at the real quotas takes real time.
            if entry.queued_at.elapsed() > settings.maximum_event_age {
                let entry = entries.remove(&n).expect("queued");
                report.failure_destination.push((entry.key, "older than MaximumEventAgeInSeconds".into()));
                continue;
            }
            match function.try_invoke(entry.payload.clone()) {
                Some(invocation) => {
                    entry.attempts += 1;
                    running.push(async move { (n, invocation.await) });
                }
                None => {
                    entry.throttles += 1;
                    report.throttles += 1;
                    // With jitter (half to all of the interval), which the documentation does not
                    // state: without it, events throttled together stay in lockstep and come back
                    // all at once, leaving the function idle in between.
                    let delay = scaled(throttle_delay(entry.throttles)).mul_f64(0.5 + fastrand::f64() / 2.0);
                    queue.push(Reverse((now + delay, n)));
                }
            }
        }
        let next_due = queue.peek().map(|Reverse((due, _))| *due).unwrap_or(now + Duration::from_secs(1));
        tokio::select! {
            Some((n, outcome)) = running.next() => {
                let entry = entries.get_mut(&n).expect("running");
                report.attempts.insert(entry.key.clone(), entry.attempts);
                let error = match outcome {
                    Invoked::Response(_) => None,
                    Invoked::FunctionError(error) => Some(format!("{}: {}", error.error_type(), error.message)),
                    Invoked::TimedOut => Some("timed out".to_owned()),
                };
                match error {
                    None => report.succeeded.push(entries.remove(&n).expect("running").key),
                    Some(error) if entry.attempts > settings.maximum_retry_attempts => {
                        let entry = entries.remove(&n).expect("running");
                        report.failure_destination.push((entry.key, error));
                    }
                    Some(_) => queue.push(Reverse((Instant::now() + scaled(retry_delay(entry.attempts)), n))),
                }
            }
            _ = tokio::time::sleep_until(next_due.into()) => {}
        }
    }
    report.elapsed = started.elapsed();
    report
}
