//! API calls per event (SPEC §7: the minimum the rule needs), asserted for each default rule with
//! the coordination store on, as the template deploys the function: the Cases and Customer
//! Profiles calls counted at the local service, the store's DynamoDB requests counted at its
//! interface. `make bench` prints the same rows.

mod support;

use std::collections::BTreeMap;

use cases_automation::claims::dynamodb::DynamoClaims;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use serde_json::{Value, json};
use support::cases_service::{self, profiles_api};
use support::counted_store::CountedStore;
use support::lambda::{config, sample};
use support::moto;

type CountedApp = App<cases_automation::cases::sdk::SdkCases, cases_automation::customers::sdk::SdkProfiles, CountedStore>;

async fn app(service: &cases_emulator::Emulator) -> CountedApp {
    let config = config(&[("PROFILES_DOMAIN_NAME", cases_service::PROFILES_DOMAIN)]);
    let profiles = profiles_api(service, config.profiles_domain.clone());
    let store = CountedStore::new(DynamoClaims::lazy(moto::sdk_config().clone(), moto::claims_table().await));
    App::with_store(config, RuleSet::default_rules(), cases_service::cases_api(service), profiles, store)
}

fn invocation() -> Invocation {
    Invocation::with_budget(std::time::Duration::from_secs(30))
}

/// The calls one event makes: (Cases and Customer Profiles operations, store requests).
async fn calls(service: &cases_emulator::Emulator, app: &CountedApp, event: Value) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    service.reset_calls();
    app.executor.claims.take();
    app.handle(event, &invocation()).await.expect("handled");
    (service.calls(), app.executor.claims.take())
}

fn counts(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn each_default_rule_makes_the_calls_it_needs_and_no_more() {
    let service = cases_service::start().await;
    let first = app(&service).await;

    // A case to update, made by a flow; then the first update of the process reads the names and
    // the options of the field it writes once, and the case's current values.
    let mut flow = sample("flow-chat-null-endpoint.json");
    flow["Details"]["ContactData"]["ContactId"] = json!("calls-existing-case");
    let case_id = first.handle(flow, &invocation()).await.unwrap()["caseId"].clone();
    // Another instance: nothing listed or cached yet.
    let fresh = app(&service).await;
    let mut priority = sample("custom-order-priority-changed.json");
    priority["detail"]["caseId"] = case_id;
    let (cases, store) = calls(&service, &fresh, priority.clone()).await;
    assert_eq!(cases, counts(&[("ListFields", 1), ("ListTemplates", 1), ("ListFieldOptions", 1), ("GetCase", 1), ("UpdateCase", 1)]));
    assert_eq!(store, counts(&[("UpdateItem", 2)]), "the ledger's lock and release");

    let (cases, store) = calls(&service, &fresh, sample("flow-voice-open-case.json")).await;
    assert_eq!(
        cases,
        counts(&[("GetTemplate", 1), ("SearchCases", 1), ("CreateCase", 1), ("SearchRelatedItems", 1), ("CreateRelatedItem", 1)])
    );
    assert_eq!(
        store,
        counts(&[("PutItem", 2), ("TransactWriteItems", 1), ("UpdateItem", 3)]),
        "case claim, its binding with the token; ledger lock, item claim, its binding, ledger release"
    );

    let (cases, store) = calls(&service, &fresh, sample("flow-voice-open-case.json")).await;
    assert_eq!(cases, counts(&[("SearchCases", 1), ("GetCase", 1), ("SearchRelatedItems", 1)]), "a redelivery writes nothing");
    assert!(store.is_empty(), "a case found by its search costs no store call: {store:?}");

    let (cases, store) = calls(&service, &fresh, sample("contact-disconnected-abandoned.json")).await;
    assert_eq!(
        cases,
        counts(&[
            ("GetTemplate", 1),
            ("SearchProfiles", 1),
            ("CreateCase", 1),
            ("SearchCases", 1),
            ("SearchRelatedItems", 2),
            ("CreateRelatedItem", 2)
        ]),
        "the search for a case to link finds only the new callback case"
    );
    assert_eq!(store, counts(&[("PutItem", 3), ("TransactWriteItems", 1), ("UpdateItem", 4)]));

    let mut again = sample("contact-disconnected-abandoned.json");
    again["id"] = json!("calls-same-caller-again");
    again["detail"]["contactId"] = json!("calls-same-caller-contact");
    let (cases, store) = calls(&service, &fresh, again).await;
    assert_eq!(
        cases,
        counts(&[("CreateCase", 1), ("SearchCases", 1), ("GetCase", 1), ("SearchRelatedItems", 3), ("CreateRelatedItem", 3)]),
        "the profile search is cached; the caller's first callback case, still open, is linked"
    );
    assert_eq!(store, counts(&[("PutItem", 4), ("TransactWriteItems", 1), ("UpdateItem", 5)]));

    let (cases, store) = calls(&service, &fresh, sample("custom-order-delayed.json")).await;
    assert_eq!(
        cases,
        counts(&[("GetTemplate", 1), ("SearchCases", 1), ("CreateCase", 1), ("CreateRelatedItem", 1), ("UpdateCase", 1)]),
        "a comment is claimed, not searched for; the update is compared with the create, not read back"
    );
    assert_eq!(store, counts(&[("PutItem", 2), ("TransactWriteItems", 1), ("UpdateItem", 3)]));

    let (cases, store) = calls(&service, &fresh, priority).await;
    assert_eq!(cases, counts(&[("GetCase", 1)]), "an update that changes nothing is not sent");
    assert_eq!(store, counts(&[("UpdateItem", 2)]));

    let (cases, store) = calls(&service, &fresh, sample("cases-case-updated-by-automation.json")).await;
    assert!(cases.is_empty() && store.is_empty(), "a change the automation made itself costs nothing: {cases:?} {store:?}");

    // A sweep's work item (auto-close): the case checked against the selection, the comment
    // claimed and written, the status compared and closed.
    let idle = first.handle(sample("flow-voice-open-case.json"), &invocation()).await.unwrap()["caseId"].as_str().unwrap().to_owned();
    service.advance_clock(std::time::Duration::from_secs(30 * 86_400));
    let sweep = cases_automation::rules::schedule::Sweep::from_payload(&json!({"sweep": {
        "rule": "auto-close-idle-cases",
        "scheduledTime": service.now().format(&time::format_description::well_known::Rfc3339).unwrap(),
    }}))
    .unwrap();
    let item = sweep.work_item(&idle, &format!("{}/{idle}", sweep.id()), "123456789012", "us-east-1", json!({}));
    let (cases, store) = calls(&service, &fresh, item).await;
    assert_eq!(
        cases,
        counts(&[("ListFieldOptions", 1), ("GetCase", 2), ("CreateRelatedItem", 1), ("UpdateCase", 1)]),
        "per swept case: the selection checked again, the comment, the status compared then set (and, once per process, the \
         status field's options)"
    );
    assert_eq!(store, counts(&[("PutItem", 1), ("UpdateItem", 3)]), "ledger lock, comment claim and its binding, ledger release");
}
