//! The Amazon Connect subset (DescribeContact, GetContactAttributes) through the real
//! `aws-sdk-connect` client, on the same emulator as the Cases API, with the demo seed's
//! contacts (those of the sample events).

use std::time::Duration;

use aws_sdk_connect::Client;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::{Credentials, Region};
use aws_sdk_connect::error::ProvideErrorMetadata;
use aws_sdk_connect::types::{Channel, ContactInitiationMethod};
use cases_emulator::{Emulator, ErrorKind, Fault, Seed, demo};

const INSTANCE: &str = demo::CONNECT_INSTANCE_ID;

fn connect_client(emu: &Emulator, retry: RetryConfig) -> Client {
    let conf = aws_sdk_connect::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(emu.endpoint_url())
        .retry_config(retry)
        .build();
    Client::from_conf(conf)
}

async fn start() -> (Emulator, Client) {
    let emu = Emulator::builder().seed(Seed::demo().without_cases()).quotas(false).start().await.expect("emulator starts");
    let client = connect_client(&emu, RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(5)));
    (emu, client)
}

#[tokio::test]
async fn describe_contact_gives_the_contact_in_the_api_shape() {
    let (emu, c) = start().await;
    let out = c.describe_contact().instance_id(INSTANCE).contact_id(demo::CONTACT_REACHED_AGENT).send().await.expect("described");
    let contact = out.contact().expect("a contact");
    assert_eq!(contact.id(), Some(demo::CONTACT_REACHED_AGENT));
    assert_eq!(
        contact.arn(),
        Some(format!("arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE}/contact/{}", demo::CONTACT_REACHED_AGENT).as_str())
    );
    assert_eq!(contact.channel(), Some(&Channel::Voice));
    assert_eq!(contact.initiation_method(), Some(&ContactInitiationMethod::Inbound));
    assert_eq!(contact.disconnect_reason(), Some("AGENT_DISCONNECT"));
    let queue = contact.queue_info().expect("queue info");
    assert_eq!(queue.id(), Some("ace970fc-cddb-4416-a396-6023df2d5c05"));
    // Epoch seconds on the wire: 2026-11-30T14:03:02.904Z.
    assert_eq!(queue.enqueue_timestamp().map(|t| (t.secs(), t.subsec_nanos() / 1_000_000)), Some((1_796_047_382, 904)));
    assert_eq!(contact.agent_info().and_then(|a| a.id()), Some("3c19c840-d9f9-4acd-a62d-2465be71c2d9"));
    assert_eq!(contact.customer_endpoint().and_then(|e| e.address()), Some("+12065550123"));
    assert!(contact.attributes().is_none(), "DescribeContact leaves the attributes to GetContactAttributes");
    assert_eq!(emu.call_count("DescribeContact"), 1);
}

#[tokio::test]
async fn get_contact_attributes_gives_the_chains_attributes() {
    let (emu, c) = start().await;
    let out = c.get_contact_attributes().instance_id(INSTANCE).initial_contact_id(demo::CONTACT_REACHED_AGENT).send().await.unwrap();
    let attributes = out.attributes().expect("attributes");
    assert_eq!(attributes.get("orderNumber").map(String::as_str), Some(demo::ORDER_OF_AGENT_CONTACT));
    assert_eq!(attributes.get("intent").map(String::as_str), Some("billing_dispute"));
    // A task transferred from a call: its chain's initial contact holds the attributes.
    let out = c.get_contact_attributes().instance_id(INSTANCE).initial_contact_id(demo::CONTACT_TASK_INITIAL).send().await.unwrap();
    assert_eq!(out.attributes().and_then(|a| a.get("intent")).map(String::as_str), Some("refund"));
    assert_eq!(emu.call_count("GetContactAttributes"), 2);
}

#[tokio::test]
async fn a_missing_contact_or_instance_is_resource_not_found() {
    let (_emu, c) = start().await;
    let error = c.describe_contact().instance_id(INSTANCE).contact_id("00000000-0000-4000-8000-000000000000").send().await.unwrap_err();
    let service = error.into_service_error();
    assert!(service.is_resource_not_found_exception(), "{service:?}");
    assert!(service.message().is_some_and(|m| m.contains("00000000-0000-4000-8000-000000000000")), "{service:?}");

    let error = c.get_contact_attributes().instance_id("another-instance").initial_contact_id(demo::CONTACT_REACHED_AGENT).send().await;
    let service = error.unwrap_err().into_service_error();
    assert!(service.is_resource_not_found_exception(), "a contact of another instance: {service:?}");
}

#[tokio::test]
async fn labels_are_validated_and_throttling_is_retried_by_the_sdk() {
    let (emu, c) = start().await;
    let long = "x".repeat(257);
    let error = c.describe_contact().instance_id(INSTANCE).contact_id(&long).send().await.unwrap_err().into_service_error();
    assert!(error.is_invalid_request_exception(), "{error:?}");
    assert!(error.message().is_some_and(|m| m.contains("ContactId")), "{error:?}");

    emu.inject_fault(Fault::error("GetContactAttributes", ErrorKind::ThrottlingException, 2));
    let out = c.get_contact_attributes().instance_id(INSTANCE).initial_contact_id(demo::CONTACT_ABANDONED).send().await;
    assert_eq!(
        out.expect("the third attempt succeeds").attributes().and_then(|a| a.get("orderNumber")).map(String::as_str),
        Some("ORD-48213")
    );
    assert_eq!(emu.call_count("GetContactAttributes"), 3, "two throttled attempts, then the answer");

    emu.inject_fault(Fault::error("DescribeContact", ErrorKind::InternalServerException, 1));
    let no_retry = connect_client(&emu, RetryConfig::disabled());
    let error = no_retry.describe_contact().instance_id(INSTANCE).contact_id(demo::CONTACT_ABANDONED).send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("InternalServiceException"), "Amazon Connect's name for a 500");
}
