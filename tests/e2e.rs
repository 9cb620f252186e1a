//! End to end: the function's handler with the real `aws-sdk-connectcases` client, over HTTP,
//! against the local Cases service. What the function wrote is read back through the SDK.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;
use support::lambda::sample;

use aws_sdk_connectcases::types::{FieldValueUnion, RelatedItemContent, UserUnion};
use cases_automation::handler::{App, Invocation};
use cases_emulator::{ErrorKind, Fault};
use serde_json::{Value, json};
use support::cases_service::{self, DOMAIN, IDENTITY};
use support::readback;

async fn handle<
    C: cases_automation::cases::CasesApi,
    P: cases_automation::customers::ProfilesApi,
    S: cases_automation::claims::ClaimStore,
    K: cases_automation::contacts::ContactsApi,
>(
    app: &App<C, P, S, K>,
    payload: Value,
) -> Result<Value, cases_automation::error::Error> {
    let invocation = Invocation {
        deadline: std::time::Instant::now() + Duration::from_secs(20),
        function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:cases-automation".into()),
    };
    app.handle(payload, &invocation).await
}

/// The related items of the case, without who created them.
async fn related_items(client: &aws_sdk_connectcases::Client, case_id: &str) -> Vec<RelatedItemContent> {
    readback::related_items(client, case_id).await.into_iter().map(|(content, _)| content).collect()
}

fn string(value: Option<&FieldValueUnion>) -> Option<&str> {
    value.and_then(|v| v.as_string_value().ok()).map(String::as_str)
}

#[tokio::test]
async fn a_flow_creates_the_case_links_the_contact_and_gets_its_id() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let client = cases_service::client(&service);

    let response = handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    assert!(response.as_object().unwrap().values().all(Value::is_string), "a flat string map: {response}");
    let case_id = response["caseId"].as_str().unwrap();
    assert_eq!(response["caseCreated"], "true");
    assert!(response["caseArn"].as_str().unwrap().ends_with(&format!("/case/{case_id}")));

    let fields = readback::fields_by_name(&client, case_id).await;
    let event = sample("flow-voice-open-case.json");
    assert_eq!(string(fields.get("Customer")), event.pointer("/Details/Parameters/customerProfileArn").and_then(Value::as_str));
    assert_eq!(string(fields.get("Status")), Some("open"));
    assert_eq!(string(fields.get("Contact channel")), Some("VOICE"));
    assert_eq!(string(fields.get("Title")), Some("voice contact from the customer"));

    let items = related_items(&client, case_id).await;
    let contact_id = event.pointer("/Details/ContactData/ContactId").and_then(Value::as_str).unwrap();
    assert!(
        matches!(items.as_slice(), [RelatedItemContent::Contact(c)] if c.contact_arn().ends_with(&format!("/contact/{contact_id}"))),
        "{items:#?}"
    );
    let who = readback::performers(&client, case_id).await;
    assert_eq!(who.len(), 2, "Case.Created and RelatedItem.Created");
    assert!(who.iter().all(|p| p == &Some(UserUnion::CustomEntity(IDENTITY.into()))), "{who:?}");
}

