//! What arrived: a contact-flow invocation, an EventBridge event, or an SQS batch of EventBridge
//! events, told apart by shape. Parsing is tolerant: only the few fields the function relies on
//! are required, and unknown or null fields are ignored (real chat and task payloads have null
//! endpoints, flows pass nested JSON as parameters).

use std::fmt;

use serde_json::Value;

use crate::rules::value::describe_json;

/// The three shapes the function is invoked with.
#[derive(Debug, Clone)]
pub enum Inbound {
    ContactFlow(Event),
    EventBridge(Event),
    SqsBatch(Vec<SqsRecord>),
}

/// One event that rules are matched against: a contact-flow invocation or an EventBridge event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event as received; patterns, paths and templates see this.
    pub raw: Value,
    /// What makes this event unique across redeliveries: the EventBridge `id`, or the ContactId of
    /// a flow. Part of every idempotency token.
    pub key: String,
    pub kind: EventKind,
    /// The contact this event is about, when it is about one.
    pub contact_arn: Option<String>,
    /// The Amazon Connect instance a contact-flow invocation or a contact event comes from (its
    /// ARN, however the event spells the key); None for other events.
    pub instance_arn: Option<String>,
    /// Who made the change, for Cases change events.
    pub performer: Option<Performer>,
    /// When it happened (epoch milliseconds): EventBridge's `time`. Flows carry no time.
    pub time_ms: Option<i64>,
    /// Partition, region and account the event comes from, when it says.
    pub scope: Option<ArnScope>,
}

/// `arn:{partition}:{service}:{region}:{account}:…`: where an ARN points; profile ARNs built from
/// a profile id point where the function (or else the event) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnScope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl ArnScope {
    /// From the function's own ARN (`arn:aws:lambda:us-east-1:123456789012:function:name`).
    pub fn from_function_arn(arn: &str) -> Option<ArnScope> {
        Self::from_arn(arn, "lambda")
    }

    /// From an EventBridge envelope's `region` and `account`.
    fn from_envelope(raw: &Value) -> Option<ArnScope> {
        let (region, account) = (raw.get("region")?.as_str()?, raw.get("account")?.as_str()?);
        (is_account(account) && !region.is_empty()).then(|| ArnScope {
            partition: "aws".into(),
            region: region.into(),
            account: account.into(),
        })
    }

    fn from_arn(arn: &str, service: &str) -> Option<ArnScope> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, s, region, account, _] if *s == service && !region.is_empty() && is_account(account) => {
                Some(ArnScope { partition: (*partition).into(), region: (*region).into(), account: (*account).into() })
            }
            _ => None,
        }
    }

    pub fn profile_arn(&self, domain: &str, profile_id: &str) -> String {
        format!("arn:{}:profile:{}:{}:domains/{domain}/profiles/{profile_id}", self.partition, self.region, self.account)
    }
}

fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ContactFlow,
    /// `aws.connect` "Amazon Connect Contact Event".
    ContactEvent,
    /// `aws.cases` "Amazon Connect Cases Change".
    CasesChange,
    /// Any other EventBridge event (the user's own systems).
    Custom,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::ContactFlow => "contact flow",
            EventKind::ContactEvent => "contact event",
            EventKind::CasesChange => "cases change",
            EventKind::Custom => "custom event",
        })
    }
}

/// `performedBy.user` of a Cases change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Performer {
    CustomEntity(String),
    UserArn(String),
}

/// One SQS record: its id (for `batchItemFailures`) and its body, not yet parsed, so that a bad
/// record fails alone.
#[derive(Debug, Clone)]
pub struct SqsRecord {
    pub message_id: String,
    pub body: Result<Event, InboundError>,
}

/// Why a payload could not be used. The message names what was expected and never echoes values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundError(pub String);

impl fmt::Display for InboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InboundError {}

fn err(message: impl Into<String>) -> InboundError {
    InboundError(message.into())
}

