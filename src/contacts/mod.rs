//! The event's contact as Amazon Connect knows it, for the rules that ask for it (`contact:
//! {attributes: true, description: true}`): its attributes (`GetContactAttributes`) and its
//! description (`DescribeContact`: queue, agent, channel, disconnect reason, …).
//!
//! Contact events carry tags but not attributes, which is what rules most often want on a case.
//! What the matched rules ask for is read once per event, before planning, and put into the event
//! at `$.contact` (`$.contact.attributes.orderNumber`, `{{ contact.description.Channel }}`), so
//! that values, templates, customer lookups and the domain checks see it like the rest of the
//! event. Attributes can hold personal data: they are never logged, and errors name the contact,
//! never a value.

pub mod sdk;

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{Map, Value};

use crate::cases::{ApiError, ApiErrorKind};
use crate::inbound::{Event, EventKind};
use crate::rules::ContactData;

pub use crate::rules::value::CONTACT_KEY as EVENT_KEY;

/// The Amazon Connect operations the function calls, on the contact of an event.
pub trait ContactsApi: Send + Sync {
    /// The attributes of the contact chain that started with `initial_contact_id`.
    fn get_contact_attributes(
        &self,
        instance_id: &str,
        initial_contact_id: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ApiError>> + Send;
    /// The contact, as a JSON object in the API's spelling (see `sdk::contact_json`).
    fn describe_contact(&self, instance_id: &str, contact_id: &str) -> impl Future<Output = Result<Value, ApiError>> + Send;
}

/// No Amazon Connect client: a rule asking for contact data fails clearly (the function itself
/// always has the SDK client; tests that do not need it use this).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContacts;

impl NoContacts {
    fn unavailable(operation: &'static str) -> ApiError {
        ApiError { operation, kind: ApiErrorKind::Validation, message: "no Amazon Connect client is configured".into() }
    }
}

impl ContactsApi for NoContacts {
    async fn get_contact_attributes(&self, _: &str, _: &str) -> Result<BTreeMap<String, String>, ApiError> {
        Err(NoContacts::unavailable("GetContactAttributes"))
    }

    async fn describe_contact(&self, _: &str, _: &str) -> Result<Value, ApiError> {
        Err(NoContacts::unavailable("DescribeContact"))
    }
}

/// Which contact an event is about, as the two operations name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRef {
    pub instance_id: String,
    pub contact_id: String,
    /// The first contact of the chain (transfers, tasks made from a call): GetContactAttributes
    /// takes it. The contact's own id when the event names none.
    pub initial_contact_id: String,
}

/// The API's limits on the ids: InstanceId 1–100 characters, ContactId 1–256.
const MAX_INSTANCE_ID: usize = 100;
const MAX_CONTACT_ID: usize = 256;

impl ContactRef {
    /// The contact of a contact event (`detail.contactId`, `detail.initialContactId`, the
    /// instance ARN) or of a contact flow (`Details.ContactData`); why not, for other events or
    /// when the ids are missing or malformed (the reason names members, never values).
    pub fn of(event: &Event) -> Result<ContactRef, String> {
        let (data, contact_keys, initial_keys): (Option<&Value>, &[&str], &[&str]) = match event.kind {
            EventKind::ContactEvent => (event.raw.get("detail"), &["contactId", "ContactId"], &["initialContactId", "InitialContactId"]),
            EventKind::ContactFlow => (event.raw.pointer("/Details/ContactData"), &["ContactId"], &["InitialContactId"]),
            EventKind::CasesChange | EventKind::Custom => {
                return Err(format!(
                    "a {} names no Amazon Connect contact; only contact events and contact flows do (remove `contact` from the rule, or match only those)",
                    event.kind
                ));
            }
        };
        let text = |keys: &[&str]| keys.iter().find_map(|k| data?.get(*k)?.as_str().filter(|s| !s.is_empty()));
        let instance_arn = event.instance_arn().ok_or("the event names no Amazon Connect instance (instance ARN)")?;
        let instance_id = instance_arn
            .rsplit_once(":instance/")
            .map(|(_, id)| id.trim_end_matches('/'))
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .ok_or("the event's instance ARN has no instance id (arn:aws:connect:REGION:ACCOUNT:instance/ID)")?;
        let contact_id = text(contact_keys).ok_or_else(|| format!("the event has no contact id ({})", contact_keys.join(" or ")))?;
        let initial_contact_id = text(initial_keys).unwrap_or(contact_id);
        if instance_id.chars().count() > MAX_INSTANCE_ID {
            return Err(format!("the event's instance id has more than {MAX_INSTANCE_ID} characters"));
        }
        if contact_id.chars().count() > MAX_CONTACT_ID || initial_contact_id.chars().count() > MAX_CONTACT_ID {
            return Err(format!("the event's contact id has more than {MAX_CONTACT_ID} characters"));
        }
        Ok(ContactRef { instance_id: instance_id.into(), contact_id: contact_id.into(), initial_contact_id: initial_contact_id.into() })
    }
}

