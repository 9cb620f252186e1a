//! Fault injection, quotas, call counts, the admin API, persistence and the wire details.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_connectcases::error::ProvideErrorMetadata;
use aws_sdk_connectcases::operation::create_case::CreateCaseError;
use aws_sdk_connectcases::operation::create_related_item::CreateRelatedItemError;
use aws_sdk_connectcases::operation::update_case::UpdateCaseError;
use aws_sdk_connectcases::types::*;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed, demo};
use common::http::request;
use common::*;

async fn create(c: &aws_sdk_connectcases::Client) -> Result<String, aws_sdk_connectcases::error::SdkError<CreateCaseError>> {
    c.create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .performed_by(bot())
        .send()
        .await
        .map(|o| o.case_id)
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let (emu, c) = start().await;
    emu.inject_fault(Fault::error("CreateCase", ErrorKind::ThrottlingException, 2));
    let id = create(&c).await.expect("third attempt succeeds");
    assert_eq!(emu.call_count("CreateCase"), 3);
    // the retried requests carried one clientToken: exactly one case
    assert_eq!(emu.state().domains[0].cases.len(), 1);
    assert!(emu.state().domains[0].cases.contains_key(&id));

    emu.reset_calls();
    emu.inject_fault(Fault::error("CreateCase", ErrorKind::ThrottlingException, 3));
    let e = create(&c).await.unwrap_err();
    assert!(matches!(e.into_service_error(), CreateCaseError::ThrottlingException(_)));
    assert_eq!(emu.call_count("CreateCase"), 3);
    // the fault is used up
    create(&c).await.unwrap();
}

#[tokio::test]
async fn server_errors_quota_conflict_access_denied() {
    let (emu, c) = start().await;
    emu.inject_fault(Fault::error("*", ErrorKind::InternalServerException, 1));
    create(&c).await.expect("500 is retried");
    assert_eq!(emu.call_count("CreateCase"), 2);

    let id = create(&c).await.unwrap();
    emu.inject_fault(Fault::error("CreateRelatedItem", ErrorKind::ServiceQuotaExceededException, 1));
    let e = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Contact)
        .content(RelatedItemInputContent::Contact(Contact::builder().contact_arn("arn:c").build().unwrap()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e.into_service_error(), CreateRelatedItemError::ServiceQuotaExceededException(_)));
    assert_eq!(emu.call_count("CreateRelatedItem"), 1, "402 is not retried");

    emu.inject_fault(Fault::error("CreateCase", ErrorKind::ConflictException, 1).with_message("boom"));
    let e = create(&c).await.unwrap_err().into_service_error();
    assert!(matches!(&e, CreateCaseError::ConflictException(x) if x.message() == "boom"), "{e:?}");

    emu.inject_fault(Fault::error("UpdateCase", ErrorKind::AccessDeniedException, 1));
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "x")).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::AccessDeniedException(_)));

    emu.inject_fault(Fault::error("UpdateCase", ErrorKind::ValidationException, 1));
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "x")).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::ValidationException(_)));

    // an error an operation does not model is Unhandled but keeps its code
    emu.inject_fault(Fault::error("UpdateCase", ErrorKind::ServiceQuotaExceededException, 1));
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "x")).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ServiceQuotaExceededException"));

    // the failed injected calls are counted too
    assert!(emu.calls()["UpdateCase"] >= 3);
}

#[tokio::test]
async fn latency_is_added() {
    let (emu, c) = start().await;
    // a lower bound: the delayed answer can never come sooner
    emu.inject_fault(Fault::latency("GetDomain", Duration::from_millis(300)));
    let t = Instant::now();
    c.get_domain().domain_id(DOMAIN).send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));

    // a delay of an hour holds its request while others are answered; once cleared, new
    // requests are not delayed (each is given a 30 s deadline, far below the hour)
    emu.clear_faults();
    emu.reset_calls();
    emu.inject_fault(Fault::latency("GetDomain", Duration::from_secs(3600)));
    let held = {
        let c = c.clone();
        tokio::spawn(async move { c.get_domain().domain_id(DOMAIN).send().await })
    };
    emu.wait_for_calls("GetDomain", 1, Duration::from_secs(30)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), c.list_domains().send()).await.expect("other operations are not delayed").unwrap();
    emu.clear_faults();
    tokio::time::timeout(Duration::from_secs(30), c.get_domain().domain_id(DOMAIN).send()).await.expect("no delay once cleared").unwrap();
    assert!(!held.is_finished(), "the held request waits for its hour");
    held.abort();
}

