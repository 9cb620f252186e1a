//! Whole-system figures, each printed beside its target:
//! - cold start of the release `cases-automation` binary under a Runtime API stub on loopback, to
//!   its first request for work and to its first answer (against the local Cases service): a flow
//!   that names its customer, and one whose caller is looked up by phone number; beside two floors
//!   built with the same profile, a bare `lambda_runtime` echo function and the same with logging;
//! - warm CPU: the release binary's process CPU (user + system) per event and per API call over
//!   `WARM_EVENTS` abandoned-call events, after one that warms it;
//! - peak memory (max RSS) and binary size;
//! - Cases API calls per event for each default rule, counted at the local Cases service, cold and
//!   warm, against the minimum the rule needs, and the coordination store's calls (DynamoDB on
//!   moto's server, counted at the store's interface);
//! - throughput of one instance over SQS batches of 10, without and with the real quotas;
//! - a sweep over 1,000 idle cases: the selection's pages per second (SearchCases pages of 100,
//!   the work items sent to the queue on moto's server), and the API calls per swept case when the
//!   queue's consumer applies them.
//!
//! `make bench` builds the release binaries first, then runs `cargo bench --bench system`.

#[path = "../tests/support/counted_store.rs"]
mod counted_store;
#[path = "../tests/support/moto.rs"]
#[allow(dead_code)]
mod moto;
#[path = "../tests/support/runtime_api.rs"]
#[allow(dead_code)] // the benchmark uses part of the stub
mod runtime_api;
#[path = "../tests/support/work_queue.rs"]
mod work_queue;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cases_automation::claims::dynamodb::DynamoClaims;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::{App, Invocation};
use counted_store::CountedStore;

type LocalApp = App<cases_automation::cases::sdk::SdkCases, SdkProfiles, CountedStore>;
use cases_emulator::{Emulator, Seed};
use runtime_api::{Answer, RuntimeApi};
use serde_json::{Value, json};
use tokio::process::Command;

const RUNS: usize = 31;
/// Warm events whose CPU is measured: enough that the kernel's accounting (clock ticks, 10 ms
/// each) is a small part of the total.
const WARM_EVENTS: usize = 200;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("events").join(name)).unwrap()).unwrap()
}

fn release_binary(relative: &str) -> PathBuf {
    let path = root().join("target/release").join(relative);
    assert!(path.exists(), "{} is missing: run `make bench` (it builds the release binaries first)", path.display());
    path
}

struct ColdStart {
    init: Vec<Duration>,
    first_answer: Vec<Duration>,
    peak_rss_kib: Vec<u64>,
}

impl ColdStart {
    fn new() -> ColdStart {
        ColdStart { init: vec![], first_answer: vec![], peak_rss_kib: vec![] }
    }
}

