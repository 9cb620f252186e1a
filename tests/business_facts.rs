//! One case per business fact, whatever the timing (SPEC §4): different events about one order or
//! one caller, handled at the same moment by different instances or within the search index's
//! lag, end on one case; a closed case is not reused; updates apply in event order, unchanged
//! values are not sent, and a ping-pong with another automation ends. Related items are created
//! once without anything being removed. A retry whose rule changed ends on the first case.
//!
//! Everything runs through the real SDKs: Cases and Customer Profiles against the local service
//! with its search index trailing the writes by [`LAG`], the coordination store against a
//! DynamoDB-compatible server (moto). Each scenario is repeated [`ROUNDS`] times, to meet
//! different interleavings.

mod support;

use std::time::{Duration, Instant};

use aws_sdk_connectcases::types::{FieldValue as SdkFieldValue, FieldValueUnion, UserUnion};
use cases_automation::cases::CasesApi;
use cases_automation::claims::ClaimStore;
use cases_automation::customers::ProfilesApi;
use cases_automation::error::Error;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed};
use futures_util::future::join_all;
use serde_json::{Value, json};
use support::cases_service::{self, DOMAIN, IDENTITY, PROFILES_DOMAIN};
use support::lambda::{StoreApp, instance_with_store, sample};
use support::moto;
use support::readback::{self, ORDER_NUMBER, PRIORITY, PROMISED_BY};

/// How far the local service's search index trails the writes: about what the real one does.
const LAG: Duration = Duration::from_secs(1);
const ROUNDS: usize = 20;
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cases-automation";

async fn service(lag: Duration, with_cases: bool) -> Emulator {
    let seed = if with_cases { Seed::demo() } else { Seed::demo().without_cases() };
    Emulator::builder().seed(seed).search_lag(lag).start().await.expect("the local Cases service starts")
}

/// Lets the search index catch up (the service's clock moves; nothing sleeps).
fn settle(service: &Emulator, lag: Duration) {
    service.advance_clock(lag + Duration::from_millis(1));
}

async fn handle<C: CasesApi, P: ProfilesApi, S: ClaimStore, K: cases_automation::contacts::ContactsApi>(
    app: &App<C, P, S, K>,
    payload: Value,
) -> Result<Value, Error> {
    app.handle(payload, &Invocation { deadline: Instant::now() + Duration::from_secs(30), function_arn: Some(FUNCTION_ARN.into()) }).await
}

fn instances(service: &Emulator, table: &str, n: usize) -> Vec<StoreApp> {
    (0..n).map(|_| instance_with_store(service, RuleSet::default_rules(), &[], table)).collect()
}

/// An "Order Delayed" event about order `order`, with its own event id and reason.
fn order_delayed(order: usize, event: usize, reason: &str) -> Value {
    let mut payload = sample("custom-order-delayed.json");
    payload["id"] = json!(format!("e0826073-0000-4000-8000-{:06}{:06}", order, event));
    payload["detail"]["orderNumber"] = json!(format!("ORD-{order:06}"));
    payload["detail"]["reason"] = json!(reason);
    payload
}

/// The cases whose order number is `order` (read after the index caught up).
async fn cases_of_order(client: &aws_sdk_connectcases::Client, order: usize) -> Vec<String> {
    let mut found = Vec::new();
    for case in readback::all_cases(client).await {
        if readback::text_field(client, &case, ORDER_NUMBER).await.as_deref() == Some(format!("ORD-{order:06}").as_str()) {
            found.push(case);
        }
    }
    found
}

/// Two different "Order Delayed" events about one order (an upstream system re-published the fact
/// under a new id), handled at the same moment by two instances while the search index shows
/// neither's case yet: one case, with both comments.
#[tokio::test]
async fn two_events_about_one_order_at_once_in_two_instances_make_one_case() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 2);
        let events = [order_delayed(round, 1, "storm"), order_delayed(round, 2, "strike")];
        let answers = join_all(apps.iter().zip(&events).map(|(app, event)| handle(app, event.clone()))).await;
        assert!(answers.iter().all(Result::is_ok), "round {round}: {answers:?}");

        settle(&service, LAG);
        let client = cases_service::client(&service);
        let cases = cases_of_order(&client, round).await;
        assert_eq!(cases.len(), 1, "round {round}: one case for the order: {answers:?}");
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (0, 2, 0, 0), "round {round}: each event's comment");
        assert_eq!(readback::text_field(&client, &cases[0], PROMISED_BY).await.as_deref(), Some("2026-12-03T17:00:00Z"));
        assert_eq!(service.call_count("DeleteRelatedItem"), 0, "nothing is removed");
    }
}

