//! Rules that read the event's contact from Amazon Connect (`contact: {attributes, description}`),
//! end to end through the SDKs against the local service (which serves Cases and Amazon Connect,
//! with the sample events' contacts seeded): read once per event and only when a matching rule
//! asks, before planning so that the domain checks see the values; a missing contact and
//! throttling classified, and nothing written when the contact cannot be read.

mod support;

use std::time::Duration;

use cases_automation::handler::Invocation;
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed, demo};
use serde_json::{Value, json};
use support::cases_service;
use support::lambda::{instance, sample};
use support::readback;

/// Writes sent to Cases (failed ones included).
fn writes(service: &Emulator) -> u64 {
    ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| service.call_count(op)).sum()
}

/// How many cases the domain has, and how many audit events they have in all.
async fn cases_and_audit_events(client: &aws_sdk_connectcases::Client) -> (usize, usize) {
    let cases = readback::all_cases(client).await;
    let mut events = 0;
    for case in &cases {
        events += readback::audit(client, case).await.len();
    }
    (cases.len(), events)
}

fn invocation() -> Invocation {
    Invocation::with_budget(Duration::from_secs(20))
}

/// Two rules on an abandoned call: one creates a callback case with fields from the contact's
/// attributes and description, the other asks for the attributes too (one read serves both).
const RULES: &str = r#"
rules:
  - name: callback-from-contact
    match:
      source: [aws.connect]
      detail: { eventType: [DISCONNECTED] }
    contact: { attributes: true, description: true }
    case:
      create:
        template: Callback request
        fields:
          title: "Call back about {{ contact.attributes.orderNumber }} ({{ contact.description.Channel | lower }})"
          customer_id: arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/b9c48cb01720800e4ca82984fcb042d9
          Customer phone: $.contact.description.CustomerEndpoint.Address
          Order number: $.contact.attributes.orderNumber
          Disconnect reason: $.contact.description.DisconnectReason
          Priority: { path: $.contact.attributes.priority, default: normal }
  - name: note-the-intent
    match:
      source: [aws.connect]
      detail: { eventType: [DISCONNECTED] }
    contact: { attributes: true }
    case:
      find: [ { contact: {} } ]
      ifMissing: skip
    actions:
      - comment: "Intent: {{ contact.attributes.intent | default('unknown') }}"
"#;

fn rules() -> RuleSet {
    RuleSet::from_yaml(RULES, "contact rules").unwrap()
}

#[tokio::test]
async fn attributes_and_description_the_event_lacks_end_up_on_the_case_read_once() {
    let service = cases_service::start().await;
    let app = instance(&service, rules(), &[]);
    let answer = app.handle(sample("contact-disconnected-abandoned.json"), &invocation()).await.unwrap();
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(service.call_count("GetContactAttributes"), 1, "one read for the two rules that ask");
    assert_eq!(service.call_count("DescribeContact"), 1);

    let case_id = answer["results"][0]["caseId"].as_str().unwrap();
    let client = cases_service::client(&service);
    let fields = readback::fields_by_name(&client, case_id).await;
    let text = |name: &str| fields.get(name).and_then(|v| v.as_string_value().ok()).cloned();
    assert_eq!(readback::text_field(&client, case_id, "title").await.as_deref(), Some("Call back about ORD-48213 (voice)"));
    assert_eq!(text("Order number").as_deref(), Some("ORD-48213"), "from GetContactAttributes");
    assert_eq!(text("Customer phone").as_deref(), Some("+12065550147"), "from DescribeContact");
    assert_eq!(text("Disconnect reason").as_deref(), Some("CUSTOMER_DISCONNECT"));
    assert_eq!(text("Priority").as_deref(), Some("normal"), "an attribute the contact lacks takes its default");
}

