//! A Lambda Runtime API on loopback, enough to run the compiled `cases-automation` binary the way
//! Lambda does: it hands out queued invocations on `next` and collects responses and errors.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};

/// How long past an invocation's deadline its answer may take to arrive on a loaded machine: the
/// function answers by the deadline; only scheduling delays it more.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(10);

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response(Value),
    Error {
        error_type: String,
        message: String,
    },
    /// The function failed to initialise (`/runtime/init/error`).
    InitError {
        error_type: String,
        message: String,
    },
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Bytes, u64)>>,
    queued: Notify,
    /// Set when the function first asks for work: initialisation is over.
    first_next: watch::Sender<Option<std::time::Instant>>,
    /// How long the first `next` is held before it answers: a slow cold start.
    first_next_delay: Mutex<Duration>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    answers: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Answer)>>,
    next_id: Mutex<u64>,
}

type AppState = (Arc<Shared>, mpsc::UnboundedSender<(String, Answer)>);

impl RuntimeApi {
    /// The environment Lambda gives a function served by this Runtime API, with local credentials
    /// and the Cases endpoint; callers add their own settings (logging, domains) to it.
    pub fn lambda_environment(&self, cases_endpoint: &str) -> Vec<(&'static str, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", "cases-automation".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "local".into()),
            ("AWS_SECRET_ACCESS_KEY", "local".into()),
            ("AWS_ENDPOINT_URL_CONNECTCASES", cases_endpoint.into()),
        ]
        .into()
    }

    pub async fn start() -> RuntimeApi {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state((shared.clone(), tx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RuntimeApi { addr, shared, answers: tokio::sync::Mutex::new(rx), next_id: Mutex::new(0) }
    }

    /// Queues an invocation with `timeout` to run; returns its request id.
    pub fn invoke(&self, payload: Value, timeout: Duration) -> String {
        self.invoke_raw(payload.to_string().into_bytes(), timeout)
    }

    /// Queues an invocation whose payload is `body` as is (it need not be JSON, or even UTF-8).
    pub fn invoke_raw(&self, body: Vec<u8>, timeout: Duration) -> String {
        let id = {
            let mut n = self.next_id.lock().unwrap();
            *n += 1;
            format!("request-{n}")
        };
        let deadline = (SystemTime::now() + timeout).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        self.shared.queue.lock().unwrap().push_back((id.clone(), Bytes::from(body), deadline));
        self.shared.queued.notify_one();
        id
    }

    /// The next answer, waiting at most `wait`.
    pub async fn answer(&self, wait: Duration) -> Option<(String, Answer)> {
        tokio::time::timeout(wait, self.answers.lock().await.recv()).await.ok().flatten()
    }

    /// The next answer to an invocation queued with `timeout`: the function answers by the
    /// invocation's deadline, so this waits for that long plus `ANSWER_MARGIN`.
    pub async fn answer_within(&self, timeout: Duration) -> Option<(String, Answer)> {
        self.answer(timeout + ANSWER_MARGIN).await
    }

    /// Holds the function's first `next` for `delay` before it answers, as if its initialisation
    /// took that much longer.
    pub fn delay_first_invocation(&self, delay: Duration) {
        *self.shared.first_next_delay.lock().unwrap() = delay;
    }

    /// When the function first asked for an invocation, if it has.
    pub fn first_next(&self) -> Option<std::time::Instant> {
        *self.shared.first_next.borrow()
    }

    /// Waits until the function first asks for an invocation (its initialisation is over), or
    /// until `wait` has passed; false if it never asked.
    pub async fn initialised(&self, wait: Duration) -> bool {
        let mut asked = self.shared.first_next.subscribe();
        tokio::time::timeout(wait, asked.wait_for(Option::is_some)).await.is_ok_and(|seen| seen.is_ok())
    }
}

async fn next(State((shared, _)): State<AppState>) -> Response {
    let is_first = shared.first_next.send_if_modified(|first| {
        let is_first = first.is_none();
        first.get_or_insert_with(std::time::Instant::now);
        is_first
    });
    if is_first {
        let delay = *shared.first_next_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
    }
    loop {
        let notified = shared.queued.notified();
        if let Some((id, payload, deadline)) = shared.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert("Lambda-Runtime-Aws-Request-Id", id.parse().unwrap());
            headers.insert("Lambda-Runtime-Deadline-Ms", deadline.to_string().parse().unwrap());
            headers.insert(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:cases-automation".parse().unwrap(),
            );
            headers.insert("Lambda-Runtime-Trace-Id", trace_id(&id).parse().unwrap());
            return (StatusCode::OK, headers, payload).into_response();
        }
        notified.await;
    }
}

/// The X-Ray trace header Lambda would give invocation `request_id`: a root of its own per invocation.
pub fn trace_id(request_id: &str) -> String {
    let n: u64 = request_id.trim_start_matches("request-").parse().unwrap_or(0);
    format!("Root=1-00000000-{n:024x};Parent=00000000000000aa;Sampled=1")
}

fn parse_error(body: &Bytes) -> (String, String) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    (value["errorType"].as_str().unwrap_or_default().to_owned(), value["errorMessage"].as_str().unwrap_or_default().to_owned())
}

async fn response(State((_, tx)): State<AppState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let _ = tx.send((id, Answer::Response(serde_json::from_slice(&body).unwrap_or(Value::Null))));
    StatusCode::ACCEPTED
}

async fn error(State((_, tx)): State<AppState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let (error_type, message) = parse_error(&body);
    let _ = tx.send((id, Answer::Error { error_type, message }));
    StatusCode::ACCEPTED
}

async fn init_error(State((_, tx)): State<AppState>, body: Bytes) -> StatusCode {
    let (error_type, message) = parse_error(&body);
    let _ = tx.send(("init".into(), Answer::InitError { error_type, message }));
    StatusCode::ACCEPTED
}