/// A contact that reached an agent, from a caller no profile knows.
fn new_caller_contact(round: usize, contact: usize) -> Value {
    let mut payload = sample("contact-disconnected-agent.json");
    payload["id"] = json!(format!("46004dbf-0000-4000-8000-{round:06}{contact:06}"));
    payload["detail"]["contactId"] = json!(format!("33393138-0000-4000-8000-{round:06}{contact:06}"));
    payload["detail"]["tags"].as_object_mut().unwrap().remove("customerProfileArn");
    payload["detail"]["customerEndpoint"]["address"] = json!(format!("+1312555{:04}", 1000 + round));
    payload
}

/// Two contacts of one new caller (a call and a chat ending together) in two instances at once:
/// one profile is created for the caller, one case opened, both contacts linked to it.
#[tokio::test]
async fn two_contacts_of_one_new_caller_at_once_make_one_profile_and_one_case() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 2);
        let events = [new_caller_contact(round, 1), new_caller_contact(round, 2)];
        let answers = join_all(apps.iter().zip(&events).map(|(app, event)| handle(app, event.clone()))).await;
        assert!(answers.iter().all(Result::is_ok), "round {round}: {answers:?}");

        let number = format!("+1312555{:04}", 1000 + round);
        let profiles: Vec<Value> = service.profiles(PROFILES_DOMAIN).into_iter().filter(|p| p["PhoneNumber"] == number.as_str()).collect();
        assert_eq!(profiles.len(), 1, "round {round}: one profile for the caller: {profiles:?}");
        settle(&service, LAG);
        let client = cases_service::client(&service);
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "round {round}: one case for the caller: {answers:?}");
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (2, 0, 0, 0), "round {round}: both contacts linked");
    }
}

/// The same two events two seconds apart: within a longer lag the second finds the case through
/// its claim; beyond the lag, through the search, without writing to the store.
#[tokio::test]
async fn two_events_about_one_order_two_seconds_apart_make_one_case() {
    for (lag, through) in [(Duration::from_secs(3), "its claim"), (LAG, "the search")] {
        for round in 0..ROUNDS {
            let service = service(lag, false).await;
            let table = moto::claims_table().await;
            let apps = instances(&service, &table, 2);
            let first = handle(&apps[0], order_delayed(round, 1, "storm")).await.unwrap();
            assert_eq!(first["results"][0]["case"], "created", "{first}");
            service.advance_clock(Duration::from_secs(2));
            let second = handle(&apps[1], order_delayed(round, 2, "strike")).await.unwrap();
            let how = if lag > Duration::from_secs(2) { "found-by-claim" } else { "found-by-search" };
            assert_eq!(second["results"][0]["case"], how, "lag {lag:?}, round {round}: found through {through}: {second}");
            assert_eq!(second["results"][0]["caseId"], first["results"][0]["caseId"]);

            settle(&service, lag);
            let client = cases_service::client(&service);
            assert_eq!(cases_of_order(&client, round).await.len(), 1, "lag {lag:?}, round {round}");
        }
    }
}

/// An agent closes the order's case; the next event about the order opens a new case, even while
/// the search index still shows the closed case as open; the event after that finds the new one.
#[tokio::test]
async fn a_closed_case_is_never_reused() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let client = cases_service::client(&service);
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 2);
        let first = handle(&apps[0], order_delayed(round, 1, "storm")).await.unwrap();
        let closed = first["results"][0]["caseId"].as_str().unwrap().to_owned();
        settle(&service, LAG);
        let agent = UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into());
        client
            .update_case()
            .domain_id(DOMAIN)
            .case_id(&closed)
            .fields(SdkFieldValue::builder().id("status").value(FieldValueUnion::StringValue("closed".into())).build().unwrap())
            .performed_by(agent)
            .send()
            .await
            .unwrap();

        // Within the lag: the index still has the case as open.
        let second = handle(&apps[1], order_delayed(round, 2, "strike")).await.unwrap();
        let reopened = second["results"][0]["caseId"].as_str().unwrap().to_owned();
        assert_ne!(reopened, closed, "round {round}: a new case: {second}");
        assert_eq!(second["results"][0]["case"], "created");

        settle(&service, LAG);
        let third = handle(&apps[0], order_delayed(round, 3, "customs")).await.unwrap();
        assert_eq!(third["results"][0]["caseId"].as_str(), Some(reopened.as_str()), "round {round}: {third}");
        assert_eq!(cases_of_order(&client, round).await.len(), 2, "round {round}: the closed case and the new one");
    }
}