#[tokio::test]
async fn every_default_rule_through_every_trigger_writes_as_the_automation() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let client = cases_service::client(&service);
    let existing = readback::agent_case(&client, "Agent case").await;

    let mut touched = Vec::new();
    for name in [
        "flow-voice-open-case.json",
        "flow-chat-null-endpoint.json",
        "flow-task-nested-params.json",
        "contact-disconnected-agent.json",
        "contact-disconnected-abandoned.json",
        "custom-order-delayed.json",
        "custom-order-priority-changed.json",
        "cases-case-updated-by-user.json",
        "sqs-batch.json",
    ] {
        let mut event = sample(name);
        // Events that name a case get one that exists in this domain.
        for pointer in ["/Details/Parameters/caseId", "/detail/caseId", "/detail/case/caseId"] {
            if let Some(slot) = event.pointer_mut(pointer) {
                *slot = json!(existing);
            }
        }
        let response = handle(&app, event).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "sqs-batch.json" {
            assert_eq!(response["batchItemFailures"].as_array().unwrap().len(), 1, "only the malformed record fails: {response}");
            continue;
        }
        let case = response["caseId"].as_str().or_else(|| response.pointer("/results/0/caseId").and_then(Value::as_str));
        touched.push(case.unwrap_or_else(|| panic!("{name}: {response}")).to_owned());
    }

    // The contact that reached an agent joined the customer's open case or a new one; the
    // abandoned call opened a callback case with an SLA; the order events commented and updated.
    let abandoned = &touched[4];
    let fields = readback::fields_by_name(&client, abandoned).await;
    assert_eq!(fields.get("Callback requested").and_then(|v| v.as_boolean_value().ok()), Some(&true));
    assert_eq!(string(fields.get("Priority")), Some("high"));
    let items = related_items(&client, abandoned).await;
    assert!(items.iter().any(|i| matches!(i, RelatedItemContent::Sla(_))), "{items:#?}");
    assert!(items.iter().any(|i| matches!(i, RelatedItemContent::Contact(_))), "{items:#?}");

    let priority = readback::fields_by_name(&client, &existing).await;
    assert_eq!(string(priority.get("Priority")), Some("urgent"));
    assert_eq!(priority.get("Order total").and_then(|v| v.as_double_value().ok()), Some(&149.9));
    let notes = related_items(&client, &existing).await;
    let comments: Vec<&str> = notes.iter().filter_map(|i| i.as_comment().ok()).map(|c| c.body()).collect();
    assert!(comments.iter().any(|b| b.contains("refund")), "the flow's note: {comments:?}");
    assert!(comments.iter().any(|b| b.starts_with("Case closed")), "the closed-case note: {comments:?}");

    for case in touched.iter().filter(|c| **c != existing) {
        let who = readback::performers(&client, case).await;
        assert!(!who.is_empty());
        assert!(who.iter().all(|p| p == &Some(UserUnion::CustomEntity(IDENTITY.into()))), "{case}: {who:?}");
    }
    let who = readback::performers(&client, &existing).await;
    assert_eq!(
        who.iter().filter(|p| **p == Some(UserUnion::CustomEntity(IDENTITY.into()))).count(),
        who.len() - 1,
        "all but the agent's own"
    );
}

#[tokio::test]
async fn redelivery_three_times_sequentially_and_concurrently_leaves_one_case_and_one_link() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let client = cases_service::client(&service);

    for _ in 0..3 {
        handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    }
    let cases = readback::all_cases(&client).await;
    assert_eq!(cases.len(), 1);
    let items = related_items(&client, &cases[0]).await;
    assert_eq!(items.len(), 2, "one contact and one SLA: {items:#?}");

    let event = sample("flow-voice-open-case.json");
    let responses = futures_util::future::join_all((0..3).map(|_| handle(&app, event.clone()))).await;
    let ids: Vec<&str> = responses.iter().map(|r| r.as_ref().unwrap()["caseId"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(readback::all_cases(&client).await.len(), 2);
    assert_eq!(related_items(&client, ids[0]).await.len(), 1, "one contact link");

    // A separate process (a second Lambda instance) redelivering the same event.
    let other_instance = cases_service::app(&service);
    handle(&other_instance, sample("custom-order-delayed.json")).await.unwrap();
    handle(&other_instance, sample("custom-order-delayed.json")).await.unwrap();
    handle(&app, sample("custom-order-delayed.json")).await.unwrap();
    assert_eq!(readback::all_cases(&client).await.len(), 3);
}

#[tokio::test]
async fn changes_the_automation_made_are_skipped_so_there_is_no_loop() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();

    // Feed the change events the writes caused back to the function, as EventBridge would,
    // until none are left: the chain must end at once.
    let mut rounds = 0;
    loop {
        let events = service.events();
        service.clear_events();
        if events.is_empty() {
            break;
        }
        rounds += 1;
        assert!(rounds <= 1, "the function reacted to its own changes");
        for event in events {
            assert_eq!(event["source"], "aws.cases");
            let outcome = handle(&app, event).await.unwrap();
            assert_eq!(outcome["outcome"], "skipped", "{outcome}");
            assert_eq!(outcome["reason"], "caused by this automation");
        }
    }
    assert_eq!(rounds, 1);
    assert!(app.skipped_self_caused() >= 5, "{}", app.skipped_self_caused());
}

#[tokio::test]
async fn throttling_is_retried_within_the_invocation_and_then_reported_as_retryable() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    service.inject_fault(Fault::error("CreateCase", ErrorKind::ThrottlingException, 2));
    handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    assert_eq!(service.call_count("CreateCase"), 3, "two throttled attempts, then success");

    service.inject_fault(Fault::error("SearchCases", ErrorKind::ThrottlingException, 100));
    let error = handle(&app, sample("custom-order-delayed.json")).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.ThrottlingException", "{error}");
    service.clear_faults();

    service.inject_fault(Fault::error("UpdateCase", ErrorKind::ValidationException, 1));
    let error = handle(&app, sample("custom-order-delayed.json")).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.ValidationException", "{error}");
}

