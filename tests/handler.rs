//! The handler over every sample in `events/`, against the local Cases service through the SDK
//! (built as the function builds it): response shapes, identity on every write, the calls made
//! and their order, idempotency, error kinds, deadlines. What was written is read back through the
//! SDK; the order of calls is recorded on the way to the service.

mod support;

use std::time::{Duration, Instant};

use aws_sdk_connectcases::types::UserUnion;
use cases_automation::cases::sdk::SdkCases;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed, demo};
use serde_json::{Value, json};
use support::cases_service::{self, IDENTITY};
use support::lambda::{config, sample, samples};
use support::readback;
use support::recorded::{Phase, Recorded};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cases-automation";

/// The Cases API operations that write.
const WRITES: &[&str] = &["CreateCase", "UpdateCase", "CreateRelatedItem"];

/// The seed's own cases were created by an agent, under this user ARN.
const SEED_AGENT: &str =
    "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-1111-4222-8333-444455556666/agent/3c19c840-d9f9-4acd-a62d-2465be71c2d9";

type TestApp = App<Recorded<SdkCases>, SdkProfiles, cases_automation::claims::NoClaims, cases_automation::contacts::sdk::SdkContacts>;

/// The function with the default rules and the demo profiles domain, its Cases calls recorded.
fn app(service: &Emulator) -> TestApp {
    let mut config = config(&[]);
    config.profiles_domain = Some(cases_service::PROFILES_DOMAIN.into());
    let profiles = cases_service::profiles_api(service, config.profiles_domain.clone());
    App::with_profiles(config, RuleSet::default_rules(), Recorded::new(cases_service::cases_api(service)), profiles)
        .with_contacts(cases_service::contacts_api(service))
}

fn invocation() -> Invocation {
    Invocation { deadline: Instant::now() + Duration::from_secs(20), function_arn: Some(FUNCTION_ARN.into()) }
}

async fn handle(app: &TestApp, payload: Value) -> Result<Value, cases_automation::error::Error> {
    app.handle(payload, &invocation()).await
}

fn writes(service: &Emulator) -> u64 {
    WRITES.iter().map(|op| service.call_count(op)).sum()
}

#[tokio::test]
async fn every_sample_event_is_handled_and_every_write_carries_the_identity() {
    let all = samples();
    assert!(all.len() >= 10, "{:?}", all.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, payload) in all {
        // The demo seed has the cases the samples refer to by id.
        let service = cases_service::start_with(Seed::demo()).await;
        let mut app = app(&service);
        if name.starts_with("schedule-") {
            // A sweep sends its work items to the function's queue.
            let queue = support::work_queue::create().await;
            app = app.with_work_queue(cases_automation::sweep::queue::WorkQueue::lazy(support::moto::sdk_config().clone(), &queue));
        }
        if name == "contact-updated-attributes.json" {
            // Its rule acts on the case the contact is on: the call's disconnection links it.
            handle(&app, sample("contact-disconnected-agent.json")).await.unwrap();
        }
        let response = handle(&app, payload).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let calls_made = service.calls();
        let writes_made = writes(&service);

        let sent: Vec<_> =
            app.executor.api.calls().into_iter().filter(|c| c.phase == Phase::Start && WRITES.contains(&c.operation)).collect();
        assert!(sent.iter().all(|c| c.performed_by.as_deref() == Some(IDENTITY)), "{name}: {sent:?}");
        // What the service recorded: every change but the seed's is the automation's.
        let client = cases_service::client(&service);
        let mut own_changes = 0;
        for case in readback::all_cases(&client).await {
            for who in readback::performers(&client, &case).await {
                match who {
                    Some(UserUnion::CustomEntity(id)) if id == IDENTITY => own_changes += 1,
                    Some(UserUnion::UserArn(arn)) if arn == SEED_AGENT => {}
                    other => panic!("{name}: a change by {other:?}"),
                }
            }
        }
        match name.as_str() {
            "contact-connected-to-agent.json" => assert_eq!(response["outcome"], "skipped", "{name}"),
            "contact-updated-attributes.json" => {
                // The attribute the event does not carry, read from Amazon Connect, is on the case.
                assert_eq!(response["results"][0]["actions"][0]["status"], "done", "{response}");
                let case_id = response["results"][0]["caseId"].as_str().unwrap();
                let order = readback::text_field(&client, case_id, demo::FIELD_ORDER_NUMBER).await;
                assert_eq!(order.as_deref(), Some(demo::ORDER_OF_AGENT_CONTACT), "{name}");
                assert_eq!(service.call_count("GetContactAttributes"), 1, "{name}: read once");
                assert_eq!(service.call_count("DescribeContact"), 0, "{name}: only what the rule asks for");
            }
            "cases-case-updated-by-automation.json" => {
                assert_eq!(response["reason"], "caused by this automation");
                assert!(calls_made.is_empty(), "a self-caused event makes no call: {calls_made:?}");
                assert_eq!(app.skipped_self_caused(), 1);
            }
            "sqs-batch.json" => {
                let failures = response["batchItemFailures"].as_array().unwrap();
                assert_eq!(failures.len(), 1, "{response}");
                assert_eq!(failures[0]["itemIdentifier"], "5f5609f9-1558-47d8-8695-c7979a5b7058");
                assert!(own_changes > 0, "{name}");
            }
            "schedule-auto-close.json" => {
                // The sweep itself writes nothing: it selects and sends work items to the queue.
                assert_eq!(response["sweep"]["rule"], "auto-close-idle-cases", "{response}");
                assert_eq!(writes_made, 0, "{name}");
            }
            flow if flow.starts_with("flow-") => {
                let map = response.as_object().unwrap();
                assert!(map.values().all(Value::is_string), "{name}: a flow gets a flat string map: {response}");
                assert!(map["caseId"].as_str().is_some_and(|id| !id.is_empty()), "{name}: {response}");
                assert!(own_changes > 0, "{name}");
            }
            _ => {
                assert_eq!(response["outcome"], "applied", "{name}: {response}");
                assert!(writes_made > 0 && own_changes > 0, "{name}");
            }
        }
    }
}