/// Delivered six times, at once and one after the other, by three instances: one Case.Updated in
/// the audit history, one comment, and every change under the automation's own name, with no
/// removals (DeleteRelatedItem takes no performedBy, so a clean-up would show an anonymous change).
#[tokio::test]
async fn redeliveries_leave_each_change_once_in_the_audit_trail_under_the_automations_name() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 3);
        let event = order_delayed(round, 1, "storm");
        let at_once = join_all(apps.iter().flat_map(|app| [handle(app, event.clone()), handle(app, event.clone())])).await;
        assert!(at_once.iter().all(Result::is_ok), "{at_once:?}");
        for app in &apps {
            handle(app, event.clone()).await.unwrap();
        }

        settle(&service, LAG);
        let client = cases_service::client(&service);
        let cases = cases_of_order(&client, round).await;
        assert_eq!(cases.len(), 1, "round {round}");
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (0, 1, 0, 0), "round {round}: one comment");
        let audit = readback::audit_events(&client, &cases[0]).await;
        let updated = audit.iter().filter(|(kind, _)| kind == "Case.Updated").count();
        assert_eq!(updated, 1, "round {round}: the date was set once: {audit:?}; {at_once:?}");
        assert!(audit.iter().all(|(kind, _)| kind != "RelatedItem.Deleted"), "round {round}: nothing removed: {audit:?}");
        assert!(audit.iter().all(|(_, who)| who.as_deref() == Some(IDENTITY)), "round {round}: every change by the automation: {audit:?}");
        assert_eq!(service.call_count("DeleteRelatedItem"), 0);
    }
}

/// An abandoned call of its own.
fn abandoned_call(n: usize) -> Value {
    let mut event = sample("contact-disconnected-abandoned.json");
    event["id"] = json!(format!("d67050fa-0000-4000-8000-{n:012}"));
    event["detail"]["contactId"] = json!(format!("90bc4c10-0000-4000-8000-{n:012}"));
    event
}

/// The same abandoned call at the same moment in three instances: one case (its clientToken and
/// its claim), one contact link and one SLA, and no DeleteRelatedItem at all.
#[tokio::test]
async fn the_same_event_at_the_same_moment_in_three_instances_creates_each_item_once() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 3);
        let event = abandoned_call(round);
        let answers = join_all(apps.iter().map(|app| handle(app, event.clone()))).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        settle(&service, LAG);
        let client = cases_service::client(&service);
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "round {round}");
        assert_eq!(readback::item_counts(&client, &cases[0]).await, (1, 0, 1, 0), "round {round}: one link and one SLA");
        assert_eq!(service.call_count("DeleteRelatedItem"), 0, "round {round}: nothing created twice, nothing removed");
    }
}