#[tokio::test]
async fn quotas_produce_429() {
    let emu = Emulator::builder().seed(Seed::demo().without_cases()).quotas(true).start().await.unwrap();
    let c = client_no_retry(&emu);
    let id = create(&c).await.unwrap();
    // UpdateCase: 2/s, burst 2; a slow machine earns the tokens of the time the calls took
    let started = Instant::now();
    let mut throttled = 0;
    for _ in 0..5 {
        match c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "x")).send().await {
            Ok(_) => {}
            Err(e) => {
                assert!(matches!(e.into_service_error(), UpdateCaseError::ThrottlingException(_)));
                throttled += 1;
            }
        }
    }
    let replenished = (started.elapsed().as_secs_f64() * 2.0).ceil() as usize;
    assert!(throttled >= 5usize.saturating_sub(2 + replenished), "{throttled} throttled, {replenished} tokens replenished");
    assert!(throttled <= 3, "the burst of 2 passes: {throttled}");
    emu.set_quotas(false);
    for _ in 0..5 {
        c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "x")).send().await.unwrap();
    }
}

#[tokio::test]
async fn admin_api() {
    let (emu, c) = start().await;
    let base = emu.endpoint_url();
    let h = request(&base, "GET", "/_emulator/health", None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["domains"][0], demo::DOMAIN_ID);

    let f =
        request(&base, "POST", "/_emulator/faults", Some(r#"{"operation":"CreateCase","error":"ThrottlingException","count":3}"#)).await;
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(f.json()["faults"][0]["count"], 3);
    let e = create(&c).await.unwrap_err();
    assert!(matches!(e.into_service_error(), CreateCaseError::ThrottlingException(_)));
    let calls = request(&base, "GET", "/_emulator/calls", None).await.json();
    assert_eq!(calls["CreateCase"], 3);
    assert_eq!(request(&base, "DELETE", "/_emulator/calls", None).await.status, 200);
    assert!(request(&base, "GET", "/_emulator/calls", None).await.json().as_object().unwrap().is_empty());

    let bad = request(&base, "POST", "/_emulator/faults", Some(r#"{"operation":"CreateCase","error":"Nope"}"#)).await;
    assert_eq!(bad.status, 400);
    // an operation the service does not have: refused, not a rule that matches nothing
    for body in [
        r#"{"operation":"CreateCases","error":"ThrottlingException"}"#,
        r#"[{"operation":"*","latencyMs":1},{"operation":"Nope","latencyMs":1}]"#,
    ] {
        let bad = request(&base, "POST", "/_emulator/faults", Some(body)).await;
        assert_eq!(bad.status, 400, "{body}: {}", bad.body);
        assert!(bad.body.contains("unknown operation") && bad.body.contains("expected one of CreateDomain"), "{}", bad.body);
    }
    assert!(request(&base, "GET", "/_emulator/faults", None).await.json()["faults"].as_array().unwrap().is_empty(), "nothing added");
    request(&base, "POST", "/_emulator/faults", Some(r#"{"operation":"*","latencyMs":1}"#)).await;
    assert_eq!(request(&base, "GET", "/_emulator/faults", None).await.json()["faults"].as_array().unwrap().len(), 1);
    assert_eq!(request(&base, "DELETE", "/_emulator/faults", None).await.status, 200);
    assert!(request(&base, "GET", "/_emulator/faults", None).await.json()["faults"].as_array().unwrap().is_empty());

    let q = request(&base, "PUT", "/_emulator/quotas", Some(r#"{"enabled":true}"#)).await;
    assert_eq!(q.json()["enabled"], true);
    request(&base, "PUT", "/_emulator/quotas", Some(r#"{"enabled":false}"#)).await;

    let id = create(&c).await.unwrap();
    let events = request(&base, "GET", "/_emulator/events", None).await.json();
    assert_eq!(events.as_array().unwrap().len(), 1);
    let st = request(&base, "GET", "/_emulator/state", None).await.json();
    assert!(st["domains"][0]["cases"].get(&id).is_some());
    let r = request(&base, "POST", "/_emulator/reset", None).await;
    assert_eq!(r.status, 200);
    assert!(emu.state().domains[0].cases.is_empty());
    assert!(emu.events().is_empty());
    assert_eq!(request(&base, "GET", "/_emulator/nope", None).await.status, 404);
}

#[tokio::test]
async fn wire_details() {
    let (emu, _c) = start().await;
    let base = emu.endpoint_url();
    // empty body + query params + trailing slash tolerated
    let r = request(&base, "POST", "/domains/demo-domain/fields-list?maxResults=2", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["fields"].as_array().unwrap().len(), 2);
    assert!(r.json()["nextToken"].is_string());
    assert!(r.header("x-amzn-RequestId").is_some());
    // ListTemplates with a repeated status query parameter
    let r = request(&base, "POST", "/domains/demo-domain/templates-list?status=Active&status=Inactive", None).await;
    assert_eq!(r.json()["templates"].as_array().unwrap().len(), 4);
    let r = request(&base, "POST", "/domains/demo-domain/templates-list?status=Bogus", None).await;
    assert_eq!(r.status, 400);
    // errors: header + __type + message (+ resourceId/resourceType for 404)
    let r = request(&base, "POST", "/domains/demo-domain/cases/missing", Some(r#"{"fields":[{"id":"title"}]}"#)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-amzn-ErrorType"), Some("ResourceNotFoundException"));
    assert!(r.header("x-amzn-RequestId").is_some());
    let j = r.json();
    assert_eq!(j["__type"], "ResourceNotFoundException");
    assert_eq!(j["resourceId"], "missing");
    assert_eq!(j["resourceType"], "Case");
    assert!(j["message"].is_string());
    // malformed JSON is a 400 with a JSON body
    let r = request(&base, "POST", "/domains/demo-domain/cases", Some("{not json")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "ValidationException");
    // union with two members
    let body = serde_json::json!({"templateId": demo::TEMPLATE_GENERAL_INQUIRY, "fields": [
        {"id":"title","value":{"stringValue":"t","doubleValue":1}},
        {"id":"customer_id","value":{"stringValue": demo::CUSTOMER_ID}}]});
    let r = request(&base, "POST", "/domains/demo-domain/cases", Some(&body.to_string())).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("fields[0].value"));
    // integers accepted for doubles; related-items with a trailing slash
    let body = serde_json::json!({"templateId": demo::TEMPLATE_GENERAL_INQUIRY, "fields": [
        {"id":"title","value":{"stringValue":"t"}},
        {"id":"customer_id","value":{"stringValue": demo::CUSTOMER_ID}},
        {"id": demo::FIELD_ORDER_TOTAL, "value":{"doubleValue": 5}}]});
    let r = request(&base, "POST", "/domains/demo-domain/cases", Some(&body.to_string())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case_id = r.json()["caseId"].as_str().unwrap().to_string();
    let body = r#"{"type":"Comment","content":{"comment":{"body":"x","contentType":"Text/Plain"}}}"#;
    let r = request(&base, "POST", &format!("/domains/demo-domain/cases/{case_id}/related-items/"), Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // unknown operation
    let r = request(&base, "GET", "/nothing-here", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-amzn-ErrorType"), Some("UnknownOperationException"));
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cases-emulator-test-{}-{name}", uuid_str()))
}

fn uuid_str() -> String {
    format!("{}-{:?}", std::process::id(), Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

#[tokio::test]
async fn state_file_and_events_out() {
    let state = temp_path("state.json");
    let events = temp_path("events.jsonl");
    let emu = Emulator::builder().seed(Seed::demo().without_cases()).state_file(&state).events_out(&events).start().await.unwrap();
    let c = client(&emu);
    let id = create(&c).await.unwrap();
    emu.shutdown().await;
    assert!(state.exists());
    let lines = std::fs::read_to_string(&events).unwrap();
    let ev: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(ev["detail"]["eventType"], "CASE.CREATED");

    let emu = Emulator::builder().seed(Seed::demo().without_cases()).state_file(&state).start().await.unwrap();
    let c = client(&emu);
    assert_eq!(get_field(&c, &id, "title").await, Some(FieldValueUnion::StringValue("t".into())));
    // reset goes back to the seed, not to the loaded state
    emu.reset();
    assert!(emu.state().domains[0].cases.is_empty());
    emu.shutdown().await;
    let _ = std::fs::remove_file(&state);
    let _ = std::fs::remove_file(&events);
}

#[tokio::test]
async fn forced_events_without_configuration() {
    let seed = Seed::from_json(
        &serde_json::json!({"domains":[{"id":"d2","name":"plain","templates":[{"id":"t","name":"T","requiredFields":["title","customer_id"]}]}]})
            .to_string(),
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed.clone()).start().await.unwrap();
    let c = client(&emu);
    let mk = || c.create_case().domain_id("d2").template_id("t").fields(s("title", "x")).fields(s("customer_id", CUSTOMER)).send();
    mk().await.unwrap();
    assert!(emu.events().is_empty(), "events disabled by default");
    let emu2 = Emulator::builder().seed(seed).force_events(true).start().await.unwrap();
    let c = client(&emu2);
    c.create_case().domain_id("d2").template_id("t").fields(s("title", "x")).fields(s("customer_id", CUSTOMER)).send().await.unwrap();
    let evs = emu2.events();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["detail"]["case"]["fields"]["title"]["value"]["stringValue"], "x");
    assert!(evs[0]["detail"]["performedBy"].get("user").is_none());
}

#[tokio::test]
async fn binary_prints_listening_line() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cases-emulator"))
        .args(["--listen", "127.0.0.1:0", "--search-lag-ms", "250"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    let url = line.strip_prefix("listening on ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let h = request(&url, "GET", "/_emulator/health", None).await;
    assert_eq!(h.json()["domains"][0], "demo-domain");
    assert_eq!(request(&url, "GET", "/_emulator/search-lag", None).await.json()["ms"], 250);
    child.kill().await.unwrap();
}
