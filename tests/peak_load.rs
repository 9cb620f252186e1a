//! Peak load at the Cases quotas (SPEC §4 "Rate limits", §7): bursts of events against the local
//! service enforcing the real quotas (CreateCase 2/s burst 10, UpdateCase 2/s burst 2, …), through
//! either delivery path, under a harness that enforces AWS's own rules with the template's settings:
//! Lambda's asynchronous retries, throttling and failure destination (`support::async_invoke`), and
//! a real SQS queue with its redrive policy read by an event source mapping (`support::sqs_source`),
//! over a function of several instances within its reserved concurrency (`support::function`).
//!
//! Lambda's own delays (retry delays, throttle back-off, the visibility timeout) are multiplied by
//! [`TIME_SCALE`]; the visibility timeout never drops below the function's timeout, the least AWS
//! accepts for a queue a function reads. The quotas and the function's timeout stay real.
//!
//! `make test` runs the 500-event bursts; `make reliability` the 2,000-record backlog; `make
//! load-designs` the measurements behind the design (README, Capacity).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cases_automation::aws::sdk_config_for_local_service;
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, Seed};
use futures_util::future::join_all;
use serde_json::{Value, json};
use support::async_invoke::{AsyncSettings, invoke_all};
use support::cases_service::{self, DOMAIN, PROFILES_DOMAIN};
use support::deployment::Deployment;
use support::function::{Function, Invoked};
use support::lambda::sample;
use support::load_app::{self, Design};
use support::readback::{self, ORDER_NUMBER, PROMISED_BY};
use support::sqs_source::{EventQueue, Mapping, poll_until_drained};

/// What Lambda's delays are multiplied by: a minute's retry delay takes a second.
const TIME_SCALE: f64 = 1.0 / 60.0;
/// The published CreateCase quota, requests per second: what the drain rate is measured against.
const CREATE_CASE_QUOTA: f64 = 2.0;
/// How long the local service's search index trails the writes.
const SEARCH_LAG: Duration = Duration::from_secs(1);

/// Held by each run at the quotas: runs go one after another, so that none measures its drain
/// rate on a machine and a moto server shared with another.
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn burst_size() -> usize {
    std::env::var("LOAD_BURST").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}

/// An "Order Delayed" event of its own (a new case each: SearchCases, CreateCase, a comment,
/// UpdateCase).
fn order_delayed(n: usize) -> Value {
    let mut event = sample("custom-order-delayed.json");
    event["id"] = json!(format!("e0826073-0000-4000-8000-{n:012}"));
    event["detail"]["orderNumber"] = json!(format!("ORD-{:06}", 900_000 + n));
    event
}

async fn service(quotas: bool) -> Emulator {
    Emulator::builder()
        .seed(Seed::demo().without_cases())
        .quotas(quotas)
        .search_lag(SEARCH_LAG)
        .start()
        .await
        .expect("the local Cases service starts")
}

/// The function as `deployment` deploys it, against `service`, each instance built with `design`.
async fn function(service: &Emulator, deployment: &Deployment, design: Design) -> Function {
    function_with(service, deployment, design, &[]).await
}

/// The same, with more of the stack's values (`WORK_QUEUE_URL`, say).
async fn function_with(service: &Emulator, deployment: &Deployment, design: Design, local: &[(&str, &str)]) -> Function {
    let table = support::moto::claims_table().await;
    let mut values = vec![("CASES_DOMAIN_ID", DOMAIN), ("CLAIMS_TABLE", &table), ("PROFILES_DOMAIN_NAME", PROFILES_DOMAIN)];
    values.extend_from_slice(local);
    let environment = deployment.function_environment(&values);
    let cases_config = load_app::cases_config(&sdk_config_for_local_service(&service.endpoint_url()).await, design);
    Function::new(
        move || load_app::instance(&cases_config, &environment, RuleSet::default_rules(), design),
        deployment.reserved_concurrency,
        deployment.function_timeout,
    )
}

/// The requests one event needs when nothing is throttled (one warm instance, a quiet service): those
/// of a second event, so that what an instance looks up once (fields, templates, options) is not
/// counted.
async fn minimum_requests_per_event() -> u64 {
    let service = service(false).await;
    let function = function(&service, &Deployment::with(&[]), Design::Paced).await;
    let total = || service.calls().values().sum::<u64>();
    let mut before = 0;
    for n in 0..2 {
        before = total();
        let outcome = function.try_invoke(order_delayed(n)).expect("a free instance").await;
        assert!(matches!(outcome, Invoked::Response(_)), "event {n} was not applied: {outcome:?}");
    }
    total() - before
}