/// Starts `binary` under `runtime` as Lambda would, pointed at the local service (Cases and
/// Customer Profiles), its logs at WARN and discarded.
fn spawn_under(runtime: &RuntimeApi, binary: &Path, cases: &Emulator) -> tokio::process::Child {
    Command::new(binary)
        .env_clear()
        .envs(runtime.lambda_environment(&cases.endpoint_url()))
        .env("AWS_ENDPOINT_URL_CUSTOMER_PROFILES", cases.endpoint_url())
        .env("PROFILES_DOMAIN_NAME", "demo-profiles")
        .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
        .env("CASES_DOMAIN_ID", "demo-domain")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Starts `binary` once: the time to its first `next` request and to the answer of its first
/// invocation (`payload`), and its peak RSS after that invocation.
async fn start_once(binary: &Path, cases: &Emulator, payload: Value, into: &mut ColdStart) {
    let runtime = RuntimeApi::start().await;
    runtime.invoke(payload, Duration::from_secs(8));
    let started = Instant::now();
    let mut child = spawn_under(&runtime, binary, cases);
    let (_, answer) = runtime.answer(Duration::from_secs(30)).await.expect("an answer");
    let answered = started.elapsed();
    assert!(matches!(answer, Answer::Response(_)), "{answer:?}");
    into.init.push(runtime.first_next().expect("asked for work") - started);
    into.first_answer.push(answered);
    if let Some(pid) = child.id() {
        into.peak_rss_kib.push(peak_rss_kib(pid));
    }
    child.kill().await.unwrap();
}

/// The cold starts of one round, each series `RUNS` times.
struct ColdStarts {
    /// A bare `lambda_runtime` echo function, no logging.
    bare: ColdStart,
    /// The same with `lambda_runtime`'s logging set up.
    hello: ColdStart,
    /// The function, a flow naming its customer.
    ours: ColdStart,
    /// The function, a flow whose caller is looked up by phone number.
    by_phone: ColdStart,
}

/// Starts the floors and the function `RUNS` times each, interleaved and in an order that turns
/// every run, so that a drift of the machine (frequency, page cache, other load) weighs on all alike.
async fn cold_starts(bare: &Path, hello: &Path, function: &Path, cases: &Emulator) -> ColdStarts {
    let mut all = ColdStarts { bare: ColdStart::new(), hello: ColdStart::new(), ours: ColdStart::new(), by_phone: ColdStart::new() };
    for run in 0..RUNS {
        for slot in 0..4 {
            match (run + slot) % 4 {
                0 => start_once(bare, cases, json!({"hello": "world"}), &mut all.bare).await,
                1 => start_once(hello, cases, json!({"hello": "world"}), &mut all.hello).await,
                2 => start_once(function, cases, flow_for_contact(run), &mut all.ours).await,
                _ => start_once(function, cases, flow_by_phone(run), &mut all.by_phone).await,
            }
        }
    }
    all
}

/// The CPU (user + system, every thread, living or ended) a process has used so far.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is running");
    // The fields after the command name, which is in parentheses and may hold spaces: `utime` and
    // `stime` are the 14th and 15th of the line, the 12th and 13th after it.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a command name") + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf reads a constant of the system and has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Duration::from_secs_f64(ticks as f64 / per_second)
}

/// An abandoned call of the demo caller on a new contact: a new case, its contact link and SLA,
/// the caller's profile lookup (cached after the first).
fn abandoned_call(n: usize) -> Value {
    let mut event = sample("contact-disconnected-abandoned.json");
    event["id"] = json!(format!("bench-warm-{n}-{}", std::process::id()));
    event["detail"]["contactId"] = json!(format!("bench-warm-contact-{n}-{}", std::process::id()));
    event
}

/// Warm CPU of a release binary under the Runtime API stub: after one event that warms it (clients
/// built, domain read, templates compiled, connections open), `WARM_EVENTS` more, one at a time,
/// each made by `event`. Returns the process CPU per event and the API calls per event counted at
/// the local service. With `PERF_WARM=<prefix>` set, `perf record` samples the process over the
/// measured events into `<prefix>.<label>` (read with `perf report -i <file> --no-children --sort
/// dso,symbol`; build with `CARGO_PROFILE_RELEASE_STRIP=false` for symbols).
async fn warm_cpu(label: &str, binary: &Path, cases: &Emulator, event: impl Fn(usize) -> Value) -> (Duration, f64) {
    let runtime = RuntimeApi::start().await;
    let mut child = spawn_under(&runtime, binary, cases);
    let pid = child.id().expect("running");
    let handle = async |n: usize| {
        runtime.invoke(event(n), Duration::from_secs(30));
        let (_, answer) = runtime.answer(Duration::from_secs(40)).await.expect("an answer");
        assert!(matches!(answer, Answer::Response(_)), "{answer:?}");
    };
    handle(0).await;
    cases.reset_calls();
    let profiler = std::env::var("PERF_WARM").ok().map(|prefix| {
        let out = format!("{prefix}.{label}");
        let profiler = std::process::Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", "20000", "-o", &out, "-p", &pid.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("perf installed (linux-perf)");
        // perf attaches asynchronously; events before it has would go unsampled.
        std::thread::sleep(Duration::from_millis(500));
        profiler
    });
    let before = process_cpu(pid);
    for n in 1..=WARM_EVENTS {
        handle(n).await;
    }
    let cpu = process_cpu(pid) - before;
    if let Some(mut profiler) = profiler {
        // SAFETY: kill has no memory preconditions; SIGINT makes perf write its file and exit.
        unsafe { libc::kill(profiler.id() as i32, libc::SIGINT) };
        profiler.wait().expect("perf ends");
    }
    let calls: u64 = cases.calls().values().sum();
    child.kill().await.unwrap();
    (cpu / WARM_EVENTS as u32, calls as f64 / WARM_EVENTS as f64)
}

