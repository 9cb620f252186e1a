//! What the function wrote, read back from the local Cases service through the SDK (every page).

use std::collections::HashMap;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{FieldIdentifier, FieldValueUnion, RelatedItemContent, UserUnion};

use super::cases_service::DOMAIN;

/// Custom field ids of the demo seed.
pub const PRIORITY: &str = cases_emulator::demo::FIELD_PRIORITY;
pub const ORDER_NUMBER: &str = cases_emulator::demo::FIELD_ORDER_NUMBER;
pub const PROMISED_BY: &str = cases_emulator::demo::FIELD_PROMISED_BY;

/// Every case id in the domain.
pub async fn all_cases(client: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = None;
    loop {
        let out = client.search_cases().domain_id(DOMAIN).max_results(100).set_next_token(next).send().await.unwrap();
        ids.extend(out.cases().iter().flatten().map(|c| c.case_id().to_owned()));
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return ids;
        }
    }
}

/// Every related item of the case, with who created it.
pub async fn related_items(client: &Client, case_id: &str) -> Vec<(RelatedItemContent, Option<UserUnion>)> {
    let mut items = Vec::new();
    let mut next = None;
    loop {
        let out =
            client.search_related_items().domain_id(DOMAIN).case_id(case_id).max_results(25).set_next_token(next).send().await.unwrap();
        items.extend(out.related_items().iter().flatten().filter_map(|i| Some((i.content()?.clone(), i.performed_by().cloned()))));
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return items;
        }
    }
}

/// How many related items of each kind the case has: (contacts, comments, SLAs, files).
pub async fn item_counts(client: &Client, case_id: &str) -> (usize, usize, usize, usize) {
    let items = related_items(client, case_id).await;
    let count = |kind: fn(&RelatedItemContent) -> bool| items.iter().filter(|(c, _)| kind(c)).count();
    (
        count(|c| matches!(c, RelatedItemContent::Contact(_))),
        count(|c| matches!(c, RelatedItemContent::Comment(_))),
        count(|c| matches!(c, RelatedItemContent::Sla(_))),
        count(|c| matches!(c, RelatedItemContent::File(_))),
    )
}

/// The comment bodies of the case.
pub async fn comments(client: &Client, case_id: &str) -> Vec<String> {
    related_items(client, case_id).await.into_iter().filter_map(|(c, _)| c.as_comment().ok().map(|c| c.body().to_owned())).collect()
}

/// One field of the case, if it has a value.
pub async fn field(client: &Client, case_id: &str, field_id: &str) -> Option<FieldValueUnion> {
    let out = client
        .get_case()
        .domain_id(DOMAIN)
        .case_id(case_id)
        .fields(FieldIdentifier::builder().id(field_id).build().unwrap())
        .send()
        .await
        .unwrap();
    out.fields().iter().find(|f| f.id() == field_id).and_then(|f| f.value().cloned())
}

/// The text of a string field.
pub async fn text_field(client: &Client, case_id: &str, field_id: &str) -> Option<String> {
    field(client, case_id, field_id).await.and_then(|v| v.as_string_value().ok().cloned())
}

/// The template the case was created from.
pub async fn template_of(client: &Client, case_id: &str) -> String {
    let id = FieldIdentifier::builder().id("title").build().unwrap();
    client.get_case().domain_id(DOMAIN).case_id(case_id).fields(id).send().await.unwrap().template_id().to_owned()
}

/// Every field of the case that has a value, by field name.
pub async fn fields_by_name(client: &Client, case_id: &str) -> HashMap<String, FieldValueUnion> {
    let listed = client.list_fields().domain_id(DOMAIN).max_results(100).send().await.unwrap();
    let names: HashMap<&str, &str> = listed.fields().iter().map(|f| (f.field_id(), f.name())).collect();
    let mut request = client.get_case().domain_id(DOMAIN).case_id(case_id);
    for id in names.keys() {
        request = request.fields(FieldIdentifier::builder().id(*id).build().unwrap());
    }
    let case = request.send().await.unwrap();
    case.fields().iter().filter_map(|f| Some((names.get(f.id())?.to_string(), f.value()?.clone()))).collect()
}

/// The case's audit history, oldest first (every page): each event's type and who performed it.
pub async fn audit(client: &Client, case_id: &str) -> Vec<(String, Option<UserUnion>)> {
    let mut events = Vec::new();
    let mut next = None;
    loop {
        let out =
            client.get_case_audit_events().domain_id(DOMAIN).case_id(case_id).max_results(25).set_next_token(next).send().await.unwrap();
        events.extend(
            out.audit_events().iter().flatten().map(|e| (e.r#type().as_str().to_owned(), e.performed_by().and_then(|p| p.user().cloned()))),
        );
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return events;
        }
    }
}

/// Who performed each change of the case, oldest first (every page).
pub async fn performers(client: &Client, case_id: &str) -> Vec<Option<UserUnion>> {
    audit(client, case_id).await.into_iter().map(|(_, who)| who).collect()
}

/// The case's audit history, oldest first: (event type, `performedBy.user.customEntity`).
pub async fn audit_events(client: &Client, case_id: &str) -> Vec<(String, Option<String>)> {
    audit(client, case_id).await.into_iter().map(|(kind, who)| (kind, who.and_then(|u| u.as_custom_entity().ok().cloned()))).collect()
}

/// An agent in the Connect console: who changes cases by hand in the tests.
pub fn agent() -> UserUnion {
    UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into())
}

/// A "General inquiry" case created through the SDK, as an agent would, with this title.
pub async fn agent_case(client: &Client, title: &str) -> String {
    let field = |id: &str, v: &str| {
        aws_sdk_connectcases::types::FieldValue::builder().id(id).value(FieldValueUnion::StringValue(v.into())).build().unwrap()
    };
    client
        .create_case()
        .domain_id(DOMAIN)
        .template_id(cases_emulator::demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(field("title", title))
        .fields(field("customer_id", cases_emulator::demo::CUSTOMER_ID))
        .performed_by(agent())
        .send()
        .await
        .unwrap()
        .case_id()
        .to_owned()
}
