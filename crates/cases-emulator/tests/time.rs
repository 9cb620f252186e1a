//! The service clock drives every timestamp, writes never share one, and SLAs change status as
//! the clock moves: all through the real SDK.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_connectcases::types::*;
use cases_emulator::Emulator;
use cases_emulator::time::OffsetDateTime;
use cases_emulator::time::macros::datetime;
use common::*;

const T0: OffsetDateTime = datetime!(2030-01-01 00:00:00 UTC);

/// The wire text of a case field (string values only).
async fn field_text(c: &aws_sdk_connectcases::Client, case_id: &str, id: &str) -> String {
    match get_field(c, case_id, id).await {
        Some(FieldValueUnion::StringValue(s)) => s,
        other => panic!("{id}: {other:?}"),
    }
}

/// `at` lies between `from` and the emulator's current time.
fn assert_between(at: OffsetDateTime, from: OffsetDateTime, emu: &Emulator, what: &str) {
    let to = emu.now();
    assert!(from <= at && at <= to, "{what}: {at} not within {from} ..= {to}");
}

#[tokio::test]
async fn the_settable_clock_drives_every_timestamp() {
    let (emu, c) = start_with(Emulator::builder().force_events(true)).await;
    emu.set_clock(T0);
    assert!(emu.now() >= T0 && emu.now().year() == 2030, "{}", emu.now());

    let id = create_case(&c, "clocked", vec![]).await;
    let created = parse_time(&field_text(&c, &id, "created_datetime").await);
    assert_between(created, T0, &emu, "created_datetime");
    assert_eq!(field_text(&c, &id, "last_updated_datetime").await, field_text(&c, &id, "created_datetime").await);

    emu.advance_clock(Duration::from_secs(3 * 3600));
    let later = T0 + cases_emulator::time::Duration::hours(3);
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("status", "closed")).performed_by(bot()).send().await.unwrap();
    assert_between(parse_time(&field_text(&c, &id, "last_updated_datetime").await), later, &emu, "last_updated_datetime");
    assert_between(parse_time(&field_text(&c, &id, "last_closed_datetime").await), later, &emu, "last_closed_datetime");

    let contact = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Contact)
        .content(RelatedItemInputContent::Contact(Contact::builder().contact_arn("arn:aws:connect:c").build().unwrap()))
        .send()
        .await
        .unwrap();
    let sla = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Sla)
        .content(RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
            SlaInputConfiguration::builder().name("answer").r#type(SlaType::CaseField).target_sla_minutes(90).build().unwrap(),
        )))
        .send()
        .await
        .unwrap();
    let items = c.search_related_items().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    for item in items.related_items().iter().flatten() {
        let associated = to_time(item.association_time());
        assert_between(associated, later, &emu, "associationTime");
        match item.content().unwrap() {
            RelatedItemContent::Contact(cc) => {
                assert_eq!(item.related_item_id(), contact.related_item_id());
                assert_eq!(to_time(cc.connected_to_system_time()), associated);
            }
            RelatedItemContent::Sla(sc) => {
                assert_eq!(item.related_item_id(), sla.related_item_id());
                let target = to_time(sc.sla_configuration().unwrap().target_time());
                assert_eq!(target - associated, cases_emulator::time::Duration::minutes(90));
            }
            other => panic!("{other:?}"),
        }
    }

    let audit = c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    let times: Vec<OffsetDateTime> = audit.audit_events().iter().flatten().map(|e| to_time(e.performed_time())).collect();
    assert_eq!(times.len(), 4);
    assert_eq!(times[0], created);
    assert!(times[1..].iter().all(|t| *t >= later), "{times:?}");

    let events = emu.events();
    assert_eq!(events.len(), 4);
    assert_eq!(parse_time(events[0]["detail"]["approximateChangeTime"].as_str().unwrap()), created);
    for ev in &events[1..] {
        assert_between(parse_time(ev["detail"]["approximateChangeTime"].as_str().unwrap()), later, &emu, "approximateChangeTime");
        assert!(ev["time"].as_str().unwrap().starts_with("2030-01-01T0"), "{}", ev["time"]);
    }

    // the clock can jump back too, and timestamps follow it
    let earlier = datetime!(2029-06-01 00:00:00 UTC);
    emu.set_clock(earlier);
    let id2 = create_case(&c, "earlier", vec![]).await;
    assert_between(parse_time(&field_text(&c, &id2, "created_datetime").await), earlier, &emu, "after a backward jump");
}

#[tokio::test]
async fn writes_never_share_a_timestamp() {
    let (emu, c) = start().await;
    emu.set_clock(T0);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = c.clone();
        tasks.spawn(async move { create_case(&c, &format!("burst {i}"), vec![]).await });
    }
    let ids: Vec<String> = tasks.join_all().await;
    let mut created = BTreeSet::new();
    for id in &ids {
        created.insert(field_text(&c, id, "created_datetime").await);
    }
    assert_eq!(created.len(), ids.len(), "{created:?}");

    // the newest case is well defined: sorting by created_datetime puts the last write first
    let last = create_case(&c, "the last one", vec![]).await;
    let out = c
        .search_cases()
        .domain_id(DOMAIN)
        .sorts(Sort::builder().field_id("created_datetime").sort_order(Order::Descending).build().unwrap())
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.cases()[0].as_ref().unwrap().case_id(), last);

    // updates of one case in a row: strictly increasing audit times
    for i in 0..5 {
        c.update_case().domain_id(DOMAIN).case_id(&last).fields(s("title", &format!("v{i}"))).send().await.unwrap();
    }
    let audit = c.get_case_audit_events().domain_id(DOMAIN).case_id(&last).send().await.unwrap();
    let times: Vec<_> = audit.audit_events().iter().flatten().map(|e| to_time(e.performed_time())).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

