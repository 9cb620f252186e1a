//! The compiled binary's metrics: under the Runtime API stub, its stdout holds valid CloudWatch
//! EMF documents (`support::emf` checks them against the specification), one set per invocation,
//! carrying the invocation's request id, X-Ray trace id and rules version, with the counts a
//! known sequence of events gives, and no dimension beyond the few the metrics list names.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use cases_automation::telemetry::{FUNCTION_DIMENSION, METRICS, NAMESPACE};
use cases_emulator::{ErrorKind, Fault};
use serde_json::json;
use support::emf::{Document, check, documents};
use support::lambda::{sample, spawn_function};
use support::runtime_api::{Answer, RuntimeApi, trace_id};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn each_invocation_writes_valid_emf_documents_with_the_expected_counts() {
    let cases = support::cases_service::start().await;
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, &cases.endpoint_url(), &[]);

    let sequence = [
        sample("flow-voice-open-case.json"),             // request-1: a new case, the contact linked
        sample("flow-voice-open-case.json"),             // request-2: redelivered: found, the link already there
        sample("cases-case-updated-by-automation.json"), // request-3: skipped, caused by the automation
        sample("contact-connected-to-agent.json"),       // request-4: no rule matches
        json!({"hello": "world"}),                       // request-5: not an event
    ];
    let version = cases_automation::rules::RuleSet::default_rules().version;
    for event in sequence {
        runtime.invoke(event, WAIT);
        let (id, answer) = runtime.answer_within(WAIT).await.expect("an answer");
        if id == "request-1" {
            assert!(matches!(&answer, Answer::Response(map) if map["rulesVersion"] == version.as_str()), "the flow's answer: {answer:?}");
        }
    }
    child.kill().await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let logs: Vec<serde_json::Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let handled: Vec<&serde_json::Value> = logs.iter().filter(|l| l["fields"]["message"] == "event handled").collect();
    assert!(!handled.is_empty() && handled.iter().all(|l| l["fields"]["rules_version"] == version.as_str()), "{stdout}");
    let documents = documents(&stdout);
    assert!(!documents.is_empty(), "no EMF document in:\n{stdout}");

    let allowed: BTreeSet<&str> = METRICS.iter().flat_map(|m| m.dimensions.iter().copied()).chain([FUNCTION_DIMENSION]).collect();
    for document in &documents {
        assert_eq!(document.namespace, NAMESPACE);
        assert_eq!(document.string(FUNCTION_DIMENSION), Some("cases-automation"));
        for set in &document.dimensions {
            assert!(set.iter().all(|d| allowed.contains(d.as_str())), "an unlisted dimension in {set:?}");
            assert_eq!(set.first().map(String::as_str), Some(FUNCTION_DIMENSION));
        }
        for (name, unit) in &document.metrics {
            let listed = METRICS.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("metric {name} is not in the list"));
            assert_eq!(unit.as_deref(), Some(listed.cloudwatch_unit()), "{name}");
        }
        assert_eq!(document.string("rulesVersion"), Some(cases_automation::rules::RuleSet::default_rules().version.as_str()));
        let request = document.string("requestId").expect("the request id");
        assert_eq!(document.string("xrayTraceId"), Some(trace_id(request).as_str()), "the invocation's own trace id");
    }

    let of = |request: &str| -> Vec<&Document> { documents.iter().filter(|d| d.string("requestId") == Some(request)).collect() };
    let count = |request: &str, metric: &str, dimensions: &[(&str, &str)]| -> f64 {
        of(request)
            .iter()
            .filter(|d| d.has_metric(metric) && dimensions.iter().all(|(k, v)| d.string(k) == Some(v)))
            .map(|d| d.sum(metric))
            .sum()
    };

    let flow = [("Trigger", "contact-flow"), ("Outcome", "applied")];
    assert_eq!(count("request-1", "ColdStarts", &[]), 1.0);
    assert_eq!(count("request-1", "Events", &flow), 1.0);
    assert_eq!(count("request-1", "RuleMatched", &[("Rule", "flow-open-case")]), 1.0);
    assert_eq!(count("request-1", "RuleApplied", &[("Rule", "flow-open-case")]), 1.0);
    assert_eq!(count("request-1", "RuleFailurePercent", &[("Rule", "flow-open-case")]), 0.0);
    assert_eq!(count("request-1", "CasesCreated", &[]), 1.0);
    assert_eq!(count("request-1", "RelatedItemsCreated", &[]), 1.0);
    assert_eq!(count("request-1", "CustomerLookups", &[("Result", "named")]), 1.0);
    for operation in ["ListFields", "ListTemplates", "GetTemplate", "SearchCases", "CreateCase", "CreateRelatedItem"] {
        assert_eq!(count("request-1", "ApiCalls", &[("Operation", operation)]), 1.0, "{operation}");
    }
    assert_eq!(count("request-1", "ApiThrottles", &[]), 0.0);
    assert!(of("request-1").iter().any(|d| d.has_metric("FlowAnswerTime")), "the flow's time to answer");

    assert_eq!(count("request-2", "ColdStarts", &[]), 0.0, "counted once per instance");
    assert_eq!(count("request-2", "Events", &flow), 1.0);
    assert_eq!(count("request-2", "CasesFound", &[]), 1.0);
    assert_eq!(count("request-2", "CasesCreated", &[]), 0.0);
    assert_eq!(count("request-2", "RelatedItemsAlreadyThere", &[]), 1.0);
    assert_eq!(count("request-2", "ApiCalls", &[("Operation", "ListFields")]), 0.0, "the names are kept");

    assert_eq!(count("request-3", "Events", &[("Trigger", "cases-change"), ("Outcome", "skipped-self-caused")]), 1.0);
    assert_eq!(count("request-3", "SelfCausedSkips", &[]), 1.0);
    assert_eq!(count("request-3", "ApiCalls", &[]), 0.0);
    assert_eq!(count("request-4", "Events", &[("Trigger", "contact-event"), ("Outcome", "skipped-no-rule")]), 1.0);
    assert_eq!(count("request-5", "Events", &[("Trigger", "unknown"), ("Outcome", "failed-permanent")]), 1.0);
}