/// A retry after the rules changed: the first attempt created the case and then failed (its
/// comment was refused by a passing server error); before the retry, an operator changed the rule
/// (its title, its name, its search) or the identity. The retry ends on the case the first attempt
/// created, whether CreateCase is skipped (the claim knows the case) or answers ConflictException
/// (same clientToken, another request).
#[tokio::test]
async fn a_retry_after_the_rule_changed_ends_on_the_case_the_first_attempt_created() {
    // (what changed, text replaced in the default rules, by what, extra environment)
    type Change<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let changes: [Change; 5] = [
        ("the title changed", "is delayed\"", "is late\"", &[]),
        ("the rule renamed", "name: order-delayed-comment", "name: order-delay-comment", &[]),
        // The new search does not find the first case (its priority is normal) and the new title makes
        // another request under the same clientToken.
        (
            "the search and the title changed (CreateCase conflicts)",
            "              status: open\n      create:\n        template: Order issue\n        fields:\n          title: \"Order {{ detail.orderNumber }} is delayed\"",
            "              Priority: urgent\n      create:\n        template: Order issue\n        fields:\n          title: \"Order {{ detail.orderNumber }} is late\"",
            &[],
        ),
        ("the identity changed", "is delayed\"", "is delayed\"", &[("AUTOMATION_IDENTITY", "orders-bot")]),
        ("the callback rule renamed", "name: contact-abandoned-callback", "name: callback-for-abandoned-calls", &[]),
    ];
    for (what, from, to, extra) in changes {
        let service = service(LAG, false).await;
        let table = moto::claims_table().await;
        let callback = what.contains("callback");
        let event = if callback { abandoned_call(7) } else { order_delayed(7, 1, "storm") };
        let first = instance_with_store(&service, RuleSet::default_rules(), &[], &table);
        service.inject_fault(Fault::error_always("CreateRelatedItem", ErrorKind::InternalServerException));
        let error = handle(&first, event.clone()).await.unwrap_err();
        assert!(error.is_retryable(), "{what}: {error}");
        service.clear_faults();
        let created = service.call_count("CreateCase");
        assert_eq!(created, 1, "{what}");

        let rules = RuleSet::from_yaml(&support::default_rules_with(from, to), "changed.yaml").unwrap();
        let retry = instance_with_store(&service, rules, extra, &table);
        let answer = handle(&retry, event).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        settle(&service, LAG);
        let client = cases_service::client(&service);
        let cases = readback::all_cases(&client).await;
        assert_eq!(cases.len(), 1, "{what}: still one case: {answer}");
        assert_eq!(answer["results"][0]["caseId"].as_str(), Some(cases[0].as_str()), "{what}");
        let items = readback::item_counts(&client, &cases[0]).await;
        assert_eq!(items, if callback { (1, 0, 1, 0) } else { (0, 1, 0, 0) }, "{what}: the retry completed the work once");
        if what.contains("conflicts") {
            assert_eq!(service.call_count("CreateCase"), 2, "{what}: CreateCase answered ConflictException");
        }
    }
}

/// An update of a case: the order's priority, sent as the rule `order-priority-update` expects.
fn priority_changed(case_id: &str, n: usize, priority: &str, time: &str) -> Value {
    let mut event = sample("custom-order-priority-changed.json");
    event["id"] = json!(format!("5e1c2a9f-0000-4000-8000-{n:012}"));
    event["time"] = json!(time);
    event["detail"]["caseId"] = json!(case_id);
    event["detail"]["priority"] = json!(priority);
    event.as_object_mut().unwrap()["detail"].as_object_mut().unwrap().remove("orderTotal");
    event
}

/// E1 sets the priority high and is throttled; E2, a later change, sets it low and is applied;
/// E1 is retried: low stays, and E1 is reported as stale.
#[tokio::test]
async fn an_older_update_retried_after_a_newer_one_does_not_overwrite_it() {
    for round in 0..ROUNDS {
        let service = service(LAG, false).await;
        let client = cases_service::client(&service);
        let table = moto::claims_table().await;
        let apps = instances(&service, &table, 2);
        let case = readback::agent_case(&client, "Order").await;
        let e1 = priority_changed(&case, 1, "high", "2026-12-01T10:00:00Z");
        let e2 = priority_changed(&case, 2, "low", "2026-12-01T10:00:05Z");

        service.inject_fault(Fault::error_always("UpdateCase", ErrorKind::ThrottlingException));
        let error = handle(&apps[0], e1.clone()).await.unwrap_err();
        assert_eq!(error.error_type(), "Retryable.ThrottlingException", "round {round}");
        service.clear_faults();
        let applied = handle(&apps[1], e2).await.unwrap();
        assert_eq!(applied["results"][0]["actions"][0]["status"], "done", "{applied}");
        let retried = handle(&apps[0], e1).await.unwrap();
        assert_eq!(retried["results"][0]["actions"][0]["status"], "stale", "round {round}: {retried}");
        assert_eq!(readback::text_field(&client, &case, PRIORITY).await.as_deref(), Some("low"), "round {round}");
    }
}

