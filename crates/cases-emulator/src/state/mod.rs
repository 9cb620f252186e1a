//! The backend: the stateful model of the Cases service, pure Rust, no HTTP.
//!
//! [`State`] holds every domain with its fields, templates, cases, related items, audit events,
//! idempotency tokens, tags and case-event configuration. Operations are methods on `State`
//! (`admin.rs` for domains/fields/templates/config/tags, `cases.rs` for cases, related items,
//! audit and search). They take already-validated inputs (see `validate`) and return
//! [`ApiResult`]s; write operations also return the [`Change`]s they caused, which
//! [`Backend::write`] turns into case events and persists.
//!
//! The Customer Profiles side (profile domains and their profiles, `profiles.rs`) lives in the
//! same [`State`] (`profileDomains`), so it is persisted, dumped and reset with the rest.
//!
//! [`Backend`] wraps the state in a `Mutex` (every operation is short and synchronous, so one
//! lock is enough and makes each request atomic, e.g. concurrent `CreateCase` calls with one
//! `clientToken`).

pub mod admin;
pub mod cases;
pub mod model;
pub mod profiles;
pub mod search;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::events::EventSink;
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
}

/// What a write did, for case event streams.
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
}

impl State {
    /// An empty state (no domains, no profile domains).
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        State { region: region.into(), account: account.into(), domains: Vec::new(), profile_domains: Vec::new() }
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

/// The state behind a lock, plus the event sink and the optional state file.
pub struct Backend {
    state: Mutex<State>,
    initial: Mutex<State>,
    events: EventSink,
    state_file: Option<PathBuf>,
}

impl Backend {
    /// `initial` is what [`Backend::reset`] returns to (the seeded state).
    pub fn new(state: State, initial: State, events: EventSink, state_file: Option<PathBuf>) -> Self {
        Backend { state: Mutex::new(state), initial: Mutex::new(initial), events, state_file }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a read-only operation.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> ApiResult<R>) -> ApiResult<R> {
        f(&self.lock())
    }

    /// Runs a write operation: on success, emits the case events of its changes and saves the
    /// state file (if any), all under the lock.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> ApiResult<(R, Vec<Change>)>) -> ApiResult<R> {
        let mut st = self.lock();
        let (r, changes) = f(&mut st)?;
        for c in &changes {
            self.events.emit(&st, c);
        }
        self.persist(&st);
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
        serde_json::to_value(&*self.lock()).unwrap_or(serde_json::Value::Null)
    }

    /// A clone of the state.
    pub fn state(&self) -> State {
        self.lock().clone()
    }

    /// Back to the initial (seeded) state; clears emitted events.
    pub fn reset(&self) {
        let initial = self.initial.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut st = self.lock();
        *st = initial;
        self.events.clear();
        self.persist(&st);
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