/// The warm CPU rows: the function, the SDK floor making as many calls an event on the same SDK
/// configuration, and the Lambda runtime's own loop (the floor making none), so that what the SDK costs a
/// call is told apart from what the function adds.
async fn warm_rows(function: &Path, sdk_floor: &Path, cases: &Emulator, rows: &mut Vec<[String; 3]>) {
    let (per_event, calls_per_event) = warm_cpu("function", function, cases, abandoned_call).await;
    let calls = calls_per_event.round().max(1.0) as u64;
    let (floor_per_event, floor_calls) = warm_cpu("sdk-floor", sdk_floor, cases, |_| json!({ "calls": calls })).await;
    let (loop_per_event, _) = warm_cpu("runtime-loop", sdk_floor, cases, |_| json!({ "calls": 0 })).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let per_call = ms(per_event) / calls_per_event.max(1.0);
    println!(
        "warm: {:.2} ms per event, {calls_per_event:.1} calls, {per_call:.3} ms per call; SDK floor {:.2} ms per event, {:.3} ms per call; runtime loop {:.2} ms per event",
        ms(per_event),
        ms(floor_per_event),
        ms(floor_per_event) / floor_calls.max(1.0),
        ms(loop_per_event)
    );
    rows.push([
        format!("warm CPU per event, abandoned call ({WARM_EVENTS} events, process user + system)"),
        format!("{:.2} ms ({calls_per_event:.1} API calls an event)", ms(per_event)),
        "-".into(),
    ]);
    rows.push(["warm CPU per API call".into(), format!("{per_call:.2} ms"), "≤ 0.2 ms".into()]);
    rows.push([
        format!("warm CPU, SDK floor: {calls} SearchCases an event, the function's SDK configuration, no logging"),
        format!("{:.2} ms per event, {:.2} ms per call", ms(floor_per_event), ms(floor_per_event) / floor_calls.max(1.0)),
        "-".into(),
    ]);
    rows.push([
        "warm CPU, the Lambda runtime loop alone (the floor making no call)".into(),
        format!("{:.2} ms per event", ms(loop_per_event)),
        "-".into(),
    ]);
    rows.push([
        "warm CPU the function adds above the SDK floor".into(),
        format!("{:.2} ms per event ({:.0} %)", ms(per_event) - ms(floor_per_event), 100.0 * (1.0 - ms(floor_per_event) / ms(per_event))),
        "-".into(),
    ]);
}

/// `VmHWM` of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A flow invocation for a new contact of a new customer each time, so that every run does the
/// whole job: search, create the case, look for the link, link the contact.
fn flow_for_contact(run: usize) -> Value {
    let mut event = sample("flow-voice-open-case.json");
    event["Details"]["ContactData"]["ContactId"] = json!(format!("bench-contact-{run}-{}", std::process::id()));
    event["Details"]["Parameters"]["customerProfileArn"] =
        json!(format!("arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/{run:032x}"));
    event
}

/// A flow invocation for a new contact whose caller the flow does not name: the rule looks the
/// customer up by the caller's number (a demo profile), the first phone number the process reads.
fn flow_by_phone(run: usize) -> Value {
    let mut event = flow_for_contact(run);
    event["Details"]["ContactData"]["ContactId"] = json!(format!("bench-phone-contact-{run}-{}", std::process::id()));
    event["Details"]["Parameters"].as_object_mut().unwrap().remove("customerProfileArn");
    event
}

