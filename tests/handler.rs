//! The handler over every sample in `events/`, with the Cases API replaced by an in-memory fake:
//! response shapes, identity on every write, idempotency, loop prevention, error kinds, deadlines.

mod support;

use std::time::{Duration, Instant};
use support::lambda::sample;

use cases_automation::cases::ApiErrorKind;
use cases_automation::cases::model::{FieldValue, RelatedItemContent};
use cases_automation::config::Config;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use serde_json::{Value, json};
use support::fake_cases::FakeCases;
use support::fake_profiles::FakeProfiles;

const IDENTITY: &str = "cases-automation";

fn app() -> App<FakeCases, FakeProfiles> {
    let config = Config::from_env(|name| match name {
        "CASES_DOMAIN_ID" => Some("demo-domain".into()),
        "AUTOMATION_IDENTITY" => Some(IDENTITY.into()),
        _ => None,
    })
    .unwrap();
    App::with_profiles(config, RuleSet::default_rules(), FakeCases::new(), FakeProfiles::demo())
}

fn invocation() -> Invocation {
    Invocation {
        deadline: Instant::now() + Duration::from_secs(10),
        function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:cases-automation".into()),
    }
}

async fn handle(app: &App<FakeCases, FakeProfiles>, payload: Value) -> Result<Value, cases_automation::error::Error> {
    app.handle(payload, &invocation()).await
}

const WRITES: &[&str] = &["CreateCase", "UpdateCase", "CreateRelatedItem"];

#[tokio::test]
async fn every_sample_event_is_handled_and_every_write_carries_the_identity() {
    let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.ends_with(".json")).collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let app = app();
        // Cases the samples refer to by id exist in the domain.
        for id in ["068c193b-f65c-4902-9f77-7337923fe54e", "83de0b93-946a-4998-9656-7964cfbaa4dd"] {
            app.executor.api.seed_case(id, &[("status", FieldValue::String("open".into()))]);
        }
        let payload = sample(&name);
        let priority_case = payload.pointer("/detail/caseId").and_then(Value::as_str).map(str::to_owned);
        if let Some(id) = priority_case {
            app.executor.api.seed_case(&id, &[]);
        }
        let response = handle(&app, payload).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let writes = app.executor.api.calls().iter().filter(|c| WRITES.contains(&c.as_str())).count();
        assert_eq!(app.executor.api.writers().len(), writes, "{name}");
        assert!(app.executor.api.writers().iter().all(|w| w == IDENTITY), "{name}: {:?}", app.executor.api.writers());
        match name.as_str() {
            "contact-connected-to-agent.json" => assert_eq!(response["outcome"], "skipped", "{name}"),
            "cases-case-updated-by-automation.json" => {
                assert_eq!(response["reason"], "caused by this automation");
                assert!(app.executor.api.calls().is_empty(), "a self-caused event makes no call");
                assert_eq!(app.skipped_self_caused(), 1);
            }
            "sqs-batch.json" => {
                let failures = response["batchItemFailures"].as_array().unwrap();
                assert_eq!(failures.len(), 1, "{response}");
                assert_eq!(failures[0]["itemIdentifier"], "5f5609f9-1558-47d8-8695-c7979a5b7058");
            }
            flow if flow.starts_with("flow-") => {
                let map = response.as_object().unwrap();
                assert!(map.values().all(Value::is_string), "{name}: a flow gets a flat string map: {response}");
                assert!(map["caseId"].as_str().is_some_and(|id| !id.is_empty()), "{name}: {response}");
            }
            _ => {
                assert_eq!(response["outcome"], "applied", "{name}: {response}");
                assert!(writes > 0, "{name}");
            }
        }
    }
}

#[tokio::test]
async fn a_flow_creates_the_case_links_the_contact_and_returns_ids() {
    let app = app();
    let response = handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    assert_eq!(response["caseCreated"], "true");
    assert_eq!(response["caseId"], "case-1");
    assert_eq!(response["caseArn"], "arn:aws:cases:us-east-1:123456789012:domain/demo/case/case-1");
    assert_eq!(response["actions"], "linkContact:done");
    assert_eq!(
        app.executor.api.calls(),
        ["ListFields", "ListTemplates", "SearchCases", "CreateCase", "SearchRelatedItems", "CreateRelatedItem"],
        "the item is looked for before it is created, and never removed afterwards"
    );
    let case = &app.executor.api.cases()[0];
    assert_eq!(case.template_id, "t-general", "the template is resolved by name");
    assert_eq!(case.fields["f-channel"], FieldValue::String("VOICE".into()), "custom fields are resolved by name");
}

#[tokio::test]
async fn the_looks_for_existing_items_are_made_together_and_the_writes_in_order() {
    let app = app();
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    let calls = app.executor.api.calls();
    let after_create: Vec<&str> = calls.iter().skip_while(|c| *c != "CreateCase").skip(1).map(String::as_str).collect();
    assert_eq!(
        after_create,
        ["SearchRelatedItems", "SearchRelatedItems", "CreateRelatedItem", "CreateRelatedItem"],
        "both looks first (issued together), then each item is created, in rule order"
    );
    let items = &app.executor.api.cases()[0].items;
    assert!(matches!(items[0].content, RelatedItemContent::Contact { .. }) && matches!(items[1].content, RelatedItemContent::Sla { .. }));
}

