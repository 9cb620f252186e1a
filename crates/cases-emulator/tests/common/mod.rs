//! Shared helpers: an emulator plus a real `aws-sdk-connectcases` client pointed at it.
#![allow(dead_code)]

pub mod http;

use std::time::Duration;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::retry::RetryConfig;
use aws_sdk_connectcases::config::{Credentials, Region};
use aws_sdk_connectcases::primitives::DateTime;
use aws_sdk_connectcases::types::{EmptyFieldValue, FieldIdentifier, FieldValue, FieldValueUnion, UserUnion};
use cases_emulator::time::OffsetDateTime;
use cases_emulator::{Emulator, EmulatorBuilder, Seed, demo};

pub const DOMAIN: &str = demo::DOMAIN_ID;
pub const CUSTOMER: &str = demo::CUSTOMER_ID;
pub const BOT: &str = "lambda:cases-automation";

/// Builds a client for `emu` with the given retry config.
pub fn client_with(emu: &Emulator, retry: RetryConfig) -> Client {
    let conf = aws_sdk_connectcases::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(emu.endpoint_url())
        .retry_config(retry)
        .build();
    Client::from_conf(conf)
}

/// Standard retries (3 attempts) with a short backoff, to keep tests fast.
pub fn client(emu: &Emulator) -> Client {
    client_with(emu, RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(5)))
}

/// No retries.
pub fn client_no_retry(emu: &Emulator) -> Client {
    client_with(emu, RetryConfig::disabled())
}

pub async fn start() -> (Emulator, Client) {
    start_with(Emulator::builder()).await
}

/// Starts `builder` on the demo domain without cases, with a client.
pub async fn start_with(builder: EmulatorBuilder) -> (Emulator, Client) {
    let emu = builder.seed(Seed::demo().without_cases()).quotas(false).start().await.expect("emulator starts");
    let c = client(&emu);
    (emu, c)
}

/// An SDK timestamp as a time.
pub fn to_time(t: &DateTime) -> OffsetDateTime {
    let nanos = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("representable")
}

/// A wire timestamp (`2026-05-01T12:34:56.789Z`) as a time.
pub fn parse_time(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &cases_emulator::time::format_description::well_known::Rfc3339).unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub fn s(id: &str, v: &str) -> FieldValue {
    FieldValue::builder().id(id).value(FieldValueUnion::StringValue(v.into())).build().unwrap()
}

pub fn d(id: &str, v: f64) -> FieldValue {
    FieldValue::builder().id(id).value(FieldValueUnion::DoubleValue(v)).build().unwrap()
}

pub fn b(id: &str, v: bool) -> FieldValue {
    FieldValue::builder().id(id).value(FieldValueUnion::BooleanValue(v)).build().unwrap()
}

pub fn u(id: &str, v: &str) -> FieldValue {
    FieldValue::builder().id(id).value(FieldValueUnion::UserArnValue(v.into())).build().unwrap()
}

pub fn empty(id: &str) -> FieldValue {
    FieldValue::builder().id(id).value(FieldValueUnion::EmptyValue(EmptyFieldValue::builder().build())).build().unwrap()
}

pub fn fid(id: &str) -> FieldIdentifier {
    FieldIdentifier::builder().id(id).build().unwrap()
}

pub fn bot() -> UserUnion {
    UserUnion::CustomEntity(BOT.into())
}

/// Creates a "General inquiry" case with the given title (and extra fields); returns its id.
pub async fn create_case(c: &Client, title: &str, extra: Vec<FieldValue>) -> String {
    let mut fields = vec![s("title", title), s("customer_id", CUSTOMER)];
    fields.extend(extra);
    c.create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .set_fields(Some(fields))
        .performed_by(bot())
        .send()
        .await
        .expect("create_case")
        .case_id
}

/// The string value of field `id` of a case (None if unset).
pub async fn get_field(c: &Client, case_id: &str, id: &str) -> Option<FieldValueUnion> {
    let out = c.get_case().domain_id(DOMAIN).case_id(case_id).fields(fid(id)).send().await.expect("get_case");
    out.fields.into_iter().find(|f| f.id == id).and_then(|f| f.value)
}