/// The function's app as Lambda builds it (`aws::sdk_config` settings, clients built on first
/// use), pointed at the local service.
async fn app(cases: &Emulator) -> LocalApp {
    let config = cases_automation::config::Config::from_env(|name| match name {
        "CASES_DOMAIN_ID" => Some("demo-domain".into()),
        "AUTOMATION_IDENTITY" => Some("cases-automation".into()),
        "PROFILES_DOMAIN_NAME" => Some("demo-profiles".into()),
        _ => None,
    })
    .unwrap();
    let sdk = cases_automation::aws::sdk_config_for_local_service(&cases.endpoint_url()).await;
    let api = cases_automation::cases::sdk::SdkCases::lazy(sdk.clone(), "demo-domain");
    let profiles = SdkProfiles::lazy(sdk, Some("demo-profiles".into()));
    let store = CountedStore::new(DynamoClaims::lazy(moto::sdk_config().clone(), moto::claims_table().await));
    App::with_store(config, cases_automation::rules::RuleSet::default_rules(), api, profiles, store)
}

fn invocation() -> Invocation {
    Invocation::with_budget(Duration::from_secs(60))
}

/// Calls per operation for one invocation: the Cases API's, then the store's.
async fn calls_for(cases: &Emulator, app: &LocalApp, event: Value) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    cases.reset_calls();
    app.executor.claims.take();
    app.handle(event, &invocation()).await.expect("handled");
    (cases.calls(), app.executor.claims.take())
}

fn describe(calls: &BTreeMap<String, u64>) -> (u64, String) {
    let total = calls.values().sum();
    (total, calls.iter().map(|(op, n)| if *n == 1 { op.clone() } else { format!("{op}×{n}") }).collect::<Vec<_>>().join(", "))
}

/// `Cases calls + store calls: the Cases operations; the store's`.
fn calls_cell(cases: &BTreeMap<String, u64>, store: &BTreeMap<String, u64>) -> String {
    let ((cases_total, cases_list), (store_total, store_list)) = (describe(cases), describe(store));
    format!("{cases_total} + {store_total}: {cases_list}; store: {}", if store_list.is_empty() { "none".into() } else { store_list })
}

/// An SQS batch of `size` distinct "Order Delayed" events.
fn order_batch(batch: usize, size: usize) -> Value {
    let template = sample("custom-order-delayed.json");
    let records: Vec<Value> = (0..size)
        .map(|i| {
            let mut event = template.clone();
            event["id"] = json!(format!("bench-{batch}-{i}"));
            event["detail"]["orderNumber"] = json!(format!("ORD-{batch}-{i}"));
            json!({"messageId": format!("m-{batch}-{i}"), "eventSource": "aws:sqs", "body": event.to_string()})
        })
        .collect();
    json!({ "Records": records })
}

async fn throughput(cases: &Emulator, quotas: bool, batches: usize) -> (f64, usize) {
    cases.set_quotas(quotas);
    let app = app(cases).await;
    let started = Instant::now();
    let mut failed = 0;
    for batch in 0..batches {
        let response = app.handle(order_batch(batch + if quotas { 10_000 } else { 0 }, 10), &invocation()).await.unwrap();
        failed += response["batchItemFailures"].as_array().map(Vec::len).unwrap_or(0);
    }
    cases.set_quotas(false);
    ((batches * 10) as f64 / started.elapsed().as_secs_f64(), failed)
}

