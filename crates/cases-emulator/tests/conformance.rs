//! Conformance suite: every operation through the real `aws-sdk-connectcases` client over HTTP.

mod common;

use aws_sdk_connectcases::error::ProvideErrorMetadata;
use aws_sdk_connectcases::operation::create_case::CreateCaseError;
use aws_sdk_connectcases::operation::create_related_item::CreateRelatedItemError;
use aws_sdk_connectcases::operation::get_case::GetCaseError;
use aws_sdk_connectcases::operation::search_cases::SearchCasesError;
use aws_sdk_connectcases::operation::update_case::UpdateCaseError;
use aws_sdk_connectcases::types::*;
use cases_emulator::demo;
use common::*;

// ---- domains, fields, templates ----------------------------------------------------------

#[tokio::test]
async fn domains() {
    let (_emu, c) = start().await;
    let got = c.get_domain().domain_id(DOMAIN).send().await.unwrap();
    assert_eq!(got.name(), "demo");
    assert_eq!(got.domain_arn(), "arn:aws:cases:us-east-1:123456789012:domain/demo-domain");
    assert_eq!(got.domain_status(), &DomainStatus::Active);
    let created = c.create_domain().name("second").send().await.unwrap();
    assert_eq!(created.domain_status(), &DomainStatus::Active);
    let list = c.list_domains().send().await.unwrap();
    assert_eq!(list.domains().len(), 2);
    let page1 = c.list_domains().max_results(1).send().await.unwrap();
    assert_eq!(page1.domains().len(), 1);
    let page2 = c.list_domains().max_results(1).next_token(page1.next_token().unwrap()).send().await.unwrap();
    assert_eq!(page2.domains()[0].name(), "second");
    assert!(page2.next_token().is_none());
    let dup = c.create_domain().name("second").send().await.unwrap_err();
    assert_eq!(dup.code(), Some("ConflictException"));
    let bad = c.list_domains().max_results(11).send().await.unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
}