/// Tells the trigger from the payload's shape.
pub fn classify(payload: Value) -> Result<Inbound, InboundError> {
    let Some(object) = payload.as_object() else {
        return Err(err(format!(
            "unrecognised payload: expected a JSON object (contact flow, EventBridge event or SQS batch), got {}",
            describe_json(&payload)
        )));
    };
    if object.get("Name").and_then(Value::as_str) == Some("ContactFlowEvent") || payload.pointer("/Details/ContactData").is_some() {
        return contact_flow(payload).map(Inbound::ContactFlow);
    }
    if let Some(records) = object.get("Records") {
        let is_sqs =
            records.as_array().and_then(|r| r.first()).and_then(|r| r.get("eventSource")).and_then(Value::as_str) == Some("aws:sqs");
        if is_sqs {
            return sqs_batch(records).map(Inbound::SqsBatch);
        }
        return Err(err("unrecognised payload: `Records` is not an SQS batch (expected Records[].eventSource = \"aws:sqs\")"));
    }
    if object.contains_key("detail-type") && object.contains_key("source") {
        return eventbridge(payload).map(Inbound::EventBridge);
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(10).collect();
    if object.len() > keys.len() {
        keys.push("…");
    }
    Err(err(format!(
        "unrecognised payload: expected a contact-flow invocation (Name: \"ContactFlowEvent\", Details.ContactData), \
         an EventBridge event (source, detail-type, detail) or an SQS batch (Records[].eventSource = \"aws:sqs\"); \
         got an object with keys [{}]",
        keys.join(", ")
    )))
}

fn contact_flow(raw: Value) -> Result<Event, InboundError> {
    // Checked by hand rather than with serde, whose messages quote the offending value.
    for (pointer, name) in [("/Details", "Details"), ("/Details/ContactData", "Details.ContactData")] {
        match raw.pointer(pointer) {
            Some(Value::Object(_)) => {}
            Some(other) => return Err(err(format!("contact-flow invocation: `{name}` must be an object, got {}", describe_json(other)))),
            None => return Err(err(format!("contact-flow invocation: `{name}` is missing"))),
        }
    }
    let contact_data = &raw["Details"]["ContactData"];
    let contact_id = non_empty_string(contact_data.get("ContactId"))
        .ok_or_else(|| err("contact-flow invocation: Details.ContactData.ContactId must be a non-empty string"))?;
    let instance_arn = non_empty_string(contact_data.get("InstanceARN"));
    let scope = instance_arn.as_deref().and_then(|instance| ArnScope::from_arn(instance, "connect"));
    let contact_arn = instance_arn.as_deref().map(|instance| contact_arn(instance, &contact_id));
    Ok(Event { raw, key: contact_id, kind: EventKind::ContactFlow, contact_arn, instance_arn, performer: None, time_ms: None, scope })
}

fn non_empty_string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// How the documented contact events spell the instance ARN in `detail`: camelCase in most
/// samples, PascalCase in the newer routing-criteria ones, `instanceARN` in older revisions and
/// `InstanceARN` in the data model.
pub const INSTANCE_ARN_KEYS: [&str; 4] = ["instanceArn", "InstanceArn", "instanceARN", "InstanceARN"];

impl Event {
    /// The Amazon Connect instance a contact-flow invocation or a contact event comes from, as its
    /// ARN; None for other events, and for one that names no instance.
    pub fn instance_arn(&self) -> Option<&str> {
        self.instance_arn.as_deref()
    }
}

/// The instance of a contact event: `detail.instanceArn` in any of its spellings, else the
/// instance ARN in `resources` (or the instance part of the contact ARN there).
fn contact_event_instance(raw: &Value) -> Option<&str> {
    let in_detail = INSTANCE_ARN_KEYS.iter().find_map(|k| raw.get("detail")?.get(*k)?.as_str().filter(|s| !s.is_empty()));
    in_detail.or_else(|| {
        let resources = raw.get("resources")?.as_array()?;
        let arns = || resources.iter().filter_map(Value::as_str);
        arns().find(|arn| is_instance_arn(arn)).or_else(|| arns().find_map(|arn| arn.split_once("/contact/").map(|(instance, _)| instance)))
    })
}

/// `arn:{partition}:connect:{region}:{account}:instance/{id}`, nothing after the id.
pub fn is_instance_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "connect", region, account, resource] => {
            partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("instance/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
        }
        _ => false,
    }
}

/// `arn:aws:connect:{region}:{account}:instance/{instanceId}/contact/{contactId}`.
pub fn contact_arn(instance_arn: &str, contact_id: &str) -> String {
    format!("{}/contact/{contact_id}", instance_arn.trim_end_matches('/'))
}