/// A sweep of `idle` cases nobody touched for 15 days (auto-close-idle-cases), without quotas: the
/// sweep's pages per second, and the calls per swept case (Cases + store) when the work items
/// are applied.
async fn sweep(cases: &Emulator, idle: usize) -> (f64, String) {
    cases.reset();
    let client = aws_sdk_connectcases::Client::from_conf(
        aws_sdk_connectcases::config::Builder::from(&cases_automation::aws::sdk_config_for_local_service(&cases.endpoint_url()).await)
            .build(),
    );
    for chunk in (0..idle).collect::<Vec<_>>().chunks(50) {
        futures_util::future::join_all(chunk.iter().map(|n| {
            let client = &client;
            async move {
                let field = |id: &str, v: String| {
                    aws_sdk_connectcases::types::FieldValue::builder()
                        .id(id)
                        .value(aws_sdk_connectcases::types::FieldValueUnion::StringValue(v))
                        .build()
                        .unwrap()
                };
                client
                    .create_case()
                    .domain_id("demo-domain")
                    .template_id(cases_emulator::demo::TEMPLATE_GENERAL_INQUIRY)
                    .fields(field("title", format!("Idle case {n}")))
                    .fields(field("customer_id", cases_emulator::demo::CUSTOMER_ID.into()))
                    .performed_by(aws_sdk_connectcases::types::UserUnion::CustomEntity("an-agent".into()))
                    .send()
                    .await
                    .expect("a case")
            }
        }))
        .await;
    }
    cases.advance_clock(Duration::from_secs(15 * 86_400));
    let queue = work_queue::create().await;
    let app = app(cases).await.with_work_queue(cases_automation::sweep::queue::WorkQueue::lazy(moto::sdk_config().clone(), &queue));
    let now = cases.now().format(&time::format_description::well_known::Rfc3339).unwrap();
    let mut scheduled = sample("schedule-auto-close.json");
    scheduled["id"] = json!(format!("bench-sweep@{now}"));
    scheduled["sweep"]["scheduledTime"] = json!(now);
    let started = Instant::now();
    let outcome = app.handle(scheduled, &invocation()).await.expect("the sweep runs");
    let elapsed = started.elapsed();
    assert_eq!(outcome["sweep"]["done"], true, "one invocation is enough for the sweep: {outcome}");
    let pages = idle.div_ceil(100) as f64;
    // The work items, as the queue's consumer applies them: calls per case, averaged (the status
    // field's options are read once per process).
    cases.reset_calls();
    app.executor.claims.take();
    let drained = work_queue::drain(&app, &queue).await;
    assert_eq!((drained.distinct, drained.failed), (idle, 0), "every work item applied: {drained:?}");
    let per_case = |calls: BTreeMap<String, u64>| {
        let total = calls.values().sum::<u64>() as f64 / idle as f64;
        let list = calls.iter().map(|(op, n)| format!("{op} {:.2}", *n as f64 / idle as f64)).collect::<Vec<_>>().join(", ");
        (total, list)
    };
    let ((cases_total, cases_list), (store_total, store_list)) = (per_case(cases.calls()), per_case(app.executor.claims.take()));
    let again = match drained.records - drained.distinct {
        0 => String::new(),
        n => format!(" ({n} work items delivered twice)"),
    };
    (pages / elapsed.as_secs_f64(), format!("{cases_total:.2} + {store_total:.2}: {cases_list}; store: {store_list}{again}"))
}

fn file_size(path: &Path) -> Option<(u64, u64)> {
    let raw = std::fs::metadata(path).ok()?.len();
    // The deployment package is a zip; deflate at the best level is what `zip -9` gives.
    let zipped = std::process::Command::new("python3")
        .args(["-c", "import sys,zlib; print(len(zlib.compress(open(sys.argv[1],'rb').read(), 9)))"])
        .arg(path)
        .output()
        .ok()?;
    Some((raw, String::from_utf8_lossy(&zipped.stdout).trim().parse().ok()?))
}

