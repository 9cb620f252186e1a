//! Time-driven automation (SPEC §4 "Acts on time too"): scheduled sweeps over cases through the
//! real SDKs, against the local Cases service (its clock moved forward instead of waiting), with
//! the coordination store and the work queue on the local DynamoDB/SQS server.

mod support;

use std::time::{Duration, Instant};

use aws_sdk_connectcases::types::{FieldValue as SdkFieldValue, FieldValueUnion, UserUnion};
use cases_automation::handler::Invocation;
use cases_automation::rules::RuleSet;
use cases_automation::sweep::queue::WorkQueue;
use cases_emulator::{Emulator, Fault, Seed};
use serde_json::{Value, json};
use support::cases_service::{self, DOMAIN, IDENTITY};
use support::lambda::{StoreApp, instance_with_store};
use support::readback;
use support::{moto, work_queue};

const LAG: Duration = Duration::from_secs(1);

async fn service() -> Emulator {
    Emulator::builder().seed(Seed::demo().without_cases()).search_lag(LAG).start().await.unwrap()
}

/// One instance with the store and the work queue, as the template deploys it.
async fn app(service: &Emulator, table: &str, queue: &str) -> StoreApp {
    instance_with_store(service, RuleSet::default_rules(), &[], table).with_work_queue(WorkQueue::lazy(moto::sdk_config().clone(), queue))
}

/// The event a schedule sends (see template.yaml, `SweepSchedule…`).
fn scheduled(rule: &str, at: time::OffsetDateTime, parameters: Value) -> Value {
    let time = at.format(&time::format_description::well_known::Rfc3339).unwrap();
    json!({
        "version": "0", "id": format!("schedule-{rule}-{time}"), "source": "cases-automation.sweep", "detail-type": "Scheduled Sweep",
        "account": "123456789012", "region": "us-east-1", "time": time, "resources": [], "detail": {},
        "sweep": {"rule": rule, "scheduledTime": time, "parameters": parameters},
    })
}

