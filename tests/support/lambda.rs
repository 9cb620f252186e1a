//! Shared by the tests: the sample events, the function's app as Lambda would build it (through
//! `cases_service`), and the compiled binary started under a loopback Runtime API.

use std::process::Stdio;
use std::time::Duration;

use cases_automation::config::Config;
use cases_automation::handler::App;
use cases_automation::rules::RuleSet;
use cases_emulator::Emulator;
use serde_json::Value;
use tokio::process::{Child, Command};

use super::cases_service::{DOMAIN, IDENTITY, LocalApp, PROFILES_DOMAIN, cases_api, contacts_api, profiles_api};
use super::runtime_api::RuntimeApi;

/// A sample payload from `events/`.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every sample in `events/`, by file name, in name order.
pub fn samples() -> Vec<(String, Value)> {
    let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.ends_with(".json")).collect();
    names.sort();
    names.into_iter().map(|n| (n.clone(), sample(&n))).collect()
}

/// An SQS batch whose records (`m-0`, `m-1`, …) carry `bodies`.
pub fn sqs_batch(bodies: Vec<String>) -> Value {
    let records: Vec<Value> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| serde_json::json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs", "body": body}))
        .collect();
    serde_json::json!({ "Records": records })
}

/// The function's configuration as its environment would give it, with `extra` variables set (or
/// replacing the domain and identity).
pub fn config(extra: &[(&str, &str)]) -> Config {
    Config::from_env(|name| match extra.iter().find(|(k, _)| *k == name) {
        Some((_, value)) => Some(value.to_string()),
        None if name == "CASES_DOMAIN_ID" => Some(DOMAIN.into()),
        None if name == "AUTOMATION_IDENTITY" => Some(IDENTITY.into()),
        None => None,
    })
    .unwrap()
}

/// One Lambda instance: its own SDK clients (built as the function builds them), rules and
/// per-process state, with the demo profiles domain.
pub fn instance(service: &Emulator, rules: RuleSet, extra: &[(&str, &str)]) -> LocalApp {
    let mut config = config(extra);
    config.profiles_domain.get_or_insert_with(|| PROFILES_DOMAIN.into());
    let profiles = profiles_api(service, config.profiles_domain.clone());
    App::with_profiles(config, rules, cases_api(service), profiles).with_contacts(contacts_api(service))
}

/// Starts the compiled binary as Lambda does, configured only through its environment
/// (`AWS_LAMBDA_LOG_FORMAT=JSON`, `RUST_LOG=info`), plus `extra`.
pub fn spawn_function(runtime: &RuntimeApi, cases_endpoint: &str, extra: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cases-automation"));
    command
        .env_clear()
        .envs(runtime.lambda_environment(cases_endpoint))
        .env("RUST_LOG", "info")
        .env("AWS_ENDPOINT_URL_CUSTOMER_PROFILES", cases_endpoint)
        .env("AWS_ENDPOINT_URL_CONNECT", cases_endpoint)
        .env("CASES_DOMAIN_ID", DOMAIN)
        .env("PROFILES_DOMAIN_NAME", PROFILES_DOMAIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in extra {
        command.env(name, value);
    }
    let child = command.spawn().expect("the binary starts");
    if let Some(stdout) = &child.stdout {
        widen_pipe(stdout);
    }
    child
}

/// The tests read a function's stdout (logs and metrics) when it has stopped; a full pipe would
/// block its writes first. Lambda reads it as it comes; the widest pipe the system allows (1 MiB
/// by default) stands in for that.
fn widen_pipe(pipe: &impl std::os::fd::AsRawFd) {
    let max: libc::c_int =
        std::fs::read_to_string("/proc/sys/fs/pipe-max-size").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1 << 20);
    // SAFETY: F_SETPIPE_SZ on a pipe descriptor the child handle owns; a failure leaves the size as it was.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, max);
    }
}

/// Kills the process and returns everything it wrote to stdout and stderr.
pub async fn stop_and_collect_logs(mut child: Child) -> String {
    let _ = child.start_kill();
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await.expect("the process ends").unwrap();
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The app of one Lambda instance with the coordination store on `table` (its own DynamoDB client,
/// as each instance has), as the template deploys it.
pub type StoreApp = App<
    cases_automation::cases::sdk::SdkCases,
    cases_automation::customers::sdk::SdkProfiles,
    cases_automation::claims::dynamodb::DynamoClaims,
    cases_automation::contacts::sdk::SdkContacts,
>;

/// One Lambda instance like [`instance`], with the coordination store on `table`.
pub fn instance_with_store(service: &Emulator, rules: RuleSet, extra: &[(&str, &str)], table: &str) -> StoreApp {
    let mut config = config(extra);
    config.profiles_domain.get_or_insert_with(|| PROFILES_DOMAIN.into());
    let profiles = profiles_api(service, config.profiles_domain.clone());
    let store = cases_automation::claims::dynamodb::DynamoClaims::lazy(super::moto::sdk_config().clone(), table);
    App::with_store(config, rules, cases_api(service), profiles, store).with_contacts(contacts_api(service))
}