/// Parses an EventBridge event: `id`, `source` and `detail-type` are required strings, `detail` an
/// object; everything else is optional.
pub fn eventbridge(raw: Value) -> Result<Event, InboundError> {
    let field = |name: &str| -> Result<String, InboundError> {
        match raw.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(err(format!("EventBridge event: `{name}` must be a non-empty string"))),
            None => Err(err(format!("EventBridge event: `{name}` is missing"))),
        }
    };
    let id = field("id")?;
    let source = field("source")?;
    let detail_type = field("detail-type")?;
    let detail = match raw.get("detail") {
        Some(Value::Object(d)) => d,
        Some(_) => return Err(err("EventBridge event: `detail` must be an object")),
        None => return Err(err("EventBridge event: `detail` is missing")),
    };
    let kind = match (source.as_str(), detail_type.as_str()) {
        ("aws.connect", "Amazon Connect Contact Event") => EventKind::ContactEvent,
        // Older documentation names the detail-type "Amazon Connect Cases Event".
        ("aws.cases", _) => EventKind::CasesChange,
        _ => EventKind::Custom,
    };
    let instance = contact_event_instance(&raw);
    let instance_arn = (kind == EventKind::ContactEvent).then_some(instance).flatten().map(str::to_owned);
    let contact_arn = match (&instance_arn, kind) {
        (Some(instance), EventKind::ContactEvent) => {
            // Most samples spell detail keys in camelCase, a few newer ones in PascalCase.
            let contact = ["contactId", "ContactId"].iter().find_map(|k| detail.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()));
            contact.map(|contact| contact_arn(instance, contact))
        }
        _ => None,
    };
    let performer = match kind {
        EventKind::CasesChange => {
            let user = detail.get("performedBy").and_then(|p| p.get("user"));
            let text = |key: &str| user.and_then(|u| u.get(key)).and_then(Value::as_str).map(str::to_owned);
            text("customEntity").map(Performer::CustomEntity).or_else(|| text("userArn").map(Performer::UserArn))
        }
        _ => None,
    };
    // A missing or malformed time is not an error: the event is then ordered by when it is handled.
    let time_ms = raw.get("time").and_then(Value::as_str).and_then(|t| {
        let parsed = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
        Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
    });
    let scope = ArnScope::from_envelope(&raw).or_else(|| instance.and_then(|instance| ArnScope::from_arn(instance, "connect")));
    Ok(Event { key: id, kind, contact_arn, instance_arn, performer, time_ms, scope, raw })
}