#[tokio::test]
async fn a_rule_can_write_under_its_own_identity_and_its_changes_are_not_fed_back() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let rules = cases_automation::rules::RuleSet::from_yaml(
        r#"
rules:
  - name: erp-relay
    match: { source: [com.example.orders], detail-type: [Order Delayed] }
    performedBy: erp-orders relay
    case:
      create:
        template: Order issue
        fields:
          title: "Order {{ detail.orderNumber }}"
          customer_id: $.detail.customerProfileArn
          Order number: $.detail.orderNumber
    actions:
      - comment: "Relayed from the ERP: {{ detail.reason }}"
"#,
        "test rules",
    )
    .unwrap();
    let config = cases_automation::config::Config::from_env(|name| match name {
        "CASES_DOMAIN_ID" => Some(DOMAIN.into()),
        "AUTOMATION_IDENTITY" => Some(IDENTITY.into()),
        _ => None,
    })
    .unwrap();
    let app = App::new(config, rules, cases_service::cases_api(&service));

    let outcome = handle(&app, sample("custom-order-delayed.json")).await.unwrap();
    let case_id = outcome.pointer("/results/0/caseId").and_then(Value::as_str).unwrap();
    let who = readback::performers(&client, case_id).await;
    assert_eq!(who, vec![Some(UserUnion::CustomEntity("erp-orders relay".into())); 2]);

    for event in service.events() {
        let outcome = handle(&app, event).await.unwrap();
        assert_eq!(outcome["reason"], "caused by this automation", "{outcome}");
    }
}

/// The instance of the sample contact events and flows.
const SAMPLE_INSTANCE: &str = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-1111-4222-8333-444455556666";

/// A function that serves another instance (`CONNECT_INSTANCE_ARN`) gets the samples' contact
/// events, in every documented spelling of their instance, directly and through SQS, and the
/// samples' flows: the events are skipped with a reason, the flows refused, and nothing is read or
/// written (no call reaches Cases or Customer Profiles). The function serving the samples'
/// instance applies the same events.
#[tokio::test]
async fn contact_events_and_flows_of_another_instance_are_refused_before_any_call() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let test_instance = "arn:aws:connect:us-east-1:123456789012:instance/0f0e0d0c-5555-4666-8777-888899990000";
    let app =
        support::lambda::instance(&service, cases_automation::rules::RuleSet::default_rules(), &[("CONNECT_INSTANCE_ARN", test_instance)]);

    let mut contact_events = Vec::new();
    for name in ["contact-disconnected-agent.json", "contact-disconnected-abandoned.json", "contact-connected-to-agent.json"] {
        let event = sample(name);
        assert_eq!(event["detail"]["instanceArn"], SAMPLE_INSTANCE, "{name}");
        for key in cases_automation::inbound::INSTANCE_ARN_KEYS {
            let mut spelled = event.clone();
            let detail = spelled["detail"].as_object_mut().unwrap();
            let arn = detail.remove("instanceArn").unwrap();
            detail.insert(key.into(), arn);
            contact_events.push(spelled);
        }
        // Only in `resources`.
        let mut only_resources = event.clone();
        only_resources["detail"].as_object_mut().unwrap().remove("instanceArn");
        contact_events.push(only_resources);
    }
    for event in &contact_events {
        let outcome = handle(&app, event.clone()).await.unwrap();
        assert_eq!((outcome["outcome"].as_str(), outcome["reason"].as_str()), (Some("skipped"), Some("another Amazon Connect instance")));
    }
    let batch = support::lambda::sqs_batch(contact_events.iter().map(Value::to_string).collect());
    let response = handle(&app, batch).await.unwrap();
    assert_eq!(response["batchItemFailures"], json!([]), "skipped records are not failures: {response}");

    for name in ["flow-voice-open-case.json", "flow-chat-null-endpoint.json", "flow-task-nested-params.json"] {
        let error = handle(&app, sample(name)).await.unwrap_err();
        assert_eq!(error.error_type(), "Permanent.OtherConnectInstance", "{name}: {error}");
        assert!(error.message.contains(SAMPLE_INSTANCE) && error.message.contains(test_instance), "{error}");
    }
    assert_eq!(service.call_count("*"), 0, "nothing was read or written");
    assert!(readback::all_cases(&client).await.is_empty());

    // The function that serves the samples' instance applies them.
    let own = support::lambda::instance(
        &service,
        cases_automation::rules::RuleSet::default_rules(),
        &[("CONNECT_INSTANCE_ARN", SAMPLE_INSTANCE)],
    );
    // The abandoned call with its instance only in `resources`: a callback case, the contact linked.
    let outcome = handle(&own, contact_events[9].clone()).await.unwrap();
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    assert!(outcome["results"][0]["actions"].to_string().contains("linkContact"), "{outcome}");
    let response = handle(&own, sample("flow-voice-open-case.json")).await.unwrap();
    assert_eq!(response["caseCreated"], "true", "{response}");
}

