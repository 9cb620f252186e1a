//! The compiled `cases-automation` binary, run as Lambda runs it: under a Runtime API (on
//! loopback), configured only through its environment, talking to the local Cases service.

mod support;

use std::time::{Duration, Instant};
use support::lambda::sample;

use serde_json::Value;
use support::lambda::spawn_function;
use support::runtime_api::{Answer, RuntimeApi};

#[tokio::test]
async fn the_binary_answers_a_flow_and_an_eventbridge_invocation() {
    let cases = support::cases_service::start().await;
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, &cases.endpoint_url(), &[]);

    let id = runtime.invoke(sample("flow-voice-open-case.json"), Duration::from_secs(8));
    let (answered, answer) = runtime.answer(Duration::from_secs(30)).await.expect("an answer");
    assert_eq!(answered, id);
    let Answer::Response(map) = answer else { panic!("{answer:?}") };
    assert!(map["caseId"].as_str().is_some_and(|s| !s.is_empty()), "{map}");
    assert_eq!(map["caseCreated"], "true");
    assert!(map["caseArn"].as_str().unwrap().starts_with("arn:aws:cases:us-east-1:123456789012:domain/demo-domain/case/"));

    runtime.invoke(serde_json::json!({"hello": "world"}), Duration::from_secs(8));
    let (_, answer) = runtime.answer(Duration::from_secs(30)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type == "Permanent.InvalidEvent"), "{answer:?}");

    child.kill().await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.lines().filter(|l| !l.is_empty()).all(|l| serde_json::from_str::<Value>(l).is_ok()), "JSON logs: {logs}");
    assert!(logs.contains("event handled"), "{logs}");
}

#[tokio::test]
async fn start_up_does_not_need_the_cases_endpoint() {
    let runtime = RuntimeApi::start().await;
    // Nothing listens on port 9 (discard): any call would fail.
    let started = Instant::now();
    let mut child = spawn_function(&runtime, "http://127.0.0.1:9", &[]);
    while runtime.first_next().is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "the function never asked for an invocation");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The failure shows on the first invocation that needs Cases, as a retryable error.
    runtime.invoke(sample("custom-order-delayed.json"), Duration::from_secs(5));
    let (_, answer) = runtime.answer(Duration::from_secs(30)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type.starts_with("Retryable.")), "{answer:?}");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn an_invalid_rules_file_fails_the_start_listing_every_problem() {
    let runtime = RuntimeApi::start().await;
    let dir = std::env::temp_dir().join(format!("cases-automation-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - name: one\n    match: { source: x }\n    case: {}\n  - name: two\n    match: { source: [x] }\n    performedBy: \"bad!\"\n    case: { find: [ { id: \"$.detail.id\" } ] }\n",
    )
    .unwrap();
    let child = spawn_function(&runtime, "http://127.0.0.1:9", &[("RULES_FILE", rules.to_str().unwrap())]);
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await.expect("exits").unwrap();
    assert!(!output.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    for needle in ["rule `one`, at `match.source`", "rule `one`, at `case`", "rule `two`, at `performedBy`"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(runtime.first_next().is_none(), "an invalid start never takes an invocation");
}