#[tokio::test]
async fn a_flow_creates_the_case_links_the_contact_and_returns_ids() {
    let service = cases_service::start().await;
    let app = app(&service);
    let response = handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    assert_eq!(response["caseCreated"], "true");
    let case_id = response["caseId"].as_str().unwrap();
    assert_eq!(response["caseArn"], format!("arn:aws:cases:us-east-1:123456789012:domain/demo-domain/case/{case_id}"));
    assert_eq!(response["actions"], "linkContact:done");
    assert_eq!(
        app.executor.api.started(),
        ["ListFields", "ListTemplates", "GetTemplate", "SearchCases", "CreateCase", "SearchRelatedItems", "CreateRelatedItem"],
        "the names, then the template the rule creates from; the item is looked for before it is created, and never removed"
    );
    let client = cases_service::client(&service);
    assert_eq!(readback::template_of(&client, case_id).await, demo::TEMPLATE_GENERAL_INQUIRY, "the template is resolved by name");
    assert_eq!(
        readback::text_field(&client, case_id, demo::FIELD_CONTACT_CHANNEL).await.as_deref(),
        Some("VOICE"),
        "custom fields are resolved by name"
    );
}

#[tokio::test]
async fn the_looks_for_existing_items_are_made_together_and_the_writes_in_order() {
    let service = cases_service::start().await;
    let app = app(&service);
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    let calls = app.executor.api.calls();
    // The rule's `linkCase` first searches for the case to link (the caller has none), then the
    // items are looked for.
    let after_create: Vec<_> =
        calls.iter().skip_while(|c| c.operation != "CreateCase").skip(2).filter(|c| c.operation != "SearchCases").collect();
    let shape: Vec<(&str, Phase)> = after_create.iter().map(|c| (c.operation, c.phase)).collect();
    assert_eq!(
        shape[..2],
        [("SearchRelatedItems", Phase::Start), ("SearchRelatedItems", Phase::Start)],
        "both looks are issued before either answers: {shape:?}"
    );
    let writes: Vec<_> =
        after_create.iter().filter(|c| c.operation == "CreateRelatedItem" && c.phase == Phase::Start).map(|c| c.item).collect();
    assert_eq!(writes, [Some("Contact"), Some("Sla")], "the writes in rule order");
    let started: Vec<&str> = after_create.iter().filter(|c| c.phase == Phase::Start).map(|c| c.operation).collect();
    assert_eq!(
        started,
        ["SearchRelatedItems", "SearchRelatedItems", "CreateRelatedItem", "CreateRelatedItem"],
        "both looks first, then each item is created, in rule order"
    );
}

#[tokio::test]
async fn the_domain_is_read_once_per_process_and_only_what_the_rules_need() {
    let service = cases_service::start().await;
    let app = app(&service);
    handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    let reads = |service: &Emulator| ["ListFields", "ListTemplates", "ListFieldOptions", "GetTemplate"].map(|op| service.call_count(op));
    assert_eq!(reads(&service), [1, 1, 0, 1], "the names and the one template; the rule writes no single-select field");

    service.reset_calls();
    handle(&app, sample("flow-chat-null-endpoint.json")).await.unwrap();
    assert_eq!(reads(&service), [0, 0, 0, 0], "a warm invocation reads nothing it read before");

    service.reset_calls();
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    assert_eq!(reads(&service), [0, 0, 1, 1], "the options of Priority and the Callback request template, once");
    service.reset_calls();
    let mut again = sample("contact-disconnected-abandoned.json");
    again["id"] = json!("another-abandoned-call");
    handle(&app, again).await.unwrap();
    assert_eq!(reads(&service), [0, 0, 0, 0]);
}

