//! The search index trails the writes by the search lag, measured on the service clock: through
//! the real SDK, moving the clock instead of sleeping.
//!
//! The clock runs in real time, so "not found yet" can only be asserted when the write and the
//! search both fit in the lag. Each such check notes the time before the write and, after the
//! search, asserts only if the clock is still short of that time plus the lag; a machine too
//! stalled for that gets another attempt with a fresh case (`ATTEMPTS`).

mod common;

use std::time::Duration;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::*;
use cases_emulator::time::OffsetDateTime;
use cases_emulator::{Emulator, demo};
use common::http::request;
use common::*;

const LAG: Duration = Duration::from_secs(1);
const ATTEMPTS: usize = 5;

fn lag() -> cases_emulator::time::Duration {
    cases_emulator::time::Duration::try_from(LAG).unwrap()
}

fn title_is(title: &str) -> CaseFilter {
    CaseFilter::Field(FieldFilter::EqualTo(
        FieldValue::builder().id("title").value(FieldValueUnion::StringValue(title.into())).build().unwrap(),
    ))
}

/// (case ids, totalCount, titles returned) of a SearchCases by title.
async fn search_title(c: &Client, title: &str) -> (Vec<String>, i64, Vec<String>) {
    let out = c.search_cases().domain_id(DOMAIN).filter(title_is(title)).fields(fid("title")).send().await.unwrap();
    let ids = out.cases().iter().flatten().map(|x| x.case_id().to_string()).collect();
    let titles = out
        .cases()
        .iter()
        .flatten()
        .flat_map(|x| x.fields().iter().filter_map(|f| f.value().and_then(|v| v.as_string_value().ok()).cloned()))
        .collect();
    (ids, out.total_count(), titles)
}

/// True when a search that returned by now certainly ran before a write made after `before`
/// was indexed.
fn before_indexing(emu: &Emulator, before: OffsetDateTime) -> bool {
    emu.now() < before + lag()
}

#[tokio::test]
async fn a_created_case_is_found_only_once_the_lag_has_passed() {
    let (emu, c) = start_with(Emulator::builder().search_lag(LAG)).await;
    for attempt in 1..=ATTEMPTS {
        let title = format!("new case {attempt}");
        let before = emu.now();
        let id = create_case(&c, &title, vec![]).await;
        let (found, total, _) = search_title(&c, &title).await;
        // read-your-writes by id meanwhile
        assert_eq!(get_field(&c, &id, "title").await, Some(FieldValueUnion::StringValue(title.clone())));
        if !before_indexing(&emu, before) {
            continue;
        }
        assert!(found.is_empty(), "attempt {attempt}: found before the lag passed: {found:?}");
        assert_eq!(total, 0);
        emu.advance_clock(LAG);
        let (found, total, titles) = search_title(&c, &title).await;
        assert_eq!(found, [id]);
        assert_eq!(total, 1);
        assert_eq!(titles, [title]);
        return;
    }
    panic!("no write + search fitted in the {LAG:?} lag in {ATTEMPTS} attempts");
}

#[tokio::test]
async fn an_updated_case_is_found_by_its_old_values_until_the_lag_has_passed() {
    let (emu, c) = start_with(Emulator::builder().search_lag(LAG)).await;
    for attempt in 1..=ATTEMPTS {
        let (old, new) = (format!("old title {attempt}"), format!("new title {attempt}"));
        let id = create_case(&c, &old, vec![]).await;
        emu.advance_clock(LAG);
        assert_eq!(search_title(&c, &old).await.0, std::slice::from_ref(&id));

        let before = emu.now();
        c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", &new)).send().await.unwrap();
        let by_old = search_title(&c, &old).await;
        let by_new = search_title(&c, &new).await;
        if !before_indexing(&emu, before) {
            continue;
        }
        assert_eq!(by_old, (vec![id.clone()], 1, vec![old.clone()]), "attempt {attempt}: the old version, with its old fields");
        assert_eq!(by_new, (vec![], 0, vec![]));
        emu.advance_clock(LAG);
        assert_eq!(search_title(&c, &old).await, (vec![], 0, vec![]));
        assert_eq!(search_title(&c, &new).await, (vec![id], 1, vec![new]));
        return;
    }
    panic!("no write + search fitted in the {LAG:?} lag in {ATTEMPTS} attempts");
}

