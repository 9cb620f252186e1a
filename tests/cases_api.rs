//! The Cases API beyond the first rules, end to end: case tags, custom and linked-case related
//! items, the automation's own items kept as one and edited, and contact attributes. Each runs
//! the function's handler with the coordination store (moto) against the local Cases service,
//! through the real SDK clients, and reads back what it wrote, audit trail included.

mod support;

use std::time::Duration;

use aws_sdk_connectcases::types::{CaseFilter, RelatedItemContent, TagFilter, TagValue, UserUnion};
use cases_automation::claims::ClaimStore;
use cases_automation::customers::ProfilesApi;
use cases_automation::error::Error;
use cases_automation::handler::{App, Invocation};
use cases_automation::rules::RuleSet;
use serde_json::{Value, json};
use support::cases_service::{self, DOMAIN, IDENTITY};
use support::lambda::{StoreApp, instance_with_store};
use support::{moto, readback};

const CUSTOMER: &str = "arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/f768064f958507ad239eed24c2c063fe";

async fn handle<C: cases_automation::cases::CasesApi, P: ProfilesApi, S: ClaimStore, K: cases_automation::contacts::ContactsApi>(
    app: &App<C, P, S, K>,
    payload: Value,
) -> Result<Value, Error> {
    let invocation = Invocation {
        deadline: std::time::Instant::now() + Duration::from_secs(30),
        function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:cases-automation".into()),
    };
    app.handle(payload, &invocation).await
}

/// One instance with the coordination store on a table of its own, and `rules`.
async fn instance(service: &cases_emulator::Emulator, rules: &str) -> StoreApp {
    instances(service, rules, 1).await.pop().unwrap()
}

/// `n` instances (each with its own clients and caches) sharing one coordination store.
async fn instances(service: &cases_emulator::Emulator, rules: &str, n: usize) -> Vec<StoreApp> {
    let table = moto::claims_table().await;
    (0..n).map(|_| instance_with_store(service, RuleSet::from_yaml(rules, "test rules").unwrap(), &[], &table)).collect()
}

/// A case opened by an agent, as the events below name it.
async fn agent_case(client: &aws_sdk_connectcases::Client, title: &str) -> String {
    use aws_sdk_connectcases::types::{FieldValue, FieldValueUnion};
    let field = |id: &str, v: &str| FieldValue::builder().id(id).value(FieldValueUnion::StringValue(v.into())).build().unwrap();
    client
        .create_case()
        .domain_id(DOMAIN)
        .template_id(cases_emulator::demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(field("title", title))
        .fields(field("customer_id", CUSTOMER))
        .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into()))
        .send()
        .await
        .unwrap()
        .case_id()
        .to_owned()
}

/// The related items of a case with who created them (customEntity).
async fn items(client: &aws_sdk_connectcases::Client, case_id: &str) -> Vec<(RelatedItemContent, Option<String>)> {
    readback::related_items(client, case_id)
        .await
        .into_iter()
        .map(|(content, who)| (content, who.and_then(|u| u.as_custom_entity().ok().cloned())))
        .collect()
}

fn order_event(id: &str, order: &str, extra: Value) -> Value {
    let mut detail = json!({"orderNumber": order, "customerProfileArn": CUSTOMER});
    detail.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({"version": "0", "id": id, "source": "com.example.orders", "detail-type": "Order Update",
           "time": "2026-12-01T10:00:00Z", "region": "us-east-1", "account": "123456789012", "detail": detail})
}

fn case_of(outcome: &Value) -> String {
    outcome.pointer("/results/0/caseId").and_then(Value::as_str).unwrap_or_else(|| panic!("no case: {outcome}")).to_owned()
}

fn only_automation(audit: &[(String, Option<String>)]) {
    assert!(!audit.is_empty());
    assert!(audit.iter().all(|(_, who)| who.as_deref() == Some(IDENTITY)), "every change under the automation's name: {audit:?}");
}

// ---- tags -------------------------------------------------------------------------------------

const TAGGED: &str = r#"
rules:
  - name: tagged-order
    match: { source: [com.example.orders] }
    case:
      create:
        template: Order issue
        fields:
          title: "Order {{ detail.orderNumber }}"
          customer_id: $.detail.customerProfileArn
          Order number: $.detail.orderNumber
        tags:
          Department: Orders
          "{{ detail.region }}": $.detail.tier
"#;