#[tokio::test]
async fn redelivery_leaves_one_case_one_link_one_comment_one_sla() {
    for (name, expected) in [
        ("flow-voice-open-case.json", (1, 0, 0, 0)),
        ("contact-disconnected-abandoned.json", (1, 0, 1, 0)),
        ("custom-order-delayed.json", (0, 1, 0, 0)),
    ] {
        let service = cases_service::start().await;
        let app = app(&service);
        let first = handle(&app, sample(name)).await.unwrap();
        for _ in 0..2 {
            handle(&app, sample(name)).await.unwrap();
        }
        let client = cases_service::client(&service);
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "{name}: {cases:?}");
        assert_eq!(readback::item_counts(&client, &cases[0]).await, expected, "{name}: (contacts, comments, SLAs, files)");
        let again = handle(&app, sample(name)).await.unwrap();
        if name.starts_with("flow") {
            assert_eq!(again["caseId"], first["caseId"]);
            assert_eq!(again["actions"], "linkContact:already-done");
        }
    }
}

#[tokio::test]
async fn concurrent_redelivery_creates_one_case_and_one_of_each_item() {
    let service = cases_service::start().await;
    let app = app(&service);
    // Latency at the service makes the three deliveries interleave at every call.
    service.inject_fault(Fault::latency("*", Duration::from_millis(10)));
    let event = sample("contact-disconnected-abandoned.json");
    let results = futures_util::future::join_all((0..3).map(|_| handle(&app, event.clone()))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    service.clear_faults();
    let client = cases_service::client(&service);
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 1);
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0), "one contact link and one SLA");
}

#[tokio::test]
async fn redelivery_after_a_partial_failure_completes_without_duplicates() {
    let service = cases_service::start().await;
    let app = app(&service);
    // More failures than the SDK's four attempts absorb.
    service.inject_fault(Fault::error("CreateRelatedItem", ErrorKind::InternalServerException, 4));
    let error = handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let client = cases_service::client(&service);
    assert_eq!(readback::all_cases(&client).await.len(), 1, "the case was created before the failure");
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 1);
    assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0), "one contact link and one SLA");
}

#[tokio::test]
async fn errors_are_permanent_or_retryable() {
    let service = cases_service::start().await;
    let app = app(&service);
    service.inject_fault(Fault::error("SearchCases", ErrorKind::ThrottlingException, 4));
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
    let service = cases_service::start().await;
    let app = app(&service);
    let mut event = sample("custom-order-delayed.json");
    event["detail"].as_object_mut().unwrap().remove("newPromisedBy");
    let error = handle(&app, event).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent");
    assert!(error.message.contains("newPromisedBy"), "{error}");
    assert_eq!(writes(&service), 0, "nothing written: {:?}", service.calls());
}

#[tokio::test]
async fn a_flow_that_matches_no_rule_takes_the_error_branch() {
    let service = cases_service::start().await;
    let app = app(&service);
    let mut event = sample("flow-voice-open-case.json");
    event["Details"]["Parameters"]["action"] = json!("unknown");
    let error = handle(&app, event).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.NoRuleMatched");
}

/// How late past the deadline an answer may come on a loaded machine: the handler itself stops
/// 250 ms before the deadline, and scheduling may delay that.
const SCHEDULING_MARGIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_slow_service_gets_a_retryable_error_at_the_deadline() {
    let service = cases_service::start().await;
    let app = app(&service);
    // Far longer than the invocation may take: an answer means the function stopped waiting.
    service.inject_fault(Fault::latency("*", Duration::from_secs(300)));
    let invocation = Invocation { deadline: Instant::now() + Duration::from_secs(2), function_arn: None };
    let error = app.handle(sample("custom-order-delayed.json"), &invocation).await.unwrap_err();
    let answered = Instant::now();
    assert_eq!(error.error_type(), "Retryable.DeadlineExceeded");
    assert!(answered <= invocation.deadline + SCHEDULING_MARGIN, "answered {:?} after the deadline", answered - invocation.deadline);
}

#[tokio::test]
async fn sqs_records_fail_independently() {
    let service = cases_service::start().await;
    let app = app(&service);
    // Only the order record updates its case.
    service.inject_fault(Fault::error_always("UpdateCase", ErrorKind::ThrottlingException));
    let response = handle(&app, sample("sqs-batch.json")).await.unwrap();
    let mut failures: Vec<&str> =
        response["batchItemFailures"].as_array().unwrap().iter().map(|f| f["itemIdentifier"].as_str().unwrap()).collect();
    failures.sort();
    assert_eq!(
        failures,
        ["5f5609f9-1558-47d8-8695-c7979a5b7058", "f86d3b64-49dd-41d4-8828-a0f7c0890d08"],
        "the malformed record and the throttled one"
    );
    assert_eq!(service.call_count("CreateCase"), 2, "the contact record was applied, the order record's case created");
}
