//! Fault injection, added latency, per-operation call counts and (optional) rate quotas.
//!
//! Every API request goes through [`Faults::before`] after routing:
//! 1. the call is counted (failed ones too; the SDK's own retries are separate HTTP requests and
//!    are each counted);
//! 2. latency rules that match the operation add their delay;
//! 3. the first error rule that matches and still has calls left answers instead of the service
//!    (its count is decremented);
//! 4. if quotas are enforced, the operation's token bucket (governor) must have a token,
//!    otherwise 429 ThrottlingException.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::{ApiError, ErrorKind};
use crate::wait::{WaitTimeout, wait_until};

/// One fault rule.
///
/// JSON form (admin API): `{"operation":"CreateCase","error":"ThrottlingException","count":3}`,
/// `{"operation":"*","latencyMs":300}`. `operation` is an API operation name (`CreateCase`,
/// `SearchProfiles`, `CreateProfile`, `GetProfilesDomain`) or `*` for every operation. On the
/// Customer Profiles operations the error is rendered in that API's shape (see
/// `wire::profiles::error_code`: ValidationException → BadRequestException, …). With `error` set, the next `count` matching calls fail (every call
/// until cleared when `count` is absent). `latencyMs` delays matching calls (for `count` calls
/// when given, else until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_error_kind")]
    pub error: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn de_error_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ErrorKind>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => ErrorKind::parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown error {s:?}; expected one of {}",
                ErrorKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
            ))
        }),
    }
}

impl Fault {
    /// The next `count` calls of `operation` (`"*"`: any) fail with `error`.
    pub fn error(operation: impl Into<String>, error: ErrorKind, count: u32) -> Self {
        Fault { operation: operation.into(), error: Some(error), count: Some(count), latency_ms: None, message: None }
    }

    /// Every call of `operation` fails with `error` until the faults are cleared.
    pub fn error_always(operation: impl Into<String>, error: ErrorKind) -> Self {
        Fault { operation: operation.into(), error: Some(error), count: None, latency_ms: None, message: None }
    }

    /// Calls of `operation` (`"*"`: any) are delayed by `latency` until the faults are cleared.
    pub fn latency(operation: impl Into<String>, latency: Duration) -> Self {
        Fault { operation: operation.into(), error: None, count: None, latency_ms: Some(latency.as_millis() as u64), message: None }
    }

    /// Sets the error message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    fn matches(&self, op: &str) -> bool {
        self.operation == "*" || self.operation.eq_ignore_ascii_case(op)
    }
}

/// (operation, replenish per second, burst) of the enforced quotas; others use [`DEFAULT_QUOTA`].
/// The Customer Profiles operations are counted as `SearchProfiles`, `CreateProfile` and
/// `GetProfilesDomain`; their published quotas were not found, so SearchProfiles and
/// CreateProfile use 10/s burst 10 (an assumption) and GetProfilesDomain the default.
pub const QUOTAS: [(&str, u32, u32); 8] = [
    ("CreateCase", 2, 10),
    ("UpdateCase", 2, 2),
    ("GetCase", 4, 10),
    ("CreateRelatedItem", 2, 10),
    ("SearchCases", 4, 10),
    ("BatchGetField", 8, 10),
    ("SearchProfiles", 10, 10),
    ("CreateProfile", 10, 10),
];

/// (replenish per second, burst) of every other operation.
pub const DEFAULT_QUOTA: (u32, u32) = (50, 100);

fn limiter(rate: u32, burst: u32) -> Arc<DefaultDirectRateLimiter> {
    let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("non-zero");
    Arc::new(RateLimiter::direct(Quota::per_second(nz(rate)).allow_burst(nz(burst))))
}

/// Fault rules, quota state and call counters (shared by all requests).
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    quotas: AtomicBool,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    /// Per-operation call counts; waiters are woken on each call.
    calls: watch::Sender<BTreeMap<String, u64>>,
}

/// The count of `operation` in `calls` (`"*"`: of every operation).
pub fn count_of(calls: &BTreeMap<String, u64>, operation: &str) -> u64 {
    if operation == "*" { calls.values().sum() } else { calls.get(operation).copied().unwrap_or(0) }
}