#[tokio::test]
async fn a_rule_that_does_not_ask_makes_no_amazon_connect_call() {
    let service = cases_service::start_with(Seed::demo()).await;
    let app = cases_service::app(&service);
    for name in ["contact-disconnected-agent.json", "contact-disconnected-abandoned.json", "custom-order-delayed.json"] {
        app.handle(sample(name), &invocation()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(service.call_count("GetContactAttributes") + service.call_count("DescribeContact"), 0);
}

#[tokio::test]
async fn an_attribute_that_does_not_fit_the_domain_refuses_the_event_before_any_write() {
    // The abandoned call's attributes, with a priority that is no option of the Priority field.
    let mut seed = Seed::demo().without_cases();
    let contact = seed.connect_instances[0].contacts.iter_mut().find(|c| c["Id"] == demo::CONTACT_ABANDONED).unwrap();
    contact.get_mut("Attributes").unwrap()["priority"] = json!("whenever you like");
    let service = cases_service::start_with(seed).await;
    let app = instance(&service, rules(), &[]);
    let error = app.handle(sample("contact-disconnected-abandoned.json"), &invocation()).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    assert!(error.message.contains("case.create.fields.Priority"), "{error}");
    assert!(!error.message.contains("whenever"), "the value is described, not echoed: {error}");
    assert_eq!(writes(&service), 0, "nothing written, the comment rule's included");
}

#[tokio::test]
async fn a_contact_amazon_connect_does_not_know_is_a_permanent_error_and_nothing_is_written() {
    let service = cases_service::start_with(Seed::demo()).await;
    let client = cases_service::client(&service);
    let before = cases_and_audit_events(&client).await;
    assert!(before.0 > 0, "the demo seed has cases");
    let app = instance(&service, rules(), &[]);
    let mut old = sample("contact-disconnected-abandoned.json");
    old["detail"]["contactId"] = json!("0ddc0ffe-0000-4000-8000-000000000001");
    let error = app.handle(old, &invocation()).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.ContactNotFound", "{error}");
    assert!(!error.is_retryable());
    assert!(error.message.contains("rule `callback-from-contact`, at `contact`"), "{error}");
    assert!(error.message.contains("0ddc0ffe-0000-4000-8000-000000000001") && error.message.contains(demo::CONNECT_INSTANCE_ID), "{error}");
    assert_eq!(service.call_count("ListFields"), 0, "refused before the domain is even read");

    // A contact of another instance (no CONNECT_INSTANCE_ARN configured to skip it): the same.
    let other_instance = "arn:aws:connect:us-east-1:123456789012:instance/0ddc0ffe-2222-4222-8222-222222222222";
    let mut other = sample("contact-disconnected-abandoned.json");
    other["detail"]["instanceArn"] = json!(other_instance);
    other["resources"] = json!([format!("{other_instance}/contact/{}", demo::CONTACT_ABANDONED), other_instance]);
    let error = app.handle(other, &invocation()).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.ContactNotFound", "{error}");
    assert!(error.message.contains("0ddc0ffe-2222-4222-8222-222222222222"), "names the instance: {error}");

    // Nothing written: no write request, no case, no case event (the audit trail's other face).
    assert_eq!(writes(&service), 0);
    assert_eq!(service.writes(), 0);
    assert!(service.events().is_empty(), "{:?}", service.events());
    assert_eq!(cases_and_audit_events(&client).await, before, "as many cases and audit events as before");

    // Through SQS: that record fails alone, and goes to the dead-letter queue after its retries.
    let mut old = sample("contact-disconnected-abandoned.json");
    old["detail"]["contactId"] = json!("0ddc0ffe-0000-4000-8000-000000000002");
    let batch = support::lambda::sqs_batch(vec![old.to_string(), sample("contact-disconnected-abandoned.json").to_string()]);
    let answer = app.handle(batch, &invocation()).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([{"itemIdentifier": "m-0"}]), "{answer}");
}

#[tokio::test]
async fn throttled_contact_reads_are_retried_and_then_retryable_with_nothing_written() {
    let service = cases_service::start().await;
    let app = instance(&service, rules(), &[]);
    // Two throttled attempts: the SDK's retries absorb them.
    service.inject_fault(Fault::error("GetContactAttributes", ErrorKind::ThrottlingException, 2));
    app.handle(sample("contact-disconnected-abandoned.json"), &invocation()).await.expect("the third attempt answers");
    assert_eq!(service.call_count("GetContactAttributes"), 3);

    // Throttled past the retries: the event fails as retryable, before any write.
    let written = writes(&service);
    service.inject_fault(Fault::error("DescribeContact", ErrorKind::ThrottlingException, 100));
    let mut another = sample("contact-disconnected-abandoned.json");
    another["id"] = json!("d67050fa-52d6-4bd4-89b8-000000000002");
    let error = app.handle(another, &invocation()).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.ThrottlingException", "{error}");
    assert!(error.message.contains("at `contact`: reading the contact: DescribeContact failed"), "{error}");
    assert_eq!(writes(&service), written, "nothing written");
}

#[tokio::test]
async fn an_event_that_names_no_contact_does_not_fit_a_rule_that_reads_one() {
    let service = cases_service::start().await;
    let rules = RuleSet::from_yaml(
        r#"
rules:
  - name: orders
    match: { source: [com.example.orders] }
    contact: { attributes: true }
    case: { find: [ { id: $.detail.caseId } ] }
    actions: [ { comment: "{{ contact.attributes.intent }}" } ]
"#,
        "rules",
    )
    .unwrap();
    let app = instance(&service, rules, &[]);
    let error = app.handle(sample("custom-order-priority-changed.json"), &invocation()).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    assert!(error.message.contains("rule `orders`, at `contact`: a custom event names no Amazon Connect contact"), "{error}");
    assert_eq!(service.calls().values().sum::<u64>(), 0, "no call at all");
}

#[tokio::test]
async fn the_default_rule_puts_the_calls_order_number_on_the_contacts_case_and_a_redelivery_changes_nothing() {
    let service = cases_service::start_with(Seed::demo()).await;
    let app = cases_service::app(&service);
    let linked = app.handle(sample("contact-disconnected-agent.json"), &invocation()).await.unwrap();
    let case_id = linked["results"][0]["caseId"].as_str().unwrap().to_owned();

    let updated: Value = app.handle(sample("contact-updated-attributes.json"), &invocation()).await.unwrap();
    assert_eq!(updated["results"][0]["rule"], "contact-order-number");
    assert_eq!(updated["results"][0]["caseId"], case_id.as_str(), "the case the contact is on");
    let client = cases_service::client(&service);
    assert_eq!(readback::text_field(&client, &case_id, demo::FIELD_ORDER_NUMBER).await.as_deref(), Some(demo::ORDER_OF_AGENT_CONTACT));

    let updates = service.call_count("UpdateCase");
    let again = app.handle(sample("contact-updated-attributes.json"), &invocation()).await.unwrap();
    assert_eq!(again["results"][0]["actions"][0]["status"], "already-done", "{again}");
    assert_eq!(service.call_count("UpdateCase"), updates, "a redelivery sends nothing");

    // A contact without an order number: on no case, nothing is done; on a case (the chat's
    // flow opened one and linked it), the update has nothing to send and sends nothing.
    let mut chat = sample("contact-updated-attributes.json");
    chat["id"] = json!("7c1e9a52-3f4b-4d2a-9e8f-000000000002");
    chat["detail"]["contactId"] = json!("4223d05b-17b9-4c28-8a92-7d725879f224");
    chat["detail"]["initialContactId"] = json!("4223d05b-17b9-4c28-8a92-7d725879f224");
    let answer = app.handle(chat.clone(), &invocation()).await.unwrap();
    assert_eq!(answer["results"][0]["case"], "not-found", "the chat is on no case: {answer}");

    app.handle(sample("flow-chat-null-endpoint.json"), &invocation()).await.unwrap();
    let updates = service.call_count("UpdateCase");
    chat["id"] = json!("7c1e9a52-3f4b-4d2a-9e8f-000000000003");
    let answer = app.handle(chat, &invocation()).await.unwrap();
    assert_eq!(answer["results"][0]["case"], "found-for-contact", "{answer}");
    assert_eq!(answer["results"][0]["actions"][0]["status"], "nothing-to-send", "{answer}");
    assert_eq!(service.call_count("UpdateCase"), updates, "no UpdateCase without a value");
}
