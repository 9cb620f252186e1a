//! `ContactsApi` over `aws-sdk-connect`: the one place that knows that SDK's types.

use std::collections::BTreeMap;

use aws_sdk_connect as connect;
use aws_sdk_connect::primitives::{DateTime, DateTimeFormat};
use aws_sdk_connect::types::{AgentInfo, Contact, EndpointInfo, QueueInfo};
use serde_json::{Map, Value};

use super::ContactsApi;
use crate::aws::{LazyClient, retry_partition};
use crate::cases::ApiError;
use crate::cases::sdk::api_error;
use crate::telemetry::sdk::CountCalls;

/// The Amazon Connect client, built on first use: only rules that ask for contact data need it.
pub struct SdkContacts {
    client: LazyClient<connect::Client>,
}

impl SdkContacts {
    /// Builds the client from `config` (with the function's retry partition) when the first call needs it.
    pub fn lazy(config: aws_config::SdkConfig) -> SdkContacts {
        let build = |config: &aws_config::SdkConfig| {
            connect::Client::from_conf(
                connect::config::Builder::from(config).retry_partition(retry_partition()).interceptor(CountCalls).build(),
            )
        };
        SdkContacts { client: LazyClient::lazy(config, build) }
    }
}

impl ContactsApi for SdkContacts {
    async fn get_contact_attributes(&self, instance_id: &str, initial_contact_id: &str) -> Result<BTreeMap<String, String>, ApiError> {
        const OP: &str = "GetContactAttributes";
        let request = self.client.get().get_contact_attributes().instance_id(instance_id).initial_contact_id(initial_contact_id);
        let output = request.send().await.map_err(|e| api_error(OP, e))?;
        Ok(output.attributes().map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
    }

    async fn describe_contact(&self, instance_id: &str, contact_id: &str) -> Result<Value, ApiError> {
        const OP: &str = "DescribeContact";
        let output = self.client.get().describe_contact().instance_id(instance_id).contact_id(contact_id).send().await;
        let output = output.map_err(|e| api_error(OP, e))?;
        Ok(output.contact().map(contact_json).unwrap_or_else(|| Value::Object(Map::new())))
    }
}

/// The members of a described contact that rules can use, under the API's own names (as the
/// DescribeContact reference spells them), timestamps as RFC 3339 text (what a DateTime field
/// takes). Members the contact does not have are absent.
pub fn contact_json(contact: &Contact) -> Value {
    let mut out = Map::new();
    let mut text = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            out.insert(name.into(), Value::String(value.into()));
        }
    };
    text("Id", contact.id());
    text("Arn", contact.arn());
    text("InitialContactId", contact.initial_contact_id());
    text("PreviousContactId", contact.previous_contact_id());
    text("RelatedContactId", contact.related_contact_id());
    text("Name", contact.name());
    text("Description", contact.description());
    text("Channel", contact.channel().map(|c| c.as_str()));
    text("InitiationMethod", contact.initiation_method().map(|m| m.as_str()));
    text("DisconnectReason", contact.disconnect_reason());
    text("CustomerId", contact.customer_id());
    for (name, time) in [
        ("InitiationTimestamp", contact.initiation_timestamp()),
        ("ConnectedToSystemTimestamp", contact.connected_to_system_timestamp()),
        ("DisconnectTimestamp", contact.disconnect_timestamp()),
        ("LastUpdateTimestamp", contact.last_update_timestamp()),
        ("ScheduledTimestamp", contact.scheduled_timestamp()),
    ] {
        insert_time(&mut out, name, time);
    }
    if let Some(queue) = contact.queue_info() {
        out.insert("QueueInfo".into(), queue_json(queue));
    }
    if let Some(agent) = contact.agent_info() {
        out.insert("AgentInfo".into(), agent_json(agent));
    }
    for (name, endpoint) in [("CustomerEndpoint", contact.customer_endpoint()), ("SystemEndpoint", contact.system_endpoint())] {
        if let Some(endpoint) = endpoint {
            out.insert(name.into(), endpoint_json(endpoint));
        }
    }
    if let Some(priority) = contact.queue_priority() {
        out.insert("QueuePriority".into(), priority.into());
    }
    if let Some(tags) = contact.tags() {
        out.insert("Tags".into(), tags.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>().into());
    }
    Value::Object(out)
}

fn insert_time(out: &mut Map<String, Value>, name: &str, time: Option<&DateTime>) {
    if let Some(text) = time.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()) {
        out.insert(name.into(), Value::String(text));
    }
}

fn queue_json(queue: &QueueInfo) -> Value {
    let mut out = Map::new();
    if let Some(id) = queue.id() {
        out.insert("Id".into(), id.into());
    }
    insert_time(&mut out, "EnqueueTimestamp", queue.enqueue_timestamp());
    Value::Object(out)
}

fn agent_json(agent: &AgentInfo) -> Value {
    let mut out = Map::new();
    if let Some(id) = agent.id() {
        out.insert("Id".into(), id.into());
    }
    insert_time(&mut out, "ConnectedToAgentTimestamp", agent.connected_to_agent_timestamp());
    if let Some(seconds) = agent.after_contact_work_duration() {
        out.insert("AfterContactWorkDuration".into(), seconds.into());
    }
    Value::Object(out)
}

fn endpoint_json(endpoint: &EndpointInfo) -> Value {
    let mut out = Map::new();
    if let Some(kind) = endpoint.r#type() {
        out.insert("Type".into(), kind.as_str().into());
    }
    if let Some(address) = endpoint.address() {
        out.insert("Address".into(), address.into());
    }
    if let Some(name) = endpoint.display_name() {
        out.insert("DisplayName".into(), name.into());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::types::{Channel, ContactInitiationMethod, EndpointType};

    #[test]
    fn a_described_contact_keeps_the_api_names_and_gives_times_as_rfc_3339() {
        let contact = Contact::builder()
            .id("c-1")
            .channel(Channel::Voice)
            .initiation_method(ContactInitiationMethod::Inbound)
            .disconnect_reason("CUSTOMER_DISCONNECT")
            .queue_info(QueueInfo::builder().id("q-1").enqueue_timestamp(DateTime::from_millis(1_796_047_382_904)).build())
            .agent_info(AgentInfo::builder().id("a-1").build())
            .customer_endpoint(EndpointInfo::builder().r#type(EndpointType::TelephoneNumber).address("+12065550123").build())
            .tags("team", "billing")
            .build();
        let json = contact_json(&contact);
        assert_eq!(json["Channel"], "VOICE");
        assert_eq!(json["InitiationMethod"], "INBOUND");
        assert_eq!(json["DisconnectReason"], "CUSTOMER_DISCONNECT");
        assert_eq!(json["QueueInfo"], serde_json::json!({"Id": "q-1", "EnqueueTimestamp": "2026-11-30T14:03:02.904Z"}));
        assert_eq!(json["AgentInfo"]["Id"], "a-1");
        assert_eq!(json["CustomerEndpoint"]["Type"], "TELEPHONE_NUMBER");
        assert_eq!(json["Tags"]["team"], "billing");
        assert!(json.get("DisconnectTimestamp").is_none(), "absent members stay absent");
    }
}
