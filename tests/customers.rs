//! Customer resolution end to end: the function's app with both SDK clients (Cases and Customer
//! Profiles) against the local service and its demo profiles, read back through the SDKs.

mod support;

use std::time::{Duration, Instant};

use cases_automation::error::Error;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, ErrorKind, Fault, demo};
use serde_json::{Value, json};
use support::cases_service::{self, LocalApp, PROFILES_DOMAIN};
use support::lambda::{instance, sample};
use support::readback;

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cases-automation";

fn profile_arn(id: &str) -> String {
    format!("arn:aws:profile:us-east-1:123456789012:domains/{PROFILES_DOMAIN}/profiles/{id}")
}

async fn handle(app: &LocalApp, payload: Value) -> Result<Value, Error> {
    let invocation = Invocation { deadline: Instant::now() + Duration::from_secs(20), function_arn: Some(FUNCTION_ARN.into()) };
    app.handle(payload, &invocation).await
}

/// The abandoned-call sample (no profile tag) from another caller, with its own event id.
fn abandoned_call_from(phone: &str, id: &str) -> Value {
    let mut event = sample("contact-disconnected-abandoned.json");
    event["id"] = json!(id);
    event["detail"]["contactId"] = json!(format!("c0ffee00-0000-4000-8000-{:0>12}", id.len()));
    event["detail"]["customerEndpoint"]["address"] = json!(phone);
    event
}

async fn customer_of(service: &Emulator, case_id: &str) -> String {
    readback::text_field(&cases_service::client(service), case_id, "customer_id").await.expect("the case has a customer")
}

fn writes(service: &Emulator) -> u64 {
    ["CreateCase", "UpdateCase", "CreateRelatedItem", "CreateProfile"].iter().map(|op| service.call_count(op)).sum()
}

#[tokio::test]
async fn a_contact_event_without_a_profile_finds_the_caller_by_phone_number() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let out = handle(&app, sample("contact-disconnected-abandoned.json")).await.unwrap();
    let case_id = out["results"][0]["caseId"].as_str().unwrap().to_owned();
    assert_eq!(customer_of(&service, &case_id).await, profile_arn(demo::PROFILE_SAM_LEE));
    assert_eq!((service.call_count("SearchProfiles"), service.call_count("CreateProfile")), (1, 0));
}

#[tokio::test]
async fn an_unknown_caller_gets_one_new_profile_across_redeliveries_and_instances() {
    let service = cases_service::start().await;
    let event = abandoned_call_from("+1 206-555-0111", "e-unknown-caller");
    let first = instance(&service, RuleSet::default_rules(), &[]);
    let (a, b) = tokio::join!(handle(&first, event.clone()), handle(&first, event.clone()));
    let case_id = a.unwrap()["results"][0]["caseId"].as_str().unwrap().to_owned();
    assert_eq!(b.unwrap()["results"][0]["caseId"].as_str(), Some(case_id.as_str()));
    let second = instance(&service, RuleSet::default_rules(), &[]);
    let c = handle(&second, event).await.unwrap();
    assert_eq!(c["results"][0]["caseId"].as_str(), Some(case_id.as_str()), "a redelivery to a new instance finds the same case");

    let created: Vec<Value> = service.profiles(PROFILES_DOMAIN).into_iter().filter(|p| p["PhoneNumber"] == json!("+12065550111")).collect();
    assert_eq!(created.len(), 1, "one profile, in E.164: {created:#?}");
    assert_eq!(created[0]["Attributes"]["createdBy"], json!(cases_service::IDENTITY));
    let id = created[0]["ProfileId"].as_str().unwrap();
    assert_eq!(customer_of(&service, &case_id).await, profile_arn(id));
    assert_eq!(service.call_count("CreateProfile"), 1);
}