#[tokio::main]
async fn main() {
    let function = release_binary("cases-automation");
    let hello = release_binary("examples/hello_lambda");
    let bare = release_binary("examples/bare_lambda");
    let sdk_floor = release_binary("examples/sdk_floor");
    let cases = Emulator::builder().seed(Seed::demo().without_cases()).start().await.unwrap();
    let mut rows: Vec<[String; 3]> = Vec::new();

    if std::env::var("PERF_WARM").is_ok() {
        // Profiling the warm series: the warm rows only.
        warm_rows(&function, &sdk_floor, &cases, &mut rows).await;
        return;
    }
    let ColdStarts { bare, hello: floor, ours, by_phone } = cold_starts(&bare, &hello, &function, &cases).await;
    let init: Vec<Duration> = ours.init.iter().chain(&by_phone.init).copied().collect();
    let ratio = |to: &ColdStart| median(&init).as_secs_f64() / median(&to.init).as_secs_f64();
    rows.push(["init to first `next`, bare floor: echo, no logging (median)".into(), ms(median(&bare.init)), "-".into()]);
    rows.push(["init to first `next`, hello-world floor: echo with logging (median)".into(), ms(median(&floor.init)), "-".into()]);
    rows.push(["init to first `next`, cases-automation (median)".into(), ms(median(&init)), "-".into()]);
    rows.push(["init ratio to the bare floor".into(), format!("{:.2}×", ratio(&bare)), "≤ 1.3×".into()]);
    rows.push(["init ratio to the hello-world floor".into(), format!("{:.2}×", ratio(&floor)), "-".into()]);
    rows.push(["first answer, hello-world (median)".into(), ms(median(&floor.first_answer)), "-".into()]);
    rows.push([
        "first answer, cases-automation: flow naming its customer, case + link (median)".into(),
        ms(median(&ours.first_answer)),
        "< 8 s flow limit".into(),
    ]);
    rows.push([
        "first answer, cases-automation: flow, caller looked up by phone, case + link (median)".into(),
        ms(median(&by_phone.first_answer)),
        "≤ 15 ms".into(),
    ]);
    warm_rows(&function, &sdk_floor, &cases, &mut rows).await;
    let peak = ours.peak_rss_kib.iter().chain(&by_phone.peak_rss_kib).max().copied().unwrap_or(0);
    let floor_peak = floor.peak_rss_kib.iter().max().copied().unwrap_or(0);
    rows.push(["peak RSS after the first invocation, hello-world".into(), format!("{:.1} MiB", floor_peak as f64 / 1024.0), "-".into()]);
    rows.push([
        "peak RSS after the first invocation, cases-automation".into(),
        format!("{:.1} MiB", peak as f64 / 1024.0),
        "< 30 MiB".into(),
    ]);

    for (label, path) in [
        ("binary size, x86_64 release (raw / zipped)", function.clone()),
        ("binary size, arm64 release (raw / zipped)", root().join("target/lambda/cases-automation/bootstrap")),
    ] {
        let value = match file_size(&path) {
            Some((raw, zipped)) => format!("{:.1} MiB / {:.2} MiB", raw as f64 / 1048576.0, zipped as f64 / 1048576.0),
            None => "not built (`make build`)".into(),
        };
        let target = if label.contains("arm64") { "zipped ≤ 4.0 MiB" } else { "-" };
        rows.push([label.into(), value, target.into()]);
    }

    // Calls per event, on a domain without the cases the cold starts created. The first event in
    // a process also lists fields and templates, once; the first that writes a single-select field
    // or creates from a template reads its options or the template, once.
    cases.reset();
    let priority_event = with_existing_case(&app(&cases).await, sample("custom-order-priority-changed.json")).await;
    let app = app(&cases).await;
    let (cases_calls, store_calls) = calls_for(&cases, &app, priority_event.clone()).await;
    rows.push([
        "API calls, first event of a process (order-priority-update)".into(),
        calls_cell(&cases_calls, &store_calls),
        "min 5 + 2: ListFields, ListTemplates, ListFieldOptions (Priority), GetCase (current values), UpdateCase; ledger lock and release"
            .into(),
    ]);
    for (name, rule, minimum) in [
        (
            "flow-voice-open-case.json",
            "flow-open-case, new case",
            "5 + 6: GetTemplate (first use), SearchCases, CreateCase, SearchRelatedItems, CreateRelatedItem; case claim, its binding, \
             ledger lock, item claim, its binding, ledger release",
        ),
        (
            "flow-voice-open-case.json",
            "flow-open-case, redelivered",
            "3 + 0: SearchCases, GetCase (the found case still matches), SearchRelatedItems; no store call, no write",
        ),
        (
            "contact-disconnected-abandoned.json",
            "contact-abandoned-callback, caller found by phone",
            "8 + 8: GetTemplate (first use), SearchProfiles, CreateCase, 2 × (SearchRelatedItems, CreateRelatedItem), SearchCases (a \
             callback case to link: none but the new one); case claim, its binding, ledger lock, 2 × (item claim, binding), ledger release",
        ),
        (
            "same caller, another call",
            "contact-abandoned-callback, same caller again (lookup cached)",
            "9 + 10: CreateCase, 2 × (SearchRelatedItems, CreateRelatedItem), SearchCases, then the first callback case, still open, \
             linked: GetCase, SearchRelatedItems, CreateRelatedItem; the same store calls and the link's claim and binding",
        ),
        ("contact-disconnected-agent.json", "contact-disconnected-link, case already linked", "1 + 0: ListCasesForContact"),
        (
            "custom-order-delayed.json",
            "order-delayed-comment, new case",
            "5 + 6: GetTemplate (first use), SearchCases, CreateCase, CreateRelatedItem, UpdateCase (compared with the create, no GetCase); \
             case claim, its binding, ledger lock, comment claim, its binding, ledger release",
        ),
        (
            "custom-order-priority-changed.json",
            "order-priority-update (warm), the same change again",
            "1 + 2: GetCase (the case already holds the values: no UpdateCase); ledger lock and release",
        ),
        ("cases-case-updated-by-automation.json", "self-caused change event", "0 + 0"),
    ] {
        let event = match name {
            "custom-order-priority-changed.json" => priority_event.clone(),
            "same caller, another call" => {
                let mut event = sample("contact-disconnected-abandoned.json");
                event["id"] = json!("bench-same-caller-again");
                event["detail"]["contactId"] = json!("bench-same-caller-contact");
                event
            }
            name => sample(name),
        };
        let (cases_calls, store_calls) = calls_for(&cases, &app, event).await;
        rows.push([format!("API calls, {rule}"), calls_cell(&cases_calls, &store_calls), format!("min {minimum}")]);
    }

    let (free, free_failed) = throughput(&cases, false, 20).await;
    rows.push(["throughput, SQS batches of 10, no quotas".into(), format!("{free:.0} events/s ({free_failed} failed)"), "-".into()]);
    let (bound, bound_failed) = throughput(&cases, true, 3).await;
    rows.push([
        "throughput, SQS batches of 10, real quotas (CreateCase 2/s burst 10)".into(),
        format!("{bound:.1} events/s ({bound_failed} of 30 returned for redelivery)"),
        "≈ quota".into(),
    ]);

    let (pages_per_second, per_case) = sweep(&cases, 1000).await;
    rows.push([
        "sweep of 1,000 idle cases: selection pages per second (pages of 100)".into(),
        format!("{pages_per_second:.1} pages/s"),
        "-".into(),
    ]);
    rows.push(["sweep of 1,000 idle cases: API calls per swept case".into(), per_case, "min 4 + 4: GetCase (still selected), CreateRelatedItem, GetCase (current values), UpdateCase; ledger lock, comment claim, its binding, ledger release".into()]);

    println!("\n| figure | measured | target |\n|---|---|---|");
    for [figure, measured, target] in rows {
        println!("| {figure} | {measured} | {target} |");
    }
    println!("\n{} cold starts each; machine: {}", RUNS, machine());
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpu}, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Points an event's `detail.caseId` at a case that exists (created by a flow through `app`).
async fn with_existing_case(app: &LocalApp, mut event: Value) -> Value {
    let mut flow = sample("flow-chat-null-endpoint.json");
    flow["Details"]["ContactData"]["ContactId"] = json!("bench-existing-case");
    let response = app.handle(flow, &invocation()).await.unwrap();
    event["detail"]["caseId"] = response["caseId"].clone();
    event
}
