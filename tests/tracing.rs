//! X-Ray trace ids: the compiled binary, under the Runtime API stub that gives each invocation a
//! trace id of its own (`Lambda-Runtime-Trace-Id`), puts that id in the log lines of the
//! invocation and in the `X-Amzn-Trace-Id` header of its outbound SDK calls (the runtime sets
//! `_X_AMZN_TRACE_ID`, which the AWS SDK propagates), and in its EMF documents (`tests/metrics.rs`).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use support::lambda::{sample, spawn_function};
use support::runtime_api::{RuntimeApi, trace_id};

const WAIT: Duration = Duration::from_secs(10);

/// An endpoint that records the trace header of every request and refuses it (a permanent error,
/// so the SDK does not retry).
async fn recording_endpoint() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned));
            let mut answer = HeaderMap::new();
            answer.insert("x-amzn-errortype", "AccessDeniedException".parse().unwrap());
            (StatusCode::FORBIDDEN, answer, r#"{"message":"denied"}"#)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn each_invocations_trace_id_is_in_its_logs_and_its_outbound_calls() {
    let (endpoint, seen) = recording_endpoint().await;
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, &endpoint, &[]);
    for expected in 1..=2 {
        runtime.invoke(sample("custom-order-priority-changed.json"), WAIT);
        runtime.answer_within(WAIT).await.expect("an answer");
        let headers = std::mem::take(&mut *seen.lock().unwrap());
        assert!(!headers.is_empty(), "the invocation called the endpoint");
        let own = trace_id(&format!("request-{expected}"));
        assert!(headers.iter().all(|h| h.as_deref() == Some(own.as_str())), "request-{expected}: {headers:?}");
    }
    child.kill().await.unwrap();
    let stdout = String::from_utf8_lossy(&child.wait_with_output().await.unwrap().stdout).into_owned();
    let failed: Vec<Value> =
        stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|l| l["fields"]["message"] == "event failed").collect();
    assert_eq!(failed.len(), 2, "{stdout}");
    for (i, line) in failed.iter().enumerate() {
        assert_eq!(line["span"]["xrayTraceId"], trace_id(&format!("request-{}", i + 1)).as_str(), "{line}");
        assert_eq!(line["span"]["requestId"], format!("request-{}", i + 1).as_str(), "{line}");
    }
}
