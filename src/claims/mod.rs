//! The coordination store: claims that make "create once" hold across events and instances.
//!
//! A redelivered *event* is safe through CreateCase's `clientToken`. A *business fact* is not:
//! two events about one order, handled at once by two instances (or within the search index's
//! lag), each search for the open case, find none, and each create one. Related items and
//! profiles have no idempotency token at all. So before creating, the function claims what it is
//! about to create, with a conditional write to one item per thing:
//!
//! | claim | key (hashed) | bound to |
//! |---|---|---|
//! | the case of a business fact | domain + the rule's search filter, after customer resolution | case id |
//! | the case an event creates without a search | domain + event id + template | case id |
//! | a related item | domain + case + the item's identity (contact, file, SLA name; comment: event + body) | item id |
//! | a new caller's profile | profiles domain + the search terms | profile id |
//!
//! A claim is *pending* while its owner creates (with a lease), then *bound* to the id. Whoever
//! finds a claim held by someone else uses the bound id, or waits for the owner to bind it, or,
//! when the owner died (its lease ran out), completes its work: a pending case claim stores the
//! exact CreateCase request, whose `clientToken` makes replaying it return the case the owner may
//! already have created. Nothing is created twice and nothing has to be deleted.
//!
//! The per-case *ledger* (`ledger`) holds what updates need across instances: a short lock, the
//! event time of the last value each rule applied to each field (stale events do not win), and
//! the case's budget of automated updates (ends ping-pong with another party).
//!
//! [`ClaimStore`] is the narrow interface; [`dynamodb`] the adapter (conditional writes, TTL);
//! [`NoClaims`] the store switched off (`CLAIMS_TABLE` unset). The decisions are pure functions
//! ([`decide`]) tested without I/O.

pub mod dynamodb;
pub mod keys;
pub mod ledger;

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use ledger::{Ledger, LedgerUpdate};

/// How long the owner of a related-item or profile claim, or of a case's ledger lock, may take
/// before others take over (`CLAIM_LEASE_SECONDS`): well above a create with all the SDK's
/// attempts, so that after it anyone may take the claim over (after looking for what the owner
/// may have created) without racing a live owner; below the queue's visibility timeout and
/// Lambda's first retry delay, so that a retry after a crash does not wait for it.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long others wait for the owner of a case claim before replaying its stored request
/// themselves (always safe: the request's `clientToken` makes the service create the case once).
pub const CASE_LEASE: Duration = Duration::from_secs(3);
/// How long a claim is kept (DynamoDB TTL): past the longest a retry or a replay from a
/// dead-letter queue can come back (SQS keeps messages at most 14 days).
pub const RETENTION: Duration = Duration::from_secs(15 * 24 * 3600);

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// One claim, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The hashed key (see [`keys`]).
    pub key: String,
    /// Who claimed it: a case claim's `clientToken`, else an attempt id.
    pub owner: String,
    pub state: ClaimState,
    /// Incremented by every change; replacing a claim is conditional on it.
    pub version: u64,
    /// Epoch seconds after which the claim no longer counts (and DynamoDB's TTL removes it).
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimState {
    /// The owner is creating. `request` is what it sends, when replaying it is safe (CreateCase,
    /// idempotent through its `clientToken`).
    Pending { lease_until_ms: i64, request: Option<String> },
    /// Created: the id of the case, related item or profile.
    Bound { id: String },
}

impl Claim {
    /// A new pending claim of `owner`, starting now, with the [`LEASE`] of item and profile claims.
    pub fn pending(key: impl Into<String>, owner: impl Into<String>, request: Option<String>, now_ms: i64) -> Claim {
        Claim::pending_with_lease(key, owner, request, now_ms, LEASE)
    }

    pub fn pending_with_lease(
        key: impl Into<String>,
        owner: impl Into<String>,
        request: Option<String>,
        now_ms: i64,
        lease: Duration,
    ) -> Claim {
        Claim {
            key: key.into(),
            owner: owner.into(),
            state: ClaimState::Pending { lease_until_ms: now_ms + lease.as_millis() as i64, request },
            version: 1,
            expires_at: now_ms / 1000 + RETENTION.as_secs() as i64,
        }
    }

