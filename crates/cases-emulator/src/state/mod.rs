//! The backend: the stateful model of the Cases service, pure Rust, no HTTP.
//!
//! [`State`] holds every domain with its fields, templates, cases, related items, audit events,
//! idempotency tokens, tags and case-event configuration. Operations are methods on `State`
//! (`admin.rs` for domains/fields/templates/config/tags, `cases.rs` for cases, related items,
//! audit and search). They take already-validated inputs (see `validate`) and the time of the
//! operation, and return [`ApiResult`]s; write operations also return the [`Change`]s they
//! caused, which [`Backend::write`] turns into case events and search index versions.
//!
//! The Customer Profiles side (profile domains and their profiles, `profiles.rs`) lives in the
//! same [`State`] (`profileDomains`), so it is persisted, dumped and reset with the rest; so
//! does the Amazon Connect side (instances and their contacts, `connect.rs`, `connectInstances`).
//!
//! [`Backend`] owns the state, the search index ([`index`]) that SearchCases and the related-item
//! searches read, and the service [`clock`]: every timestamp comes from it, and the search lag
//! is measured on it. One `Mutex` over state and index is enough (every operation is short and
//! synchronous) and makes each request atomic, e.g. concurrent `CreateCase` calls with one
//! `clientToken`.

pub mod admin;
pub mod cases;
pub mod clock;
pub mod connect;
pub mod index;
pub mod model;
pub mod profiles;
pub mod search;
pub mod sla;
pub mod validate;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::error::{ApiError, ApiResult};
use crate::events::EventSink;
use crate::wait::{WaitTimeout, wait_until};
use clock::{Clock, ClockError};
use index::SearchIndex;
use model::{Case, Domain, RelatedItem, User};

/// The whole service state (also the format of the `--state` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub region: String,
    pub account: String,
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Customer Profiles domains (see [`profiles`]).
    #[serde(default)]
    pub profile_domains: Vec<profiles::ProfileDomain>,
    /// Amazon Connect instances and their contacts (see [`connect`]).
    #[serde(default)]
    pub connect_instances: Vec<connect::ConnectInstance>,
}

/// What a write did, for case event streams and the search index.
#[derive(Debug, Clone)]
pub enum Change {
    /// `CASE.CREATED` / `CASE.UPDATED` / `CASE.DELETED`; `case` is the case after the change
    /// (before it, for a deletion).
    Case { event_type: &'static str, domain_id: String, case: Box<Case>, changed_field_ids: Vec<String>, performed_by: Option<User> },
    /// `RELATED_ITEM.CREATED` / `RELATED_ITEM.UPDATED` / `RELATED_ITEM.DELETED`.
    RelatedItem {
        event_type: &'static str,
        domain_id: String,
        item: Box<RelatedItem>,
        changed_attributes: Vec<String>,
        performed_by: Option<User>,
    },
    /// A case or one of its related items changed in a way searches see but that has no case
    /// event (tags).
    Searchable { domain_id: String, case_id: String },
}

impl Change {
    /// The (domain, case) whose search documents the change touched.
    pub fn case(&self) -> (&str, &str) {
        match self {
            Change::Case { domain_id, case, .. } => (domain_id, &case.id),
            Change::RelatedItem { domain_id, item, .. } => (domain_id, &item.case_id),
            Change::Searchable { domain_id, case_id } => (domain_id, case_id),
        }
    }
}

impl State {
    /// An empty state (no domains, no profile domains).
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        State {
            region: region.into(),
            account: account.into(),
            domains: Vec::new(),
            profile_domains: Vec::new(),
            connect_instances: Vec::new(),
        }
    }

    /// `arn:aws:cases:{region}:{account}:`
    pub fn arn_prefix(&self) -> String {
        format!("arn:aws:cases:{}:{}:", self.region, self.account)
    }

    pub fn domain_arn(&self, domain_id: &str) -> String {
        format!("{}domain/{domain_id}", self.arn_prefix())
    }

    /// The IAM principal every call is attributed to (the emulator does not check signatures).
    pub fn iam_principal_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/cases-emulator-caller", self.account)
    }

    /// A domain, or 404 (resourceType `Domain`).
    pub fn domain(&self, id: &str) -> ApiResult<&Domain> {
        self.domains.iter().find(|d| d.id == id).ok_or_else(|| ApiError::not_found("Domain", id))
    }

    /// A domain for writing, or 404.
    pub fn domain_mut(&mut self, id: &str) -> ApiResult<&mut Domain> {
        self.domains.iter_mut().find(|d| d.id == id).ok_or_else(|| ApiError::not_found("Domain", id))
    }
}

/// Longest search lag accepted (a longer one is cut to it).
pub const MAX_SEARCH_LAG: Duration = Duration::from_secs(24 * 60 * 60);

/// What the backend lock guards: the state and the search index over it.
struct Store {
    state: State,
    index: SearchIndex,
}

