//! The backend: the state, the search index over it and the service clock behind one lock, the
//! case events of every write, and the optional state file.
//!
//! [`Backend`] owns the state, the search index (`state::index`) that SearchCases and the
//! related-item searches read, and the service clock: every timestamp comes from it, and the
//! search lag is measured on it. One `Mutex` over state and index is enough (every operation is
//! short and synchronous) and makes each request atomic, e.g. concurrent `CreateCase` calls with
//! one `clientToken`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::error::ApiResult;
use crate::events::EventSink;
use crate::state::clock::{Clock, ClockError};
use crate::state::index::SearchIndex;
use crate::state::{Change, State};
use crate::wait::{WaitTimeout, wait_until};

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