    /// The same claim taken over (or re-claimed) by `owner`: conditional on `self.version`.
    pub fn succeeded_by(&self, owner: impl Into<String>, request: Option<String>, now_ms: i64, lease: Duration) -> Claim {
        Claim { version: self.version + 1, ..Claim::pending_with_lease(self.key.clone(), owner, request, now_ms, lease) }
    }

    /// Whether the claim has outlived its retention (DynamoDB's TTL removes items lazily).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_at * 1000 <= now_ms
    }
}

/// The store could not be used: a retryable failure (the event is tried again later), never a
/// reason to go ahead without the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub operation: &'static str,
    /// Throttled (`ProvisionedThroughputExceeded`, `RequestLimitExceeded`, `ThrottlingException`).
    pub throttled: bool,
    pub message: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the coordination store's {} failed: {}", self.operation, self.message)
    }
}

impl std::error::Error for StoreError {}

/// The operations on the claims table.
pub trait ClaimStore: Send + Sync {
    /// Whether claims are kept at all (false: `CLAIMS_TABLE` is not set).
    fn enabled(&self) -> bool;

    /// Stores `claim` if no live claim has its key: `None` when stored (the caller owns it), else
    /// the claim that holds the key.
    fn put_new(&self, claim: &Claim) -> impl Future<Output = Result<Option<Claim>, StoreError>> + Send;

    /// Stores `claim` in place of the claim of version `claim.version - 1`: `None` when stored,
    /// else the claim that is there now (someone else changed it first).
    fn replace(&self, claim: &Claim) -> impl Future<Output = Result<Option<Claim>, StoreError>> + Send;

    /// The claim of `key`, read consistently.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Claim>, StoreError>> + Send;

