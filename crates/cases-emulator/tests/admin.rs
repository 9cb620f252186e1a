//! The admin API's clock, its waits on calls and writes (and their Rust API), and its refusal of
//! requests from web pages.

mod common;

use std::time::{Duration, Instant};

use cases_emulator::time::macros::datetime;
use cases_emulator::{WaitTimeout, demo};
use common::http::{request, request_with_headers};
use common::*;

/// The margin of the waits below: far longer than anything here takes, and only reached when
/// the thing waited for never happens.
const MARGIN: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_clock_can_be_read_set_and_advanced() {
    let (emu, c) = start().await;
    let base = emu.endpoint_url();
    let before = emu.now();
    let r = request(&base, "GET", "/_emulator/clock", None).await;
    assert_eq!(r.status, 200);
    let shown = r.json()["now"].as_str().unwrap().to_string();
    assert_eq!((shown.len(), &shown[19..20], &shown[23..]), (24, ".", "Z"), "{shown}");
    assert!(before <= parse_time(&shown) && parse_time(&shown) <= emu.now(), "{shown}");

    let t0 = datetime!(2030-01-01 00:00:00 UTC);
    let r = request(&base, "PUT", "/_emulator/clock", Some(r#"{"now": "2030-01-01T01:00:00+01:00"}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let set = parse_time(r.json()["now"].as_str().unwrap());
    assert!(t0 <= set && set <= emu.now(), "{set}");

    let r = request(&base, "PUT", "/_emulator/clock", Some(r#"{"advanceSeconds": 90.5}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let advanced = parse_time(r.json()["now"].as_str().unwrap());
    assert!(advanced >= set + cases_emulator::time::Duration::milliseconds(90_500), "{set} → {advanced}");

    // the service's timestamps follow
    let id = create_case(&c, "after the jump", vec![]).await;
    let Some(aws_sdk_connectcases::types::FieldValueUnion::StringValue(created)) = get_field(&c, &id, "created_datetime").await else {
        panic!()
    };
    assert!(parse_time(&created) >= advanced, "{created}");

    // refused: nothing moves
    for (bad, why) in [
        (r#"{"advanceSeconds": -1}"#, "backwards"),
        (r#"{"advanceSeconds": "1"}"#, "number"),
        (r#"{"now": "tomorrow"}"#, "RFC 3339"),
        (r#"{"now": "1960-01-01T00:00:00Z"}"#, "1970"),
        (r#"{"now": "2030-01-01T00:00:00Z", "advanceSeconds": 1}"#, "exactly one"),
        (r#"{}"#, "exactly one"),
        ("not json", "invalid JSON"),
    ] {
        let r = request(&base, "PUT", "/_emulator/clock", Some(bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains(why), "{bad}: {}", r.body);
    }
    let now = emu.now();
    assert!(now >= parse_time(&created) && now < advanced + cases_emulator::time::Duration::hours(1), "{now}");
}

#[tokio::test]
async fn waits_resolve_when_the_calls_and_writes_have_happened() {
    let (emu, c) = start().await;
    let writer = {
        let c = c.clone();
        tokio::spawn(async move {
            for i in 0..3 {
                create_case(&c, &format!("waited for {i}"), vec![]).await;
            }
        })
    };
    emu.wait_for_calls("CreateCase", 3, MARGIN).await.unwrap();
    assert!(emu.call_count("CreateCase") >= 3);
    emu.wait_for_writes(3, MARGIN).await.unwrap();
    writer.await.unwrap();
    assert_eq!(emu.state().domains[0].cases.len(), 3);
    emu.wait_for_calls("*", 3, Duration::ZERO).await.unwrap();

    // a refused write is a call, not a write
    let writes = emu.writes();
    let refused = c.create_case().domain_id(DOMAIN).template_id(demo::TEMPLATE_LEGACY_INTAKE).fields(s("title", "x")).send().await;
    assert!(refused.is_err());
    assert_eq!(emu.call_count("CreateCase"), 4);
    let err = emu.wait_for_writes(writes + 1, Duration::from_millis(20)).await.unwrap_err();
    assert_eq!(err, WaitTimeout { what: format!("{} applied writes", writes + 1), seen: writes, waited: Duration::from_millis(20) });

    emu.reset_calls();
    assert!(emu.wait_for_calls("CreateCase", 1, Duration::from_millis(20)).await.is_err(), "counted again from the reset");
}

#[tokio::test]
async fn the_calls_endpoint_waits_for_a_count() {
    let (emu, c) = start().await;
    let base = emu.endpoint_url();
    let r = request(&base, "GET", "/_emulator/calls?operation=GetDomain&atLeast=1&waitMs=0", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["reached"], false);

    let poll = {
        let base = base.clone();
        tokio::spawn(async move { request(&base, "GET", "/_emulator/calls?operation=GetDomain&atLeast=2&waitMs=30000", None).await })
    };
    for _ in 0..2 {
        c.get_domain().domain_id(DOMAIN).send().await.unwrap();
    }
    let r = poll.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["reached"], true);
    assert!(r.json()["GetDomain"].as_u64().unwrap() >= 2, "{}", r.body);

    // not reached: answers after waiting the whole time (a lower bound, so never early)
    let started = Instant::now();
    let r = request(&base, "GET", "/_emulator/calls?operation=DeleteDomain&waitMs=200", None).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!((r.json()["reached"].as_bool(), r.json()["GetDomain"].as_u64()), (Some(false), Some(2)));

    // every operation together, and the plain counts without "reached"
    let r = request(&base, "GET", "/_emulator/calls?atLeast=2", None).await;
    assert_eq!(r.json()["reached"], true);
    assert!(request(&base, "GET", "/_emulator/calls", None).await.json().get("reached").is_none());
    for bad in ["atLeast=two", "waitMs=-1", "waitMs=300001", "operation=", "operation=GetDomains"] {
        assert_eq!(request(&base, "GET", &format!("/_emulator/calls?{bad}"), None).await.status, 400, "{bad}");
    }
    let unknown = request(&base, "GET", "/_emulator/calls?operation=GetDomains&waitMs=60000", None).await;
    assert!(unknown.body.contains(r#"unknown operation \"GetDomains\"; expected one of"#), "{}", unknown.body);
}

#[tokio::test]
async fn the_admin_api_answers_local_clients_only() {
    let (emu, c) = start().await;
    create_case(&c, "kept", vec![]).await;
    let base = emu.endpoint_url();
    let port = emu.local_addr().port();

    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")] {
        let r = request_with_headers(&base, "GET", "/_emulator/health", &[("Host", &host)], None).await;
        assert_eq!(r.status, 200, "{host}: {}", r.body);
    }

    // DNS rebinding: a page's own host name resolving to 127.0.0.1
    let foreign = format!("attacker.example:{port}");
    let r = request_with_headers(&base, "POST", "/_emulator/reset", &[("Host", &foreign)], None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("attacker.example"), "{}", r.body);
    let other_port = format!("127.0.0.1:{}", port.wrapping_add(1));
    assert_eq!(request_with_headers(&base, "GET", "/_emulator/state", &[("Host", &other_port)], None).await.status, 403);

    // a cross-site request from a browser carries an Origin
    let before = emu.now();
    let r = request_with_headers(
        &base,
        "PUT",
        "/_emulator/clock",
        &[("Origin", "http://attacker.example")],
        Some(r#"{"now": "2099-01-01T00:00:00Z"}"#),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request_with_headers(&base, "GET", "/_emulator/health", &[("Origin", &format!("http://127.0.0.1:{port}"))], None).await;
    assert_eq!(r.status, 403);

    // nothing changed
    assert_eq!(emu.state().domains[0].cases.len(), 1);
    assert!(emu.now().year() < 2099 && emu.now() >= before);

    // the Cases API itself is not restricted (the SDK's own Host header is the endpoint's)
    let r = request_with_headers(&base, "POST", "/domains-list", &[("Host", &foreign)], None).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