/// The automation and a second stack under another identity (say, a CRM integration) react to
/// each other's changes of one case. When the other sets what the automation sets, the automation
/// finds the value unchanged and stops; when it keeps setting another value, the case's budget of
/// automated updates stops the automation. Either way the loop ends, and it is counted.
#[tokio::test]
async fn a_ping_pong_with_a_second_identity_ends() {
    // Reacts to changes by anyone else: priority high.
    const OURS: &str = r#"
rules:
  - name: escalate-on-change
    match: { source: [aws.cases], detail: { eventType: [CASE.UPDATED] } }
    case: { find: [ { id: $.detail.case.caseId } ] }
    actions:
      - update: { fields: { Priority: high } }
"#;
    for (theirs, flips) in [("high", false), ("urgent", true)] {
        let other = format!(
            "rules:\n  - name: crm-sync\n    match: {{ source: [aws.cases], detail: {{ eventType: [CASE.UPDATED] }} }}\n    case: {{ find: [ {{ id: $.detail.case.caseId }} ] }}\n    actions:\n      - update: {{ fields: {{ Priority: {theirs} }} }}\n"
        );
        for round in 0..ROUNDS {
            let service = Emulator::builder().seed(Seed::demo().without_cases()).search_lag(LAG).force_events(true).start().await.unwrap();
            let client = cases_service::client(&service);
            let case = readback::agent_case(&client, "Order").await;
            let budget = 5;
            let ours = instance_with_store(
                &service,
                RuleSet::from_yaml(OURS, "ours.yaml").unwrap(),
                &[("CASE_WRITES_PER_HOUR", &budget.to_string())],
                &moto::claims_table().await,
            );
            let crm = instance_with_store(
                &service,
                RuleSet::from_yaml(&other, "crm.yaml").unwrap(),
                &[("AUTOMATION_IDENTITY", "crm-sync"), ("CASE_WRITES_PER_HOUR", "1000")],
                &moto::claims_table().await,
            );
            // An agent changes the case: both stacks see every change event, as EventBridge would send them.
            service.clear_events();
            client
                .update_case()
                .domain_id(DOMAIN)
                .case_id(&case)
                .fields(SdkFieldValue::builder().id(PRIORITY).value(FieldValueUnion::StringValue("normal".into())).build().unwrap())
                .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into()))
                .send()
                .await
                .unwrap();
            let (mut rounds, mut our_updates, mut spent) = (0, 0, 0);
            loop {
                let events = service.events();
                service.clear_events();
                if events.is_empty() {
                    break;
                }
                rounds += 1;
                assert!(rounds <= 50, "the loop does not end");
                for event in events {
                    for (app, mine) in [(&ours, true), (&crm, false)] {
                        let outcome = handle(app, event.clone()).await.unwrap();
                        for action in outcome["results"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|r| r["actions"].as_array().cloned().unwrap_or_default())
                        {
                            if mine && action["status"] == "done" {
                                our_updates += 1;
                            }
                            if mine && action["status"] == "budget-spent" {
                                spent += 1;
                            }
                        }
                    }
                }
            }
            if flips {
                assert_eq!(our_updates, budget, "round {round}: the budget stopped the automation after {budget} updates");
                assert!(spent >= 1, "the stop is reported");
            } else {
                assert!(our_updates <= 1, "round {round}: the automation stopped at the first unchanged value: {our_updates}");
                assert_eq!(spent, 0);
            }
        }
    }
}

/// The store unreachable: a retryable error before anything is written, never a case created
/// without its claim.
#[tokio::test]
async fn an_unreachable_store_is_a_retryable_error_and_nothing_is_written() {
    let service = service(LAG, false).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let store_config = cases_automation::aws::sdk_config_for_local_service(&endpoint).await;
    let config = support::lambda::config(&[("PROFILES_DOMAIN_NAME", PROFILES_DOMAIN)]);
    let profiles = cases_service::profiles_api(&service, config.profiles_domain.clone());
    let app = App::with_store(
        config,
        RuleSet::default_rules(),
        cases_service::cases_api(&service),
        profiles,
        cases_automation::claims::dynamodb::DynamoClaims::lazy(store_config, "claims"),
    );
    let error = handle(&app, order_delayed(1, 1, "storm")).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.CoordinationStoreUnavailable", "{error}");
    assert!(error.message.contains("case.create"), "the step is named: {error}");
    let writes: u64 = ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| service.call_count(op)).sum();
    assert_eq!(writes, 0, "nothing written without the claim");
}