/// The function's own logs on stderr when `LOAD_LOGS` is set (`RUST_LOG=warn` shows why events failed).
fn logs() {
    static LOGS: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("LOAD_LOGS").is_some() {
        LOGS.call_once(lambda_runtime::tracing::init_default_subscriber);
    }
}

/// A call the service throttles moves the instance's later turns: the signal goes from the SDK's
/// interceptor, through the retried call, to the pacing.
#[tokio::test]
async fn a_throttled_call_moves_the_pacing_turns() {
    let service = service(false).await;
    let deployment = Deployment::with(&[]);
    let function = function(&service, &deployment, Design::Paced).await;
    service.inject_fault(cases_emulator::Fault::error("UpdateCase", cases_emulator::ErrorKind::ThrottlingException, 1));
    let outcome = function.try_invoke(order_delayed(1)).expect("a free instance").await;
    assert!(matches!(outcome, Invoked::Response(_)), "the SDK's retry got the update through: {outcome:?}");
    assert_eq!(service.call_count("UpdateCase"), 2);
    assert_eq!(function.paced_shifts(), 1, "the throttled UpdateCase moved the turns, nothing else did");
}

/// What a run did, read back from the service.
#[derive(Debug)]
struct Outcome {
    events: usize,
    elapsed: Duration,
    /// Events whose case, comment and date are there exactly once.
    applied_once: usize,
    /// Events with two cases, or a case with two comments.
    applied_twice: usize,
    dead_lettered: usize,
    /// Deliveries (SQS receives, or asynchronous attempts) per event.
    deliveries: BTreeMap<String, u32>,
    /// Requests the service received, throttled ones included.
    requests: BTreeMap<String, u64>,
    throttled_invocations: u64,
    instances: usize,
    paced_waits: u64,
    paced_shifts: u64,
}

impl Outcome {
    fn drain_rate(&self) -> f64 {
        self.applied_once as f64 / self.elapsed.as_secs_f64()
    }

    fn requests_per_event(&self) -> f64 {
        self.requests.values().sum::<u64>() as f64 / self.events as f64
    }

    fn most_deliveries(&self) -> u32 {
        self.deliveries.values().copied().max().unwrap_or(0)
    }

    fn redelivered(&self) -> usize {
        self.deliveries.values().filter(|d| **d > 1).count()
    }

    fn summary(&self, path: &str, design: Design, minimum: u64) -> String {
        format!(
            "{path}, {}: {} events in {:.1} s = {:.2} events/s ({:.0}% of the CreateCase quota); {} dead-lettered, {} applied twice; \
             {:.2} requests per event ({:.2}x the minimum of {minimum}); {} redelivered, at most {} deliveries; \
             {} instances, {} Lambda throttles, {} paced waits, {} turn moves; requests {:?}",
            design.name(),
            self.events,
            self.elapsed.as_secs_f64(),
            self.drain_rate(),
            100.0 * self.drain_rate() / CREATE_CASE_QUOTA,
            self.dead_lettered,
            self.applied_twice,
            self.requests_per_event(),
            self.requests_per_event() / minimum as f64,
            self.redelivered(),
            self.most_deliveries(),
            self.instances,
            self.throttled_invocations,
            self.paced_waits,
            self.paced_shifts,
            self.requests,
        )
    }
}

