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
//!
//! Counts, rules and buckets are keyed by [`Operation`]; fault rules name it as text
//! (`"CreateCase"`, or `"*"` for every operation), and an unknown name is refused when the rule
//! is read.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::{ApiError, ErrorKind};
use crate::operation::{Operation, UnknownOperation};
use crate::wait::{WaitTimeout, wait_until};

/// One fault rule.
///
/// JSON form (admin API): `{"operation":"CreateCase","error":"ThrottlingException","count":3}`,
/// `{"operation":"*","latencyMs":300}`. `operation` is an [`Operation`] name (`CreateCase`,
/// `SearchProfiles`, `CreateProfile`, `GetProfilesDomain`, `DescribeContact`, …; ASCII case
/// ignored) or `*` for every operation; any other name is an error. On the Customer Profiles
/// and Amazon Connect operations the error is rendered in that API's shape (see
/// `wire::profiles::error_code`: ValidationException → BadRequestException, …). With `error`
/// set, the next `count` matching calls fail (every call until cleared when `count` is absent).
/// `latencyMs` delays matching calls (for `count` calls when given, else until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub operation: Operations,
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

/// The operations a fault rule applies to: `"*"` (every one) or one [`Operation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operations {
    Any,
    Only(Operation),
}

impl Operations {
    /// Whether the rule applies to `op`.
    pub fn includes(self, op: Operation) -> bool {
        match self {
            Operations::Any => true,
            Operations::Only(o) => o == op,
        }
    }
}

impl std::str::FromStr for Operations {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "*" { Ok(Operations::Any) } else { s.parse().map(Operations::Only) }
    }
}

impl std::fmt::Display for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operations::Any => f.write_str("*"),
            Operations::Only(op) => f.write_str(op.as_str()),
        }
    }
}

impl From<Operation> for Operations {
    fn from(op: Operation) -> Self {
        Operations::Only(op)
    }
}

impl Serialize for Operations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Operations::Any => s.serialize_str("*"),
            Operations::Only(op) => op.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Operations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What the [`Fault`] constructors accept as the operation: its name (`"CreateCase"`, `"*"`),
/// an [`Operation`] or [`Operations`].
pub trait IntoOperations {
    /// # Panics
    /// On a name that is neither `*` nor an [`Operation`]'s: such a rule would match nothing,
    /// and the test that set it would pass for the wrong reason.
    fn into_operations(self) -> Operations;
}

impl IntoOperations for Operations {
    fn into_operations(self) -> Operations {
        self
    }
}

impl IntoOperations for Operation {
    fn into_operations(self) -> Operations {
        Operations::Only(self)
    }
}

impl IntoOperations for &str {
    fn into_operations(self) -> Operations {
        self.parse().unwrap_or_else(|e: UnknownOperation| panic!("fault rule: {e}"))
    }
}

impl IntoOperations for String {
    fn into_operations(self) -> Operations {
        self.as_str().into_operations()
    }
}

impl Fault {
    /// The next `count` calls of `operation` (`"*"`: any) fail with `error`.
    /// Panics on an unknown operation name (see [`IntoOperations`]).
    pub fn error(operation: impl IntoOperations, error: ErrorKind, count: u32) -> Self {
        Fault { operation: operation.into_operations(), error: Some(error), count: Some(count), latency_ms: None, message: None }
    }

    /// Every call of `operation` fails with `error` until the faults are cleared.
    /// Panics on an unknown operation name (see [`IntoOperations`]).
    pub fn error_always(operation: impl IntoOperations, error: ErrorKind) -> Self {
        Fault { operation: operation.into_operations(), error: Some(error), count: None, latency_ms: None, message: None }
    }

    /// Calls of `operation` (`"*"`: any) are delayed by `latency` until the faults are cleared.
    /// Panics on an unknown operation name (see [`IntoOperations`]).
    pub fn latency(operation: impl IntoOperations, latency: Duration) -> Self {
        Fault {
            operation: operation.into_operations(),
            error: None,
            count: None,
            latency_ms: Some(latency.as_millis() as u64),
            message: None,
        }
    }

    /// Sets the error message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// The token bucket of `op`'s rate quota (see [`Operation::quota`]).
fn limiter(op: Operation) -> Arc<DefaultDirectRateLimiter> {
    let quota = op.quota();
    let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("non-zero");
    Arc::new(RateLimiter::direct(Quota::per_second(nz(quota.per_second)).allow_burst(nz(quota.burst))))
}

/// Fault rules, quota state and call counters (shared by all requests).
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    quotas: AtomicBool,
    limiters: Mutex<HashMap<Operation, Arc<DefaultDirectRateLimiter>>>,
    /// Per-operation call counts; waiters are woken on each call.
    calls: watch::Sender<BTreeMap<Operation, u64>>,
}