#[tokio::test]
async fn throttled_attempts_and_retries_are_counted_by_operation() {
    let cases = support::cases_service::start().await;
    cases.inject_fault(Fault::error("SearchCases", ErrorKind::ThrottlingException, 2));
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_function(&runtime, &cases.endpoint_url(), &[]);
    runtime.invoke(sample("flow-voice-open-case.json"), WAIT);
    let (_, answer) = runtime.answer_within(WAIT).await.expect("an answer");
    assert!(matches!(answer, Answer::Response(_)), "{answer:?}");
    child.kill().await.unwrap();
    let stdout = String::from_utf8_lossy(&child.wait_with_output().await.unwrap().stdout).into_owned();
    let search = |metric: &str| -> f64 {
        documents(&stdout).iter().filter(|d| d.string("Operation") == Some("SearchCases")).map(|d| d.sum(metric)).sum()
    };
    assert_eq!((search("ApiCalls"), search("ApiThrottles"), search("ApiRetries")), (1.0, 2.0, 2.0));
}

#[test]
fn the_checker_refuses_what_the_specification_refuses() {
    let good = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["F"]], "Metrics": [{"Name": "M", "Unit": "Count"}]}]}, "F": "f", "M": 1});
    assert!(check(&good).is_ok());
    let mut bad_unit = good.clone();
    bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Things".into();
    let mut no_value = good.clone();
    no_value.as_object_mut().unwrap().remove("M");
    let mut no_dimension = good.clone();
    no_dimension.as_object_mut().unwrap().remove("F");
    let mut too_many = good.clone();
    too_many["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([(0..31).map(|i| format!("D{i}")).collect::<Vec<_>>()]);
    let mut many_metrics = good.clone();
    many_metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!((0..101).map(|_| json!({"Name": "M"})).collect::<Vec<_>>());
    let mut no_timestamp = good.clone();
    no_timestamp["_aws"].as_object_mut().unwrap().remove("Timestamp");
    for bad in [bad_unit, no_value, no_dimension, too_many, many_metrics, no_timestamp] {
        assert!(check(&bad).is_err(), "{bad}");
    }
}