#[tokio::test]
async fn fields_list_paging_batch_get_and_options() {
    let (_emu, c) = start().await;
    // all fields through the paginator with a page size of 5 (query-string paging)
    let pages: Vec<_> = c.list_fields().domain_id(DOMAIN).max_results(5).into_paginator().send().try_collect().await.unwrap();
    assert!(pages.len() >= 5);
    let all: Vec<FieldSummary> = pages.into_iter().flat_map(|p| p.fields).collect();
    assert_eq!(all.len(), 13 + 9);
    let prio = all.iter().find(|f| f.name() == "Priority").unwrap();
    assert_eq!(prio.field_id(), demo::FIELD_PRIORITY);
    assert_eq!(prio.r#type(), &FieldType::SingleSelect);
    assert_eq!(prio.namespace(), &FieldNamespace::Custom);
    let status = all.iter().find(|f| f.field_id() == "status").unwrap();
    assert_eq!(status.namespace(), &FieldNamespace::System);

    let bg = c
        .batch_get_field()
        .domain_id(DOMAIN)
        .fields(fid("title"))
        .fields(fid(demo::FIELD_ORDER_TOTAL))
        .fields(fid("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bg.fields().len(), 2);
    assert_eq!(bg.fields()[1].r#type(), &FieldType::Number);
    assert_eq!(bg.errors().len(), 1);
    assert_eq!(bg.errors()[0].id(), "nope");

    let opts = c.list_field_options().domain_id(DOMAIN).field_id("status").send().await.unwrap();
    let vals: Vec<&str> = opts.options().iter().map(|o| o.value()).collect();
    assert_eq!(vals, ["open", "closed", "pending"]);
    let one = c.list_field_options().domain_id(DOMAIN).field_id(demo::FIELD_PRIORITY).values("high").send().await.unwrap();
    assert_eq!(one.options().len(), 1);

    let f = c.create_field().domain_id(DOMAIN).name("Region").r#type(FieldType::SingleSelect).send().await.unwrap();
    let put = c
        .batch_put_field_options()
        .domain_id(DOMAIN)
        .field_id(f.field_id())
        .options(FieldOption::builder().name("EMEA").value("emea").active(true).build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(put.errors().is_empty());
    let opts = c.list_field_options().domain_id(DOMAIN).field_id(f.field_id()).send().await.unwrap();
    assert_eq!(opts.options()[0].value(), "emea");
    let dup = c.create_field().domain_id(DOMAIN).name("Region").r#type(FieldType::Text).send().await.unwrap_err();
    assert_eq!(dup.code(), Some("ConflictException"));
    let bad_max = c.list_fields().domain_id(DOMAIN).max_results(0).send().await.unwrap_err();
    assert_eq!(bad_max.code(), Some("ValidationException"));
    let missing = c.list_fields().domain_id("no-such-domain").send().await.unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn templates() {
    let (_emu, c) = start().await;
    let all = c.list_templates().domain_id(DOMAIN).send().await.unwrap();
    let names: Vec<&str> = all.templates().iter().map(|t| t.name()).collect();
    assert_eq!(names, ["General inquiry", "Callback request", "Order issue", "Legacy intake"]);
    let active = c.list_templates().domain_id(DOMAIN).status(TemplateStatus::Active).send().await.unwrap();
    assert_eq!(active.templates().len(), 3);
    let inactive = c.list_templates().domain_id(DOMAIN).status(TemplateStatus::Inactive).send().await.unwrap();
    assert_eq!(inactive.templates()[0].template_id(), demo::TEMPLATE_LEGACY_INTAKE);
    let got = c.get_template().domain_id(DOMAIN).template_id(demo::TEMPLATE_CALLBACK_REQUEST).send().await.unwrap();
    let req: Vec<&str> = got.required_fields().iter().map(|r| r.field_id()).collect();
    assert_eq!(req, ["title", "customer_id", demo::FIELD_CUSTOMER_PHONE]);
    assert_eq!(got.status(), &TemplateStatus::Active);
    assert!(got.created_time().is_some());

    let t = c
        .create_template()
        .domain_id(DOMAIN)
        .name("Complaint")
        .required_fields(RequiredField::builder().field_id("title").build().unwrap())
        .send()
        .await
        .unwrap();
    c.update_template().domain_id(DOMAIN).template_id(t.template_id()).status(TemplateStatus::Inactive).send().await.unwrap();
    let got = c.get_template().domain_id(DOMAIN).template_id(t.template_id()).send().await.unwrap();
    assert_eq!(got.status(), &TemplateStatus::Inactive);
    let bad = c
        .create_template()
        .domain_id(DOMAIN)
        .name("Bad")
        .required_fields(RequiredField::builder().field_id("not-a-field").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
    let nf = c.get_template().domain_id(DOMAIN).template_id("nope").send().await.unwrap_err();
    assert_eq!(nf.code(), Some("ResourceNotFoundException"));
}

// ---- cases -------------------------------------------------------------------------------

#[tokio::test]
async fn create_get_update_delete_case() {
    let (_emu, c) = start().await;
    let out = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_ORDER_ISSUE)
        .fields(s("title", "Broken widget"))
        .fields(s("customer_id", CUSTOMER))
        .fields(s(demo::FIELD_ORDER_NUMBER, "ORD-1"))
        .fields(d(demo::FIELD_ORDER_TOTAL, 12.5))
        .fields(b(demo::FIELD_CALLBACK_REQUESTED, true))
        .fields(s(demo::FIELD_PRIORITY, "high"))
        .fields(s(demo::FIELD_PROMISED_BY, "2026-05-02T10:00:00.000Z"))
        .fields(u(demo::FIELD_OWNER, "arn:aws:connect:us-east-1:123456789012:instance/i/agent/a"))
        .performed_by(bot())
        .tags("team", "returns")
        .send()
        .await
        .unwrap();
    let id = out.case_id().to_string();
    assert_eq!(out.case_arn(), format!("arn:aws:cases:us-east-1:123456789012:domain/demo-domain/case/{id}"));
    assert!(uuid_like(&id));

    let ids = [
        "title",
        "status",
        "case_id",
        "reference_number",
        "created_datetime",
        "last_updated_datetime",
        demo::FIELD_ORDER_TOTAL,
        demo::FIELD_CALLBACK_REQUESTED,
        demo::FIELD_OWNER,
        "summary",
    ];
    let mut req = c.get_case().domain_id(DOMAIN).case_id(&id);
    for i in ids {
        req = req.fields(fid(i));
    }
    let got = req.send().await.unwrap();
    assert_eq!(got.template_id(), demo::TEMPLATE_ORDER_ISSUE);
    assert!(got.next_token().is_none());
    let val = |k: &str| got.fields().iter().find(|f| f.id() == k).and_then(|f| f.value().cloned());
    assert_eq!(val("title"), Some(FieldValueUnion::StringValue("Broken widget".into())));
    assert_eq!(val("status"), Some(FieldValueUnion::StringValue("open".into())));
    assert_eq!(val("case_id"), Some(FieldValueUnion::StringValue(id.clone())));
    let FieldValueUnion::StringValue(r) = val("reference_number").unwrap() else { panic!() };
    assert!(r.len() == 8 && r.chars().all(|c| c.is_ascii_digit()), "{r}");
    let FieldValueUnion::StringValue(created) = val("created_datetime").unwrap() else { panic!() };
    assert!(created.ends_with('Z'));
    assert_eq!(val(demo::FIELD_ORDER_TOTAL), Some(FieldValueUnion::DoubleValue(12.5)));
    assert_eq!(val(demo::FIELD_CALLBACK_REQUESTED), Some(FieldValueUnion::BooleanValue(true)));
    assert!(matches!(val(demo::FIELD_OWNER), Some(FieldValueUnion::UserArnValue(_))));
    assert_eq!(val("summary"), None, "unset fields are omitted");
    assert_eq!(got.tags().unwrap().get("team"), Some(&Some("returns".to_string())));

    // update: close, clear a field, set a user performer
    c.update_case()
        .domain_id(DOMAIN)
        .case_id(&id)
        .fields(s("status", "closed"))
        .fields(empty(demo::FIELD_CALLBACK_REQUESTED))
        .fields(s("summary", "Refunded"))
        .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/x".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(get_field(&c, &id, "status").await, Some(FieldValueUnion::StringValue("closed".into())));
    assert!(matches!(get_field(&c, &id, "last_closed_datetime").await, Some(FieldValueUnion::StringValue(_))));
    assert_eq!(get_field(&c, &id, demo::FIELD_CALLBACK_REQUESTED).await, None);
    assert_eq!(
        get_field(&c, &id, "last_updated_user").await,
        Some(FieldValueUnion::UserArnValue("arn:aws:connect:us-east-1:123456789012:instance/i/agent/x".into()))
    );
    // ListTagsForResource / TagResource / UntagResource on the case ARN (percent-encoded label)
    c.tag_resource().arn(out.case_arn()).tags("extra", Some("1".to_string())).send().await.unwrap();
    let tags = c.list_tags_for_resource().arn(out.case_arn()).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 2);
    c.untag_resource().arn(out.case_arn()).tag_keys("extra").send().await.unwrap();
    let tags = c.list_tags_for_resource().arn(out.case_arn()).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);

    c.delete_case().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    let err = c.get_case().domain_id(DOMAIN).case_id(&id).fields(fid("title")).send().await.unwrap_err();
    match err.into_service_error() {
        GetCaseError::ResourceNotFoundException(e) => {
            assert_eq!(e.resource_id(), id);
            assert_eq!(e.resource_type(), "Case");
        }
        other => panic!("{other:?}"),
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

fn validation(e: CreateCaseError) -> String {
    match e {
        CreateCaseError::ValidationException(v) => v.message().to_string(),
        other => panic!("expected ValidationException, got {other:?}"),
    }
}

#[tokio::test]
async fn create_case_validation() {
    let (emu, c) = start().await;
    let base = || {
        c.create_case()
            .domain_id(DOMAIN)
            .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
            .fields(s("title", "t"))
            .fields(s("customer_id", CUSTOMER))
    };
    let msg = |r: Result<_, aws_sdk_connectcases::error::SdkError<CreateCaseError, _>>| {
        validation(r.map(|_: aws_sdk_connectcases::operation::create_case::CreateCaseOutput| ()).unwrap_err().into_service_error())
    };

    // missing required members
    let m = msg(c.create_case().domain_id(DOMAIN).fields(s("title", "t")).send().await);
    assert!(m.contains("templateId"), "{m}");
    let m = msg(c.create_case().domain_id(DOMAIN).template_id(demo::TEMPLATE_GENERAL_INQUIRY).send().await);
    assert!(m.contains("'fields'"), "{m}");
    // title and customer_id are required by the service
    let m = msg(c.create_case().domain_id(DOMAIN).template_id(demo::TEMPLATE_GENERAL_INQUIRY).fields(s("title", "t")).send().await);
    assert!(m.contains("customer_id"), "{m}");
    // bad customer_id
    let m = msg(c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(s("title", "t"))
        .fields(s("customer_id", "cust-42"))
        .send()
        .await);
    assert!(m.contains("profile ARN"), "{m}");
    // template requiredFields
    let m = msg(c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_CALLBACK_REQUEST)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .send()
        .await);
    assert!(m.contains(demo::FIELD_CUSTOMER_PHONE) && m.contains("Customer phone"), "{m}");
    // emptyValue on a required field
    let m = msg(c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_CALLBACK_REQUEST)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .fields(empty(demo::FIELD_CUSTOMER_PHONE))
        .send()
        .await);
    assert!(m.contains("cannot be empty"), "{m}");
    // customEntity pattern
    let m = msg(base().performed_by(UserUnion::CustomEntity("bad entity!".into())).send().await);
    assert!(m.contains("performedBy.customEntity"), "{m}");
    let m = msg(base().performed_by(UserUnion::CustomEntity("trailing ".into())).send().await);
    assert!(m.contains("performedBy.customEntity"), "{m}");
    let m = msg(base().performed_by(UserUnion::CustomEntity("x".repeat(501))).send().await);
    assert!(m.contains("length"), "{m}");
    // unknown field
    let m = msg(base().fields(s("no_such_field", "x")).send().await);
    assert!(m.contains("no_such_field"), "{m}");
    // type mismatch
    let m = msg(base().fields(s(demo::FIELD_ORDER_TOTAL, "12")).send().await);
    assert!(m.contains("doubleValue"), "{m}");
    let m = msg(base().fields(d("summary", 1.0)).send().await);
    assert!(m.contains("stringValue"), "{m}");
    // select option
    let m = msg(base().fields(s(demo::FIELD_PRIORITY, "critical")).send().await);
    assert!(m.contains("critical") && m.contains("urgent"), "{m}");
    let m = msg(base().fields(s("status", "reopened")).send().await);
    assert!(m.contains("reopened"), "{m}");
    // read-only system field
    let m = msg(base().fields(s("case_id", "mine")).send().await);
    assert!(m.contains("case_id"), "{m}");
    // inactive template
    let m = msg(c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_LEGACY_INTAKE)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .send()
        .await);
    assert!(m.contains("Inactive"), "{m}");
    // clientToken too long
    let m = msg(base().client_token("x".repeat(65)).send().await);
    assert!(m.contains("clientToken"), "{m}");
    // tags
    let m = msg(base().tags("aws:reserved", "x").send().await);
    assert!(m.contains("tags"), "{m}");
    // unknown template / domain → 404
    let e = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id("nope")
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match e {
        CreateCaseError::ResourceNotFoundException(e) => assert_eq!((e.resource_id(), e.resource_type()), ("nope", "Template")),
        other => panic!("{other:?}"),
    }
    let e = c.create_case().domain_id("other").template_id("nope").fields(s("title", "t")).send().await.unwrap_err().into_service_error();
    assert!(matches!(e, CreateCaseError::ResourceNotFoundException(ref x) if x.resource_type() == "Domain"), "{e:?}");
    // nothing was created
    assert!(emu.state().domains[0].cases.is_empty());
    // a valid one still works, with a name-resolved custom field
    base().fields(s(demo::FIELD_PRIORITY, "urgent")).performed_by(bot()).send().await.unwrap();
}

#[tokio::test]
async fn update_case_validation() {
    let (_emu, c) = start().await;
    let id = create_case(&c, "t", vec![]).await;
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(empty("title")).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::ValidationException(_)));
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(b("title", true)).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::ValidationException(_)));
    let e = c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("nope", "x")).send().await.unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::ValidationException(_)));
    let e = c
        .update_case()
        .domain_id(DOMAIN)
        .case_id(&id)
        .fields(s("title", "x"))
        .performed_by(UserUnion::CustomEntity("".into()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e.into_service_error(), UpdateCaseError::ValidationException(_)));
    let e = c.update_case().domain_id(DOMAIN).case_id("missing").fields(s("title", "x")).send().await.unwrap_err();
    match e.into_service_error() {
        UpdateCaseError::ResourceNotFoundException(x) => assert_eq!(x.resource_id(), "missing"),
        other => panic!("{other:?}"),
    }
    // a field not on the template but in the domain is fine
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s(demo::FIELD_DISCONNECT_REASON, "hangup")).send().await.unwrap();
}

