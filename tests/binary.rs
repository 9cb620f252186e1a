//! The compiled `cases-automation` binary, run as Lambda runs it: under a Runtime API (on
//! loopback), configured only through its environment, talking to the local Cases service.

mod support;

use std::time::Duration;
use support::lambda::sample;

use serde_json::Value;
use support::counting_listener::CountingListener;
use support::lambda::spawn_function;
use support::runtime_api::{Answer, RuntimeApi};

#[tokio::test]
async fn the_binary_answers_a_flow_and_an_eventbridge_invocation() {
    let cases = support::cases_service::start().await;
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, &cases.endpoint_url(), &[]);

    let id = runtime.invoke(sample("flow-voice-open-case.json"), Duration::from_secs(8));
    let (answered, answer) = runtime.answer_within(Duration::from_secs(8)).await.expect("an answer");
    assert_eq!(answered, id);
    let Answer::Response(map) = answer else { panic!("{answer:?}") };
    assert!(map["caseId"].as_str().is_some_and(|s| !s.is_empty()), "{map}");
    assert_eq!(map["caseCreated"], "true");
    assert!(map["caseArn"].as_str().unwrap().starts_with("arn:aws:cases:us-east-1:123456789012:domain/demo-domain/case/"));

    runtime.invoke(serde_json::json!({"hello": "world"}), Duration::from_secs(8));
    let (_, answer) = runtime.answer_within(Duration::from_secs(8)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type == "Permanent.InvalidEvent"), "{answer:?}");

    child.kill().await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.lines().filter(|l| !l.is_empty()).all(|l| serde_json::from_str::<Value>(l).is_ok()), "JSON logs: {logs}");
    assert!(logs.contains("event handled"), "{logs}");
}

/// How long the function may take to start before the test gives up on it (it starts in
/// milliseconds; the bound only stops a test whose function never starts).
const START_WAIT: Duration = Duration::from_secs(60);

/// Start-up needs no network: at every endpoint the function could call (Cases, Customer
/// Profiles, Amazon Connect, DynamoDB, SQS, the global `AWS_ENDPOINT_URL` for any other service,
/// and the AppConfig agent of `RULES_APPCONFIG`) stands a listener that counts connections. None
/// connects before the first invocation; one that needs no call asks the agent for the rules
/// only; the first invocation that needs Cases connects to Cases (and the agent) only; the first
/// whose rule reads the contact connects to Amazon Connect, before anything else.
#[tokio::test]
async fn start_up_connects_to_no_endpoint_until_an_invocation_needs_one() {
    let runtime = RuntimeApi::start().await;
    let cases = CountingListener::start().await;
    let others = [
        ("AWS_ENDPOINT_URL_CUSTOMER_PROFILES", CountingListener::start().await),
        ("AWS_ENDPOINT_URL_CONNECT", CountingListener::start().await),
        ("AWS_ENDPOINT_URL_DYNAMODB", CountingListener::start().await),
        ("AWS_ENDPOINT_URL_SQS", CountingListener::start().await),
        ("AWS_ENDPOINT_URL", CountingListener::start().await),
    ];
    let agent = CountingListener::start().await;
    let agent_port = agent.url().rsplit(':').next().unwrap().to_owned();
    let mut extra: Vec<(&str, &str)> = others.iter().map(|(variable, listener)| (*variable, listener.url())).collect();
    extra.extend([
        ("RULES_APPCONFIG", "app/env/rules"),
        ("RULES_REFRESH_SECONDS", "0"),
        ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", agent_port.as_str()),
    ]);
    let mut child = spawn_function(&runtime, cases.url(), &extra);
    let connected = || {
        let mut counts = vec![("AWS_ENDPOINT_URL_CONNECTCASES", cases.connections()), ("AppConfig agent", agent.connections())];
        counts.extend(others.iter().map(|(variable, listener)| (*variable, listener.connections())));
        counts.into_iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>()
    };

    assert!(runtime.initialised(START_WAIT).await, "the function never asked for an invocation");
    assert_eq!(connected(), [], "connections before the first invocation");

    // A change the automation made itself is skipped without a call.
    runtime.invoke(sample("cases-case-updated-by-automation.json"), Duration::from_secs(10));
    let (_, answer) = runtime.answer_within(Duration::from_secs(10)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Response(r) if r["outcome"] == "skipped"), "{answer:?}");
    assert!(matches!(connected().as_slice(), [("AppConfig agent", 1)]), "while handling an event that needs no call: {:?}", connected());

    // The first invocation that needs Cases connects there, and fails as retryable.
    runtime.invoke(sample("custom-order-delayed.json"), Duration::from_secs(10));
    let (_, answer) = runtime.answer_within(Duration::from_secs(10)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type.starts_with("Retryable.")), "{answer:?}");
    let now = connected();
    assert!(matches!(now.as_slice(), [("AWS_ENDPOINT_URL_CONNECTCASES", n), ("AppConfig agent", 2)] if *n > 0), "{now:?}");

    // A rule that reads the contact's attributes asks Amazon Connect first.
    let cases_before = cases.connections();
    runtime.invoke(sample("contact-updated-attributes.json"), Duration::from_secs(10));
    let (_, answer) = runtime.answer_within(Duration::from_secs(10)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Error { error_type, .. } if error_type.starts_with("Retryable.")), "{answer:?}");
    let now = connected();
    assert!(now.iter().any(|(variable, n)| *variable == "AWS_ENDPOINT_URL_CONNECT" && *n > 0), "{now:?}");
    assert_eq!(cases.connections(), cases_before, "nothing is read from Cases before the contact: {now:?}");
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
    let output = tokio::time::timeout(START_WAIT, child.wait_with_output()).await.expect("exits").unwrap();
    assert!(!output.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    for needle in ["rule `one`, at `match.source`", "rule `one`, at `case`", "rule `two`, at `performedBy`"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(runtime.first_next().is_none(), "an invalid start never takes an invocation");
}