#[tokio::test]
async fn several_matches_follow_the_rule() {
    let service = cases_service::start().await;
    // The default rule takes the oldest (by the profiles' createdAt attribute): a choice later
    // profiles do not change.
    let app = cases_service::app(&service);
    let out = handle(&app, abandoned_call_from(demo::SHARED_PHONE, "e-shared-1")).await.unwrap();
    let case_id = out["results"][0]["caseId"].as_str().unwrap().to_owned();
    assert_eq!(customer_of(&service, &case_id).await, profile_arn(demo::PROFILE_TAYLOR_BROOKS));

    // `newest` the other one; `first` takes SearchProfiles' order; `fail` refuses the event and writes nothing.
    for (policy, expected) in [("newest", Some(demo::PROFILE_MORGAN_BROOKS)), ("first", Some(demo::PROFILE_TAYLOR_BROOKS)), ("fail", None)]
    {
        let rules = RuleSet::from_yaml(&support::default_rules_with("ifSeveral: oldest", &format!("ifSeveral: {policy}")), "test").unwrap();
        let app = instance(&service, rules, &[]);
        let before = writes(&service);
        let result = handle(&app, abandoned_call_from(demo::SHARED_PHONE, &format!("e-shared-{policy}"))).await;
        match expected {
            Some(id) => {
                let case_id = result.unwrap()["results"][0]["caseId"].as_str().unwrap().to_owned();
                assert_eq!(customer_of(&service, &case_id).await, profile_arn(id));
            }
            None => {
                let error = result.unwrap_err();
                assert_eq!(error.error_type(), "Permanent.CustomerNotResolved");
                assert!(error.message.contains("2 profiles in demo-profiles match _phone"), "{error}");
                assert!(error.message.contains("rule `contact-abandoned-callback`, at `case.create.fields.customer_id`"), "{error}");
                assert!(!error.message.contains("0188"), "no phone number in errors: {error}");
                assert_eq!(writes(&service), before, "nothing written");
            }
        }
    }
}

#[tokio::test]
async fn malformed_numbers_get_a_clear_error_and_nothing_is_searched_or_written() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    for (n, bad) in ["+1 206 5", "+999 12345", "+1 (206) 555-01234567890123"].into_iter().enumerate() {
        let error = handle(&app, abandoned_call_from(bad, &format!("e-bad-{n}"))).await.unwrap_err();
        assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{bad}: {error}");
        assert!(error.message.contains("customer.phone ($.detail.customerEndpoint.address)"), "{error}");
        assert!(!error.message.contains(bad) && !error.message.contains("206"), "no number in errors: {error}");
    }
    assert_eq!(service.call_count("SearchProfiles"), 0);
    assert_eq!(writes(&service), 0);
}

#[tokio::test]
async fn a_profile_in_the_event_needs_no_search_and_a_bare_id_gets_the_functions_account() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let out = handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    assert_eq!(customer_of(&service, out["caseId"].as_str().unwrap()).await, profile_arn(demo::PROFILE_ALEX_MORGAN));

    let mut flow = sample("flow-voice-open-case.json");
    flow["Details"]["ContactData"]["ContactId"] = json!("0d15ea5e-0000-4000-8000-000000000001");
    flow["Details"]["Parameters"]["customerProfileArn"] = json!(demo::PROFILE_CASEY_KIM);
    let out = handle(&app, flow).await.unwrap();
    assert_eq!(customer_of(&service, out["caseId"].as_str().unwrap()).await, profile_arn(demo::PROFILE_CASEY_KIM));
    assert_eq!(service.call_count("SearchProfiles"), 0);
}

#[tokio::test]
async fn a_case_found_for_the_contact_costs_no_profile_search() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    // The flow links the call to a case; the agent DISCONNECTED event of the same call, without
    // the profile tag, finds that case through the contact before it would need the customer.
    let flow = handle(&app, sample("flow-voice-open-case.json")).await.unwrap();
    let mut disconnected = sample("contact-disconnected-agent.json");
    disconnected["detail"]["tags"].as_object_mut().unwrap().remove("customerProfileArn");
    service.reset_calls();
    let out = handle(&app, disconnected).await.unwrap();
    assert_eq!(out["results"][0]["case"], json!("found-for-contact"));
    assert_eq!(out["results"][0]["caseId"], flow["caseId"]);
    assert_eq!(service.call_count("SearchProfiles"), 0, "{:?}", service.calls());
}