#[tokio::test]
async fn a_new_case_carries_the_rules_tags_for_access_control_and_search() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let app = instance(&service, TAGGED).await;

    let outcome = handle(&app, order_event("e-tag-1", "ORD-1", json!({"region": "emea", "tier": "gold"}))).await.unwrap();
    let case_id = case_of(&outcome);
    let arn = format!("arn:aws:cases:us-east-1:123456789012:domain/{DOMAIN}/case/{case_id}");
    let tags = client.list_tags_for_resource().arn(&arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.get("Department"), Some(&Some("Orders".to_owned())));
    assert_eq!(tags.get("emea"), Some(&Some("gold".to_owned())));

    let filter = |key: &str, value: &str| CaseFilter::Tag(TagFilter::EqualTo(TagValue::builder().key(key).value(value).build()));
    let found = client.search_cases().domain_id(DOMAIN).filter(filter("emea", "gold")).send().await.unwrap();
    assert_eq!(found.cases().iter().flatten().map(|c| c.case_id()).collect::<Vec<_>>(), [case_id.as_str()]);
    let none = client.search_cases().domain_id(DOMAIN).filter(filter("emea", "silver")).send().await.unwrap();
    assert!(none.cases().is_empty());
    only_automation(&readback::audit_events(&client, &case_id).await);

    // A redelivery returns the same case: the tags are part of the request its token stands for.
    let again = handle(&app, order_event("e-tag-1", "ORD-1", json!({"region": "emea", "tier": "gold"}))).await.unwrap();
    assert_eq!(case_of(&again), case_id);
    assert_eq!(readback::all_cases(&client).await.len(), 1);

    // A tag value the API would refuse is refused before anything is written.
    let writes = service.writes();
    let error = handle(&app, order_event("e-tag-2", "ORD-2", json!({"region": "emea", "tier": "gold; drop"}))).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    assert!(error.message.contains("case.create.tags") && !error.message.contains("drop"), "{error}");
    assert_eq!(service.writes(), writes, "nothing written");
}

// ---- custom related items ---------------------------------------------------------------------

const ORDER_RECORD: &str = r#"
rules:
  - name: order-record
    match: { source: [com.example.orders] }
    case:
      find:
        - id: $.detail.caseId
    actions:
      - custom:
          fields:
            Order number: $.detail.orderNumber
            Order total: $.detail.total
            Priority: $.detail.priority
"#;

#[tokio::test]
async fn a_custom_item_is_written_once_with_typed_values_under_every_kind_of_redelivery() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let case_id = agent_case(&client, "Order questions").await;
    let apps = instances(&service, ORDER_RECORD, 3).await;
    let event = order_event("e-rec-1", "ORD-7", json!({"caseId": case_id, "total": "42.5", "priority": "high"}));

    // Three instances at once, then three redeliveries one after the other.
    let at_once = futures_util::future::join_all(apps.iter().map(|app| handle(app, event.clone()))).await;
    assert!(at_once.iter().all(Result::is_ok), "{at_once:?}");
    for app in &apps {
        handle(app, event.clone()).await.unwrap();
    }
    let found = items(&client, &case_id).await;
    let customs: Vec<_> = found.iter().filter_map(|(c, who)| Some((c.as_custom().ok()?, who))).collect();
    assert_eq!(customs.len(), 1, "one custom item: {found:#?}");
    let (custom, who) = customs[0];
    assert_eq!(who.as_deref(), Some(IDENTITY));
    let value = |id: &str| custom.fields().iter().find(|f| f.id() == id).and_then(|f| f.value().cloned());
    assert_eq!(value(readback::ORDER_NUMBER).and_then(|v| v.as_string_value().ok().cloned()).as_deref(), Some("ORD-7"));
    assert_eq!(
        value(cases_emulator::demo::FIELD_ORDER_TOTAL).and_then(|v| v.as_double_value().ok().copied()),
        Some(42.5),
        "typed by its field"
    );
    assert_eq!(value(readback::PRIORITY).and_then(|v| v.as_string_value().ok().cloned()).as_deref(), Some("high"));

    // Another event with other values adds its own record; the custom filter finds each.
    handle(&apps[0], order_event("e-rec-2", "ORD-8", json!({"caseId": case_id, "total": 3, "priority": "low"}))).await.unwrap();
    use aws_sdk_connectcases::types::{CustomFieldsFilter, CustomFilter, FieldFilter, FieldValue, FieldValueUnion, RelatedItemTypeFilter};
    let by_order = |order: &str| {
        let equal = FieldValue::builder().id(readback::ORDER_NUMBER).value(FieldValueUnion::StringValue(order.into())).build().unwrap();
        RelatedItemTypeFilter::Custom(CustomFilter::builder().fields(CustomFieldsFilter::Field(FieldFilter::EqualTo(equal))).build())
    };
    for order in ["ORD-7", "ORD-8"] {
        let out = client.search_related_items().domain_id(DOMAIN).case_id(&case_id).filters(by_order(order)).send().await.unwrap();
        assert_eq!(out.related_items().len(), 1, "{order}");
    }
    let audit = readback::audit_events(&client, &case_id).await;
    assert_eq!(audit.iter().filter(|(kind, _)| kind == "RelatedItem.Created").count(), 2);
    only_automation(&audit[1..]);

    // A value that does not fit its field is refused before anything is written.
    let writes = service.writes();
    let error = handle(&apps[0], order_event("e-rec-3", "ORD-9", json!({"caseId": case_id, "total": "lots", "priority": "high"})))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    assert!(error.message.contains("actions[0].custom.fields.Order total"), "{error}");
    let error =
        handle(&apps[0], order_event("e-rec-4", "ORD-9", json!({"caseId": case_id, "total": 1, "priority": "someday"}))).await.unwrap_err();
    assert!(error.message.contains("not one of the options of field `Priority`"), "{error}");
    assert_eq!(service.writes(), writes, "nothing written");
}

