//! The Customer Profiles subset (SearchProfiles, CreateProfile, GetDomain) through the real
//! `aws-sdk-customerprofiles` client, on the same emulator as the Cases API.

mod common;

use std::time::Duration;

use aws_sdk_customerprofiles::Client;
use aws_sdk_customerprofiles::config::retry::RetryConfig;
use aws_sdk_customerprofiles::config::{Credentials, Region};
use aws_sdk_customerprofiles::error::ProvideErrorMetadata;
use aws_sdk_customerprofiles::operation::create_profile::CreateProfileError;
use aws_sdk_customerprofiles::operation::get_domain::GetDomainError;
use aws_sdk_customerprofiles::operation::search_profiles::{SearchProfilesError, SearchProfilesOutput};
use aws_sdk_customerprofiles::types::{AdditionalSearchKey, LogicalOperator, Profile, ProfileType};
use cases_emulator::{Emulator, ErrorKind, Fault, Seed, demo};
use common::http::{request, request_with_headers};

const DOMAIN: &str = demo::PROFILES_DOMAIN;

fn profiles_client_with(emu: &Emulator, retry: RetryConfig) -> Client {
    let conf = aws_sdk_customerprofiles::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(emu.endpoint_url())
        .retry_config(retry)
        .build();
    Client::from_conf(conf)
}

/// Standard retries (3 attempts) with a short backoff.
fn profiles_client(emu: &Emulator) -> Client {
    profiles_client_with(emu, RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(5)))
}

async fn start() -> (Emulator, Client) {
    let emu = Emulator::builder().seed(Seed::demo().without_cases()).quotas(false).start().await.expect("emulator starts");
    let c = profiles_client(&emu);
    (emu, c)
}

async fn search(c: &Client, key: &str, values: &[&str]) -> SearchProfilesOutput {
    c.search_profiles()
        .domain_name(DOMAIN)
        .key_name(key)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .send()
        .await
        .expect("search_profiles")
}

fn ids(out: &SearchProfilesOutput) -> Vec<&str> {
    out.items().iter().map(|p| p.profile_id().unwrap_or_default()).collect()
}

fn found_by(p: &Profile) -> Vec<(String, Vec<String>)> {
    p.found_by_items().iter().map(|f| (f.key_name().unwrap_or_default().to_string(), f.values().to_vec())).collect()
}

fn key(name: &str, values: &[&str]) -> AdditionalSearchKey {
    AdditionalSearchKey::builder()
        .key_name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
        .expect("additional search key")
}

#[tokio::test]
async fn search_by_phone_finds_one_profile_with_found_by_items() {
    let (emu, c) = start().await;
    let out = search(&c, "_phone", &["+12065550123"]).await;
    assert_eq!(ids(&out), [demo::PROFILE_ALEX_MORGAN]);
    let p = &out.items()[0];
    assert_eq!(p.first_name(), Some("Alex"));
    assert_eq!(p.last_name(), Some("Morgan"));
    assert_eq!(p.email_address(), Some("alex.morgan@example.com"));
    assert_eq!(p.account_number(), Some("ACC-1001"));
    assert_eq!(found_by(p), [("_phone".to_string(), vec!["+12065550123".to_string()])]);
    assert!(out.next_token().is_none());
    // MobilePhoneNumber is searched by _phone too
    assert_eq!(ids(&search(&c, "_phone", &["+12065550163"]).await), [demo::PROFILE_CASEY_KIM]);
    assert_eq!(emu.call_count("SearchProfiles"), 2);
}

#[tokio::test]
async fn a_shared_number_finds_several_profiles_in_creation_order() {
    let (_emu, c) = start().await;
    let out = search(&c, "_phone", &[demo::SHARED_PHONE]).await;
    assert_eq!(ids(&out), [demo::PROFILE_TAYLOR_BROOKS, demo::PROFILE_MORGAN_BROOKS]);
    let created: Vec<Option<&str>> =
        out.items().iter().map(|p| p.attributes().and_then(|a| a.get("createdAt")).map(String::as_str)).collect();
    assert_eq!(created, [Some("2025-03-01T09:00:00Z"), Some("2026-06-15T09:00:00Z")]);
    assert_eq!(out.items()[1].home_phone_number(), Some(demo::SHARED_PHONE));
}