/// Why the contact's data could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactError {
    /// Amazon Connect does not know the contact (an old one, or one of another instance).
    NotFound {
        operation: &'static str,
        contact: ContactRef,
    },
    Api(ApiError),
}

/// Reads what `wanted` asks for about `contact` (both calls at once when both are wanted): the
/// object put at `$.contact`, with `attributes` and/or `description`.
pub async fn read<K: ContactsApi>(api: &K, contact: &ContactRef, wanted: ContactData) -> Result<Value, ContactError> {
    let classify = |error: ApiError| match error.kind {
        ApiErrorKind::NotFound => ContactError::NotFound { operation: error.operation, contact: contact.clone() },
        _ => ContactError::Api(error),
    };
    let attributes = async {
        match wanted.attributes {
            true => api.get_contact_attributes(&contact.instance_id, &contact.initial_contact_id).await.map(Some),
            false => Ok(None),
        }
    };
    let description = async {
        match wanted.description {
            true => api.describe_contact(&contact.instance_id, &contact.contact_id).await.map(Some),
            false => Ok(None),
        }
    };
    let (attributes, description) = futures_util::future::join(attributes, description).await;
    let mut data = Map::new();
    if let Some(attributes) = attributes.map_err(classify)? {
        data.insert("attributes".into(), attributes.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>().into());
    }
    if let Some(description) = description.map_err(classify)? {
        data.insert("description".into(), description);
    }
    Ok(Value::Object(data))
}

/// The event with the contact's data at `$.contact` (replacing a top-level `contact` the event
/// may have had: no event shape the function handles has one).
pub fn with_contact(event: &Event, data: Value) -> Event {
    let mut raw = event.raw.clone();
    if let Value::Object(map) = &mut raw {
        map.insert(EVENT_KEY.into(), data);
    }
    Event { raw, ..event.clone() }
}

