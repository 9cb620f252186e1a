//! Rules from AWS AppConfig, while the function runs: the compiled binary, with the agent's
//! stand-in (`support::appconfig_agent`) serving the rules, uses a new version for the next event,
//! refuses an invalid version and keeps the last good rules, and keeps them too while the agent
//! does not answer. AppConfig's validation requests get the checks of a cold start.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::appconfig_agent::Agent;
use support::lambda::{sample, spawn_function};
use support::runtime_api::{Answer, RuntimeApi};

const WAIT: Duration = Duration::from_secs(10);

/// The default rules plus one that answers contact events of agents connecting (skipped by the
/// default rules): whether it ran shows which rules an event met.
fn with_agent_rule(name: &str) -> String {
    format!(
        "{}\n  - name: {name}\n    match:\n      source: [aws.connect]\n      detail:\n        eventType: [CONNECTED_TO_AGENT]\n    case:\n      find: [ {{ contact: {{}} }} ]\n      ifMissing: skip\n",
        cases_automation::rules::DEFAULT_RULES.trim_end()
    )
}

async fn summary(runtime: &RuntimeApi) -> Value {
    runtime.invoke(sample("contact-connected-to-agent.json"), WAIT);
    match runtime.answer_within(WAIT).await.expect("an answer").1 {
        Answer::Response(summary) => summary,
        other => panic!("{other:?}"),
    }
}

fn rules_run(summary: &Value) -> Vec<&str> {
    summary["results"].as_array().map(|r| r.iter().map(|r| r["rule"].as_str().unwrap()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn a_new_version_is_used_by_the_next_event_and_an_invalid_one_is_refused() {
    let cases = support::cases_service::start().await;
    let agent = Agent::start(&with_agent_rule("agent-connected-v1")).await;
    let runtime = RuntimeApi::start().await;
    let port = agent.port.to_string();
    let setting = Agent::rules_setting();
    let extra =
        [("RULES_APPCONFIG", setting.as_str()), ("RULES_REFRESH_SECONDS", "0"), ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", port.as_str())];
    let mut child = spawn_function(&runtime, &cases.endpoint_url(), &extra);

    assert!(runtime.initialised(WAIT).await);
    assert_eq!(agent.requests(), 0, "the cold start does not ask the agent");
    assert_eq!(rules_run(&summary(&runtime).await), ["agent-connected-v1"], "version 1, read before the first event");

    agent.publish(&with_agent_rule("agent-connected-v2"));
    assert_eq!(rules_run(&summary(&runtime).await), ["agent-connected-v2"], "the next event uses version 2");

    agent.publish("rules:\n  - name: broken\n    match: { source: aws.connect }\n    case: {}\n");
    assert_eq!(rules_run(&summary(&runtime).await), ["agent-connected-v2"], "version 3 is invalid: version 2 keeps working");

    agent.publish(&with_agent_rule("agent-connected-v4"));
    agent.set_available(false);
    assert_eq!(rules_run(&summary(&runtime).await), ["agent-connected-v2"], "the agent does not answer: version 2 keeps working");
    agent.set_available(true);
    assert_eq!(rules_run(&summary(&runtime).await), ["agent-connected-v4"]);

    child.kill().await.unwrap();
    let stdout = String::from_utf8_lossy(&child.wait_with_output().await.unwrap().stdout).into_owned();
    let logs: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let refused = logs
        .iter()
        .find(|l| l["fields"]["message"] == "refused rules from AppConfig; the running rules stay")
        .expect("the refusal is logged");
    assert_eq!(refused["fields"]["refused"], "3");
    assert_eq!(refused["fields"]["running"], "appconfig-2");
    assert!(refused["fields"]["problems"].as_str().unwrap().contains("rule `broken`, at `match.source`"), "{refused}");
    let handled: Vec<&str> =
        logs.iter().filter(|l| l["fields"]["message"] == "event handled").map(|l| l["fields"]["rules_version"].as_str().unwrap()).collect();
    assert_eq!(handled, ["appconfig-1", "appconfig-2", "appconfig-2", "appconfig-2", "appconfig-4"], "the version of each event is logged");
    let refreshes: Vec<String> = support::emf::documents(&stdout)
        .iter()
        .filter(|d| d.has_metric("RulesRefreshes"))
        .map(|d| d.string("Result").unwrap().to_owned())
        .collect();
    assert_eq!(refreshes, ["applied", "applied", "refused", "unavailable", "applied"], "each read is counted by result");
}

#[tokio::test]
async fn appconfig_validation_requests_get_the_checks_of_a_cold_start() {
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, "http://127.0.0.1:9", &[]);
    let request = |text: &str, version: &str| {
        json!({"applicationId": "a", "configurationProfileId": "p", "configurationVersion": version, "uri": "hosted",
               "content": aws_smithy_types::base64::encode(text)})
    };
    runtime.invoke(request(&with_agent_rule("fine"), "7"), WAIT);
    let (_, answer) = runtime.answer_within(WAIT).await.unwrap();
    assert!(matches!(&answer, Answer::Response(r) if r["valid"] == true), "{answer:?}");
    runtime.invoke(request("rules:\n  - name: broken\n    match: { source: x }\n    case: {}\n", "8"), WAIT);
    let (_, answer) = runtime.answer_within(WAIT).await.unwrap();
    match answer {
        Answer::Error { error_type, message } => {
            assert_eq!(error_type, "Permanent.InvalidRules");
            assert!(message.contains("AppConfig version 8") && message.contains("rule `broken`, at `case`"), "{message}");
        }
        other => panic!("an invalid version must be refused: {other:?}"),
    }
    child.kill().await.unwrap();
}