#[tokio::test]
async fn email_is_case_insensitive_and_account_is_exact() {
    let (_emu, c) = start().await;
    assert_eq!(ids(&search(&c, "_email", &["Jordan.Rivera@EXAMPLE.com"]).await), [demo::PROFILE_JORDAN_RIVERA]);
    assert_eq!(ids(&search(&c, "_account", &["ACC-1002"]).await), [demo::PROFILE_SAM_LEE]);
    assert!(search(&c, "_account", &["acc-1002"]).await.items().is_empty());
    assert_eq!(ids(&search(&c, "_profileId", &[demo::PROFILE_CASEY_KIM]).await), [demo::PROFILE_CASEY_KIM]);
    assert_eq!(ids(&search(&c, "_fullName", &["Sam Lee"]).await), [demo::PROFILE_SAM_LEE]);
    assert_eq!(ids(&search(&c, "createdAt", &["2026-06-15T09:00:00Z"]).await), [demo::PROFILE_MORGAN_BROOKS]);
}

#[tokio::test]
async fn additional_search_keys_with_or_and_and() {
    let (_emu, c) = start().await;
    let base = || {
        c.search_profiles()
            .domain_name(DOMAIN)
            .key_name("_phone")
            .values(demo::SHARED_PHONE)
            .additional_search_keys(key("_fullName", &["Morgan Brooks", "Alex Morgan"]))
    };
    let and = base().logical_operator(LogicalOperator::And).send().await.unwrap();
    assert_eq!(ids(&and), [demo::PROFILE_MORGAN_BROOKS]);
    assert_eq!(
        found_by(&and.items()[0]),
        [("_phone".to_string(), vec![demo::SHARED_PHONE.to_string()]), ("_fullName".to_string(), vec!["Morgan Brooks".to_string()])]
    );
    let or = base().logical_operator(LogicalOperator::Or).send().await.unwrap();
    assert_eq!(ids(&or), [demo::PROFILE_ALEX_MORGAN, demo::PROFILE_TAYLOR_BROOKS, demo::PROFILE_MORGAN_BROOKS]);
    assert_eq!(found_by(&or.items()[0]), [("_fullName".to_string(), vec!["Alex Morgan".to_string()])]);
    // OR is the documented default
    assert_eq!(ids(&base().send().await.unwrap()), ids(&or));
    // up to four additional keys
    let four = c
        .search_profiles()
        .domain_name(DOMAIN)
        .key_name("_account")
        .values("ACC-1001")
        .additional_search_keys(key("_account", &["ACC-1002"]))
        .additional_search_keys(key("_account", &["ACC-1003"]))
        .additional_search_keys(key("_email", &["nobody@example.com"]))
        .additional_search_keys(key("_phone", &["+12065550162"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&four), [demo::PROFILE_ALEX_MORGAN, demo::PROFILE_SAM_LEE, demo::PROFILE_JORDAN_RIVERA, demo::PROFILE_CASEY_KIM]);
}

#[tokio::test]
async fn no_match_is_an_empty_list() {
    let (_emu, c) = start().await;
    let out = search(&c, "_phone", &["+19999999999"]).await;
    assert!(out.items().is_empty());
    assert!(out.next_token().is_none());
}

#[tokio::test]
async fn pagination_with_max_results_and_next_token() {
    let (emu, c) = start().await;
    let all = [
        demo::PROFILE_ALEX_MORGAN,
        demo::PROFILE_SAM_LEE,
        demo::PROFILE_JORDAN_RIVERA,
        demo::PROFILE_CASEY_KIM,
        demo::PROFILE_TAYLOR_BROOKS,
        demo::PROFILE_MORGAN_BROOKS,
    ];
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .search_profiles()
            .domain_name(DOMAIN)
            .key_name("_profileId")
            .set_values(Some(all.iter().map(|s| s.to_string()).collect()))
            .max_results(4)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.items().len() <= 4);
        seen.extend(ids(&out).into_iter().map(str::to_string));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, all);
    assert_eq!(emu.call_count("SearchProfiles"), 2);
    // the default page size is 20, the range 1..=100
    let e = c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("+1").max_results(101).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), SearchProfilesError::BadRequestException(_)));
    let e = c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("+1").next_token("garbage").send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), SearchProfilesError::BadRequestException(_)));
}