/// Reads every case back (quotas off, the search index caught up): (applied once, applied twice)
/// among the events' cases (those with an order number).
async fn read_back(service: &Emulator, events: usize) -> (usize, usize) {
    service.set_quotas(false);
    service.advance_clock(SEARCH_LAG + Duration::from_millis(1));
    let client = cases_service::client(service);
    let cases = readback::all_cases(&client).await;
    let mut per_order: BTreeMap<String, Vec<(usize, Option<String>)>> = BTreeMap::new();
    for chunk in cases.chunks(20) {
        let found = join_all(chunk.iter().map(|case| {
            let client = &client;
            async move {
                let order = readback::text_field(client, case, ORDER_NUMBER).await?;
                let (_, comments, _, _) = readback::item_counts(client, case).await;
                Some((order, comments, readback::text_field(client, case, PROMISED_BY).await))
            }
        }))
        .await;
        for (order, comments, promised) in found.into_iter().flatten() {
            per_order.entry(order).or_default().push((comments, promised));
        }
    }
    let once = per_order.values().filter(|cases| matches!(cases.as_slice(), [(1, Some(date))] if date == "2026-12-03T17:00:00Z")).count();
    let twice = per_order.values().filter(|cases| cases.len() > 1 || cases.iter().any(|(comments, _)| *comments > 1)).count();
    assert!(per_order.len() <= events, "cases for orders that were never sent");
    (once, twice)
}

/// `events` Order Delayed events sent to the queue at once, drained through the event source
/// mapping; `during` runs alongside (flows invoked during the backlog).
async fn run_through_sqs<F: std::future::Future<Output = ()>>(
    service: &Emulator,
    function: &Function,
    deployment: &Deployment,
    events: usize,
    during: impl FnOnce() -> F,
) -> Outcome {
    let visibility = deployment.visibility_timeout.mul_f64(TIME_SCALE).max(deployment.function_timeout);
    let queue = EventQueue::create(visibility, deployment.max_receive_count).await;
    queue.send(&(0..events).map(order_delayed).collect::<Vec<_>>()).await;
    let mapping = Mapping {
        batch_size: deployment.batch_size,
        batch_window: deployment.batch_window,
        maximum_concurrency: deployment.queue_concurrency,
    };
    let give_up = Duration::from_secs_f64(events as f64 / CREATE_CASE_QUOTA * 2.0) + Duration::from_secs(120);
    let (report, ()) = tokio::join!(poll_until_drained(&queue, mapping, function, give_up), during());
    let requests = service.calls();
    let dead_letters = queue.dead_letters().await;
    let (applied_once, applied_twice) = read_back(service, events).await;
    assert!(report.drained, "the queue was not drained after {:?}: {report:?}", report.elapsed);
    Outcome {
        events,
        elapsed: report.elapsed,
        applied_once,
        applied_twice,
        dead_lettered: dead_letters.len(),
        deliveries: report.receives,
        requests,
        throttled_invocations: report.throttled_invocations,
        instances: function.instances(),
        paced_waits: function.paced_waits(),
        paced_shifts: function.paced_shifts(),
    }
}

/// `events` Order Delayed events put on the function's asynchronous queue at once.
async fn run_direct(service: &Emulator, function: &Function, deployment: &Deployment, events: usize) -> Outcome {
    let settings = AsyncSettings {
        maximum_retry_attempts: deployment.maximum_retry_attempts,
        maximum_event_age: deployment.maximum_event_age,
        time_scale: TIME_SCALE,
    };
    let payloads = (0..events).map(|n| (order_delayed(n)["id"].as_str().unwrap().to_owned(), order_delayed(n))).collect();
    let give_up = Duration::from_secs_f64(events as f64 / CREATE_CASE_QUOTA * 2.0) + Duration::from_secs(120);
    let report = invoke_all(function, payloads, settings, give_up).await;
    let requests = service.calls();
    let (applied_once, applied_twice) = read_back(service, events).await;
    let settled = report.succeeded.len() + report.failure_destination.len();
    assert_eq!(
        settled,
        events,
        "not every event settled after {:?}: {} succeeded, {:?} failed",
        report.elapsed,
        report.succeeded.len(),
        report.failure_destination
    );
    Outcome {
        events,
        elapsed: report.elapsed,
        applied_once,
        applied_twice,
        dead_lettered: report.failure_destination.len(),
        deliveries: report.attempts,
        requests,
        throttled_invocations: report.throttles,
        instances: function.instances(),
        paced_waits: function.paced_waits(),
        paced_shifts: function.paced_shifts(),
    }
}

/// The bars of SPEC §7 at peak load.
fn assert_peak_load_bars(outcome: &Outcome, minimum: u64, summary: &str) {
    assert_eq!(outcome.dead_lettered, 0, "nothing dead-lettered: {summary}");
    assert_eq!(outcome.applied_twice, 0, "nothing applied twice: {summary}");
    assert_eq!(outcome.applied_once, outcome.events, "every event applied: {summary}");
    assert!(outcome.drain_rate() >= 0.9 * CREATE_CASE_QUOTA, "drain rate at least 90% of the CreateCase quota: {summary}");
    assert!(outcome.requests_per_event() <= 1.2 * minimum as f64, "at most 1.2x the requests the rule needs: {summary}");
}

