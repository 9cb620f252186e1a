//! The in-process server: [`Emulator::builder`] → [`EmulatorBuilder::start`] → [`Emulator`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::backend::{Backend, load_state};
use crate::events::EventSink;
use crate::faults::{Fault, Faults};
use crate::seed::{Seed, SeedError};
use crate::state::State;
use crate::state::clock::{Clock, EARLIEST, LATEST};
use crate::wait::WaitTimeout;
use crate::wire::{App, admin_hosts, router};

/// Errors starting an emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("cannot load state file {path}: {source}")]
    State { path: String, source: std::io::Error },
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Configures an [`Emulator`]. Defaults: demo seed, quotas off, `us-east-1`,
/// account `123456789012`, listening on `127.0.0.1:0` (a free port), no search lag.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    seed: Seed,
    quotas: bool,
    region: String,
    account: String,
    listen: SocketAddr,
    state_file: Option<PathBuf>,
    events_out: Option<PathBuf>,
    force_events: bool,
    faults: Vec<Fault>,
    search_lag: Duration,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            seed: Seed::demo(),
            quotas: false,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            events_out: None,
            force_events: false,
            faults: Vec::new(),
            search_lag: Duration::ZERO,
        }
    }
}

impl EmulatorBuilder {
    /// The initial data (default [`Seed::demo`]).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Enforce the real rate quotas (429 ThrottlingException beyond them).
    pub fn quotas(mut self, enabled: bool) -> Self {
        self.quotas = enabled;
        self
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// Address to listen on (default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Load the state from this file at start when it exists (instead of the seed) and save it
    /// after every write.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Append emitted case events to this JSON-lines file; forces emission for every domain.
    pub fn events_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.events_out = Some(path.into());
        self.force_events = true;
        self
    }

    /// Emit case events even where the domain's event configuration is disabled.
    pub fn force_events(mut self, force: bool) -> Self {
        self.force_events = force;
        self
    }

    /// A fault rule active from the start.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// How long a write of a case takes to reach the search index (SearchCases,
    /// SearchRelatedItems, SearchAllRelatedItems), measured on the service clock. Default 0.
    pub fn search_lag(mut self, lag: Duration) -> Self {
        self.search_lag = lag;
        self
    }

    /// Builds the state and starts serving in the background on the current tokio runtime.
    pub async fn start(self) -> Result<Emulator, StartError> {
        let clock = Clock::new();
        let initial = self.seed.build_with_clock(&self.region, &self.account, &clock)?;
        let state: State = match &self.state_file {
            Some(p) if p.exists() => load_state(p).map_err(|source| StartError::State { path: p.display().to_string(), source })?,
            _ => initial.clone(),
        };
        let events = EventSink::new(self.events_out.clone(), self.force_events);
        let backend = Arc::new(Backend::new(state, initial, events, self.state_file.clone(), clock));
        backend.set_search_lag(self.search_lag);
        let faults = Arc::new(Faults::new(self.quotas));
        for f in self.faults {
            faults.inject(f);
        }
        let listener = tokio::net::TcpListener::bind(self.listen).await.map_err(|source| StartError::Bind { addr: self.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: self.listen, source })?;
        let app = Arc::new(App { backend: backend.clone(), faults: faults.clone(), admin_hosts: admin_hosts(addr) });
        let (tx, rx) = oneshot::channel::<()>();
        let server = axum::serve(listener, router(app)).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        let task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "server error");
            }
        });
        tracing::info!(%addr, "cases emulator started");
        Ok(Emulator { addr, backend, faults, shutdown: Some(tx), task: Some(task) })
    }
}

/// A running emulator. Dropping it stops the server (like [`Emulator::shutdown`], without waiting).
pub struct Emulator {
    addr: SocketAddr,
    backend: Arc<Backend>,
    faults: Arc<Faults>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults of [`EmulatorBuilder`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT`, for the SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Per-operation request counts (every HTTP request, failed or not, SDK retries included).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.faults.calls()
    }

    /// The request count of one operation (`"*"`: of all operations).
    pub fn call_count(&self, operation: &str) -> u64 {
        self.faults.call_count(operation)
    }

    /// Resolves as soon as `operation` (`"*"`: all operations together) has been called `count`
    /// times since the counts were last reset (at once if it already has), or fails after
    /// `timeout`. Wakes on each call: no polling.
    pub async fn wait_for_calls(&self, operation: &str, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        self.faults.wait_for_calls(operation, count, timeout).await
    }

    /// Writes applied since the start (successful write operations of either API).
    pub fn writes(&self) -> u64 {
        self.backend.writes()
    }

    /// Resolves as soon as `count` writes have been applied since the start, or fails after
    /// `timeout`.
    pub async fn wait_for_writes(&self, count: u64, timeout: Duration) -> Result<(), WaitTimeout> {
        self.backend.wait_for_writes(count, timeout).await
    }

    /// The service time: every timestamp the service makes comes from this clock (real time plus
    /// an offset, millisecond resolution).
    pub fn now(&self) -> OffsetDateTime {
        self.backend.now()
    }

    /// Jumps the service clock to `to` (kept within 1970..9000). Jumping back does not un-index
    /// what the search index already holds.
    pub fn set_clock(&self, to: OffsetDateTime) {
        let to = to.clamp(EARLIEST, LATEST);
        if let Err(e) = self.backend.set_clock(to) {
            tracing::warn!(error = %e, "clock not set");
        }
    }

    /// Moves the service clock forward by `by` (up to its latest instant, 9000-01-01).
    pub fn advance_clock(&self, by: Duration) {
        if self.backend.advance_clock(by).is_err() {
            self.set_clock(LATEST);
        }
    }

    /// How long a write of a case takes to reach the search index.
    pub fn search_lag(&self) -> Duration {
        self.backend.search_lag()
    }

    /// Sets the search lag for the writes that follow (at most 24 h).
    pub fn set_search_lag(&self, lag: Duration) {
        self.backend.set_search_lag(lag)
    }

    pub fn reset_calls(&self) {
        self.faults.reset_calls()
    }

    /// Case events emitted so far (EventBridge envelopes, oldest first).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.backend.events().events()
    }

    pub fn clear_events(&self) {
        self.backend.events().clear()
    }

    /// Adds a fault rule.
    pub fn inject_fault(&self, fault: Fault) {
        self.faults.inject(fault)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.faults.clear()
    }

    /// Turns rate-quota enforcement on or off.
    pub fn set_quotas(&self, enabled: bool) {
        self.faults.set_quotas(enabled)
    }

    /// The whole state as JSON (same as `GET /_emulator/state`).
    pub fn state_snapshot(&self) -> serde_json::Value {
        self.backend.snapshot()
    }

    /// The stored profiles of Customer Profiles domain `domain`, in creation order (empty when the
    /// domain does not exist). Same as `GET /_emulator/profiles/{domain}`.
    pub fn profiles(&self, domain: &str) -> Vec<serde_json::Value> {
        self.backend
            .read(|s| Ok(s.profile_domain(domain).map(|d| d.profiles.iter().map(|p| p.to_json()).collect()).unwrap_or_default()))
            .unwrap_or_default()
    }

    /// The whole state, typed.
    pub fn state(&self) -> State {
        self.backend.state()
    }

    /// Back to the seed (clears emitted events; keeps faults and call counts).
    pub fn reset(&self) {
        self.backend.reset()
    }

    /// The backend, for direct in-process access.
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
