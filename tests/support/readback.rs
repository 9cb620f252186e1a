//! What the function wrote, read back from the local Cases service through the SDK (every page).

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{FieldIdentifier, FieldValueUnion, RelatedItemContent, UserUnion};

use super::cases_service::DOMAIN;

/// Custom field ids of the demo seed.
pub const PRIORITY: &str = "6f1e2d3c-0000-4000-8000-000000000005";
pub const ORDER_NUMBER: &str = "6f1e2d3c-0000-4000-8000-000000000002";
pub const PROMISED_BY: &str = "6f1e2d3c-0000-4000-8000-000000000006";

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

/// The case's audit history, oldest first: (event type, `performedBy.user.customEntity`).
pub async fn audit_events(client: &Client, case_id: &str) -> Vec<(String, Option<String>)> {
    let mut events = Vec::new();
    let mut next = None;
    loop {
        let out =
            client.get_case_audit_events().domain_id(DOMAIN).case_id(case_id).max_results(25).set_next_token(next).send().await.unwrap();
        events.extend(out.audit_events().iter().flatten().map(|e| {
            let who = e.performed_by().and_then(|p| p.user()).and_then(|u| u.as_custom_entity().ok()).cloned();
            (e.r#type().as_str().to_owned(), who)
        }));
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return events;
        }
    }
}