/// A contact flow opening a case for a caller of its own.
fn flow(n: usize) -> Value {
    let mut event = sample("flow-voice-open-case.json");
    let contact = format!("33393138-0000-4000-8000-{n:012}");
    event["Details"]["ContactData"]["ContactId"] = json!(contact);
    event["Details"]["ContactData"]["InitialContactId"] = json!(contact);
    event
}

/// 500 events through the queue (the template's default path and settings) drain at the quota,
/// with nothing dead-lettered, each applied once, with few wasted requests; and contact flows
/// invoked while the backlog drains get their case within their budget, on instances of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_through_sqs_drains_at_the_quota_while_flows_answer_within_their_budget() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    logs();
    let events = burst_size();
    let minimum = minimum_requests_per_event().await;
    let deployment = Deployment::with(&[]);
    assert!(deployment.buffered, "events come through the queue by default");
    let service = service(true).await;
    let function = function(&service, &deployment, Design::Paced).await;
    let flow_budget = Duration::from_millis(deployment.environment["FLOW_TIMEOUT_MS"].parse().unwrap());

    // Flows come in while a fifth, a half and four fifths of the events are applied.
    let flow_cases = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let flows = || async {
        for (n, applied) in [events / 5, events / 2, events * 4 / 5].into_iter().enumerate() {
            let applied = applied as u64;
            service.wait_for_calls("UpdateCase", applied, Duration::from_secs(600)).await.expect("the backlog drains");
            let invoked = Instant::now();
            let invocation = function.try_invoke(flow(n)).expect("a flow finds a free instance: the queue holds only its own");
            let answer = tokio::time::timeout(flow_budget, invocation).await;
            let waited = invoked.elapsed();
            // The function cuts a flow's work short of its budget (DEADLINE_MARGIN); an answer that
            // is not an error therefore came within it.
            match answer {
                Ok(Invoked::Response(answer)) => {
                    let case = answer["caseId"].as_str().filter(|c| !c.is_empty()).unwrap_or_else(|| panic!("flow {n}: {answer}"));
                    flow_cases.lock().unwrap().insert(case.to_owned());
                    eprintln!("flow {n} during the backlog: answered in {waited:?} of its {flow_budget:?}");
                }
                other => panic!("flow {n} during the backlog did not get its case within {flow_budget:?}: {other:?}"),
            }
        }
    };
    let outcome = run_through_sqs(&service, &function, &deployment, events, flows).await;
    let summary = outcome.summary("through SQS", Design::Paced, minimum);
    eprintln!("{summary}");
    // Besides the events' cases, only the flows' (the same caller's flows share the open one).
    let flow_cases = flow_cases.into_inner().unwrap().len();
    assert_eq!(readback::all_cases(&cases_service::client(&service)).await.len(), events + flow_cases, "{summary}");
    assert_peak_load_bars(&outcome, minimum, &summary);
}

/// 500 events invoked directly (EventBridge's asynchronous invocations, BufferThroughSqs=false)
/// drain at the quota, none sent to the failure destination, each applied once, few wasted requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_direct_invocations_drains_at_the_quota_with_nothing_dead_lettered() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    logs();
    let events = burst_size();
    let minimum = minimum_requests_per_event().await;
    let deployment = Deployment::with(&[("BufferThroughSqs", "false")]);
    let service = service(true).await;
    let function = function(&service, &deployment, Design::Paced).await;
    let outcome = run_direct(&service, &function, &deployment, events).await;
    let summary = outcome.summary("direct invocations", Design::Paced, minimum);
    eprintln!("{summary}");
    assert_peak_load_bars(&outcome, minimum, &summary);
}