/// A rule that attaches the file an event names to the case it names.
const ATTACH_FILE: &str = r#"
rules:
  - name: attach-invoice
    match: { source: [com.example.billing], detail-type: [Invoice Issued] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - attachFile: { fileArn: $.detail.fileArn }
"#;

fn invoice_issued(case_id: &str) -> Value {
    json!({
        "version": "0", "id": "8d6c7c1e-0000-4000-8000-000000000001", "detail-type": "Invoice Issued",
        "source": "com.example.billing", "account": "123456789012", "time": "2026-12-01T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"caseId": case_id, "fileArn": "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-1111-4222-8333-444455556666/file/f-1"}
    })
}

/// How a redelivered event reaches the function.
#[derive(Debug, Clone, Copy)]
enum Redelivery {
    /// Three times, one after the other, to one instance.
    Sequential,
    /// Three times at once to one instance.
    ConcurrentInOneInstance,
    /// Once each, at once, to three instances.
    ThreeInstances,
}

async fn redeliver(service: &Emulator, rules: &str, event: &Value, how: Redelivery) {
    let table = moto::claims_table().await;
    let rules = || RuleSet::from_yaml(rules, "rules.yaml").unwrap();
    let answers = match how {
        Redelivery::Sequential => {
            let app = instance_with_store(service, rules(), &[], &table);
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(handle(&app, event.clone()).await);
            }
            answers
        }
        Redelivery::ConcurrentInOneInstance => {
            let app = instance_with_store(service, rules(), &[], &table);
            join_all((0..3).map(|_| handle(&app, event.clone()))).await
        }
        Redelivery::ThreeInstances => {
            let apps: Vec<_> = (0..3).map(|_| instance_with_store(service, rules(), &[], &table)).collect();
            join_all(apps.iter().map(|app| handle(app, event.clone()))).await
        }
    };
    assert!(answers.iter().all(Result::is_ok), "{how:?}: {answers:?}");
}

/// A file attached by a rule is never attached twice, however the event is redelivered.
#[tokio::test]
async fn a_file_is_attached_once_under_every_kind_of_redelivery() {
    for how in [Redelivery::Sequential, Redelivery::ConcurrentInOneInstance, Redelivery::ThreeInstances] {
        for round in 0..ROUNDS / 4 {
            let service = service(LAG, false).await;
            let client = cases_service::client(&service);
            let case = readback::agent_case(&client, "Order").await;
            redeliver(&service, ATTACH_FILE, &invoice_issued(&case), how).await;
            settle(&service, LAG);
            assert_eq!(readback::item_counts(&client, &case).await, (0, 0, 0, 1), "{how:?}, round {round}: one file");
        }
    }
}

/// A note added to a case that already has more than a page of comments (30; SearchRelatedItems
/// returns at most 25 a page) is written once, however the event is redelivered.
#[tokio::test]
async fn a_note_on_a_case_with_many_comments_is_written_once_under_every_kind_of_redelivery() {
    for how in [Redelivery::Sequential, Redelivery::ConcurrentInOneInstance, Redelivery::ThreeInstances] {
        let service = service(LAG, false).await;
        let client = cases_service::client(&service);
        let case = readback::agent_case(&client, "Order").await;
        for n in 0..30 {
            client
                .create_related_item()
                .domain_id(DOMAIN)
                .case_id(&case)
                .r#type(aws_sdk_connectcases::types::RelatedItemType::Comment)
                .content(aws_sdk_connectcases::types::RelatedItemInputContent::Comment(
                    aws_sdk_connectcases::types::CommentContent::builder()
                        .body(format!("Earlier note {n}"))
                        .content_type(aws_sdk_connectcases::types::CommentBodyTextType::Plaintext)
                        .build()
                        .unwrap(),
                ))
                .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into()))
                .send()
                .await
                .unwrap();
        }
        let mut note = sample("flow-task-nested-params.json");
        note["Details"]["Parameters"]["caseId"] = json!(case);
        let rules = cases_automation::rules::DEFAULT_RULES;
        redeliver(&service, rules, &note, how).await;
        settle(&service, LAG);
        let body = note["Details"]["Parameters"]["note"].as_str().unwrap();
        let comments = readback::comments(&client, &case).await;
        assert_eq!(comments.len(), 31, "{how:?}: the 30 earlier notes and the new one");
        assert_eq!(comments.iter().filter(|c| *c == body).count(), 1, "{how:?}: the note once");
    }
}
