//! The Amazon Connect backend (the subset the automation reads): instances holding contacts, for
//! `DescribeContact` and `GetContactAttributes`.
//!
//! A [`Contact`] is kept as the JSON object of the API's `Contact` shape (PascalCase members:
//! `Id`, `Channel`, `InitiationMethod`, `QueueInfo`, `AgentInfo`, `DisconnectReason`, …), with
//! timestamps as RFC 3339 text (rendered as epoch seconds on the wire) and the contact's
//! user-defined attributes in `Attributes`. DescribeContact returns the contact without
//! `Attributes`; GetContactAttributes returns only them.
//!
//! GetContactAttributes takes the id of the *initial* contact; here it finds the contact with
//! that id, or else a contact whose `InitialContactId` is that id (the attributes of a contact
//! chain are the initial contact's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::State;
use crate::error::{ApiError, ApiResult};
use crate::util::parse_ts;

/// An Amazon Connect instance with its contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectInstance {
    /// The instance id (the last part of its ARN).
    pub id: String,
    /// In the order they were added.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// A contact: the JSON object of the `Contact` shape (always with `Id`), plus `Attributes`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Contact(pub Map<String, Json>);

impl Contact {
    /// `Id` (empty if unset, which a stored contact never is).
    pub fn id(&self) -> &str {
        self.text("Id").unwrap_or_default()
    }

    pub fn text(&self, member: &str) -> Option<&str> {
        self.0.get(member).and_then(Json::as_str)
    }

    /// The user-defined attributes (none: an empty map).
    pub fn attributes(&self) -> BTreeMap<String, String> {
        let Some(Json::Object(attributes)) = self.0.get("Attributes") else { return BTreeMap::new() };
        attributes.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
    }

    /// The `Contact` shape as DescribeContact returns it: without the attributes.
    pub fn description(&self) -> Map<String, Json> {
        let mut out = self.0.clone();
        out.remove("Attributes");
        out
    }
}

/// `Id`, `InitialContactId`, `PreviousContactId`, `RelatedContactId`: 1–256 characters.
const ID_MEMBERS: [&str; 4] = ["Id", "InitialContactId", "PreviousContactId", "RelatedContactId"];

/// Checks a contact of a seed: `Id` a string of 1–256 characters, the other ids likewise when
/// present, `Attributes` an object of strings, every `…Timestamp` member (at any depth) RFC 3339.
pub fn validate_contact(contact: &Map<String, Json>) -> Result<Contact, String> {
    for member in ID_MEMBERS {
        match contact.get(member) {
            None if member != "Id" => {}
            None => return Err("`Id` is required".into()),
            Some(Json::String(id)) if (1..=256).contains(&id.chars().count()) => {}
            Some(_) => return Err(format!("`{member}` must be a string of 1 to 256 characters")),
        }
    }
    match contact.get("Attributes") {
        None => {}
        Some(Json::Object(attributes)) => {
            if let Some((key, _)) = attributes.iter().find(|(_, v)| !v.is_string()) {
                return Err(format!("`Attributes.{key}` must be a string (contact attributes are text)"));
            }
        }
        Some(_) => return Err("`Attributes` must be an object of strings".into()),
    }
    check_timestamps(&Json::Object(contact.clone()), "")?;
    Ok(Contact(contact.clone()))
}

fn check_timestamps(value: &Json, at: &str) -> Result<(), String> {
    let Json::Object(map) = value else { return Ok(()) };
    for (key, member) in map {
        let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
        if key.ends_with("Timestamp") {
            match member.as_str() {
                Some(text) if parse_ts(text).is_some() => {}
                _ => return Err(format!("`{path}` must be an RFC 3339 time, e.g. 2026-11-30T14:02:11.418Z")),
            }
        } else {
            check_timestamps(member, &path)?;
        }
    }
    Ok(())
}