fn sqs_batch(records: &Value) -> Result<Vec<SqsRecord>, InboundError> {
    let records = records.as_array().ok_or_else(|| err("SQS batch: `Records` must be a list"))?;
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let unusable = |what: String| err(format!("SQS batch: record {index} {what}; the batch cannot be acknowledged per record"));
            if !record.is_object() {
                return Err(unusable(format!("is {} instead of an object", describe_json(record))));
            }
            let message_id = match record.get("messageId") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                None | Some(Value::Null) => return Err(unusable("has no messageId".into())),
                Some(other) => {
                    return Err(unusable(format!("has a messageId that is {} instead of a non-empty string", describe_json(other))));
                }
            };
            let body = match record.get("body") {
                None | Some(Value::Null) => Err(err("SQS record has no body")),
                Some(Value::String(body)) => serde_json::from_str::<Value>(body)
                    .map_err(|e| err(format!("SQS record body is not JSON ({e}); expected an EventBridge event")))
                    .and_then(|value| {
                        if value.get("Records").is_some() || value.pointer("/Details/ContactData").is_some() {
                            Err(err("SQS record body is not an EventBridge event (source, detail-type, detail)"))
                        } else {
                            eventbridge(value)
                        }
                    }),
                Some(other) => {
                    Err(err(format!("SQS record body is {} instead of text (an EventBridge event as JSON)", describe_json(other))))
                }
            };
            Ok(SqsRecord { message_id, body })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(contact_data: Value, parameters: Value) -> Value {
        json!({"Name": "ContactFlowEvent", "Details": {"ContactData": contact_data, "Parameters": parameters}})
    }

    #[test]
    fn an_event_knows_where_it_comes_from() {
        let scope = |payload: Value| match classify(payload).unwrap() {
            Inbound::ContactFlow(event) | Inbound::EventBridge(event) => event.scope,
            Inbound::SqsBatch(_) => unreachable!(),
        };
        let flow = flow(json!({"ContactId": "c-1", "InstanceARN": "arn:aws:connect:ap-southeast-2:777788889999:instance/i"}), json!({}));
        assert_eq!(
            scope(flow),
            Some(ArnScope { partition: "aws".into(), region: "ap-southeast-2".into(), account: "777788889999".into() })
        );
        let envelope =
            json!({"id": "e", "source": "my.app", "detail-type": "T", "detail": {}, "region": "us-west-2", "account": "444455556666"});
        assert_eq!(scope(envelope).map(|s| (s.region, s.account)), Some(("us-west-2".into(), "444455556666".into())));
        // Without an envelope's region and account, a contact event's instance in any spelling.
        for key in INSTANCE_ARN_KEYS {
            let event = json!({"id": "e", "source": "aws.connect", "detail-type": "Amazon Connect Contact Event",
                "detail": {"contactId": "c", key: "arn:aws-cn:connect:cn-north-1:123456789012:instance/i"}});
            let found = scope(event).unwrap_or_else(|| panic!("{key}"));
            assert_eq!((found.partition.as_str(), found.region.as_str()), ("aws-cn", "cn-north-1"), "{key}");
        }
        let nowhere = json!({"id": "e", "source": "my.app", "detail-type": "T", "detail": {}, "account": "not-an-account", "region": "r"});
        assert_eq!(scope(nowhere), None);
        let function = ArnScope::from_function_arn("arn:aws:lambda:eu-west-2:111122223333:function:f").unwrap();
        assert_eq!(function.profile_arn("people", "p1"), "arn:aws:profile:eu-west-2:111122223333:domains/people/profiles/p1");
        assert_eq!(ArnScope::from_function_arn("arn:aws:connect:eu-west-2:111122223333:instance/i"), None);
    }

    #[test]
    fn flows_with_null_or_missing_endpoints_and_nested_parameters_are_accepted() {
        let instance = "arn:aws:connect:us-east-1:123456789012:instance/i-1";
        for contact in [
            json!({"ContactId": "c-1", "InstanceARN": instance, "CustomerEndpoint": null, "SystemEndpoint": null, "Queue": null, "Attributes": null}),
            json!({"ContactId": "c-1", "InstanceARN": instance, "Channel": "TASK", "Unknown": {"x": [1, 2]}}),
        ] {
            let Inbound::ContactFlow(event) = classify(flow(contact, json!({"meta": {"a": [1]}, "urgent": true}))).unwrap() else {
                panic!("not a flow")
            };
            assert_eq!(event.key, "c-1");
            assert_eq!(event.contact_arn.as_deref(), Some("arn:aws:connect:us-east-1:123456789012:instance/i-1/contact/c-1"));
        }
    }

    #[test]
    fn a_flow_without_contact_id_is_refused_clearly() {
        let error = classify(flow(json!({"ContactId": 5}), json!({}))).unwrap_err();
        assert!(error.0.contains("ContactId"), "{error}");
        let error = classify(json!({"Name": "ContactFlowEvent", "Details": {"ContactData": "+15550100"}})).unwrap_err();
        assert!(error.0.contains("Details.ContactData") && !error.0.contains("5550100"), "described, not echoed: {error}");
    }

    #[test]
    fn eventbridge_kinds_contacts_and_performers() {
        for detail in [
            json!({"contactId": "c-9", "instanceArn": "arn:aws:connect:r:1:instance/i"}),
            json!({"ContactId": "c-9", "InstanceArn": "arn:aws:connect:r:1:instance/i"}),
        ] {
            let contact = json!({"id": "e-1", "source": "aws.connect", "detail-type": "Amazon Connect Contact Event", "detail": detail});
            let Inbound::EventBridge(event) = classify(contact).unwrap() else { panic!() };
            assert_eq!((event.kind, event.key.as_str()), (EventKind::ContactEvent, "e-1"));
            assert_eq!(event.contact_arn.as_deref(), Some("arn:aws:connect:r:1:instance/i/contact/c-9"));
        }

        let cases = json!({"id": "e-2", "source": "aws.cases", "detail-type": "Amazon Connect Cases Change",
            "detail": {"performedBy": {"user": {"customEntity": "bot"}}}});
        let Inbound::EventBridge(event) = classify(cases).unwrap() else { panic!() };
        assert_eq!(event.performer, Some(Performer::CustomEntity("bot".into())));

        let custom = json!({"id": "e-3", "source": "com.example", "detail-type": "X", "detail": {}});
        let Inbound::EventBridge(event) = classify(custom).unwrap() else { panic!() };
        assert_eq!(event.kind, EventKind::Custom);
    }

    #[test]
    fn the_instance_of_a_contact_event_in_every_documented_spelling_and_of_a_flow() {
        let instance = "arn:aws:connect:us-west-2:123456789012:instance/12345678-1234-1234-1234-123456789012";
        let contact = |detail: Value, resources: Value| {
            let event = json!({"id": "e", "source": "aws.connect", "detail-type": "Amazon Connect Contact Event",
                               "resources": resources, "detail": detail});
            let Inbound::EventBridge(event) = classify(event).unwrap() else { panic!("not EventBridge") };
            event
        };
        for key in INSTANCE_ARN_KEYS {
            let event = contact(json!({"contactId": "c-1", key: instance}), json!([]));
            assert_eq!(event.instance_arn(), Some(instance), "detail.{key}");
            assert_eq!(event.contact_arn.as_deref(), Some(format!("{instance}/contact/c-1").as_str()), "detail.{key}");
        }
        // Only in `resources`: the instance ARN, or the contact ARN alone.
        let event = contact(json!({"contactId": "c-1"}), json!([format!("{instance}/contact/c-1"), instance]));
        assert_eq!(event.instance_arn(), Some(instance));
        assert_eq!(event.contact_arn.as_deref(), Some(format!("{instance}/contact/c-1").as_str()));
        assert_eq!(contact(json!({"contactId": "c-1"}), json!([format!("{instance}/contact/c-1")])).instance_arn(), Some(instance));
        assert_eq!(contact(json!({"contactId": "c-1"}), json!(["arn:aws..."])).instance_arn(), None, "a placeholder is no instance");
        assert_eq!(contact(json!({"contactId": "c-1"}), Value::Null).instance_arn(), None);

        let flow = classify(flow(json!({"ContactId": "c-1", "InstanceARN": instance}), json!({}))).unwrap();
        let Inbound::ContactFlow(flow) = flow else { panic!("not a flow") };
        assert_eq!(flow.instance_arn(), Some(instance));
        let custom = classify(json!({"id": "e", "source": "s", "detail-type": "t", "detail": {"instanceArn": instance}})).unwrap();
        let Inbound::EventBridge(custom) = custom else { panic!() };
        assert_eq!(custom.instance_arn(), None, "only contact flows and contact events come from an instance");

        assert!(is_instance_arn(instance));
        assert!(is_instance_arn("arn:aws-us-gov:connect:us-gov-west-1:123456789012:instance/i-1"));
        for bad in [
            "arn:aws:connect:us-west-2:123456789012:instance/i/contact/c",
            "arn:aws:connect:us-west-2:1234:instance/i",
            "arn:aws:cases:us-west-2:123456789012:instance/i",
            "arn:aws:connect:us-west-2:123456789012:instance/",
            "instanceArn",
        ] {
            assert!(!is_instance_arn(bad), "{bad}");
        }
    }

    #[test]
    fn eventbridge_envelope_errors_name_the_field() {
        for (payload, needle) in [
            (json!({"source": "s", "detail-type": "t", "detail": {}}), "`id` is missing"),
            (json!({"id": 1, "source": "s", "detail-type": "t", "detail": {}}), "`id` must be"),
            (json!({"id": "1", "source": "s", "detail-type": "t", "detail": "x"}), "`detail` must be an object"),
        ] {
            let error = classify(payload).unwrap_err();
            assert!(error.0.contains(needle), "{error}");
        }
    }

    #[test]
    fn sqs_records_fail_one_by_one() {
        let good = json!({"id": "e-1", "source": "s", "detail-type": "t", "detail": {}}).to_string();
        let batch = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": good},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": "{\"a\": 1}"},
        ]});
        let Inbound::SqsBatch(records) = classify(batch).unwrap() else { panic!() };
        assert!(records[0].body.is_ok());
        assert!(records[1].body.as_ref().unwrap_err().0.contains("not JSON"));
        assert!(records[2].body.as_ref().unwrap_err().0.contains("`id` is missing"));

        // A body that is not text fails its record only; a record without a usable id fails the
        // batch. Neither message quotes the value.
        let batch = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": {"phone": "+15550100"}}]});
        let Inbound::SqsBatch(records) = classify(batch).unwrap() else { panic!() };
        let error = records[0].body.as_ref().unwrap_err();
        assert!(error.0.contains("an object instead of text") && !error.0.contains("5550100"), "{error}");
        let error = classify(json!({"Records": [{"messageId": 15550100, "eventSource": "aws:sqs", "body": "{}"}]})).unwrap_err();
        assert!(error.0.contains("messageId") && !error.0.contains("5550100"), "{error}");
    }

    #[test]
    fn unrecognised_payloads_say_what_was_expected() {
        for payload in [json!([1]), json!("x"), json!({"hello": "world"}), json!({"Records": [{"eventSource": "aws:s3"}]})] {
            let error = classify(payload).unwrap_err();
            assert!(error.0.starts_with("unrecognised payload"), "{error}");
        }
        let error = classify(json!({"hello": "world"})).unwrap_err();
        assert!(error.0.contains("[hello]") && error.0.contains("EventBridge"), "{error}");
    }
}