#[tokio::test]
async fn create_profile_then_search_finds_it() {
    let (emu, c) = start().await;
    let out = c
        .create_profile()
        .domain_name(DOMAIN)
        .first_name("Riley")
        .last_name("Chen")
        .phone_number("+12065550999")
        .email_address("Riley.Chen@example.com")
        .account_number("ACC-2001")
        .party_type_string("Individual")
        .profile_type(ProfileType::Profile)
        .attributes("createdAt", "2026-07-01T10:00:00Z")
        .send()
        .await
        .expect("create_profile");
    let id = out.profile_id().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)), "{id}");

    let found = search(&c, "_phone", &["+12065550999"]).await;
    assert_eq!(ids(&found), [id.as_str()]);
    let p = &found.items()[0];
    assert_eq!(p.party_type_string(), Some("Individual"));
    assert_eq!(p.profile_type(), Some(&ProfileType::Profile));
    assert_eq!(p.attributes().unwrap()["createdAt"], "2026-07-01T10:00:00Z");
    assert_eq!(ids(&search(&c, "_email", &["riley.chen@example.com"]).await), [id.as_str()]);

    // stored in creation order, visible to tests and the admin API; no case events
    let stored = emu.profiles(DOMAIN);
    assert_eq!(stored.len(), 7);
    assert_eq!(stored[6]["ProfileId"], id.as_str());
    assert_eq!(stored[6]["FirstName"], "Riley");
    assert!(emu.events().is_empty());
    let admin = request(&emu.endpoint_url(), "GET", &format!("/_emulator/profiles/{DOMAIN}"), None).await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.json().as_array().unwrap().len(), 7);
    assert_eq!(request(&emu.endpoint_url(), "GET", "/_emulator/profiles/nope", None).await.status, 404);
    assert_eq!(emu.call_count("CreateProfile"), 1);

    // reset() goes back to the seed
    emu.reset();
    assert_eq!(emu.profiles(DOMAIN).len(), 6);
    assert!(emu.profiles("nope").is_empty());
}

#[tokio::test]
async fn get_domain() {
    let (emu, c) = start().await;
    let out = c.get_domain().domain_name(DOMAIN).send().await.expect("get_domain");
    assert_eq!(out.domain_name(), DOMAIN);
    assert_eq!(out.default_expiration_days(), Some(366));
    assert!(out.created_at().secs() > 1_700_000_000, "{:?}", out.created_at());
    assert!(out.last_updated_at().secs() >= out.created_at().secs());
    assert_eq!(out.stats().unwrap().profile_count(), 6);
    assert!(out.tags().is_some());
    assert_eq!(emu.call_count("GetProfilesDomain"), 1);
    assert_eq!(emu.call_count("GetDomain"), 0);
}

#[tokio::test]
async fn unknown_domain_is_resource_not_found() {
    let (_emu, c) = start().await;
    let e = c.search_profiles().domain_name("no-such-domain").key_name("_phone").values("+1").send().await.unwrap_err();
    let e = e.into_service_error();
    assert!(matches!(&e, SearchProfilesError::ResourceNotFoundException(_)), "{e:?}");
    assert!(e.message().unwrap_or_default().contains("no-such-domain"), "{e:?}");
    let e = c.get_domain().domain_name("no-such-domain").send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), GetDomainError::ResourceNotFoundException(_)));
    let e = c.create_profile().domain_name("no-such-domain").first_name("A").send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), CreateProfileError::ResourceNotFoundException(_)));
}