#[tokio::test]
async fn no_match_fails_or_skips_as_the_rule_says() {
    let service = cases_service::start().await;
    let yaml = |if_none: &str| {
        format!(
            r#"
rules:
  - name: vip-order
    match: {{ source: [com.example.orders] }}
    case:
      create:
        template: Order issue
        fields:
          title: "Order {{{{ detail.orderNumber }}}}"
          Order number: $.detail.orderNumber
          customer_id:
            customer:
              email: $.detail.email
              account: {{ path: $.detail.accountNumber, default: null }}
              ifNone: {if_none}
"#
        )
    };
    let event = |email: &str| {
        json!({"id": format!("e-order-{}", email.len()), "source": "com.example.orders", "detail-type": "Order Delayed", "account": "123456789012",
               "region": "us-east-1", "time": "2026-11-30T17:42:09Z", "resources": [], "detail": {"orderNumber": "ORD-1", "email": email}})
    };
    let failing = instance(&service, RuleSet::from_yaml(&yaml("fail"), "test").unwrap(), &[]);
    let error = handle(&failing, event("nobody@example.com")).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.CustomerNotResolved");
    assert!(error.message.contains("no profile in demo-profiles matches _email"), "{error}");
    assert!(!error.message.contains("nobody"), "{error}");

    // E-mail matching ignores case (as the service does); the account key is left out.
    let out = handle(&failing, event("Jordan.Rivera@Example.com")).await.unwrap();
    let case_id = out["results"][0]["caseId"].as_str().unwrap().to_owned();
    assert_eq!(customer_of(&service, &case_id).await, profile_arn(demo::PROFILE_JORDAN_RIVERA));

    let skipping = instance(&service, RuleSet::from_yaml(&yaml("skip"), "test").unwrap(), &[]);
    let before = writes(&service);
    let out = handle(&skipping, event("nobody@example.com")).await.unwrap();
    assert_eq!(out["results"][0]["case"], json!("no-customer"), "{out}");
    assert_eq!(writes(&service), before);
}

#[tokio::test]
async fn lookups_are_cached_and_throttling_is_retryable() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    for n in 0..3 {
        handle(&app, abandoned_call_from("+12065550147", &format!("e-cached-{n}"))).await.unwrap();
    }
    assert_eq!(service.call_count("SearchProfiles"), 1, "one search for three events about one caller");

    let fresh = cases_service::app(&service);
    service.inject_fault(Fault::error("SearchProfiles", ErrorKind::ThrottlingException, 10));
    let error = handle(&fresh, abandoned_call_from("+12065550162", "e-throttled")).await.unwrap_err();
    assert_eq!(error.error_type(), "Retryable.ThrottlingException");
    assert!(error.message.contains("looking up the customer"), "{error}");
    service.clear_faults();
    handle(&fresh, abandoned_call_from("+12065550162", "e-throttled")).await.expect("a redelivery succeeds");
}

#[tokio::test]
async fn without_a_profiles_domain_only_events_naming_their_profile_work() {
    let service = cases_service::start().await;
    let config = support::lambda::config(&[]);
    assert_eq!(config.profiles_domain, None);
    let app = App::new(config, RuleSet::default_rules(), cases_service::cases_api(&service));
    let invocation = Invocation { deadline: Instant::now() + Duration::from_secs(20), function_arn: Some(FUNCTION_ARN.into()) };
    app.handle(sample("contact-disconnected-agent.json"), &invocation).await.expect("the tag names the profile");
    let error = app.handle(sample("contact-disconnected-abandoned.json"), &invocation).await.unwrap_err();
    assert!(error.message.contains("PROFILES_DOMAIN_NAME"), "{error}");
}