async fn invoke(app: &StoreApp, payload: Value, budget: Duration) -> Value {
    app.handle(
        payload,
        &Invocation { deadline: Instant::now() + budget, function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:f".into()) },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn status(client: &aws_sdk_connectcases::Client, case: &str) -> String {
    readback::text_field(client, case, "status").await.unwrap_or_default()
}

/// Old cases are closed with a comment under the automation's name, fresh ones are left alone,
/// and a second run (the same schedule retried, or the next day's) changes nothing.
#[tokio::test]
async fn a_sweep_closes_exactly_the_idle_cases_once() {
    let service = service().await;
    let client = cases_service::client(&service);
    let (table, queue) = (moto::claims_table().await, work_queue::create().await);
    let app = app(&service, &table, &queue).await;
    let mut idle = Vec::new();
    for n in 0..5 {
        idle.push(readback::agent_case(&client, &format!("Old case {n}")).await);
    }
    service.advance_clock(Duration::from_secs(15 * 86_400));
    let mut fresh = Vec::new();
    for n in 0..3 {
        fresh.push(readback::agent_case(&client, &format!("New case {n}")).await);
    }
    service.advance_clock(LAG + Duration::from_millis(1));

    let now = service.now();
    let outcome = invoke(&app, scheduled("auto-close-idle-cases", now, json!({"idleDays": 14})), Duration::from_secs(30)).await;
    assert_eq!(outcome["sweep"]["sent"], 5, "{outcome}");
    assert_eq!(outcome["sweep"]["done"], true);
    let drained = work_queue::drain(&app, &queue).await;
    assert_eq!((drained.records, drained.failed), (5, 0));

    service.advance_clock(LAG + Duration::from_millis(1));
    for case in &idle {
        assert_eq!(status(&client, case).await, "closed", "{case}");
        let comments = readback::comments(&client, case).await;
        assert_eq!(comments, ["Closed automatically: no activity for 14 days."], "{case}");
        let audit = readback::audit_events(&client, case).await;
        let by_automation: Vec<_> =
            audit.iter().filter(|(_, who)| who.as_deref() == Some(IDENTITY)).map(|(kind, _)| kind.as_str()).collect();
        assert_eq!(by_automation, ["RelatedItem.Created", "Case.Updated"], "{case}: the comment and the closing, by the automation");
    }
    for case in &fresh {
        assert_eq!(status(&client, case).await, "open", "{case}");
        assert!(readback::comments(&client, case).await.is_empty());
    }

    // The same schedule again (a retry): the sweep is done, nothing is sent.
    let again = invoke(&app, scheduled("auto-close-idle-cases", now, json!({"idleDays": 14})), Duration::from_secs(30)).await;
    assert_eq!((again["sweep"]["sentNow"].as_u64(), again["sweep"]["done"].as_bool()), (Some(0), Some(true)), "{again}");
    // The next day's: nothing idle is left open.
    service.advance_clock(Duration::from_secs(86_400));
    let next_day = invoke(&app, scheduled("auto-close-idle-cases", service.now(), json!({"idleDays": 14})), Duration::from_secs(30)).await;
    assert_eq!(next_day["sweep"]["sent"], 0, "{next_day}");
    let writes = service.writes();
    work_queue::drain(&app, &queue).await;
    assert_eq!(service.writes(), writes, "a second run changes nothing");
}

/// A sweep of more cases than one invocation handles stops before its deadline, saves where it
/// stands, and goes on through the queue; every case is applied once.
#[tokio::test]
async fn an_interrupted_sweep_resumes_where_it_stopped() {
    let service = service().await;
    let client = cases_service::client(&service);
    let (table, queue) = (moto::claims_table().await, work_queue::create().await);
    let app = app(&service, &table, &queue).await;
    let mut idle = Vec::new();
    for n in 0..230 {
        idle.push(readback::agent_case(&client, &format!("Old case {n}")).await);
    }
    service.advance_clock(Duration::from_secs(15 * 86_400) + LAG);

    // Time for one page at most, and the first page slowed past it: the sweep hands over to a
    // continuation however fast the machine (a page alone would otherwise fit).
    service.inject_fault(Fault { count: Some(1), ..Fault::latency("SearchCases", Duration::from_secs(1)) });
    let first = invoke(&app, scheduled("auto-close-idle-cases", service.now(), json!({})), Duration::from_millis(4_000)).await;
    let sent = first["sweep"]["sentNow"].as_u64().unwrap();
    assert!(first["sweep"]["done"] == false && sent < 230, "it stopped early: {first}");
    let drained = work_queue::drain(&app, &queue).await;
    assert_eq!(drained.failed, 0);
    assert_eq!(drained.records, 230 + 1, "every case once, and the continuation that sent the rest");
    service.advance_clock(LAG + Duration::from_millis(1));
    for case in &idle {
        assert_eq!(status(&client, case).await, "closed", "{case}");
        assert_eq!(readback::comments(&client, case).await.len(), 1, "{case}: one comment");
    }
}

/// An abandoned call's four-hour SLA becomes overdue; the hourly sweep comments and raises the
/// priority once, however often it runs.
#[tokio::test]
async fn an_overdue_sla_is_acted_on_once() {
    let service = service().await;
    let client = cases_service::client(&service);
    let (table, queue) = (moto::claims_table().await, work_queue::create().await);
    let app = app(&service, &table, &queue).await;
    let call = invoke(&app, support::lambda::sample("contact-disconnected-abandoned.json"), Duration::from_secs(30)).await;
    let case = call["results"][0]["caseId"].as_str().unwrap().to_owned();
    // Priority is high for callbacks: lower it, as an agent would, to see the sweep raise it.
    client
        .update_case()
        .domain_id(DOMAIN)
        .case_id(&case)
        .fields(SdkFieldValue::builder().id(readback::PRIORITY).value(FieldValueUnion::StringValue("low".into())).build().unwrap())
        .performed_by(UserUnion::UserArn("arn:aws:connect:us-east-1:123456789012:instance/i/agent/a".into()))
        .send()
        .await
        .unwrap();

    let hour = Duration::from_secs(3600);
    service.advance_clock(hour);
    let early = invoke(&app, scheduled("overdue-sla-escalation", service.now(), json!({})), Duration::from_secs(30)).await;
    assert_eq!(early["sweep"]["sent"], 0, "not overdue yet: {early}");
    for _ in 0..3 {
        service.advance_clock(2 * hour);
        invoke(&app, scheduled("overdue-sla-escalation", service.now(), json!({})), Duration::from_secs(30)).await;
        work_queue::drain(&app, &queue).await;
    }
    service.advance_clock(LAG + Duration::from_millis(1));
    let comments: Vec<String> = readback::comments(&client, &case).await.into_iter().filter(|c| c.contains("overdue")).collect();
    assert_eq!(comments.len(), 1, "one comment: {comments:?}");
    assert!(comments[0].starts_with("The SLA \"Call back within 4 hours\" is overdue (it was due 20"), "{comments:?}");
    assert_eq!(readback::text_field(&client, &case, readback::PRIORITY).await.as_deref(), Some("high"));
    let raised = readback::audit_events(&client, &case)
        .await
        .iter()
        .filter(|(kind, who)| kind == "Case.Updated" && who.as_deref() == Some(IDENTITY))
        .count();
    assert_eq!(raised, 1, "the priority was raised once");
}