#[tokio::test]
async fn a_deleted_case_keeps_appearing_until_the_lag_has_passed() {
    let (emu, c) = start_with(Emulator::builder().search_lag(LAG)).await;
    for attempt in 1..=ATTEMPTS {
        let title = format!("doomed {attempt}");
        let id = create_case(&c, &title, vec![]).await;
        emu.advance_clock(LAG);
        let before = emu.now();
        c.delete_case().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
        let found = search_title(&c, &title).await.0;
        if !before_indexing(&emu, before) {
            continue;
        }
        assert_eq!(found, std::slice::from_ref(&id));
        emu.advance_clock(LAG);
        assert!(search_title(&c, &title).await.0.is_empty());
        return;
    }
    panic!("no write + search fitted in the {LAG:?} lag in {ATTEMPTS} attempts");
}

#[tokio::test]
async fn with_no_lag_searches_read_the_writes() {
    let (emu, c) = start().await;
    assert_eq!(emu.search_lag(), Duration::ZERO);
    let id = create_case(&c, "at once", vec![]).await;
    assert_eq!(search_title(&c, "at once").await.0, std::slice::from_ref(&id));
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "changed")).send().await.unwrap();
    assert!(search_title(&c, "at once").await.0.is_empty());
    assert_eq!(search_title(&c, "changed").await.0, std::slice::from_ref(&id));
    comment(&c, &id, "noted").await;
    assert_eq!(comments_of(&c, &id).await, ["noted"]);
    c.delete_case().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    assert!(search_title(&c, "changed").await.0.is_empty());
}

async fn comment(c: &Client, case_id: &str, body: &str) -> String {
    c.create_related_item()
        .domain_id(DOMAIN)
        .case_id(case_id)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body(body).content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .send()
        .await
        .unwrap()
        .related_item_id
}

async fn comments_of(c: &Client, case_id: &str) -> Vec<String> {
    let out = c.search_related_items().domain_id(DOMAIN).case_id(case_id).send().await.unwrap();
    out.related_items()
        .iter()
        .flatten()
        .filter_map(|i| match i.content() {
            Some(RelatedItemContent::Comment(cm)) => Some(cm.body().to_string()),
            _ => None,
        })
        .collect()
}

async fn all_contact_cases(c: &Client, contact_arn: &str) -> Vec<String> {
    let out = c
        .search_all_related_items()
        .domain_id(DOMAIN)
        .filters(RelatedItemTypeFilter::Contact(ContactFilter::builder().contact_arn(contact_arn).build()))
        .send()
        .await
        .unwrap();
    out.related_items().iter().flatten().map(|i| i.case_id().to_string()).collect()
}

#[tokio::test]
async fn related_item_searches_lag_while_get_case_and_list_cases_for_contact_do_not() {
    let (emu, c) = start_with(Emulator::builder().search_lag(LAG)).await;
    for attempt in 1..=ATTEMPTS {
        let id = create_case(&c, &format!("with items {attempt}"), vec![]).await;
        comment(&c, &id, "first").await;
        emu.advance_clock(LAG);
        assert_eq!(comments_of(&c, &id).await, ["first"]);

        let contact_arn = format!("arn:aws:connect:us-east-1:123456789012:instance/i/contact/lag-{attempt}");
        let before = emu.now();
        comment(&c, &id, "second").await;
        c.create_related_item()
            .domain_id(DOMAIN)
            .case_id(&id)
            .r#type(RelatedItemType::Contact)
            .content(RelatedItemInputContent::Contact(Contact::builder().contact_arn(&contact_arn).build().unwrap()))
            .send()
            .await
            .unwrap();
        c.update_case().domain_id(DOMAIN).case_id(&id).fields(s(demo::FIELD_ORDER_NUMBER, "ORD-1")).send().await.unwrap();
        let comments = comments_of(&c, &id).await;
        let by_contact = all_contact_cases(&c, &contact_arn).await;
        let listed = c.list_cases_for_contact().domain_id(DOMAIN).contact_arn(&contact_arn).send().await.unwrap();
        let order = get_field(&c, &id, demo::FIELD_ORDER_NUMBER).await;
        if !before_indexing(&emu, before) {
            continue;
        }
        // the searches show the indexed items: the earlier comment stays, the new ones are not there yet
        assert_eq!(comments, ["first"], "attempt {attempt}");
        assert!(by_contact.is_empty());
        // GetCase and ListCasesForContact read their own writes
        assert_eq!(listed.cases().iter().map(|x| x.case_id()).collect::<Vec<_>>(), [id.as_str()]);
        assert_eq!(order, Some(FieldValueUnion::StringValue("ORD-1".into())));

        emu.advance_clock(LAG);
        assert_eq!(comments_of(&c, &id).await, ["second", "first"]);
        assert_eq!(all_contact_cases(&c, &contact_arn).await, [id]);
        return;
    }
    panic!("no write + search fitted in the {LAG:?} lag in {ATTEMPTS} attempts");
}