    /// Binds the pending claim of `owner` to `id`. False when the claim is no longer this owner's
    /// pending claim (nor already bound to `id`). With `alias`, a second key is bound to the same
    /// id in the same write (a case's `clientToken`, see [`keys::token`]).
    fn bind(&self, key: &str, owner: &str, id: &str, alias: Option<&str>) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the pending claim of `owner` (its create was refused: nothing was created, and others
    /// may claim at once).
    fn release(&self, key: &str, owner: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends the lease of the pending claim of `owner` at once (its create failed in a way that
    /// leaves unknown whether the item exists: a timeout, a server error): whoever comes next looks
    /// for the item before creating it, instead of waiting for the lease to run out.
    fn abandon(&self, key: &str, owner: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes the case's ledger lock for `owner` until `lease_until_ms`, giving the ledger; `None`
    /// while another owner holds it.
    fn lock_ledger(&self, key: &str, owner: &str, lease_until_ms: i64) -> impl Future<Output = Result<Option<Ledger>, StoreError>> + Send;

    /// Writes `update` and releases the ledger lock of `owner`.
    fn unlock_ledger(&self, key: &str, owner: &str, update: &LedgerUpdate) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes a sweep's lock for `owner` until `lease_until_ms`, giving where it stands; `None`
    /// while another owner holds it.
    fn lock_sweep(
        &self,
        key: &str,
        owner: &str,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<Option<SweepState>, StoreError>> + Send;

    /// Saves where the sweep of `owner` stands, keeping its lock until `lease_until_ms` (0: releases
    /// it). False when the lock is no longer this owner's (its lease ran out and another took it).
    fn save_sweep(
        &self,
        key: &str,
        owner: &str,
        state: &SweepState,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where a sweep stands: its cursor in the selection, the work items sent, whether it is done.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SweepState {
    pub cursor: Option<String>,
    pub sent: u64,
    pub done: bool,
}

/// The store switched off: nothing is claimed; only the per-process guarantees hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClaims;

impl ClaimStore for NoClaims {
    fn enabled(&self) -> bool {
        false
    }

    async fn put_new(&self, _: &Claim) -> Result<Option<Claim>, StoreError> {
        unreachable!("nothing is claimed without a store")
    }

    async fn replace(&self, _: &Claim) -> Result<Option<Claim>, StoreError> {
        unreachable!("nothing is claimed without a store")
    }

    async fn get(&self, _: &str) -> Result<Option<Claim>, StoreError> {
        Ok(None)
    }

    async fn bind(&self, _: &str, _: &str, _: &str, _: Option<&str>) -> Result<bool, StoreError> {
        unreachable!("nothing is claimed without a store")
    }

    async fn release(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn abandon(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn lock_ledger(&self, _: &str, _: &str, _: i64) -> Result<Option<Ledger>, StoreError> {
        Ok(Some(Ledger::default()))
    }

    async fn unlock_ledger(&self, _: &str, _: &str, _: &LedgerUpdate) -> Result<(), StoreError> {
        Ok(())
    }

    async fn lock_sweep(&self, _: &str, _: &str, _: i64) -> Result<Option<SweepState>, StoreError> {
        Ok(Some(SweepState::default()))
    }

    async fn save_sweep(&self, _: &str, _: &str, _: &SweepState, _: i64) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// A store that may be switched off: `None` is [`NoClaims`] (production chooses at cold start).
impl<S: ClaimStore> ClaimStore for Option<S> {
    fn enabled(&self) -> bool {
        self.as_ref().is_some_and(S::enabled)
    }

    async fn put_new(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        match self {
            Some(store) => store.put_new(claim).await,
            None => NoClaims.put_new(claim).await,
        }
    }

    async fn replace(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        match self {
            Some(store) => store.replace(claim).await,
            None => NoClaims.replace(claim).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Claim>, StoreError> {
        match self {
            Some(store) => store.get(key).await,
            None => Ok(None),
        }
    }

    async fn bind(&self, key: &str, owner: &str, id: &str, alias: Option<&str>) -> Result<bool, StoreError> {
        match self {
            Some(store) => store.bind(key, owner, id, alias).await,
            None => NoClaims.bind(key, owner, id, alias).await,
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        match self {
            Some(store) => store.release(key, owner).await,
            None => Ok(()),
        }
    }

    async fn abandon(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        match self {
            Some(store) => store.abandon(key, owner).await,
            None => Ok(()),
        }
    }

    async fn lock_ledger(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<Ledger>, StoreError> {
        match self {
            Some(store) => store.lock_ledger(key, owner, lease_until_ms).await,
            None => Ok(Some(Ledger::default())),
        }
    }

    async fn unlock_ledger(&self, key: &str, owner: &str, update: &LedgerUpdate) -> Result<(), StoreError> {
        match self {
            Some(store) => store.unlock_ledger(key, owner, update).await,
            None => Ok(()),
        }
    }

    async fn lock_sweep(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<SweepState>, StoreError> {
        match self {
            Some(store) => store.lock_sweep(key, owner, lease_until_ms).await,
            None => Ok(Some(SweepState::default())),
        }
    }

    async fn save_sweep(&self, key: &str, owner: &str, state: &SweepState, lease_until_ms: i64) -> Result<bool, StoreError> {
        match self {
            Some(store) => store.save_sweep(key, owner, state, lease_until_ms).await,
            None => Ok(true),
        }
    }
}

/// What to do about a claim someone holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// It is bound: use this id (a case claim checks the case is still open first).
    Use(String),
    /// Send the claim's stored request again, then bind the claim (of `owner`) to what it
    /// returns: the claim is pending under this very token (a concurrent delivery of the same
    /// event, or an earlier attempt), or its owner died. The request's `clientToken` makes the
    /// service return what the owner created, or create it now, once.
    Replay { request: String, owner: String },
    /// Another owner is creating: read the claim again after this long.
    Wait(Duration),
    /// Its owner died (the lease ran out) without a replayable request, or it outlived its
    /// retention: look for what it may have created, else take it over (conditional on its
    /// version) and create.
    TakeOver,
}

/// Decides what a claimant `me` does about `held`, the claim that holds the key, at `now_ms`.
pub fn decide(held: &Claim, me: &str, now_ms: i64) -> Next {
    if held.is_expired(now_ms) {
        return Next::TakeOver;
    }
    let replay = |request: &String| Next::Replay { request: request.clone(), owner: held.owner.clone() };
    match &held.state {
        ClaimState::Bound { id } => Next::Use(id.clone()),
        ClaimState::Pending { request: Some(request), .. } if held.owner == me => replay(request),
        ClaimState::Pending { lease_until_ms, request: Some(request) } if *lease_until_ms <= now_ms => replay(request),
        ClaimState::Pending { lease_until_ms, .. } if *lease_until_ms <= now_ms => Next::TakeOver,
        ClaimState::Pending { lease_until_ms, .. } => {
            // Poll often at first (a create takes a fraction of a second), never past the lease.
            let left = Duration::from_millis((*lease_until_ms - now_ms).max(0) as u64);
            Next::Wait(left.min(Duration::from_millis(100)))
        }
    }
}

/// Back-off between two reads of a claim someone else is creating: 100 ms, doubling up to 1 s.
pub fn wait_step(round: u32) -> Duration {
    Duration::from_millis((100u64 << round.min(4)).min(1000))
}

/// A fresh owner id for one attempt at a related item or a profile.
pub fn attempt_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let process = std::process::id();
    format!("{process:x}-{:x}-{n:x}", now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn bound(id: &str) -> Claim {
        Claim { state: ClaimState::Bound { id: id.into() }, ..Claim::pending("k", "a", None, NOW) }
    }

    #[test]
    fn a_bound_claim_is_used() {
        assert_eq!(decide(&bound("case-1"), "b", NOW), Next::Use("case-1".into()));
    }

    #[test]
    fn a_pending_claim_of_the_same_token_is_replayed_at_once() {
        let held = Claim::pending("k", "token", Some("{\"request\":1}".into()), NOW);
        let replay = Next::Replay { request: "{\"request\":1}".into(), owner: "token".into() };
        assert_eq!(decide(&held, "token", NOW + 1), replay);
    }

    #[test]
    fn a_live_pending_claim_of_another_owner_is_waited_for_never_past_its_lease() {
        let held = Claim::pending("k", "a", Some("r".into()), NOW);
        assert_eq!(decide(&held, "b", NOW), Next::Wait(Duration::from_millis(100)));
        let lease_end = NOW + LEASE.as_millis() as i64;
        assert_eq!(decide(&held, "b", lease_end - 30), Next::Wait(Duration::from_millis(30)));
        // An item claim without a request, of the same attempt id: it is still another attempt.
        let item = Claim::pending("k", "a", None, NOW);
        assert!(matches!(decide(&item, "a", NOW), Next::Wait(_)));
    }

    #[test]
    fn a_dead_owners_claim_is_taken_over_with_its_stored_request() {
        let held = Claim::pending("k", "a", Some("r".into()), NOW);
        let after = NOW + LEASE.as_millis() as i64;
        assert_eq!(decide(&held, "b", after), Next::Replay { request: "r".into(), owner: "a".into() });
        let item = Claim::pending("k", "a", None, NOW);
        assert_eq!(decide(&item, "b", after), Next::TakeOver);
    }

    #[test]
    fn a_claim_past_its_retention_counts_as_absent() {
        let old = bound("case-1");
        let after = old.expires_at * 1000;
        assert_eq!(decide(&old, "b", after), Next::TakeOver);
        assert!(!old.is_expired(after - 1));
    }

    #[test]
    fn successors_are_conditional_on_the_version_they_replace() {
        let first = Claim::pending("k", "a", None, NOW);
        let next = first.succeeded_by("b", Some("r".into()), NOW + 5, LEASE);
        assert_eq!((next.version, next.owner.as_str(), next.key.as_str()), (2, "b", "k"));
        assert!(matches!(next.state, ClaimState::Pending { request: Some(_), .. }));
    }

    #[test]
    fn waits_back_off_to_a_second() {
        assert_eq!(wait_step(0), Duration::from_millis(100));
        assert_eq!(wait_step(1), Duration::from_millis(200));
        assert_eq!(wait_step(9), Duration::from_secs(1));
        assert_ne!(attempt_id(), attempt_id());
    }
}