fn sla_content(name: &str, minutes: i64) -> RelatedItemInputContent {
    RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
        SlaInputConfiguration::builder()
            .name(name)
            .r#type(SlaType::CaseField)
            .field_id("status")
            .target_field_values(FieldValueUnion::StringValue("closed".into()))
            .target_sla_minutes(minutes)
            .build()
            .unwrap(),
    ))
}

async fn add_sla(c: &aws_sdk_connectcases::Client, case_id: &str, name: &str, minutes: i64) {
    c.create_related_item()
        .domain_id(DOMAIN)
        .case_id(case_id)
        .r#type(RelatedItemType::Sla)
        .content(sla_content(name, minutes))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
}

/// (status, completion time) of the SLA of a case, read with SearchRelatedItems.
async fn sla_of(c: &aws_sdk_connectcases::Client, case_id: &str) -> (SlaStatus, Option<OffsetDateTime>) {
    let out = c.search_related_items().domain_id(DOMAIN).case_id(case_id).send().await.unwrap();
    let item = out.related_items().iter().flatten().find(|i| i.r#type() == &RelatedItemType::Sla).expect("an SLA");
    let RelatedItemContent::Sla(sc) = item.content().unwrap() else { panic!("{item:?}") };
    let cfg = sc.sla_configuration().unwrap();
    (cfg.status().clone(), cfg.completion_time().map(to_time))
}

/// Case ids with an SLA of `status`, from SearchAllRelatedItems's `sla.status` filter.
async fn cases_with_sla(c: &aws_sdk_connectcases::Client, status: SlaStatus) -> BTreeSet<String> {
    let out = c
        .search_all_related_items()
        .domain_id(DOMAIN)
        .filters(RelatedItemTypeFilter::Sla(SlaFilter::builder().status(status).build()))
        .send()
        .await
        .unwrap();
    out.related_items().iter().flatten().map(|i| i.case_id().to_string()).collect()
}

async fn close(c: &aws_sdk_connectcases::Client, case_id: &str) {
    c.update_case().domain_id(DOMAIN).case_id(case_id).fields(s("status", "closed")).performed_by(bot()).send().await.unwrap();
}

#[tokio::test]
async fn slas_change_status_as_the_clock_moves() {
    let (emu, c) = start().await;
    emu.set_clock(T0);
    let ignored = create_case(&c, "left alone", vec![]).await;
    let met = create_case(&c, "closed in time", vec![]).await;
    let late = create_case(&c, "closed late", vec![]).await;
    for id in [&ignored, &met, &late] {
        add_sla(&c, id, "close within an hour", 60).await;
    }
    assert_eq!(sla_of(&c, &ignored).await, (SlaStatus::Active, None));
    assert_eq!(cases_with_sla(&c, SlaStatus::Active).await, BTreeSet::from([ignored.clone(), met.clone(), late.clone()]));

    // closed before the target time: Met, with the completion time
    emu.advance_clock(Duration::from_secs(30 * 60));
    let closing = emu.now();
    close(&c, &met).await;
    let (status, completed) = sla_of(&c, &met).await;
    assert_eq!(status, SlaStatus::Met);
    assert_between(completed.expect("completion time"), closing, &emu, "completionTime");
    // other updates do not complete it
    c.update_case().domain_id(DOMAIN).case_id(&late).fields(s("status", "open")).send().await.unwrap();
    assert_eq!(sla_of(&c, &late).await, (SlaStatus::Active, None));

    // past the target time: the open ones are Overdue, the met one stays Met
    emu.advance_clock(Duration::from_secs(31 * 60));
    assert_eq!(sla_of(&c, &ignored).await, (SlaStatus::Overdue, None));
    assert_eq!(sla_of(&c, &late).await.0, SlaStatus::Overdue);
    assert_eq!(sla_of(&c, &met).await, (SlaStatus::Met, completed));
    assert_eq!(cases_with_sla(&c, SlaStatus::Overdue).await, BTreeSet::from([ignored.clone(), late.clone()]));
    assert_eq!(cases_with_sla(&c, SlaStatus::Met).await, BTreeSet::from([met.clone()]));
    assert!(cases_with_sla(&c, SlaStatus::Active).await.is_empty());

    // closed after the target time: NotMet
    close(&c, &late).await;
    let (status, completed_late) = sla_of(&c, &late).await;
    assert_eq!(status, SlaStatus::NotMet);
    assert!(completed_late.expect("completion time") > completed.unwrap());
    assert_eq!(cases_with_sla(&c, SlaStatus::NotMet).await, BTreeSet::from([late.clone()]));

    // the filter of SearchRelatedItems uses the status of now too
    let overdue = c
        .search_related_items()
        .domain_id(DOMAIN)
        .case_id(&ignored)
        .filters(RelatedItemTypeFilter::Sla(SlaFilter::builder().status(SlaStatus::Overdue).build()))
        .send()
        .await
        .unwrap();
    assert_eq!(overdue.related_items().len(), 1);
    let active = c
        .search_related_items()
        .domain_id(DOMAIN)
        .case_id(&ignored)
        .filters(RelatedItemTypeFilter::Sla(SlaFilter::builder().status(SlaStatus::Active).build()))
        .send()
        .await
        .unwrap();
    assert!(active.related_items().is_empty());
}

#[tokio::test]
async fn an_sla_on_a_case_already_at_its_target_value_is_met_at_once() {
    let (emu, c) = start().await;
    emu.set_clock(T0);
    let id = create_case(&c, "already closed", vec![s("status", "closed")]).await;
    add_sla(&c, &id, "close within an hour", 60).await;
    let (status, completed) = sla_of(&c, &id).await;
    assert_eq!(status, SlaStatus::Met);
    assert!(completed.is_some());
}