// ---- linked cases -------------------------------------------------------------------------------

/// The open order case of Sam Lee in the demo seed (the caller of the abandoned-call sample).
const SAM_LEES_OPEN_CASE: &str = "068c193b-f65c-4902-9f77-7337923fe54e";

#[tokio::test]
async fn a_callback_case_is_linked_once_to_the_callers_open_case() {
    let service = cases_service::start_with(cases_emulator::Seed::demo()).await;
    let client = cases_service::client(&service);
    let table = moto::claims_table().await;
    let apps: Vec<StoreApp> = (0..3).map(|_| instance_with_store(&service, RuleSet::default_rules(), &[], &table)).collect();
    let event = support::lambda::sample("contact-disconnected-abandoned.json");

    let at_once = futures_util::future::join_all(apps.iter().map(|app| handle(app, event.clone()))).await;
    let outcomes: Vec<Value> = at_once.into_iter().map(Result::unwrap).collect();
    let callback = case_of(&outcomes[0]);
    assert!(outcomes.iter().all(|o| case_of(o) == callback), "one callback case: {outcomes:?}");
    handle(&apps[1], event.clone()).await.unwrap();

    let links: Vec<(String, Option<String>)> = items(&client, &callback)
        .await
        .into_iter()
        .filter_map(|(content, who)| Some((content.as_connect_case().ok()?.case_id().to_owned(), who)))
        .collect();
    assert_eq!(links, [(SAM_LEES_OPEN_CASE.to_owned(), Some(IDENTITY.to_owned()))], "linked once, by the automation");
    only_automation(&readback::audit_events(&client, &callback).await);
    let statuses: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| o["results"][0]["actions"].as_array().unwrap().iter())
        .filter(|a| a["action"] == "linkCase")
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "done").count(), 1, "{statuses:?}");

    // A caller without another open case: nothing to link, and the rule goes on.
    let mut other = event.clone();
    other["id"] = json!("abandoned-new-caller");
    other["detail"]["contactId"] = json!("abandoned-new-caller-contact");
    other["detail"]["customerEndpoint"]["address"] = json!("+12065550162");
    let outcome = handle(&apps[0], other).await.unwrap();
    let link = outcome["results"][0]["actions"].as_array().unwrap().iter().find(|a| a["action"] == "linkCase").unwrap().clone();
    assert_eq!(link["status"], "not-found", "{outcome}");
    assert!(items(&client, &case_of(&outcome)).await.iter().all(|(c, _)| !c.is_connect_case()));
}

#[tokio::test]
async fn a_link_to_a_case_named_by_the_event_and_one_that_must_be_found() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let parent = agent_case(&client, "Parent").await;
    let child = agent_case(&client, "Child").await;
    let rules = r#"
rules:
  - name: link-named
    match: { source: [com.example.orders], detail-type: [Order Update] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - linkCase: { caseId: $.detail.parentCaseId }
  - name: link-required
    match: { source: [com.example.orders], detail-type: [Order Update], detail: { strict: [true] } }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - linkCase:
          find: [ { search: { fields: { title: "No such case" } } } ]
          ifMissing: fail
"#;
    let app = instance(&service, rules).await;
    let event = |id: &str, strict: bool| order_event(id, "ORD-1", json!({"caseId": child, "parentCaseId": parent, "strict": strict}));
    handle(&app, event("e-link-1", false)).await.unwrap();
    handle(&app, event("e-link-2", false)).await.unwrap();
    let links: Vec<String> =
        items(&client, &child).await.into_iter().filter_map(|(c, _)| Some(c.as_connect_case().ok()?.case_id().to_owned())).collect();
    assert_eq!(links, std::slice::from_ref(&parent), "one link whatever the event");

    let writes = service.writes();
    let error = handle(&app, event("e-link-3", true)).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.CaseNotFound", "{error}");
    assert!(error.message.contains("actions[0].linkCase") && error.message.contains("found no case to link"), "{error}");
    // The first rule linked nothing new (already linked): no write happened for this event.
    assert_eq!(service.writes(), writes);
}

// ---- the automation's own items, kept as one and edited ------------------------------------------

