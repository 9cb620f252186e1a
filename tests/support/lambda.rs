//! Shared by the reliability, hostile-input and privacy tests: the sample events, the function's
//! app wired like production (the same SDK retry and timeout settings as `aws::sdk_config`),
//! and the compiled binary started under a loopback Runtime API.

use std::process::Stdio;
use std::time::Duration;

use aws_sdk_connectcases::config::retry::RetryConfig;
use aws_sdk_connectcases::config::timeout::TimeoutConfig;
use aws_sdk_connectcases::config::{BehaviorVersion, Credentials, Region};
use cases_automation::cases::sdk::SdkCases;
use cases_automation::config::Config;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::App;
use cases_automation::rules::RuleSet;
use cases_emulator::Emulator;
use serde_json::Value;
use tokio::process::{Child, Command};

use super::cases_service::{DOMAIN, IDENTITY, LocalApp, PROFILES_DOMAIN, profiles_client};
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

/// The SDK client with the settings `aws::sdk_config` gives the function in Lambda: standard
/// retries (4 attempts, 200 ms initial back-off, the function's retry quota), 1 s connect and 3 s
/// per-attempt timeouts.
pub fn lambda_client(service: &Emulator) -> aws_sdk_connectcases::Client {
    let config = aws_sdk_connectcases::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(service.endpoint_url())
        .retry_config(RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(200)))
        .retry_partition(cases_automation::aws::retry_partition())
        .timeout_config(
            TimeoutConfig::builder().connect_timeout(Duration::from_secs(1)).operation_attempt_timeout(Duration::from_secs(3)).build(),
        )
        .build();
    aws_sdk_connectcases::Client::from_conf(config)
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

/// One Lambda instance: its own SDK clients (production settings), rules and per-process state,
/// with the demo profiles domain.
pub fn instance(service: &Emulator, rules: RuleSet, extra: &[(&str, &str)]) -> LocalApp {
    let mut config = config(extra);
    config.profiles_domain.get_or_insert_with(|| PROFILES_DOMAIN.into());
    let profiles = SdkProfiles::new(profiles_client(service), config.profiles_domain.clone());
    App::with_profiles(config, rules, SdkCases::new(lambda_client(service), DOMAIN), profiles)
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
        .env("CASES_DOMAIN_ID", DOMAIN)
        .env("PROFILES_DOMAIN_NAME", PROFILES_DOMAIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in extra {
        command.env(name, value);
    }
    command.spawn().expect("the binary starts")
}

/// Kills the process and returns everything it wrote to stdout and stderr.
pub async fn stop_and_collect_logs(mut child: Child) -> String {
    let _ = child.start_kill();
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await.expect("the process ends").unwrap();
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The app of one Lambda instance with the coordination store on `table` (its own DynamoDB client,
/// as each instance has), as the template deploys it.
pub type StoreApp = App<SdkCases, SdkProfiles, cases_automation::claims::dynamodb::DynamoClaims>;

/// One Lambda instance like [`instance`], with the coordination store on `table`.
pub fn instance_with_store(service: &Emulator, rules: RuleSet, extra: &[(&str, &str)], table: &str) -> StoreApp {
    let mut config = config(extra);
    config.profiles_domain.get_or_insert_with(|| PROFILES_DOMAIN.into());
    let profiles = SdkProfiles::new(profiles_client(service), config.profiles_domain.clone());
    let store = cases_automation::claims::dynamodb::DynamoClaims::new(super::moto::dynamodb(), table);
    App::with_store(config, rules, SdkCases::new(lambda_client(service), DOMAIN), profiles, store)
}