/// What `plan` shows for the lookups: the requests, without calling Amazon Connect.
pub fn planned_requests(contact: &ContactRef, wanted: ContactData) -> Vec<Value> {
    let mut requests = Vec::new();
    if wanted.attributes {
        requests.push(serde_json::json!({
            "operation": "GetContactAttributes",
            "InstanceId": contact.instance_id,
            "InitialContactId": contact.initial_contact_id,
            "gives": "$.contact.attributes",
        }));
    }
    if wanted.description {
        requests.push(serde_json::json!({
            "operation": "DescribeContact",
            "InstanceId": contact.instance_id,
            "ContactId": contact.contact_id,
            "gives": "$.contact.description",
        }));
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::{Inbound, classify};
    use serde_json::json;

    const INSTANCE: &str = "arn:aws:connect:us-east-1:123456789012:instance/i-1";

    fn event(payload: Value) -> Event {
        match classify(payload).unwrap() {
            Inbound::ContactFlow(event) | Inbound::EventBridge(event) => event,
            Inbound::SqsBatch(_) => panic!("not one event"),
        }
    }

    fn contact_event(detail: Value) -> Event {
        event(json!({"id": "e", "source": "aws.connect", "detail-type": "Amazon Connect Contact Event", "detail": detail}))
    }

    #[test]
    fn the_contact_of_contact_events_and_flows() {
        let reference = ContactRef::of(&contact_event(json!({"contactId": "c-2", "initialContactId": "c-1", "instanceArn": INSTANCE})));
        assert_eq!(reference, Ok(ContactRef { instance_id: "i-1".into(), contact_id: "c-2".into(), initial_contact_id: "c-1".into() }));
        let reference = ContactRef::of(&contact_event(json!({"ContactId": "c-2", "InstanceArn": INSTANCE}))).unwrap();
        assert_eq!(reference.initial_contact_id, "c-2", "a contact without a chain is its own initial contact");
        let flow = event(
            json!({"Name": "ContactFlowEvent", "Details": {"ContactData": {"ContactId": "c-3", "InitialContactId": "c-0", "InstanceARN": INSTANCE}}}),
        );
        assert_eq!(ContactRef::of(&flow).unwrap().initial_contact_id, "c-0");
    }

    #[test]
    fn events_without_a_usable_contact_say_why_without_values() {
        let custom = event(json!({"id": "e", "source": "shop", "detail-type": "x", "detail": {"contactId": "c"}}));
        assert!(ContactRef::of(&custom).unwrap_err().contains("custom event names no Amazon Connect contact"));
        assert!(ContactRef::of(&contact_event(json!({"contactId": "c"}))).unwrap_err().contains("instance"));
        assert!(ContactRef::of(&contact_event(json!({"instanceArn": INSTANCE}))).unwrap_err().contains("contact id"));
        let long = "7".repeat(300);
        let error = ContactRef::of(&contact_event(json!({"contactId": long, "instanceArn": INSTANCE}))).unwrap_err();
        assert!(error.contains("more than 256") && !error.contains("777"), "{error}");
    }

    struct Stub(Result<BTreeMap<String, String>, ApiError>);

    impl ContactsApi for Stub {
        async fn get_contact_attributes(&self, _: &str, initial: &str) -> Result<BTreeMap<String, String>, ApiError> {
            assert_eq!(initial, "c-1", "attributes are read by the initial contact");
            self.0.clone()
        }

        async fn describe_contact(&self, _: &str, contact: &str) -> Result<Value, ApiError> {
            Ok(json!({"Id": contact, "Channel": "VOICE"}))
        }
    }

    #[tokio::test]
    async fn only_what_is_asked_is_read_and_a_missing_contact_is_told_apart() {
        let contact = ContactRef { instance_id: "i-1".into(), contact_id: "c-2".into(), initial_contact_id: "c-1".into() };
        let api = Stub(Ok(BTreeMap::from([("orderNumber".into(), "ORD-1".into())])));
        let both = read(&api, &contact, ContactData { attributes: true, description: true }).await.unwrap();
        assert_eq!(both, json!({"attributes": {"orderNumber": "ORD-1"}, "description": {"Id": "c-2", "Channel": "VOICE"}}));
        let only = read(&api, &contact, ContactData { attributes: false, description: true }).await.unwrap();
        assert!(only.get("attributes").is_none());

        let missing = ApiError { operation: "GetContactAttributes", kind: ApiErrorKind::NotFound, message: "gone".into() };
        let error = read(&Stub(Err(missing)), &contact, ContactData { attributes: true, description: false }).await.unwrap_err();
        assert!(matches!(error, ContactError::NotFound { operation: "GetContactAttributes", .. }), "{error:?}");
        let throttled = ApiError { operation: "GetContactAttributes", kind: ApiErrorKind::Throttling, message: "slow".into() };
        let error = read(&Stub(Err(throttled)), &contact, ContactData { attributes: true, description: false }).await.unwrap_err();
        assert!(matches!(error, ContactError::Api(ApiError { kind: ApiErrorKind::Throttling, .. })), "{error:?}");
    }

    #[test]
    fn the_data_goes_under_contact() {
        let event = contact_event(json!({"contactId": "c", "instanceArn": INSTANCE}));
        let with = with_contact(&event, json!({"attributes": {"a": "b"}}));
        assert_eq!(with.raw["contact"]["attributes"]["a"], "b");
        assert_eq!((with.key.as_str(), with.kind), (event.key.as_str(), event.kind));
    }
}