/// The count of `operations` in `calls`.
fn count_of(calls: &BTreeMap<Operation, u64>, operations: Operations) -> u64 {
    match operations {
        Operations::Any => calls.values().sum(),
        Operations::Only(op) => calls.get(&op).copied().unwrap_or(0),
    }
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

    /// Per-operation request counts, by operation name.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.borrow().iter().map(|(op, n)| (op.as_str().to_string(), *n)).collect()
    }

    /// The request count of `operation` (`"*"`: of all operations).
    pub fn call_count(&self, operation: &str) -> u64 {
        operation.parse().map_or(0, |ops| count_of(&self.calls.borrow(), ops))
    }

    pub fn reset_calls(&self) {
        self.calls.send_modify(BTreeMap::clear);
    }

    /// Resolves as soon as `operation` (`"*"`: all operations together) has been called `count`
    /// times since the counts were last reset, or fails after `timeout`.
    pub async fn wait_for_calls(&self, operation: &str, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        // An unknown name is never called: the wait times out, as it always did.
        let operations = operation.parse::<Operations>().ok();
        let seen = |calls: &BTreeMap<Operation, u64>| operations.map_or(0, |ops| count_of(calls, ops));
        let what = || format!("{count} {operation} calls");
        wait_until(self.calls.subscribe(), seen, count, timeout, what).await
    }

    /// [`Faults::wait_for_calls`] for operations already read.
    pub async fn wait_for(&self, operations: Operations, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        let what = || format!("{count} {operations} calls");
        wait_until(self.calls.subscribe(), |calls| count_of(calls, operations), count, timeout, what).await
    }

    /// Counts the call, then returns the latency to add and the error to answer with, if any.
    pub fn before(&self, op: Operation) -> (Duration, Option<ApiError>) {
        self.calls.send_modify(|calls| *calls.entry(op).or_default() += 1);
        let mut latency = Duration::ZERO;
        let mut error = None;
        {
            let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
            for r in rules.iter_mut().filter(|r| r.operation.includes(op)) {
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
                map.entry(op).or_insert_with(|| limiter(op)).clone()
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
        assert!(f.before(Operation::GetCase).1.is_none());
        assert_eq!(f.before(Operation::CreateCase).1.unwrap().kind, ErrorKind::ThrottlingException);
        assert!(f.before(Operation::CreateCase).1.is_some());
        assert!(f.before(Operation::CreateCase).1.is_none());
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
        f.before(Operation::CreateCase);
        f.before(Operation::GetCase);
        f.before(Operation::CreateCase);
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
        let (lat, err) = f.before(Operation::SearchCases);
        assert_eq!(lat, Duration::from_millis(5));
        assert_eq!(err.unwrap().kind.status(), 500);
        f.clear();
        assert!(f.before(Operation::SearchCases).1.is_none());
    }

    #[test]
    fn quotas_throttle_after_burst() {
        let f = Faults::new(true);
        let started = std::time::Instant::now();
        let throttled = (0..5).filter(|_| f.before(Operation::UpdateCase).1.is_some()).count();
        // UpdateCase: burst 2, then 2 per second; a slow loop earns the tokens of its duration
        let replenished = (started.elapsed().as_secs_f64() * 2.0).ceil() as usize;
        assert!(throttled >= 5usize.saturating_sub(2 + replenished), "{throttled} throttled, {replenished} replenished");
        assert!(throttled <= 3, "the burst of 2 passes: {throttled}");
        f.set_quotas(false);
        assert!(f.before(Operation::UpdateCase).1.is_none());
    }

    #[test]
    fn fault_json() {
        let f: Fault = serde_json::from_str(r#"{"operation":"CreateCase","error":"Throttling","count":3}"#).unwrap();
        assert_eq!(f, Fault::error("CreateCase", ErrorKind::ThrottlingException, 3));
        assert!(serde_json::from_str::<Fault>(r#"{"operation":"x","error":"Nope"}"#).is_err());
        let unknown = serde_json::from_str::<Fault>(r#"{"operation":"CreateCases","error":"Throttling"}"#).unwrap_err().to_string();
        assert!(unknown.contains("unknown operation \"CreateCases\""), "{unknown}");
        let f: Fault = serde_json::from_str(r#"{"operation":"createcase","latencyMs":5}"#).unwrap();
        assert_eq!(f.operation, Operations::Only(Operation::CreateCase), "case is ignored");
        assert_eq!(serde_json::to_value(Fault::latency("*", Duration::from_millis(5))).unwrap()["operation"], "*");
        assert_eq!(serde_json::to_value(&f).unwrap()["operation"], "CreateCase");
    }

    #[test]
    #[should_panic(expected = "unknown operation \"SearchCase\"")]
    fn a_misspelt_operation_in_code_fails_loudly() {
        Fault::error("SearchCase", ErrorKind::ThrottlingException, 1);
    }
}