#[tokio::test]
async fn names_are_listed_once_per_process() {
    let app = app();
    handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    app.executor.api.clear_calls();
    handle(&app, sample("flow-chat-null-endpoint.json")).await.unwrap();
    let calls = app.executor.api.calls();
    assert!(!calls.iter().any(|c| c.starts_with("List")), "a warm invocation lists nothing: {calls:?}");
}

#[tokio::test]
async fn redelivery_leaves_one_case_one_link_one_comment_one_sla() {
    for name in ["flow-voice-open-case.json", "contact-disconnected-abandoned.json", "custom-order-delayed.json"] {
        let app = app();
        let first = handle(&app, sample(name)).await.unwrap();
        for _ in 0..2 {
            handle(&app, sample(name)).await.unwrap();
        }
        let cases = app.executor.api.cases();
        assert_eq!(cases.len(), 1, "{name}: {cases:#?}");
        let items = &cases[0].items;
        let count = |kind: fn(&RelatedItemContent) -> bool| items.iter().filter(|i| kind(&i.content)).count();
        assert!(count(|c| matches!(c, RelatedItemContent::Contact { .. })) <= 1, "{name}: {items:#?}");
        assert!(count(|c| matches!(c, RelatedItemContent::Comment { .. })) <= 1, "{name}: {items:#?}");
        assert!(count(|c| matches!(c, RelatedItemContent::Sla { .. })) <= 1, "{name}: {items:#?}");
        assert!(!items.is_empty(), "{name}");
        let again = handle(&app, sample(name)).await.unwrap();
        if name.starts_with("flow") {
            assert_eq!(again["caseId"], first["caseId"]);
            assert_eq!(again["actions"], "linkContact:already-done");
        }
    }
}

#[tokio::test]
async fn concurrent_redelivery_creates_one_case_and_one_of_each_item() {
    let app = app();
    // Latency makes the three deliveries interleave at every call.
    app.executor.api.set_latency(Duration::from_millis(10));
    let event = sample("contact-disconnected-abandoned.json");
    let results = futures_util::future::join_all((0..3).map(|_| handle(&app, event.clone()))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let cases = app.executor.api.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].items.len(), 2, "one contact link and one SLA: {:#?}", cases[0].items);
}

#[tokio::test]
async fn redelivery_after_a_partial_failure_completes_without_duplicates() {
    let app = app();
    app.executor.api.fail("CreateRelatedItem", ApiErrorKind::ServerError, 1);
    let error = handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(app.executor.api.cases().len(), 1, "the case was created before the failure");
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    let cases = app.executor.api.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].items.len(), 2, "one contact link and one SLA: {:#?}", cases[0].items);
}

#[tokio::test]
async fn errors_are_permanent_or_retryable() {
    let app = app();
    app.executor.api.fail("SearchCases", ApiErrorKind::Throttling, 1);
    let error = handle(&app, sample("custom-order-delayed.json")).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.ThrottlingException");
    assert!(error.message.contains("order-delayed-comment") && error.message.contains("case.find[0]"), "{error}");

    let error = handle(&app, sample("custom-order-priority-changed.json")).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.ResourceNotFoundException", "the case in the event does not exist: {error}");

    let error = handle(&app, json!({"unexpected": true})).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.InvalidEvent");
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let app = app();
    let mut event = sample("custom-order-delayed.json");
    event["detail"].as_object_mut().unwrap().remove("newPromisedBy");
    let error = handle(&app, event).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent");
    assert!(error.message.contains("$.detail.newPromisedBy") || error.message.contains("newPromisedBy"), "{error}");
    let calls = app.executor.api.calls();
    assert!(!calls.iter().any(|c| WRITES.contains(&c.as_str())), "nothing written: {calls:?}");
}

#[tokio::test]
async fn a_flow_that_matches_no_rule_takes_the_error_branch() {
    let app = app();
    let mut event = sample("flow-voice-open-case.json");
    event["Details"]["Parameters"]["action"] = json!("unknown");
    let error = handle(&app, event).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.NoRuleMatched");
}

#[tokio::test]
async fn a_slow_service_gets_a_retryable_error_before_the_deadline() {
    let app = app();
    app.executor.api.set_latency(Duration::from_secs(5));
    let started = Instant::now();
    let invocation = Invocation { deadline: Instant::now() + Duration::from_millis(800), function_arn: None };
    let error = app.handle(sample("custom-order-delayed.json"), &invocation).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.DeadlineExceeded");
    assert!(started.elapsed() < Duration::from_millis(800), "answered before the deadline: {:?}", started.elapsed());
}

#[tokio::test]
async fn sqs_records_fail_independently() {
    let app = app();
    app.executor.api.fail("CreateCase", ApiErrorKind::Throttling, 1);
    let response = handle(&app, sample("sqs-batch.json")).await.unwrap();
    let failures: Vec<&str> =
        response["batchItemFailures"].as_array().unwrap().iter().map(|f| f["itemIdentifier"].as_str().unwrap()).collect();
    assert_eq!(failures.len(), 2, "the malformed record and the throttled one: {response}");
    assert!(failures.contains(&"5f5609f9-1558-47d8-8695-c7979a5b7058"));
}
