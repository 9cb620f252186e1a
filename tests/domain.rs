//! Bad input changes nothing, even when only the domain can tell: every write of every matching
//! rule is checked against the fields, options and templates of the domain before the first one
//! is sent. Against the local Cases service through the SDK, which refuses what the real service
//! refuses; what was written is read back and counted at the service.

mod support;

use aws_sdk_connectcases::types::{FieldOption, FieldType, FieldValueUnion};
use cases_automation::error::Error;
use cases_automation::handler::Invocation;
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, Seed, demo};
use serde_json::{Value, json};
use std::time::Duration;
use support::cases_service::{self, DOMAIN, LocalApp};
use support::lambda::instance;
use support::readback;

/// A case of the demo seed ("Order issue", Priority `normal`).
const ORDER_CASE: &str = "068c193b-f65c-4902-9f77-7337923fe54e";

const RULES: &str = r#"
rules:
  - name: comment-then-priority
    match: { source: [shop], detail-type: [Priority] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - comment: "Priority changed by the shop ({{ detail.ticket }})"
      - update: { fields: { Priority: $.detail.priority } }

  - name: note
    match: { source: [shop], detail-type: [Callback] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - comment: "The customer asked for a call back ({{ detail.ticket }})"

  - name: callback
    match: { source: [shop], detail-type: [Callback] }
    case:
      create:
        template: Callback request
        fields:
          title: Call the customer back
          customer_id: $.detail.customer
          Customer phone: { path: $.detail.phone, default: null }

  - name: comment-then-flag
    match: { source: [shop], detail-type: [Flag] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - comment: "Flagged by the shop ({{ detail.ticket }})"
      - update: { fields: { Callback requested: $.detail.flag } }

  - name: loyalty
    match: { source: [shop], detail-type: [Loyalty] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - update: { fields: { Loyalty tier: $.detail.tier } }

  - name: escalation
    match: { source: [shop], detail-type: [Escalation] }
    case:
      create:
        template: Escalation
        fields:
          title: Escalated by the shop
          customer_id: $.detail.customer
"#;

struct Domain {
    service: Emulator,
    app: LocalApp,
    client: aws_sdk_connectcases::Client,
}

async fn start() -> Domain {
    let service = cases_service::start_with(Seed::demo()).await;
    let app = instance(&service, RuleSet::from_yaml(RULES, "domain rules").unwrap(), &[]);
    let client = cases_service::client(&service);
    Domain { service, app, client }
}

impl Domain {
    async fn handle(&self, event: Value) -> Result<Value, Error> {
        self.app.handle(event, &Invocation::with_budget(Duration::from_secs(20))).await
    }

    /// Write requests the service received (failed ones too).
    fn writes(&self) -> u64 {
        ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| self.service.call_count(op)).sum()
    }

    /// Checks that nothing was written: no request, no new case, no comment, no new priority.
    async fn assert_nothing_written(&self, what: &str) {
        assert_eq!(self.writes(), 0, "{what}: {:?}", self.service.calls());
        assert_eq!(readback::all_cases(&self.client).await.len(), 2, "{what}: only the seed's cases");
        assert!(readback::comments(&self.client, ORDER_CASE).await.is_empty(), "{what}");
        assert_eq!(readback::text_field(&self.client, ORDER_CASE, demo::FIELD_PRIORITY).await.as_deref(), Some("normal"), "{what}");
    }
}

fn event(id: &str, detail_type: &str, detail: Value) -> Value {
    json!({"id": id, "source": "shop", "detail-type": detail_type, "detail": detail})
}

/// A refusal names the event, the rule, the field and the reason, and not the value.
fn assert_refused(error: &Error, event_id: &str, rule: &str, field: &str, reason: &str, value: &str) {
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    for needle in [event_id, &format!("rule `{rule}`"), field, reason] {
        assert!(error.message.contains(needle), "{needle:?} missing from: {error}");
    }
    assert!(!error.message.contains(value), "the value is echoed: {error}");
}

#[tokio::test]
async fn a_rule_that_comments_then_sets_a_value_that_is_no_option_writes_nothing() {
    let domain = start().await;
    let error = domain
        .handle(event("e-priority-1", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-1", "priority": "extreme"})))
        .await
        .unwrap_err();
    assert_refused(&error, "e-priority-1", "comment-then-priority", "Priority", "not one of the options", "extreme");
    assert!(error.message.contains("low, normal, high, urgent"), "the active options are named: {error}");
    domain.assert_nothing_written("a value that is no option").await;

    // One of the options: the comment and the update are both written.
    domain.handle(event("e-high", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-2", "priority": "high"}))).await.unwrap();
    assert_eq!(readback::text_field(&domain.client, ORDER_CASE, demo::FIELD_PRIORITY).await.as_deref(), Some("high"));
    assert_eq!(readback::comments(&domain.client, ORDER_CASE).await.len(), 1);
}

#[tokio::test]
async fn a_second_rule_creating_a_case_without_a_required_field_stops_the_first_rule_too() {
    let domain = start().await;
    let detail = json!({"caseId": ORDER_CASE, "ticket": "T-3", "customer": demo::CUSTOMER_ID});
    let error = domain.handle(event("e-no-phone", "Callback", detail.clone())).await.unwrap_err();
    assert_refused(&error, "e-no-phone", "callback", "Customer phone", "requires field", demo::CUSTOMER_ID);
    assert!(error.message.contains("Callback request"), "the template is named: {error}");
    domain.assert_nothing_written("a missing required field").await;

    let mut empty = detail.clone();
    empty["phone"] = json!("  ");
    let error = domain.handle(event("e-empty-phone", "Callback", empty)).await.unwrap_err();
    assert_refused(&error, "e-empty-phone", "callback", "Customer phone", "cannot be empty", demo::CUSTOMER_ID);
    domain.assert_nothing_written("a required field set to an empty value").await;

    let mut phone_as_customer = detail.clone();
    phone_as_customer["phone"] = json!("+12065550123");
    phone_as_customer["customer"] = json!("+12065550123");
    let error = domain.handle(event("e-phone-customer", "Callback", phone_as_customer)).await.unwrap_err();
    assert_refused(&error, "e-phone-customer", "callback", "customer_id", "profile ARN", "+12065550123");
    domain.assert_nothing_written("a phone number as the customer").await;

    let mut complete = detail;
    complete["phone"] = json!("+12065550123");
    domain.handle(event("e-phone", "Callback", complete)).await.unwrap();
    assert_eq!(readback::all_cases(&domain.client).await.len(), 3, "the callback case");
    assert_eq!(readback::comments(&domain.client, ORDER_CASE).await.len(), 1, "and the note");
}

#[tokio::test]
async fn an_inactive_option_is_refused_before_anything_is_written() {
    let domain = start().await;
    let low = FieldOption::builder().name("Low").value("low").active(false).build().unwrap();
    let out = domain.client.batch_put_field_options().domain_id(DOMAIN).field_id(demo::FIELD_PRIORITY).options(low).send().await.unwrap();
    assert!(out.errors().is_empty(), "{out:?}");
    domain.service.reset_calls();

    let error = domain
        .handle(event("e-priority-low", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-4", "priority": "low"})))
        .await
        .unwrap_err();
    assert_refused(&error, "e-priority-low", "comment-then-priority", "Priority", "an inactive option", "`low`");
    domain.assert_nothing_written("an inactive option").await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_for_the_field_is_refused_before_the_comment() {
    let domain = start().await;
    // The rule gives no type: the value takes the type the domain gives the field (Boolean).
    let error =
        domain.handle(event("e-flag-1", "Flag", json!({"caseId": ORDER_CASE, "ticket": "T-5", "flag": "maybe"}))).await.unwrap_err();
    assert_refused(&error, "e-flag-1", "comment-then-flag", "Callback requested", "Boolean field", "maybe");
    domain.assert_nothing_written("a string for a Boolean field").await;

    let error = domain.handle(event("e-flag-2", "Flag", json!({"caseId": ORDER_CASE, "ticket": "T-6", "flag": 7}))).await.unwrap_err();
    assert_refused(&error, "e-flag-2", "comment-then-flag", "Callback requested", "cannot take a number", "7 ");
    domain.assert_nothing_written("a number for a Boolean field").await;

    domain.handle(event("e-flag-3", "Flag", json!({"caseId": ORDER_CASE, "ticket": "T-7", "flag": "true"}))).await.unwrap();
    let flag = readback::field(&domain.client, ORDER_CASE, demo::FIELD_CALLBACK_REQUESTED).await;
    assert_eq!(flag, Some(FieldValueUnion::BooleanValue(true)));
}

#[tokio::test]
async fn a_field_or_option_added_at_run_time_is_used_by_the_next_event_of_the_same_instance() {
    let domain = start().await;
    // The first event lists the names, before the field exists.
    domain.handle(event("e-high", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-8", "priority": "high"}))).await.unwrap();
    assert_eq!(domain.service.call_count("ListFields"), 1);

    // An administrator adds a field; the next event that names it lists the names again.
    let created = domain.client.create_field().domain_id(DOMAIN).name("Loyalty tier").r#type(FieldType::Text).send().await.unwrap();
    domain.service.reset_calls();
    domain
        .handle(event("e-tier", "Loyalty", json!({"caseId": ORDER_CASE, "tier": "platinum"})))
        .await
        .expect("the new field is found by listing the names again");
    assert_eq!(domain.service.call_count("ListFields"), 1, "one listing after the miss");
    assert_eq!(readback::text_field(&domain.client, ORDER_CASE, created.field_id()).await.as_deref(), Some("platinum"));

    // A name still unknown within the minute is refused without listing again.
    domain.service.reset_calls();
    let error = domain.handle(event("e-unknown", "Escalation", json!({"customer": demo::CUSTOMER_ID}))).await.unwrap_err();
    assert_refused(&error, "e-unknown", "escalation", "Escalation", "no active template", demo::CUSTOMER_ID);
    assert_eq!(domain.service.call_count("ListTemplates"), 0, "at most one listing a minute");

    // An option added to Priority: its options are read again on the miss.
    let critical = FieldOption::builder().name("Critical").value("critical").active(true).build().unwrap();
    domain.client.batch_put_field_options().domain_id(DOMAIN).field_id(demo::FIELD_PRIORITY).options(critical).send().await.unwrap();
    domain.service.reset_calls();
    domain
        .handle(event("e-critical", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-9", "priority": "critical"})))
        .await
        .expect("the new option is found by reading the options again");
    assert_eq!(domain.service.call_count("ListFieldOptions"), 1);
    assert_eq!(readback::text_field(&domain.client, ORDER_CASE, demo::FIELD_PRIORITY).await.as_deref(), Some("critical"));
}

#[tokio::test]
async fn a_template_added_at_run_time_is_used_by_the_next_event_of_the_same_instance() {
    let domain = start().await;
    let customer = json!({"customer": demo::CUSTOMER_ID});
    domain.handle(event("e-note", "Priority", json!({"caseId": ORDER_CASE, "ticket": "T-10", "priority": "high"}))).await.unwrap();

    let template = domain.client.create_template().domain_id(DOMAIN).name("Escalation").send().await.unwrap();
    domain.handle(event("e-escalate", "Escalation", customer)).await.expect("the new template is found by listing the names again");
    let cases = readback::all_cases(&domain.client).await;
    let mut templates = Vec::new();
    for case in &cases {
        templates.push(readback::template_of(&domain.client, case).await);
    }
    assert!(templates.contains(&template.template_id().to_owned()), "{templates:?}");
}