/// A backlog of 2,000 records (`LOAD_BACKLOG`) through the queue: drains at the quota with nothing
/// dead-lettered. `make reliability` runs it and prints its last line for other checks to read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about 18 minutes: run by `make reliability`"]
async fn a_backlog_of_2000_records_drains_at_the_quota() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    logs();
    let records = std::env::var("LOAD_BACKLOG").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let minimum = minimum_requests_per_event().await;
    let deployment = Deployment::with(&[]);
    let service = service(true).await;
    let function = function(&service, &deployment, Design::Paced).await;
    let outcome = run_through_sqs(&service, &function, &deployment, records, || async {}).await;
    let summary = outcome.summary("backlog through SQS", Design::Paced, minimum);
    eprintln!("{summary}");
    println!(
        "drain: {} records, {:.2} records/s, {:.0}% of the CreateCase quota, {} dead-lettered, {} applied twice",
        records,
        outcome.drain_rate(),
        100.0 * outcome.drain_rate() / CREATE_CASE_QUOTA,
        outcome.dead_lettered,
        outcome.applied_twice
    );
    assert_peak_load_bars(&outcome, minimum, &summary);
}

/// The UpdateCase quota, requests per second: a swept case is closed with one UpdateCase.
const UPDATE_CASE_QUOTA: f64 = 2.0;