/// The demo seed's "Order issue" case, which the note sample names.
const NOTE_CASE: &str = "068c193b-f65c-4902-9f77-7337923fe54e";

/// The `flow-add-note` sample as sent by the call `contact_id`.
fn note_from(contact_id: &str) -> Value {
    let mut flow = sample("flow-task-nested-params.json");
    assert_eq!(flow["Details"]["Parameters"]["caseId"], NOTE_CASE);
    flow["Details"]["ContactData"]["ContactId"] = json!(contact_id);
    flow
}

/// Two calls add the same note an hour apart (two agents writing the same words), then the second
/// call is delivered again (Connect retrying within the block's timeout): two comments, whether
/// the coordination store is on (`store`) or off.
async fn the_same_note_on_two_calls_and_a_redelivery<C, P, S, K>(service: &cases_emulator::Emulator, app: &App<C, P, S, K>)
where
    C: cases_automation::cases::CasesApi,
    P: cases_automation::customers::ProfilesApi,
    S: cases_automation::claims::ClaimStore,
    K: cases_automation::contacts::ContactsApi,
{
    let client = cases_service::client(service);
    let note = sample("flow-task-nested-params.json")["Details"]["Parameters"]["note"].as_str().unwrap().to_owned();
    let notes = || async { readback::comments(&client, NOTE_CASE).await.into_iter().filter(|c| *c == note).count() };
    assert_eq!(notes().await, 0);
    let invocation = Invocation {
        deadline: std::time::Instant::now() + Duration::from_secs(20),
        function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:cases-automation".into()),
    };

    // The first call, an hour ago on the service's clock.
    let hour = Duration::from_secs(3600);
    service.set_clock(service.now() - hour);
    let first = app.handle(note_from("call-1"), &invocation).await.unwrap();
    assert_eq!(first["actions"], "comment:done", "{first}");
    service.set_clock(service.now() + hour);

    let second = app.handle(note_from("call-2"), &invocation).await.unwrap();
    assert_eq!(second["actions"], "comment:done", "another call's identical note is its own comment: {second}");
    let again = app.handle(note_from("call-2"), &invocation).await.unwrap();
    assert_eq!(again["actions"], "comment:already-done", "a redelivery of that call adds nothing: {again}");
    assert_eq!(notes().await, 2);
}

#[tokio::test]
async fn identical_notes_of_two_calls_are_two_comments_and_a_redelivered_call_adds_none() {
    let service = cases_service::start_with(cases_emulator::Seed::demo()).await;
    let app = cases_service::app(&service);
    the_same_note_on_two_calls_and_a_redelivery(&service, &app).await;
}

#[tokio::test]
async fn with_the_store_identical_notes_of_two_calls_are_two_comments_and_a_redelivered_call_adds_none() {
    let service = cases_service::start_with(cases_emulator::Seed::demo()).await;
    let table = support::moto::claims_table().await;
    let app = support::lambda::instance_with_store(&service, cases_automation::rules::RuleSet::default_rules(), &[], &table);
    the_same_note_on_two_calls_and_a_redelivery(&service, &app).await;
    // With the store a comment is its event's, whenever the event comes back: the first call,
    // replayed an hour later, adds nothing either.
    let invocation = Invocation { deadline: std::time::Instant::now() + Duration::from_secs(20), function_arn: None };
    let replayed = app.handle(note_from("call-1"), &invocation).await.unwrap();
    assert_eq!(replayed["actions"], "comment:already-done", "{replayed}");
}