#[tokio::test]
async fn bad_input_is_bad_request_with_a_message() {
    let (emu, c) = start().await;
    let bad_search = |e: aws_sdk_customerprofiles::error::SdkError<SearchProfilesError, _>| match e.into_service_error() {
        SearchProfilesError::BadRequestException(b) => b.message().unwrap_or_default().to_string(),
        other => panic!("expected BadRequestException, got {other:?}"),
    };
    let m = bad_search(c.search_profiles().domain_name(DOMAIN).key_name("bad key!").values("x").send().await.unwrap_err());
    assert!(m.contains("KeyName") && m.contains("^[a-zA-Z0-9_-]+$"), "{m}");
    let m = bad_search(c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("").send().await.unwrap_err());
    assert!(m.contains("Values[0]"), "{m}");
    let m = bad_search(c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("x".repeat(256)).send().await.unwrap_err());
    assert!(m.contains("255"), "{m}");
    let m = bad_search(c.search_profiles().domain_name(DOMAIN).key_name("_phone").send().await.unwrap_err());
    assert!(m.contains("'Values'"), "{m}");
    let m = bad_search(c.search_profiles().domain_name("bad.domain").key_name("_phone").values("x").send().await.unwrap_err());
    assert!(m.contains("DomainName"), "{m}");
    let mut five = c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("x");
    for _ in 0..5 {
        five = five.additional_search_keys(key("_email", &["a@b.example"]));
    }
    let m = bad_search(five.send().await.unwrap_err());
    assert!(m.contains("AdditionalSearchKeys"), "{m}");

    let e = c.create_profile().domain_name(DOMAIN).first_name("").send().await.unwrap_err();
    match e.into_service_error() {
        CreateProfileError::BadRequestException(b) => assert!(b.message().unwrap().contains("FirstName"), "{b:?}"),
        other => panic!("{other:?}"),
    }
    let e = c.create_profile().domain_name(DOMAIN).additional_information("x".repeat(1001)).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), CreateProfileError::BadRequestException(_)));
    // 400 is not retried
    assert_eq!(emu.call_count("CreateProfile"), 2);
    assert_eq!(emu.profiles(DOMAIN).len(), 6);
}

#[tokio::test]
async fn injected_throttling_surfaces_as_the_sdk_throttling_error() {
    let (emu, c) = start().await;
    emu.inject_fault(Fault::error("SearchProfiles", ErrorKind::ThrottlingException, 2));
    let out = search(&c, "_phone", &["+12065550123"]).await;
    assert_eq!(ids(&out), [demo::PROFILE_ALEX_MORGAN], "the third attempt succeeds");
    assert_eq!(emu.call_count("SearchProfiles"), 3);

    emu.reset_calls();
    emu.inject_fault(Fault::error("SearchProfiles", ErrorKind::ThrottlingException, 3).with_message("slow down"));
    let e = c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("+1").send().await.unwrap_err().into_service_error();
    assert!(e.is_throttling_exception(), "{e:?}");
    assert_eq!(e.message(), Some("slow down"));
    assert_eq!(emu.call_count("SearchProfiles"), 3);

    // other kinds map onto the Customer Profiles errors
    emu.inject_fault(Fault::error("CreateProfile", ErrorKind::ValidationException, 1));
    let e = c.create_profile().domain_name(DOMAIN).send().await.unwrap_err().into_service_error();
    assert!(e.is_bad_request_exception(), "{e:?}");
    emu.inject_fault(Fault::error("GetProfilesDomain", ErrorKind::AccessDeniedException, 1));
    let e = c.get_domain().domain_name(DOMAIN).send().await.unwrap_err().into_service_error();
    assert!(e.is_access_denied_exception(), "{e:?}");
    emu.inject_fault(Fault::error("CreateProfile", ErrorKind::InternalServerException, 3));
    let e = c.create_profile().domain_name(DOMAIN).send().await.unwrap_err().into_service_error();
    assert!(e.is_internal_server_exception(), "{e:?}");
    assert_eq!(emu.profiles(DOMAIN).len(), 6);
}

#[tokio::test]
async fn quotas_throttle_search_profiles() {
    let emu = Emulator::builder().seed(Seed::demo().without_cases()).quotas(true).start().await.unwrap();
    let c = profiles_client_with(&emu, RetryConfig::disabled());
    let mut throttled = 0;
    for _ in 0..20 {
        if let Err(e) = c.search_profiles().domain_name(DOMAIN).key_name("_phone").values("+1").send().await {
            assert!(e.into_service_error().is_throttling_exception());
            throttled += 1;
        }
    }
    assert!(throttled >= 1, "burst 10 at 10/s: 20 quick calls exceed it");
    emu.set_quotas(false);
    search(&c, "_phone", &["+1"]).await;
}

