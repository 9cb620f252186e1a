//! A stand-in for the AWS AppConfig Agent Lambda extension on loopback: it serves
//! `/applications/{a}/environments/{e}/configurations/{p}` from a file, with the version number in
//! `Configuration-Version`, as the agent serves the deployed version. `publish` writes a new
//! version; `set_available(false)` makes it answer 503, as an agent that cannot reach AppConfig.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub const APPLICATION: &str = "cases-rules";
pub const ENVIRONMENT: &str = "live";
pub const PROFILE: &str = "rules";

struct Shared {
    file: PathBuf,
    version: AtomicU32,
    available: AtomicBool,
    requests: AtomicU32,
}

pub struct Agent {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Agent {
    /// Serves `first` as version 1.
    pub async fn start(first: &str) -> Agent {
        let file = std::env::temp_dir().join(format!("appconfig-agent-{}-{}.yaml", std::process::id(), rand_suffix()));
        std::fs::write(&file, first).unwrap();
        let shared = Arc::new(Shared { file, version: AtomicU32::new(1), available: AtomicBool::new(true), requests: AtomicU32::new(0) });
        let app = Router::new().route("/applications/{a}/environments/{e}/configurations/{p}", get(serve)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Agent { port, shared }
    }

    /// Deploys `text` as the next version; returns its number.
    pub fn publish(&self, text: &str) -> u32 {
        std::fs::write(&self.shared.file, text).unwrap();
        self.shared.version.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn set_available(&self, available: bool) {
        self.shared.available.store(available, Ordering::SeqCst);
    }

    /// Requests served so far.
    pub fn requests(&self) -> u32 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The function's setting for this agent's profile.
    pub fn rules_setting() -> String {
        format!("{APPLICATION}/{ENVIRONMENT}/{PROFILE}")
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

async fn serve(State(shared): State<Arc<Shared>>, Path((a, e, p)): Path<(String, String, String)>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    if (a.as_str(), e.as_str(), p.as_str()) != (APPLICATION, ENVIRONMENT, PROFILE) {
        return (StatusCode::NOT_FOUND, "no such configuration").into_response();
    }
    if !shared.available.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "AppConfig is not reachable").into_response();
    }
    let mut headers = HeaderMap::new();
    headers.insert("Configuration-Version", shared.version.load(Ordering::SeqCst).to_string().parse().unwrap());
    headers.insert("Content-Type", "application/x-yaml".parse().unwrap());
    (StatusCode::OK, headers, std::fs::read_to_string(&shared.file).unwrap()).into_response()
}