/// A stand-in for the Cases API that answers every request with `status` and the error `code`
/// (in the `x-amzn-errortype` header and the body, as the REST-JSON services do), counting the
/// requests per path (per operation).
async fn service_answering(status: u16, code: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<BTreeMap<String, usize>>>) {
    let requests = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let counted = requests.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let counted = counted.clone();
        async move {
            *counted.lock().unwrap().entry(uri.path().to_owned()).or_insert(0) += 1;
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            (
                status,
                [("x-amzn-errortype", code), ("content-type", "application/json")],
                format!(r#"{{"__type":"{code}","message":"try later"}}"#),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (endpoint, requests)
}

/// Error codes the function does not know are classed by their HTTP status, through the SDK over
/// HTTP: a 5xx is retried by the SDK (4 attempts of an operation) and then retryable, a 429
/// throttling, any other 4xx permanent and sent once.
#[tokio::test]
async fn unknown_error_codes_are_retryable_for_5xx_and_429_and_permanent_for_other_4xx() {
    for (status, code, error_type, attempts) in [
        (503, "ServiceUnavailableException", "Retryable.UnknownServerError", 4),
        (502, "BadGatewayException", "Retryable.UnknownServerError", 4),
        (429, "TooManyRequestsException", "Retryable.ThrottlingException", 4),
        (413, "RequestEntityTooLargeException", "Permanent.UnknownClientError", 1),
        (400, "SomeNewException", "Permanent.UnknownClientError", 1),
    ] {
        let (endpoint, requests) = service_answering(status, code).await;
        let sdk = cases_automation::aws::sdk_config_for_local_service(&endpoint).await;
        let config = support::lambda::config(&[]);
        let app =
            App::new(config, cases_automation::rules::RuleSet::default_rules(), cases_automation::cases::sdk::SdkCases::lazy(sdk, DOMAIN));
        let error = handle(&app, sample("custom-order-priority-changed.json")).await.unwrap_err();
        assert_eq!(error.error_type(), error_type, "{status} {code}: {error}");
        assert!(error.message.contains(&format!("{code} (HTTP {status})")) || status == 429, "{error}");
        let most = requests.lock().unwrap().values().copied().max();
        assert_eq!(most, Some(attempts), "{status} {code}: the most attempts of one operation: {:?}", requests.lock().unwrap());
    }
}

/// A contact event carries no contact attributes: the default rule `contact-order-number` reads
/// them from Amazon Connect (the local service's subset, through `aws-sdk-connect`) and the order
/// number lands on the contact's case, in the case's audit trail as a change of the Order number
/// field made by the automation's own identity.
#[tokio::test]
async fn an_attribute_read_from_amazon_connect_is_written_under_the_automations_name() {
    use aws_sdk_connectcases::types::{AuditEventFieldValueUnion, AuditEventType};
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let client = cases_service::client(&service);
    let event = sample("contact-updated-attributes.json");
    assert!(event.pointer("/detail/attributes").is_none() && !event.to_string().contains(cases_emulator::demo::ORDER_OF_AGENT_CONTACT));

    let linked = handle(&app, sample("contact-disconnected-agent.json")).await.unwrap();
    let case_id = linked["results"][0]["caseId"].as_str().unwrap().to_owned();
    let updated = handle(&app, event).await.unwrap();
    assert_eq!(updated["results"][0]["rule"], "contact-order-number", "{updated}");
    assert_eq!(updated["results"][0]["caseId"], case_id.as_str(), "{updated}");
    assert_eq!(service.call_count("GetContactAttributes"), 1);

    let audit = client.get_case_audit_events().domain_id(DOMAIN).case_id(&case_id).max_results(25).send().await.unwrap();
    let changes: Vec<_> = audit
        .audit_events()
        .iter()
        .flatten()
        .filter(|e| *e.r#type() == AuditEventType::CaseUpdated)
        .flat_map(|e| e.fields().iter().flatten().map(move |f| (f, e.performed_by().and_then(|p| p.user()))))
        .filter(|(f, _)| f.event_field_id() == cases_emulator::demo::FIELD_ORDER_NUMBER)
        .collect();
    assert_eq!(changes.len(), 1, "one change of Order number: {audit:#?}");
    let (field, who) = changes[0];
    assert_eq!(field.new_value(), Some(&AuditEventFieldValueUnion::StringValue(cases_emulator::demo::ORDER_OF_AGENT_CONTACT.into())));
    assert_eq!(who, Some(&UserUnion::CustomEntity(IDENTITY.into())), "written under the automation's identity");
}