#[tokio::test]
async fn client_token_replay_and_conflict() {
    let (emu, c) = start().await;
    let send = |title: &'static str| {
        c.create_case()
            .domain_id(DOMAIN)
            .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
            .fields(s("title", title))
            .fields(s("customer_id", CUSTOMER))
            .client_token("tok-1")
            .performed_by(bot())
            .send()
    };
    let first = send("same").await.unwrap();
    let again = send("same").await.unwrap();
    assert_eq!(first.case_id(), again.case_id());
    assert_eq!(first.case_arn(), again.case_arn());
    assert_eq!(emu.state().domains[0].cases.len(), 1);
    let audit = c.get_case_audit_events().domain_id(DOMAIN).case_id(first.case_id()).send().await.unwrap();
    assert_eq!(audit.audit_events().len(), 1, "a replay adds no audit event");
    let e = send("different").await.unwrap_err();
    assert!(matches!(e.into_service_error(), CreateCaseError::ConflictException(_)));
    assert_eq!(emu.state().domains[0].cases.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_create_with_one_token_makes_one_case() {
    let (emu, c) = start().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.create_case()
                .domain_id(DOMAIN)
                .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
                .fields(s("title", "race"))
                .fields(s("customer_id", CUSTOMER))
                .client_token("race-token")
                .send()
                .await
                .unwrap()
                .case_id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(emu.state().domains[0].cases.len(), 1);
}

// ---- search ------------------------------------------------------------------------------

#[tokio::test]
async fn search_cases_filters_sorts_paging() {
    let (_emu, c) = start().await;
    let a = create_case(&c, "Alpha widget", vec![d(demo::FIELD_ORDER_TOTAL, 10.0), s(demo::FIELD_PRIORITY, "low")]).await;
    let b_ = create_case(&c, "Beta gadget", vec![d(demo::FIELD_ORDER_TOTAL, 30.0), s(demo::FIELD_PRIORITY, "high")]).await;
    let g = create_case(&c, "Gamma widget", vec![d(demo::FIELD_ORDER_TOTAL, 20.0), s("status", "pending")]).await;
    c.tag_resource()
        .arn(format!("arn:aws:cases:us-east-1:123456789012:domain/{DOMAIN}/case/{g}"))
        .tags("Department", Some("Fraud".to_string()))
        .send()
        .await
        .unwrap();

    // paging with maxResults 1 over 3 cases
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c.search_cases().domain_id(DOMAIN).max_results(1).set_next_token(token.clone()).send().await.unwrap();
        assert_eq!(out.total_count(), 3);
        assert_eq!(out.cases().len(), 1);
        seen.push(out.cases()[0].as_ref().unwrap().case_id().to_string());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, [g.clone(), b_.clone(), a.clone()], "newest first by default");
    // the items paginator
    let items: Vec<_> = c.search_cases().domain_id(DOMAIN).max_results(2).into_paginator().items().send().try_collect().await.unwrap();
    assert_eq!(items.len(), 3);

    let ids_of = |out: &aws_sdk_connectcases::operation::search_cases::SearchCasesOutput| -> Vec<String> {
        out.cases().iter().flatten().map(|c| c.case_id().to_string()).collect()
    };
    let eq = |id: &str, v: FieldValueUnion| CaseFilter::Field(FieldFilter::EqualTo(FieldValue::builder().id(id).value(v).build().unwrap()));
    let sv = |x: &str| FieldValueUnion::StringValue(x.into());

    let out = c.search_cases().domain_id(DOMAIN).filter(eq("status", sv("open"))).send().await.unwrap();
    assert_eq!(out.total_count(), 2);
    let out = c
        .search_cases()
        .domain_id(DOMAIN)
        .filter(CaseFilter::AndAll(vec![
            eq("customer_id", sv(CUSTOMER)),
            CaseFilter::Field(FieldFilter::Contains(s("title", "WIDGET"))),
            CaseFilter::Not(Box::new(eq("status", sv("pending")))),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids_of(&out), std::slice::from_ref(&a));
    let out = c
        .search_cases()
        .domain_id(DOMAIN)
        .filter(CaseFilter::OrAll(vec![
            CaseFilter::Field(FieldFilter::GreaterThan(d(demo::FIELD_ORDER_TOTAL, 25.0))),
            CaseFilter::Tag(TagFilter::EqualTo(TagValue::builder().key("Department").value("Fraud").build())),
        ]))
        .sorts(Sort::builder().field_id(demo::FIELD_ORDER_TOTAL).sort_order(Order::Ascending).build().unwrap())
        .fields(fid("title"))
        .fields(fid(demo::FIELD_ORDER_TOTAL))
        .send()
        .await
        .unwrap();
    assert_eq!(ids_of(&out), [g.clone(), b_.clone()]);
    let first = out.cases()[0].as_ref().unwrap();
    assert_eq!(first.fields().len(), 2);
    assert_eq!(first.template_id(), demo::TEMPLATE_GENERAL_INQUIRY);
    let out = c
        .search_cases()
        .domain_id(DOMAIN)
        .filter(CaseFilter::Field(FieldFilter::LessThanOrEqualTo(d(demo::FIELD_ORDER_TOTAL, 20.0))))
        .sorts(Sort::builder().field_id("created_datetime").sort_order(Order::Ascending).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ids_of(&out), [a.clone(), g.clone()]);
    let out = c.search_cases().domain_id(DOMAIN).search_term("gadget").send().await.unwrap();
    assert_eq!(ids_of(&out), std::slice::from_ref(&b_));

    // validation
    let bad = c.search_cases().domain_id(DOMAIN).max_results(101).send().await.unwrap_err();
    assert!(matches!(bad.into_service_error(), SearchCasesError::ValidationException(_)));
    let bad = c
        .search_cases()
        .domain_id(DOMAIN)
        .filter(CaseFilter::AndAll((0..11).map(|_| eq("status", sv("open"))).collect()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(bad.into_service_error(), SearchCasesError::ValidationException(_)));
    let bad = c.search_cases().domain_id(DOMAIN).filter(eq("nope", sv("x"))).send().await.unwrap_err();
    assert!(matches!(bad.into_service_error(), SearchCasesError::ValidationException(_)));
    let bad = c.search_cases().domain_id(DOMAIN).next_token("garbage").send().await.unwrap_err();
    assert!(matches!(bad.into_service_error(), SearchCasesError::ValidationException(_)));
}

// ---- related items -----------------------------------------------------------------------

#[tokio::test]
async fn related_items_all_types_and_search() {
    let (_emu, c) = start().await;
    let id = create_case(&c, "with items", vec![]).await;
    let other = create_case(&c, "other", vec![]).await;
    let contact_arn = "arn:aws:connect:us-east-1:123456789012:instance/inst/contact/c-1";
    let mk = |t: RelatedItemType, content: RelatedItemInputContent| {
        c.create_related_item().domain_id(DOMAIN).case_id(&id).r#type(t).content(content).performed_by(bot()).send()
    };
    let contact =
        mk(RelatedItemType::Contact, RelatedItemInputContent::Contact(Contact::builder().contact_arn(contact_arn).build().unwrap()))
            .await
            .unwrap();
    assert!(contact.related_item_arn().ends_with(&format!("/case/{id}/related-item/{}", contact.related_item_id())));
    mk(
        RelatedItemType::Comment,
        RelatedItemInputContent::Comment(
            CommentContent::builder().body("Called back").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ),
    )
    .await
    .unwrap();
    mk(
        RelatedItemType::File,
        RelatedItemInputContent::File(
            FileContent::builder().file_arn("arn:aws:connect:us-east-1:123456789012:instance/inst/file/f1").build().unwrap(),
        ),
    )
    .await
    .unwrap();
    mk(
        RelatedItemType::Sla,
        RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
            SlaInputConfiguration::builder()
                .name("Resolve in a day")
                .r#type(SlaType::CaseField)
                .field_id("status")
                .target_field_values(FieldValueUnion::StringValue("closed".into()))
                .target_sla_minutes(1440)
                .build()
                .unwrap(),
        )),
    )
    .await
    .unwrap();
    mk(
        RelatedItemType::ConnectCase,
        RelatedItemInputContent::ConnectCase(ConnectCaseInputContent::builder().case_id(&other).build().unwrap()),
    )
    .await
    .unwrap();
    mk(
        RelatedItemType::Custom,
        RelatedItemInputContent::Custom(CustomInputContent::builder().fields(s(demo::FIELD_ORDER_NUMBER, "ORD-9")).build().unwrap()),
    )
    .await
    .unwrap();

    let all: Vec<_> = c.search_related_items().domain_id(DOMAIN).case_id(&id).into_paginator().items().send().try_collect().await.unwrap();
    assert_eq!(all.len(), 6);
    let contact_item = all.iter().flatten().find(|i| i.r#type() == &RelatedItemType::Contact).unwrap();
    let RelatedItemContent::Contact(cc) = contact_item.content().unwrap() else { panic!() };
    assert_eq!(cc.contact_arn(), contact_arn);
    assert_eq!(cc.channel(), "VOICE");
    assert_eq!(cc.connected_to_system_time(), contact_item.association_time());
    assert_eq!(contact_item.performed_by(), Some(&bot()));
    let sla = all.iter().flatten().find(|i| i.r#type() == &RelatedItemType::Sla).unwrap();
    let RelatedItemContent::Sla(sc) = sla.content().unwrap() else { panic!() };
    let cfg = sc.sla_configuration().unwrap();
    assert_eq!(cfg.status(), &SlaStatus::Active);
    assert_eq!(cfg.target_time().secs() - sla.association_time().secs(), 1440 * 60);

    let comments = c
        .search_related_items()
        .domain_id(DOMAIN)
        .case_id(&id)
        .filters(RelatedItemTypeFilter::Comment(CommentFilter::builder().build()))
        .send()
        .await
        .unwrap();
    assert_eq!(comments.related_items().len(), 1);
    let RelatedItemContent::Comment(cm) = comments.related_items()[0].as_ref().unwrap().content().unwrap() else { panic!() };
    assert_eq!(cm.body(), "Called back");
    let by_contact = c
        .search_related_items()
        .domain_id(DOMAIN)
        .case_id(&id)
        .filters(RelatedItemTypeFilter::Contact(ContactFilter::builder().contact_arn(contact_arn).build()))
        .filters(RelatedItemTypeFilter::File(FileFilter::builder().build()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_contact.related_items().len(), 2);
    let paged = c.search_related_items().domain_id(DOMAIN).case_id(&id).max_results(4).send().await.unwrap();
    assert_eq!(paged.related_items().len(), 4);
    assert!(paged.next_token().is_some());

    // ListCasesForContact
    let cases = c.list_cases_for_contact().domain_id(DOMAIN).contact_arn(contact_arn).send().await.unwrap();
    assert_eq!(cases.cases().len(), 1);
    assert_eq!(cases.cases()[0].case_id(), id);
    let none = c.list_cases_for_contact().domain_id(DOMAIN).contact_arn("arn:aws:connect:x:1:instance/i/contact/zzz").send().await.unwrap();
    assert!(none.cases().is_empty());

    // SearchAllRelatedItems
    let all = c.search_all_related_items().domain_id(DOMAIN).send().await.unwrap();
    assert_eq!(all.related_items().len(), 6);
    assert_eq!(all.related_items()[0].as_ref().unwrap().case_id(), id);

    // update + delete a comment
    let cid = comments.related_items()[0].as_ref().unwrap().related_item_id().to_string();
    let upd = c
        .update_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .related_item_id(&cid)
        .content(RelatedItemUpdateContent::Comment(
            CommentUpdateContent::builder().body("edited").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    assert!(matches!(upd.content(), Some(RelatedItemContent::Comment(x)) if x.body() == "edited"));
    c.delete_related_item().domain_id(DOMAIN).case_id(&id).related_item_id(&cid).send().await.unwrap();
    let after = c.search_related_items().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    assert_eq!(after.related_items().len(), 5);
}

#[tokio::test]
async fn related_item_validation() {
    let (_emu, c) = start().await;
    let id = create_case(&c, "t", vec![]).await;
    let comment = |body: &str| {
        RelatedItemInputContent::Comment(CommentContent::builder().body(body).content_type(CommentBodyTextType::Plaintext).build().unwrap())
    };
    let send = |t: RelatedItemType, content: RelatedItemInputContent| {
        c.create_related_item().domain_id(DOMAIN).case_id(&id).r#type(t).content(content).send()
    };
    let is_validation = |e: aws_sdk_connectcases::error::SdkError<CreateRelatedItemError, _>| {
        matches!(e.into_service_error(), CreateRelatedItemError::ValidationException(_))
    };
    assert!(is_validation(send(RelatedItemType::Comment, comment("")).await.unwrap_err()));
    assert!(is_validation(send(RelatedItemType::Comment, comment(&"x".repeat(15001))).await.unwrap_err()));
    send(RelatedItemType::Comment, comment(&"x".repeat(15000))).await.unwrap();
    // type must match the content member
    assert!(is_validation(send(RelatedItemType::Contact, comment("hi")).await.unwrap_err()));
    // SLA minutes out of range
    let sla = |m: i64| {
        RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
            SlaInputConfiguration::builder().name("x").r#type(SlaType::CaseField).target_sla_minutes(m).build().unwrap(),
        ))
    };
    assert!(is_validation(send(RelatedItemType::Sla, sla(0)).await.unwrap_err()));
    assert!(is_validation(send(RelatedItemType::Sla, sla(129_601)).await.unwrap_err()));
    // custom item with a system field
    let custom = RelatedItemInputContent::Custom(CustomInputContent::builder().fields(s("title", "x")).build().unwrap());
    assert!(is_validation(send(RelatedItemType::Custom, custom).await.unwrap_err()));
    // bad performer
    let e = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Comment)
        .content(comment("hi"))
        .performed_by(UserUnion::CustomEntity("no#hash".into()))
        .send()
        .await
        .unwrap_err();
    assert!(is_validation(e));
    // unknown case
    let e = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id("nope")
        .r#type(RelatedItemType::Comment)
        .content(comment("hi"))
        .send()
        .await
        .unwrap_err();
    match e.into_service_error() {
        CreateRelatedItemError::ResourceNotFoundException(x) => assert_eq!((x.resource_id(), x.resource_type()), ("nope", "Case")),
        other => panic!("{other:?}"),
    }
}

// ---- audit, event configuration, events ----------------------------------------------------

#[tokio::test]
async fn audit_events_carry_custom_entity() {
    let (_emu, c) = start().await;
    let id = create_case(&c, "audited", vec![]).await;
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("status", "closed")).performed_by(bot()).send().await.unwrap();
    c.create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body("note").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("summary", "no performer")).send().await.unwrap();
    let out = c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    let evs: Vec<&AuditEvent> = out.audit_events().iter().flatten().collect();
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0].r#type(), &AuditEventType::CaseCreated);
    assert_eq!(evs[1].r#type(), &AuditEventType::CaseUpdated);
    assert_eq!(evs[2].r#type(), &AuditEventType::RelatedItemCreated);
    assert_eq!(evs[2].related_item_type(), Some(&RelatedItemType::Comment));
    for e in &evs[..3] {
        let pb = e.performed_by().unwrap();
        assert_eq!(pb.user(), Some(&UserUnion::CustomEntity(BOT.into())));
        assert_eq!(pb.iam_principal_arn(), "arn:aws:iam::123456789012:role/cases-emulator-caller");
    }
    assert_eq!(evs[3].performed_by().unwrap().user(), None);
    let status = evs[1].fields().iter().flatten().find(|f| f.event_field_id() == "status").unwrap();
    assert_eq!(status.old_value(), Some(&AuditEventFieldValueUnion::StringValue("open".into())));
    assert_eq!(status.new_value(), Some(&AuditEventFieldValueUnion::StringValue("closed".into())));
    // paging
    let p1 = c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).max_results(3).send().await.unwrap();
    assert_eq!(p1.audit_events().len(), 3);
    let p2 =
        c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).max_results(3).next_token(p1.next_token().unwrap()).send().await.unwrap();
    assert_eq!(p2.audit_events().len(), 1);
    assert!(p2.next_token().is_none());
    let bad = c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).max_results(26).send().await.unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
}