#[tokio::test]
async fn the_lag_applies_to_the_writes_after_it_is_set() {
    let (emu, c) = start().await;
    let base = emu.endpoint_url();
    let r = request(&base, "PUT", "/_emulator/search-lag", Some(r#"{"ms": 60000}"#)).await;
    assert_eq!((r.status, r.json()["ms"].as_u64()), (200, Some(60_000)), "{}", r.body);
    assert_eq!(request(&base, "GET", "/_emulator/search-lag", None).await.json()["ms"], 60_000);
    assert_eq!(emu.search_lag(), Duration::from_secs(60));

    // the margin: a create and a search take far less than the minute of lag
    let id = create_case(&c, "a minute behind", vec![]).await;
    assert!(search_title(&c, "a minute behind").await.0.is_empty());
    emu.advance_clock(Duration::from_secs(60));
    assert_eq!(search_title(&c, "a minute behind").await.0, std::slice::from_ref(&id));

    // back to 0: the next write is searchable at once
    emu.set_search_lag(Duration::ZERO);
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "caught up")).send().await.unwrap();
    assert_eq!(search_title(&c, "caught up").await.0, [id]);

    for bad in [r#"{"ms": -1}"#, r#"{"ms": "5"}"#, r#"{"ms": 86400001}"#, r#"{"lag": 5}"#, "nope"] {
        let r = request(&base, "PUT", "/_emulator/search-lag", Some(bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(emu.search_lag(), Duration::ZERO, "refused requests change nothing");
}

#[tokio::test]
async fn superseded_versions_are_dropped_once_a_newer_one_is_indexed() {
    let (emu, c) = start_with(Emulator::builder().search_lag(Duration::from_secs(3600))).await;
    let id = create_case(&c, "v0", vec![]).await;
    for i in 1..=10 {
        c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", &format!("v{i}"))).send().await.unwrap();
    }
    // the 11 case versions wait for the lag
    assert_eq!(emu.backend().index_versions(), 11);
    emu.advance_clock(Duration::from_secs(3600));
    // the next write compacts: one indexed version, plus the new one waiting
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("title", "v11")).send().await.unwrap();
    assert_eq!(emu.backend().index_versions(), 2);
    assert_eq!(search_title(&c, "v10").await.0, [id]);
}

#[tokio::test]
async fn tagging_a_case_reaches_the_index_like_any_write() {
    let (emu, c) = start_with(Emulator::builder().search_lag(Duration::from_secs(3600))).await;
    let id = create_case(&c, "tagged", vec![]).await;
    let arn = format!("arn:aws:cases:us-east-1:123456789012:domain/{DOMAIN}/case/{id}");
    let by_tag = || async {
        let filter = CaseFilter::Tag(TagFilter::EqualTo(TagValue::builder().key("team").value("fraud").build()));
        let out = c.search_cases().domain_id(DOMAIN).filter(filter).send().await.unwrap();
        out.cases().iter().flatten().map(|x| x.case_id().to_string()).collect::<Vec<_>>()
    };
    emu.advance_clock(Duration::from_secs(3600));
    c.tag_resource().arn(&arn).tags("team", Some("fraud".to_string())).send().await.unwrap();
    // the margin: tagging and searching take far less than the hour of lag
    assert!(by_tag().await.is_empty());
    emu.advance_clock(Duration::from_secs(3600));
    assert_eq!(by_tag().await, std::slice::from_ref(&id));
    c.untag_resource().arn(&arn).tag_keys("team").send().await.unwrap();
    emu.advance_clock(Duration::from_secs(3600));
    assert!(by_tag().await.is_empty());
}