const ORDER_STATUS: &str = r#"
rules:
  - name: order-status
    match: { source: [com.example.orders], detail-type: [Order Status] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - comment:
          body: "Order {{ detail.orderNumber }}: {{ detail.status }}"
          mode: keep-one
          key: "{{ detail.orderNumber }}"
"#;

fn status_event(id: &str, case_id: &str, order: &str, status: &str, time: &str) -> Value {
    json!({"version": "0", "id": id, "source": "com.example.orders", "detail-type": "Order Status", "time": time,
           "region": "us-east-1", "account": "123456789012",
           "detail": {"caseId": case_id, "orderNumber": order, "status": status}})
}

fn action_status(outcome: &Value) -> String {
    outcome["results"][0]["actions"][0]["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_running_status_comment_is_kept_as_one_item_and_edited_in_event_order() {
    use aws_sdk_connectcases::types::{CommentBodyTextType, CommentContent, RelatedItemInputContent, RelatedItemType};
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let case_id = agent_case(&client, "Where is my order").await;
    // A person's comment on the case: never edited.
    client
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&case_id)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body("Customer called about ORD-1").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into()))
        .send()
        .await
        .unwrap();
    let apps = instances(&service, ORDER_STATUS, 3).await;
    let comments = || async { readback::comments(&client, &case_id).await };

    let packed = status_event("e-st-1", &case_id, "ORD-1", "packed", "2026-12-01T10:00:00Z");
    assert_eq!(action_status(&handle(&apps[0], packed.clone()).await.unwrap()), "done");
    let shipped = status_event("e-st-2", &case_id, "ORD-1", "shipped", "2026-12-01T11:00:00Z");
    assert_eq!(action_status(&handle(&apps[1], shipped.clone()).await.unwrap()), "done");
    let mut now = comments().await;
    now.sort();
    assert_eq!(now, ["Customer called about ORD-1", "Order ORD-1: shipped"], "one status comment, edited");

    // The older event retried after the newer one, and the newer one redelivered: nothing sent.
    let writes = service.writes();
    assert_eq!(action_status(&handle(&apps[2], packed).await.unwrap()), "stale");
    assert_eq!(action_status(&handle(&apps[0], shipped).await.unwrap()), "already-done");
    assert_eq!(service.writes(), writes, "nothing written");

    // A newer event delivered to three instances at once: one edit.
    let delivered = status_event("e-st-3", &case_id, "ORD-1", "delivered", "2026-12-01T12:00:00Z");
    let at_once = futures_util::future::join_all(apps.iter().map(|app| handle(app, delivered.clone()))).await;
    let statuses: Vec<String> = at_once.iter().map(|r| action_status(r.as_ref().unwrap())).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "done").count(), 1, "{statuses:?}");

    // Another order gets its own comment.
    handle(&apps[0], status_event("e-st-4", &case_id, "ORD-2", "packed", "2026-12-01T12:30:00Z")).await.unwrap();
    let mut now = comments().await;
    now.sort();
    assert_eq!(now, ["Customer called about ORD-1", "Order ORD-1: delivered", "Order ORD-2: packed"]);

    // The audit trail: one creation and two edits of ORD-1's comment, each under the automation's
    // name with the old and new text.
    let audit = client.get_case_audit_events().domain_id(DOMAIN).case_id(&case_id).max_results(25).send().await.unwrap();
    let updates: Vec<_> = audit.audit_events().iter().flatten().filter(|e| e.r#type().as_str() == "RelatedItem.Updated").collect();
    assert_eq!(updates.len(), 2, "{updates:#?}");
    for update in &updates {
        assert_eq!(update.performed_by().and_then(|p| p.user()), Some(&UserUnion::CustomEntity(IDENTITY.into())));
    }
    let body = updates[1].fields()[0].as_ref().unwrap();
    let text = |v: Option<&aws_sdk_connectcases::types::AuditEventFieldValueUnion>| v.and_then(|v| v.as_string_value().ok()).cloned();
    assert_eq!(text(body.old_value()).as_deref(), Some("Order ORD-1: shipped"));
    assert_eq!(text(body.new_value()).as_deref(), Some("Order ORD-1: delivered"));
}

#[tokio::test]
async fn keep_one_without_the_coordination_store_is_refused_clearly() {
    let service = cases_service::start().await;
    let client = cases_service::client(&service);
    let case_id = agent_case(&client, "No store").await;
    let app = support::lambda::instance(&service, RuleSet::from_yaml(ORDER_STATUS, "test").unwrap(), &[]);
    let writes = service.writes();
    let error = handle(&app, status_event("e-ns-1", &case_id, "ORD-1", "packed", "2026-12-01T10:00:00Z")).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.NeedsCoordinationStore", "{error}");
    assert!(error.message.contains("CLAIMS_TABLE"), "{error}");
    assert_eq!(service.writes(), writes);
}