impl State {
    /// An instance, or 404 (the real service answers ResourceNotFoundException for an instance
    /// it does not know, as for a contact).
    pub fn connect_instance(&self, id: &str) -> ApiResult<&ConnectInstance> {
        self.connect_instances.iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found("Instance", id))
    }

    /// Adds an instance (no-op when it exists).
    pub fn create_connect_instance(&mut self, id: &str) {
        if !self.connect_instances.iter().any(|i| i.id == id) {
            self.connect_instances.push(ConnectInstance { id: id.to_owned(), contacts: Vec::new() });
        }
    }

    /// Adds a contact to an instance (already validated); an existing contact with the same id
    /// is replaced.
    pub fn put_contact(&mut self, instance_id: &str, contact: Contact) -> ApiResult<()> {
        let instance =
            self.connect_instances.iter_mut().find(|i| i.id == instance_id).ok_or_else(|| ApiError::not_found("Instance", instance_id))?;
        match instance.contacts.iter_mut().find(|c| c.id() == contact.id()) {
            Some(existing) => *existing = contact,
            None => instance.contacts.push(contact),
        }
        Ok(())
    }

    /// DescribeContact: the contact without its attributes, with `Arn` filled in when the seed
    /// did not give it.
    pub fn describe_contact(&self, instance_id: &str, contact_id: &str) -> ApiResult<Map<String, Json>> {
        let instance = self.connect_instance(instance_id)?;
        let contact = instance.contacts.iter().find(|c| c.id() == contact_id).ok_or_else(|| ApiError::not_found("Contact", contact_id))?;
        let mut out = contact.description();
        out.entry("Arn").or_insert_with(|| {
            Json::String(format!("arn:aws:connect:{}:{}:instance/{instance_id}/contact/{contact_id}", self.region, self.account))
        });
        Ok(out)
    }

    /// GetContactAttributes: the attributes of the contact chain that started with
    /// `initial_contact_id`.
    pub fn contact_attributes(&self, instance_id: &str, initial_contact_id: &str) -> ApiResult<BTreeMap<String, String>> {
        let instance = self.connect_instance(instance_id)?;
        let contact = instance
            .contacts
            .iter()
            .find(|c| c.id() == initial_contact_id)
            .or_else(|| instance.contacts.iter().find(|c| c.text("InitialContactId") == Some(initial_contact_id)))
            .ok_or_else(|| ApiError::not_found("Contact", initial_contact_id))?;
        Ok(contact.attributes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    fn state() -> State {
        let mut st = State::new("us-east-1", "123456789012");
        st.create_connect_instance("i-1");
        let contact = |v: Json| validate_contact(v.as_object().unwrap()).unwrap();
        st.put_contact("i-1", contact(json!({"Id": "c-1", "Channel": "VOICE", "Attributes": {"orderNumber": "ORD-1"}}))).unwrap();
        st.put_contact("i-1", contact(json!({"Id": "c-2", "InitialContactId": "c-0", "Attributes": {"x": "y"}}))).unwrap();
        st
    }

    #[test]
    fn describe_leaves_out_the_attributes_and_get_attributes_gives_only_them() {
        let st = state();
        let described = st.describe_contact("i-1", "c-1").unwrap();
        assert_eq!(described["Channel"], "VOICE");
        assert!(!described.contains_key("Attributes"));
        assert_eq!(described["Arn"], "arn:aws:connect:us-east-1:123456789012:instance/i-1/contact/c-1");
        assert_eq!(st.contact_attributes("i-1", "c-1").unwrap(), BTreeMap::from([("orderNumber".into(), "ORD-1".into())]));
        assert_eq!(st.contact_attributes("i-1", "c-0").unwrap()["x"], "y", "by the chain's initial contact");
    }

    #[test]
    fn unknown_contacts_and_instances_are_not_found() {
        let st = state();
        for error in [
            st.describe_contact("i-1", "nope").unwrap_err(),
            st.describe_contact("i-2", "c-1").unwrap_err(),
            st.contact_attributes("i-1", "nope").unwrap_err(),
            st.contact_attributes("i-2", "c-1").unwrap_err(),
        ] {
            assert_eq!(error.kind, ErrorKind::ResourceNotFoundException);
        }
    }

    #[test]
    fn seed_contacts_are_checked() {
        let bad = |v: Json| validate_contact(v.as_object().unwrap()).unwrap_err();
        assert!(bad(json!({"Channel": "VOICE"})).contains("`Id`"));
        assert!(bad(json!({"Id": ""})).contains("`Id`"));
        assert!(bad(json!({"Id": "c", "Attributes": {"n": 5}})).contains("Attributes.n"));
        assert!(bad(json!({"Id": "c", "QueueInfo": {"EnqueueTimestamp": "yesterday"}})).contains("QueueInfo.EnqueueTimestamp"));
        assert!(validate_contact(json!({"Id": "c", "InitiationTimestamp": "2026-11-30T14:02:11.418Z"}).as_object().unwrap()).is_ok());
    }
}