#[tokio::test]
async fn case_event_configuration_and_emitted_events() {
    let (emu, c) = start().await;
    let cfg = c.get_case_event_configuration().domain_id(DOMAIN).send().await.unwrap();
    let eb = cfg.event_bridge().unwrap();
    assert!(eb.enabled());
    let ids: Vec<&str> = eb.included_data().unwrap().case_data().unwrap().fields().iter().map(|f| f.id()).collect();
    assert_eq!(ids, ["title", "status", "customer_id", demo::FIELD_PRIORITY]);

    let id = create_case(&c, "evented", vec![s(demo::FIELD_PRIORITY, "high"), s(demo::FIELD_ORDER_NUMBER, "not included")]).await;
    c.update_case().domain_id(DOMAIN).case_id(&id).fields(s("status", "closed")).performed_by(bot()).send().await.unwrap();
    c.create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body("hello").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    c.delete_case().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    let evs = emu.events();
    assert_eq!(evs.len(), 4);
    let types: Vec<&str> = evs.iter().map(|e| e["detail"]["eventType"].as_str().unwrap()).collect();
    assert_eq!(types, ["CASE.CREATED", "CASE.UPDATED", "RELATED_ITEM.CREATED", "CASE.DELETED"]);
    let e0 = &evs[0];
    assert_eq!(e0["source"], "aws.cases");
    assert_eq!(e0["detail-type"], "Amazon Connect Cases Change");
    assert_eq!(e0["account"], "123456789012");
    assert_eq!(e0["region"], "us-east-1");
    assert_eq!(e0["resources"][1], format!("arn:aws:cases:us-east-1:123456789012:domain/{DOMAIN}/case/{id}"));
    assert_eq!(e0["detail"]["performedBy"]["user"]["customEntity"], BOT);
    assert_eq!(e0["detail"]["case"]["caseId"], id.as_str());
    let fields = e0["detail"]["case"]["fields"].as_object().unwrap();
    assert_eq!(fields[demo::FIELD_PRIORITY]["value"]["stringValue"], "high");
    assert!(!fields.contains_key(demo::FIELD_ORDER_NUMBER), "only configured fields");
    let changed = evs[1]["detail"]["changedFieldIds"].as_array().unwrap();
    assert!(changed.iter().any(|v| v == "status") && changed.iter().any(|v| v == "last_updated_datetime"));
    assert_eq!(evs[1]["detail"]["case"]["fields"]["status"]["value"]["stringValue"], "closed");
    assert_eq!(evs[2]["detail"]["relatedItem"]["relatedItemType"], "Comment");
    assert_eq!(evs[2]["detail"]["relatedItem"]["caseId"], id.as_str());
    assert_eq!(evs[2]["detail"]["relatedItem"]["comment"]["body"], "hello");

    // disable → no more events
    c.put_case_event_configuration()
        .domain_id(DOMAIN)
        .event_bridge(EventBridgeConfiguration::builder().enabled(false).build().unwrap())
        .send()
        .await
        .unwrap();
    create_case(&c, "quiet", vec![]).await;
    assert_eq!(emu.events().len(), 4);
    let cfg = c.get_case_event_configuration().domain_id(DOMAIN).send().await.unwrap();
    assert!(!cfg.event_bridge().unwrap().enabled());
}