/// The state and its search index behind a lock, the clock, the event sink and the optional
/// state file.
pub struct Backend {
    store: Mutex<Store>,
    initial: Mutex<State>,
    events: EventSink,
    state_file: Option<PathBuf>,
    clock: Clock,
    search_lag: Mutex<Duration>,
    /// Writes applied (successful write operations), for [`Backend::wait_for_writes`].
    writes: watch::Sender<u64>,
}

impl Backend {
    /// `initial` is what [`Backend::reset`] returns to (the seeded state); `clock` should be the
    /// one that seeded it. Everything in `state` is searchable from the start.
    pub fn new(state: State, initial: State, events: EventSink, state_file: Option<PathBuf>, clock: Clock) -> Self {
        let index = SearchIndex::of(&state);
        Backend {
            store: Mutex::new(Store { state, index }),
            initial: Mutex::new(initial),
            events,
            state_file,
            clock,
            search_lag: Mutex::new(Duration::ZERO),
            writes: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a read-only operation.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> ApiResult<R>) -> ApiResult<R> {
        f(&self.lock().state)
    }

    /// Runs a search: `f` gets the state, the search index and the current time.
    pub fn search<R>(&self, f: impl FnOnce(&State, &SearchIndex, OffsetDateTime) -> ApiResult<R>) -> ApiResult<R> {
        let store = self.lock();
        f(&store.state, &store.index, self.clock.now())
    }

    /// Runs a write operation at the clock's next timestamp (strictly later than the previous
    /// write's). On success, under the lock: emits the case events of its changes, records the
    /// new versions of the touched cases in the search index (indexed after the search lag),
    /// saves the state file (if any) and counts the write. A failed write changes nothing.
    pub fn write<R>(&self, f: impl FnOnce(&mut State, OffsetDateTime) -> ApiResult<(R, Vec<Change>)>) -> ApiResult<R> {
        let mut store = self.lock();
        let now = self.clock.next();
        let (r, changes) = f(&mut store.state, now)?;
        self.clock.commit(now);
        let indexed_at = now.checked_add(time::Duration::try_from(self.search_lag()).unwrap_or(time::Duration::ZERO)).unwrap_or(now);
        let Store { state, index } = &mut *store;
        for c in &changes {
            self.events.emit(state, c, now);
            let (domain_id, case_id) = c.case();
            index.record_case(state, domain_id, case_id, indexed_at);
        }
        index.retain_domains(state);
        index.compact(now);
        self.persist(state);
        self.writes.send_modify(|n| *n += 1);
        Ok(r)
    }

    fn persist(&self, st: &State) {
        let Some(path) = &self.state_file else { return };
        if let Err(e) = save_state(path, st) {
            tracing::error!(path = %path.display(), error = %e, "cannot save state file");
        }
    }

    /// The event sink.
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// A JSON dump of the whole state.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(&self.lock().state).unwrap_or(serde_json::Value::Null)
    }

    /// A clone of the state.
    pub fn state(&self) -> State {
        self.lock().state.clone()
    }

    /// How many document versions the search index keeps.
    pub fn index_versions(&self) -> usize {
        self.lock().index.version_count()
    }

    /// Back to the initial (seeded) state, all of it searchable; clears emitted events. The
    /// clock and the search lag are kept.
    pub fn reset(&self) {
        let initial = self.initial.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut store = self.lock();
        store.index = SearchIndex::of(&initial);
        store.state = initial;
        self.events.clear();
        self.persist(&store.state);
    }

    /// The service time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Jumps the clock to `to`. Jumping back keeps what was indexed indexed, and what was not
    /// waits for the lag it had left.
    pub fn set_clock(&self, to: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        let mut store = self.lock();
        let before = self.clock.set(to)?;
        if to < before {
            store.index.rebase(before, to);
        }
        Ok(self.clock.now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance_clock(&self, by: Duration) -> Result<OffsetDateTime, ClockError> {
        let _store = self.lock();
        self.clock.advance(by)?;
        Ok(self.clock.now())
    }

    /// How long a written case takes to reach the search index.
    pub fn search_lag(&self) -> Duration {
        *self.search_lag.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the search lag for the writes that follow (at most [`MAX_SEARCH_LAG`]).
    pub fn set_search_lag(&self, lag: Duration) {
        *self.search_lag.lock().unwrap_or_else(|e| e.into_inner()) = lag.min(MAX_SEARCH_LAG);
    }

    /// Writes applied so far.
    pub fn writes(&self) -> u64 {
        *self.writes.borrow()
    }

    /// Resolves once `count` writes have been applied in all, or fails after `timeout`.
    pub async fn wait_for_writes(&self, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        wait_until(self.writes.subscribe(), |n| *n, count, timeout, || format!("{count} applied writes")).await
    }
}

/// Writes `state` to `path` atomically (temp file + rename).
pub fn save_state(path: &std::path::Path, state: &State) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

/// Reads a state file written by [`save_state`].
pub fn load_state(path: &std::path::Path) -> std::io::Result<State> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}