#[tokio::test]
async fn call_counts_use_the_profiles_operation_names() {
    let (emu, c) = start().await;
    search(&c, "_phone", &["+1"]).await;
    c.create_profile().domain_name(DOMAIN).first_name("A").send().await.unwrap();
    c.get_domain().domain_name(DOMAIN).send().await.unwrap();
    let calls = emu.calls();
    assert_eq!(calls.get("SearchProfiles"), Some(&1));
    assert_eq!(calls.get("CreateProfile"), Some(&1));
    assert_eq!(calls.get("GetProfilesDomain"), Some(&1));
    assert_eq!(calls.len(), 3, "{calls:?}");
}

#[tokio::test]
async fn cases_and_customer_profiles_share_one_emulator() {
    let (emu, profiles) = start().await;
    let cases = common::client(&emu);
    let p = profiles.get_domain().domain_name(DOMAIN).send().await.expect("Customer Profiles GetDomain");
    assert_eq!(p.domain_name(), DOMAIN);
    let d = cases.get_domain().domain_id(demo::DOMAIN_ID).send().await.expect("Cases GetDomain");
    assert_eq!(d.domain_id(), demo::DOMAIN_ID);
    assert_eq!(emu.call_count("GetDomain"), 1);
    assert_eq!(emu.call_count("GetProfilesDomain"), 1);

    // a Cases 404 keeps the Cases shape, a Customer Profiles 404 its own
    let e = cases.get_domain().domain_id(DOMAIN).send().await.unwrap_err().into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
    let e = profiles.get_domain().domain_name(demo::DOMAIN_ID).send().await.unwrap_err().into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
}

#[tokio::test]
async fn the_signature_scope_decides_the_api() {
    let (emu, _c) = start().await;
    let base = emu.endpoint_url();
    let auth =
        |svc: &str| format!("AWS4-HMAC-SHA256 Credential=test/20260501/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=0");
    let search_body = r#"{"KeyName":"_account","Values":["ACC-1001"]}"#;

    // unsigned: routed by method and path
    let r = request(&base, "POST", &format!("/domains/{DOMAIN}/profiles/search"), Some(search_body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["Items"][0]["ProfileId"], demo::PROFILE_ALEX_MORGAN);
    assert_eq!(r.json()["Items"][0]["FoundByItems"][0]["KeyName"], "_account");
    let r = request(&base, "GET", &format!("/domains/{DOMAIN}"), None).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["CreatedAt"].is_number());
    let r = request(&base, "POST", &format!("/domains/{}", demo::DOMAIN_ID), None).await;
    assert_eq!(r.json()["domainId"], demo::DOMAIN_ID);

    // signed for Customer Profiles: its routes and its error shape only
    let h = auth("profile");
    let r = request_with_headers(&base, "GET", "/domains/nope", &[("Authorization", &h)], None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-amzn-ErrorType"), Some("ResourceNotFoundException"));
    assert!(r.json()["Message"].as_str().unwrap().contains("nope"), "{}", r.body);
    let r = request_with_headers(&base, "POST", &format!("/domains/{}", demo::DOMAIN_ID), &[("Authorization", &h)], None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-amzn-ErrorType"), Some("UnknownOperationException"));
    assert!(r.json()["Message"].is_string());
    let r = request_with_headers(&base, "POST", &format!("/domains/{DOMAIN}/profiles/search"), &[("Authorization", &h)], Some("{")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-amzn-ErrorType"), Some("BadRequestException"));

    // signed for Cases: a Customer Profiles path is not a Cases operation
    let h = auth("cases");
    let r = request_with_headers(&base, "GET", &format!("/domains/{DOMAIN}"), &[("Authorization", &h)], None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let r = request_with_headers(&base, "POST", &format!("/domains/{}", demo::DOMAIN_ID), &[("Authorization", &h)], None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn profiles_are_persisted_in_the_state_file() {
    let dir = std::env::temp_dir().join(format!("cases-emulator-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let id = {
        let emu = Emulator::builder().seed(Seed::demo().without_cases()).state_file(&path).start().await.unwrap();
        let c = profiles_client(&emu);
        let id = c.create_profile().domain_name(DOMAIN).first_name("Persisted").send().await.unwrap().profile_id().to_string();
        emu.shutdown().await;
        id
    };
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["profileDomains"][0]["name"], DOMAIN);
    let emu = Emulator::builder().seed(Seed::empty()).state_file(&path).start().await.unwrap();
    let c = profiles_client(&emu);
    assert_eq!(ids(&search(&c, "_profileId", &[&id]).await), [id.as_str()]);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