#[tokio::test]
async fn unknown_resources_are_404_with_resource_id() {
    let (_emu, c) = start().await;
    let e = c.get_case().domain_id(DOMAIN).case_id("c-404").fields(fid("title")).send().await.unwrap_err();
    let GetCaseError::ResourceNotFoundException(x) = e.into_service_error() else { panic!() };
    assert_eq!(x.resource_id(), "c-404");
    let e = c.get_case().domain_id("d-404").case_id("c").fields(fid("title")).send().await.unwrap_err();
    let GetCaseError::ResourceNotFoundException(x) = e.into_service_error() else { panic!() };
    assert_eq!((x.resource_id(), x.resource_type()), ("d-404", "Domain"));
    let e = c.delete_related_item().domain_id(DOMAIN).case_id("c").related_item_id("r").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    let e = c.list_tags_for_resource().arn("arn:aws:cases:us-east-1:123456789012:domain/demo-domain/case/none").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    // GetCase requires at least one field
    let e = c.get_case().domain_id(DOMAIN).case_id("c").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
}

#[tokio::test]
async fn admin_write_operations() {
    let (_emu, c) = start().await;
    // fields: update, delete (a deleted field keeps its value on existing cases)
    let f = c.create_field().domain_id(DOMAIN).name("Temp").r#type(FieldType::Text).description("d").send().await.unwrap();
    let id = create_case(&c, "t", vec![s(f.field_id(), "kept")]).await;
    c.update_field().domain_id(DOMAIN).field_id(f.field_id()).name("Temporary").send().await.unwrap();
    let bg = c.batch_get_field().domain_id(DOMAIN).fields(fid(f.field_id())).send().await.unwrap();
    assert_eq!(bg.fields()[0].name(), "Temporary");
    c.delete_field().domain_id(DOMAIN).field_id(f.field_id()).send().await.unwrap();
    let bg = c.batch_get_field().domain_id(DOMAIN).fields(fid(f.field_id())).send().await.unwrap();
    assert!(bg.fields()[0].deleted());
    let listed = c.list_fields().domain_id(DOMAIN).send().await.unwrap();
    assert!(listed.fields().iter().all(|x| x.field_id() != f.field_id()));
    assert_eq!(get_field(&c, &id, f.field_id()).await, Some(FieldValueUnion::StringValue("kept".into())));
    let e = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .fields(s(f.field_id(), "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    // a system field cannot be deleted
    let e = c.delete_field().domain_id(DOMAIN).field_id("title").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));

    // templates: delete hides from the list, GetTemplate still works, cases can't use it
    c.delete_template().domain_id(DOMAIN).template_id(demo::TEMPLATE_ORDER_ISSUE).send().await.unwrap();
    let list = c.list_templates().domain_id(DOMAIN).send().await.unwrap();
    assert_eq!(list.templates().len(), 3);
    let got = c.get_template().domain_id(DOMAIN).template_id(demo::TEMPLATE_ORDER_ISSUE).send().await.unwrap();
    assert!(got.deleted());
    let e = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_ORDER_ISSUE)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .fields(s(demo::FIELD_ORDER_NUMBER, "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));

    // custom related item update replaces fields; SearchAllRelatedItems sorts
    let item = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Custom)
        .content(RelatedItemInputContent::Custom(CustomInputContent::builder().fields(s(demo::FIELD_ORDER_NUMBER, "A")).build().unwrap()))
        .send()
        .await
        .unwrap();
    let upd = c
        .update_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .related_item_id(item.related_item_id())
        .content(RelatedItemUpdateContent::Custom(CustomUpdateContent::builder().fields(d(demo::FIELD_ORDER_TOTAL, 3.0)).build().unwrap()))
        .send()
        .await
        .unwrap();
    let Some(RelatedItemContent::Custom(cc)) = upd.content() else { panic!() };
    assert_eq!(cc.fields().len(), 1);
    assert_eq!(cc.fields()[0].id(), demo::FIELD_ORDER_TOTAL);
    let e = c
        .update_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .related_item_id(item.related_item_id())
        .content(RelatedItemUpdateContent::Comment(
            CommentUpdateContent::builder().body("x").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let other = create_case(&c, "second", vec![]).await;
    c.create_related_item()
        .domain_id(DOMAIN)
        .case_id(&other)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body("b").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .send()
        .await
        .unwrap();
    let asc = c
        .search_all_related_items()
        .domain_id(DOMAIN)
        .sorts(
            SearchAllRelatedItemsSort::builder()
                .sort_property(SearchAllRelatedItemsSortProperty::AssociationTime)
                .sort_order(Order::Ascending)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let cases: Vec<&str> = asc.related_items().iter().flatten().map(|i| i.case_id()).collect();
    assert_eq!(cases, [id.as_str(), other.as_str()]);

    // domains: delete
    let dom = c.create_domain().name("temp").send().await.unwrap();
    c.delete_domain().domain_id(dom.domain_id()).send().await.unwrap();
    let e = c.get_domain().domain_id(dom.domain_id()).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    // the new domain had system fields
    let dom = c.create_domain().name("fresh").send().await.unwrap();
    let fields = c.list_fields().domain_id(dom.domain_id()).send().await.unwrap();
    assert_eq!(fields.fields().len(), 13);
}

// ---- what the automation's rules use: tags on create, edits, custom and linked items ---------

#[tokio::test]
async fn tags_given_on_create_are_listed_and_found_by_the_tag_filter() {
    let (_emu, c) = start().await;
    let tagged = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(s("title", "tagged"))
        .fields(s("customer_id", CUSTOMER))
        .tags("Department", "Fraud")
        .tags("tier", "gold")
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    create_case(&c, "untagged", vec![]).await;
    let listed = c.list_tags_for_resource().arn(tagged.case_arn()).send().await.unwrap();
    let listed = listed.tags().unwrap();
    assert_eq!((listed.get("Department"), listed.get("tier")), (Some(&Some("Fraud".into())), Some(&Some("gold".into()))));
    let tag = |key: Option<&str>, value: Option<&str>| {
        CaseFilter::Tag(TagFilter::EqualTo(TagValue::builder().set_key(key.map(Into::into)).set_value(value.map(Into::into)).build()))
    };
    for (filter, expected) in [
        (tag(Some("Department"), Some("Fraud")), 1),
        (tag(Some("Department"), Some("Sales")), 0),
        (tag(Some("tier"), None), 1),
        (CaseFilter::Not(Box::new(tag(Some("tier"), Some("gold")))), 1),
    ] {
        let found = c.search_cases().domain_id(DOMAIN).filter(filter.clone()).send().await.unwrap();
        assert_eq!(found.cases().len(), expected, "{filter:?}");
        if expected == 1 && !matches!(filter, CaseFilter::Not(_)) {
            assert_eq!(found.cases()[0].as_ref().unwrap().case_id(), tagged.case_id());
        }
    }
    // A key the model's pattern refuses.
    let e = c
        .create_case()
        .domain_id(DOMAIN)
        .template_id(demo::TEMPLATE_GENERAL_INQUIRY)
        .fields(s("title", "t"))
        .fields(s("customer_id", CUSTOMER))
        .tags("team#1", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
}

#[tokio::test]
async fn an_edited_item_is_audited_with_its_performer_and_old_and_new_values() {
    let (emu, c) = start().await;
    let id = create_case(&c, "edited", vec![]).await;
    let comment = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Comment)
        .content(RelatedItemInputContent::Comment(
            CommentContent::builder().body("packed").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    let custom = c
        .create_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .r#type(RelatedItemType::Custom)
        .content(RelatedItemInputContent::Custom(
            CustomInputContent::builder()
                .fields(s(demo::FIELD_ORDER_NUMBER, "ORD-1"))
                .fields(d(demo::FIELD_ORDER_TOTAL, 3.0))
                .build()
                .unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    emu.clear_events();
    let upd = c
        .update_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .related_item_id(comment.related_item_id())
        .content(RelatedItemUpdateContent::Comment(
            CommentUpdateContent::builder().body("shipped").content_type(CommentBodyTextType::Plaintext).build().unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();
    assert_eq!(upd.last_updated_user(), Some(&bot()));
    c.update_related_item()
        .domain_id(DOMAIN)
        .case_id(&id)
        .related_item_id(custom.related_item_id())
        .content(RelatedItemUpdateContent::Custom(
            CustomUpdateContent::builder()
                .fields(s(demo::FIELD_ORDER_NUMBER, "ORD-1"))
                .fields(d(demo::FIELD_ORDER_TOTAL, 4.5))
                .build()
                .unwrap(),
        ))
        .performed_by(bot())
        .send()
        .await
        .unwrap();

    let audit = c.get_case_audit_events().domain_id(DOMAIN).case_id(&id).send().await.unwrap();
    let updates: Vec<&AuditEvent> =
        audit.audit_events().iter().flatten().filter(|e| e.r#type() == &AuditEventType::RelatedItemUpdated).collect();
    assert_eq!(updates.len(), 2);
    for update in &updates {
        assert_eq!(update.performed_by().and_then(|p| p.user()), Some(&bot()));
    }
    assert_eq!(updates[0].related_item_type(), Some(&RelatedItemType::Comment));
    let body = updates[0].fields()[0].as_ref().unwrap();
    assert_eq!(body.old_value().and_then(|v| v.as_string_value().ok()).map(String::as_str), Some("packed"));
    assert_eq!(body.new_value().and_then(|v| v.as_string_value().ok()).map(String::as_str), Some("shipped"));
    let total = updates[1].fields().iter().flatten().find(|f| f.event_field_id() == demo::FIELD_ORDER_TOTAL).unwrap();
    assert_eq!(
        (total.old_value().and_then(|v| v.as_double_value().ok()), total.new_value().and_then(|v| v.as_double_value().ok())),
        (Some(&3.0), Some(&4.5))
    );
    // Each edit is a RELATED_ITEM.UPDATED case event performed by the same entity.
    let events = emu.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(
        events
            .iter()
            .all(|e| e["detail"]["eventType"] == "RELATED_ITEM.UPDATED" && e["detail"]["performedBy"]["user"]["customEntity"] == BOT)
    );
}

#[tokio::test]
async fn custom_and_linked_case_items_are_found_by_their_filters() {
    let (_emu, c) = start().await;
    let id = create_case(&c, "items", vec![]).await;
    let parent = create_case(&c, "parent", vec![]).await;
    let other = create_case(&c, "other", vec![]).await;
    let relate = |t: RelatedItemType, content: RelatedItemInputContent| {
        c.create_related_item().domain_id(DOMAIN).case_id(&id).r#type(t).content(content).performed_by(bot()).send()
    };
    for (order, total) in [("ORD-1", 3.0), ("ORD-2", 12.0)] {
        let content = CustomInputContent::builder()
            .fields(s(demo::FIELD_ORDER_NUMBER, order))
            .fields(d(demo::FIELD_ORDER_TOTAL, total))
            .build()
            .unwrap();
        relate(RelatedItemType::Custom, RelatedItemInputContent::Custom(content)).await.unwrap();
    }
    for linked in [&parent, &other] {
        relate(
            RelatedItemType::ConnectCase,
            RelatedItemInputContent::ConnectCase(ConnectCaseInputContent::builder().case_id(linked).build().unwrap()),
        )
        .await
        .unwrap();
    }
    let search = |filter: RelatedItemTypeFilter| c.search_related_items().domain_id(DOMAIN).case_id(&id).filters(filter).send();
    let equal = |field: FieldValue| CustomFieldsFilter::Field(FieldFilter::EqualTo(field));
    let custom = |fields: CustomFieldsFilter| RelatedItemTypeFilter::Custom(CustomFilter::builder().fields(fields).build());

    let by_order = search(custom(equal(s(demo::FIELD_ORDER_NUMBER, "ORD-2")))).await.unwrap();
    assert_eq!(by_order.related_items().len(), 1);
    let Some(RelatedItemContent::Custom(found)) = by_order.related_items()[0].as_ref().unwrap().content() else { panic!() };
    assert!(found.fields().iter().any(|f| f.value().and_then(|v| v.as_double_value().ok()) == Some(&12.0)));
    let both = CustomFieldsFilter::AndAll(vec![equal(s(demo::FIELD_ORDER_NUMBER, "ORD-1")), equal(d(demo::FIELD_ORDER_TOTAL, 3.0))]);
    assert_eq!(search(custom(both)).await.unwrap().related_items().len(), 1);
    let mismatch = CustomFieldsFilter::AndAll(vec![equal(s(demo::FIELD_ORDER_NUMBER, "ORD-1")), equal(d(demo::FIELD_ORDER_TOTAL, 12.0))]);
    assert!(search(custom(mismatch)).await.unwrap().related_items().is_empty());
    let all_custom = RelatedItemTypeFilter::Custom(CustomFilter::builder().build());
    assert_eq!(search(all_custom).await.unwrap().related_items().len(), 2);

    let link = |case: &str| RelatedItemTypeFilter::ConnectCase(ConnectCaseFilter::builder().case_id(case).build());
    let to_parent = search(link(&parent)).await.unwrap();
    assert_eq!(to_parent.related_items().len(), 1);
    let Some(RelatedItemContent::ConnectCase(linked)) = to_parent.related_items()[0].as_ref().unwrap().content() else { panic!() };
    assert_eq!(linked.case_id(), parent);
    assert_eq!(to_parent.related_items()[0].as_ref().unwrap().performed_by(), Some(&bot()));
    assert_eq!(search(RelatedItemTypeFilter::ConnectCase(ConnectCaseFilter::builder().build())).await.unwrap().related_items().len(), 2);
    assert!(search(link("no-such-case")).await.unwrap().related_items().is_empty());
    // A link to a case that does not exist is refused.
    let e = relate(
        RelatedItemType::ConnectCase,
        RelatedItemInputContent::ConnectCase(ConnectCaseInputContent::builder().case_id("nope").build().unwrap()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}