impl Faults {
    pub fn new(quotas: bool) -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            quotas: AtomicBool::new(quotas),
            limiters: Mutex::new(HashMap::new()),
            calls: watch::Sender::new(BTreeMap::new()),
        }
    }

    /// Adds a rule.
    pub fn inject(&self, fault: Fault) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The active rules (with their remaining counts).
    pub fn list(&self) -> Vec<Fault> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Turns quota enforcement on or off (turning it on starts with full buckets).
    pub fn set_quotas(&self, enabled: bool) {
        self.limiters.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.quotas.store(enabled, Ordering::SeqCst);
    }

    pub fn quotas_enabled(&self) -> bool {
        self.quotas.load(Ordering::SeqCst)
    }

    /// Per-operation request counts.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.borrow().clone()
    }

    /// The request count of `operation` (`"*"`: of all operations).
    pub fn call_count(&self, operation: &str) -> u64 {
        count_of(&self.calls.borrow(), operation)
    }

    pub fn reset_calls(&self) {
        self.calls.send_modify(BTreeMap::clear);
    }

    /// Resolves as soon as `operation` (`"*"`: all operations together) has been called `count`
    /// times since the counts were last reset, or fails after `timeout`.
    pub async fn wait_for_calls(&self, operation: &str, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        let what = || format!("{count} {operation} calls");
        wait_until(self.calls.subscribe(), |calls| count_of(calls, operation), count, timeout, what).await
    }

    /// Counts the call, then returns the latency to add and the error to answer with, if any.
    pub fn before(&self, op: &str) -> (Duration, Option<ApiError>) {
        self.calls.send_modify(|calls| *calls.entry(op.to_string()).or_default() += 1);
        let mut latency = Duration::ZERO;
        let mut error = None;
        {
            let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
            for r in rules.iter_mut().filter(|r| r.matches(op)) {
                if r.count == Some(0) {
                    continue;
                }
                if let Some(ms) = r.latency_ms {
                    latency += Duration::from_millis(ms);
                }
                if let Some(kind) = r.error {
                    if error.is_some() {
                        continue;
                    }
                    let msg = r.message.clone().unwrap_or_else(|| format!("Injected fault: {} for {op}", kind.name()));
                    error = Some(ApiError::new(kind, msg));
                }
                if let Some(c) = r.count.as_mut() {
                    *c -= 1;
                }
            }
            rules.retain(|r| r.count != Some(0));
        }
        if error.is_none() && self.quotas_enabled() {
            let lim = {
                let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(op.to_string())
                    .or_insert_with(|| {
                        let (rate, burst) = QUOTAS.iter().find(|(o, _, _)| *o == op).map(|(_, r, b)| (*r, *b)).unwrap_or(DEFAULT_QUOTA);
                        limiter(rate, burst)
                    })
                    .clone()
            };
            if lim.check().is_err() {
                error = Some(ApiError::throttling(format!("Rate exceeded for {op}")));
            }
        }
        (latency, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_expire() {
        let f = Faults::new(false);
        f.inject(Fault::error("CreateCase", ErrorKind::ThrottlingException, 2));
        assert!(f.before("GetCase").1.is_none());
        assert_eq!(f.before("CreateCase").1.unwrap().kind, ErrorKind::ThrottlingException);
        assert!(f.before("CreateCase").1.is_some());
        assert!(f.before("CreateCase").1.is_none());
        assert!(f.list().is_empty());
        assert_eq!(f.calls()["CreateCase"], 3);
        assert_eq!(f.call_count("CreateCase"), 3);
        assert_eq!(f.call_count("*"), 4);
        assert_eq!(f.call_count("DeleteCase"), 0);
    }

    #[tokio::test]
    async fn waiting_for_calls() {
        let f = Arc::new(Faults::new(false));
        let waiter = {
            let f = f.clone();
            tokio::spawn(async move { f.wait_for_calls("CreateCase", 2, Duration::from_secs(60)).await })
        };
        f.before("CreateCase");
        f.before("GetCase");
        f.before("CreateCase");
        waiter.await.unwrap().unwrap();
        f.wait_for_calls("*", 3, Duration::ZERO).await.unwrap();
        let err = f.wait_for_calls("GetCase", 2, Duration::from_millis(10)).await.unwrap_err();
        assert_eq!((err.what.as_str(), err.seen), ("2 GetCase calls", 1));
        f.reset_calls();
        assert!(f.wait_for_calls("*", 1, Duration::from_millis(10)).await.is_err(), "counts start again after a reset");
    }

    #[test]
    fn latency_and_wildcards() {
        let f = Faults::new(false);
        f.inject(Fault::latency("*", Duration::from_millis(5)));
        f.inject(Fault::error_always("*", ErrorKind::InternalServerException));
        let (lat, err) = f.before("SearchCases");
        assert_eq!(lat, Duration::from_millis(5));
        assert_eq!(err.unwrap().kind.status(), 500);
        f.clear();
        assert!(f.before("SearchCases").1.is_none());
    }

    #[test]
    fn quotas_throttle_after_burst() {
        let f = Faults::new(true);
        let started = std::time::Instant::now();
        let throttled = (0..5).filter(|_| f.before("UpdateCase").1.is_some()).count();
        // UpdateCase: burst 2, then 2 per second; a slow loop earns the tokens of its duration
        let replenished = (started.elapsed().as_secs_f64() * 2.0).ceil() as usize;
        assert!(throttled >= 5usize.saturating_sub(2 + replenished), "{throttled} throttled, {replenished} replenished");
        assert!(throttled <= 3, "the burst of 2 passes: {throttled}");
        f.set_quotas(false);
        assert!(f.before("UpdateCase").1.is_none());
    }

    #[test]
    fn fault_json() {
        let f: Fault = serde_json::from_str(r#"{"operation":"CreateCase","error":"Throttling","count":3}"#).unwrap();
        assert_eq!(f, Fault::error("CreateCase", ErrorKind::ThrottlingException, 3));
        assert!(serde_json::from_str::<Fault>(r#"{"operation":"x","error":"Nope"}"#).is_err());
    }
}