/// A sweep of 2,000 idle cases (`LOAD_SWEEP`) at the real quotas, as the template deploys it with
/// `AutoCloseAfterDays=14`: the schedule's invocation pages through the selection and sends the
/// work items to the queue (going on through its own continuation when an invocation is not
/// enough); the queue's consumer closes each case once, with one comment, and nothing is
/// dead-lettered. Fresh cases are left alone. `make reliability` runs it and prints its last line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about 18 minutes: run by `make reliability`"]
async fn a_sweep_of_2000_cases_closes_each_once_at_the_quota() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    logs();
    let idle = std::env::var("LOAD_SWEEP").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let deployment = Deployment::with(&[("AutoCloseAfterDays", "14")]);
    let service = service(false).await;
    let client = cases_service::client(&service);

    // Cases created by agents, 15 days before the sweep, and a few fresh ones.
    let create = |prefix: &'static str, count: usize| {
        let client = &client;
        async move {
            let mut ids = Vec::with_capacity(count);
            for chunk in (0..count).collect::<Vec<_>>().chunks(50) {
                ids.extend(
                    join_all(chunk.iter().map(|n| async move { readback::agent_case(client, &format!("{prefix} {n}")).await })).await,
                );
            }
            ids
        }
    };
    let idle_cases = create("Idle case", idle).await;
    service.advance_clock(Duration::from_secs(15 * 86_400));
    let fresh_cases = create("Fresh case", 20).await;
    service.advance_clock(SEARCH_LAG + Duration::from_millis(1));

    let visibility = deployment.visibility_timeout.mul_f64(TIME_SCALE).max(deployment.function_timeout);
    let queue = EventQueue::create(visibility, deployment.max_receive_count).await;
    let function = function_with(&service, &deployment, Design::Paced, &[("WORK_QUEUE_URL", queue.url())]).await;
    let mapping = Mapping {
        batch_size: deployment.batch_size,
        batch_window: deployment.batch_window,
        maximum_concurrency: deployment.queue_concurrency,
    };

    // The schedule's payload at the service's time (events/schedule-auto-close.json, as the
    // template's AutoCloseSchedule sends it).
    let now = service.now().format(&time::format_description::well_known::Rfc3339).unwrap();
    let mut scheduled = sample("schedule-auto-close.json");
    scheduled["id"] = json!(format!("arn:aws:scheduler:us-east-1:123456789012:schedule/sweeps/AutoCloseSchedule@{now}"));
    scheduled["time"] = json!(now);
    scheduled["sweep"]["scheduledTime"] = json!(now);

    service.set_quotas(true);
    let before = service.calls();
    let started = Instant::now();
    let sweep = function.try_invoke(scheduled).expect("a free instance").await;
    let Invoked::Response(sweep) = sweep else { panic!("the schedule's invocation failed: {sweep:?}") };
    eprintln!("the schedule's invocation: {sweep}");
    let give_up = Duration::from_secs_f64(idle as f64 / UPDATE_CASE_QUOTA * 2.0) + Duration::from_secs(120);
    let report = poll_until_drained(&queue, mapping, &function, give_up).await;
    let elapsed = started.elapsed();
    let requests: BTreeMap<String, u64> = service
        .calls()
        .into_iter()
        .map(|(op, n)| (op.clone(), n - before.get(&op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let dead_letters = queue.dead_letters().await.len();
    assert!(report.drained, "the queue was not drained after {elapsed:?}: {report:?}");

    // Read back with the quotas off: each idle case closed with one comment, the fresh ones untouched.
    service.set_quotas(false);
    service.advance_clock(SEARCH_LAG + Duration::from_millis(1));
    let mut closed_once = 0;
    let mut applied_twice = 0;
    for chunk in idle_cases.chunks(25) {
        let found = join_all(chunk.iter().map(|case| {
            let client = &client;
            async move {
                let status = readback::text_field(client, case, "status").await.unwrap_or_default();
                let (_, comments, _, _) = readback::item_counts(client, case).await;
                (status, comments)
            }
        }))
        .await;
        closed_once += found.iter().filter(|(status, comments)| status == "closed" && *comments == 1).count();
        applied_twice += found.iter().filter(|(_, comments)| *comments > 1).count();
    }
    for case in &fresh_cases {
        assert_eq!(readback::text_field(&client, case, "status").await.as_deref(), Some("open"), "a fresh case was closed");
        assert_eq!(readback::item_counts(&client, case).await.1, 0, "a fresh case got a comment");
    }
    let rate = closed_once as f64 / elapsed.as_secs_f64();
    let per_case = requests.values().sum::<u64>() as f64 / idle as f64;
    eprintln!(
        "sweep of {idle} idle cases: {elapsed:?}, {} invocations, {} receives at most; {per_case:.2} requests per swept case {requests:?}",
        report.invocations,
        report.receives.values().max().unwrap_or(&0),
    );
    println!(
        "sweep: {idle} cases, {rate:.2} cases/s, {:.0}% of the UpdateCase quota, {dead_letters} dead-lettered, {applied_twice} applied twice",
        100.0 * rate / UPDATE_CASE_QUOTA
    );
    assert_eq!(dead_letters, 0, "nothing dead-lettered");
    assert_eq!(applied_twice, 0, "no case commented twice");
    assert_eq!(closed_once, idle, "every idle case closed, with one comment");
    // Each case: its check (GetCase), its comment (CreateRelatedItem) and its close (UpdateCase),
    // plus the selection's pages; throttled retries would show here.
    for operation in ["UpdateCase", "CreateRelatedItem"] {
        let sent = requests.get(operation).copied().unwrap_or(0) as f64;
        assert!(sent <= 1.2 * idle as f64, "{operation}: {sent} requests for {idle} cases (at most 1.2 each)");
    }
    assert!(rate >= 0.8 * UPDATE_CASE_QUOTA, "the sweep applies at the quota: {rate:.2} cases/s");
}

/// The measurements behind the design (README, Capacity): each way of coping with the quotas, on
/// each path, with the template's settings or those given in `LOAD_PARAMETERS` (`Name=value,…`).
/// Checks only that nothing is applied twice; prints the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes per design: run by `make load-designs`"]
async fn measure_the_designs() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let events = std::env::var("LOAD_BURST").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let parameters = std::env::var("LOAD_PARAMETERS").unwrap_or_default();
    let parameters: Vec<(&str, &str)> = parameters.split(',').filter_map(|p| p.split_once('=')).collect();
    let designs: Vec<Design> = match std::env::var("LOAD_DESIGNS").as_deref() {
        Ok("paced") => vec![Design::Paced],
        Ok("standard") => vec![Design::StandardRetries],
        Ok("adaptive") => vec![Design::AdaptiveRetries],
        _ => vec![Design::StandardRetries, Design::AdaptiveRetries, Design::Paced],
    };
    let minimum = minimum_requests_per_event().await;
    for design in designs {
        for buffered in ["true", "false"] {
            let mut chosen = parameters.clone();
            chosen.push(("BufferThroughSqs", buffered));
            let deployment = Deployment::with(&chosen);
            let service = service(true).await;
            let function = function(&service, &deployment, design).await;
            let (path, outcome) = if buffered == "true" {
                ("through SQS", run_through_sqs(&service, &function, &deployment, events, || async {}).await)
            } else {
                ("direct invocations", run_direct(&service, &function, &deployment, events).await)
            };
            let summary = outcome.summary(path, design, minimum);
            println!("{summary}");
            assert_eq!(outcome.applied_twice, 0, "{summary}");
        }
    }
}
