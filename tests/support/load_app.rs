//! One instance of the function for the load harness, built as `runtime::app_from_env` builds it in
//! Lambda (the configuration from the deployment's environment, the Cases client paced, the
//! coordination store), with the production SDK settings, or with one of the designs it was
//! compared with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use cases_automation::aws::retry_partition_named;
use cases_automation::cases::paced::Paced;
use cases_automation::cases::sdk::SdkCases;
use cases_automation::claims::dynamodb::DynamoClaims;
use cases_automation::config::Config;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::App;
use cases_automation::rules::RuleSet;
use cases_automation::sweep::queue::WorkQueue;

use super::cases_service::DOMAIN;

/// The app of one instance: the paced Cases client, Customer Profiles, the coordination store.
pub type LoadApp = App<Paced<SdkCases>, SdkProfiles, DynamoClaims>;

/// How an instance copes with the Cases quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// The function as shipped: each operation waits for its slot (the instance's share of the
    /// quota), then the SDK's standard retries.
    Paced,
    /// No pacing: the SDK's standard retries (4 attempts, exponential back-off) absorb throttling.
    StandardRetries,
    /// No pacing: the SDK's adaptive retry mode, which also slows the client down after throttling
    /// (a rate limiter of its own per instance).
    AdaptiveRetries,
}

impl Design {
    pub fn name(self) -> &'static str {
        match self {
            Design::Paced => "paced (turns at the instance's share)",
            Design::StandardRetries => "standard retries only",
            Design::AdaptiveRetries => "SDK adaptive retry mode",
        }
    }
}

/// The SDK configuration an instance of `design` builds its Cases client from: the function's own
/// (`aws::sdk_config_for_local_service`: 4 attempts, 200 ms initial back-off, 1 s connect and 3 s
/// per-attempt timeouts), in the adaptive design with the SDK's adaptive retry mode instead.
pub fn cases_config(function_config: &aws_config::SdkConfig, design: Design) -> aws_config::SdkConfig {
    match design {
        Design::Paced | Design::StandardRetries => function_config.clone(),
        Design::AdaptiveRetries => function_config
            .to_builder()
            .retry_config(RetryConfig::adaptive().with_max_attempts(4).with_initial_backoff(Duration::from_millis(200)))
            .build(),
    }
}

/// A new instance (a cold start) with `environment` (the function's, as deployed), built as
/// `runtime::app_from_env` builds it: the Cases client from `cases_config`, in a retry partition of
/// its own (each instance is a process of its own in Lambda), paced in the shipped design; the
/// coordination store and the work queue (`WORK_QUEUE_URL`) on the local DynamoDB/SQS server.
pub fn instance(cases_config: &aws_config::SdkConfig, environment: &[(String, String)], rules: RuleSet, design: Design) -> LoadApp {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let config = Config::from_env(|name| environment.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .unwrap_or_else(|problems| panic!("the deployed environment is invalid: {problems:?}"));
    let table = config.claims_table.clone().expect("the template deploys the coordination store by default");
    let pacing = (design == Design::Paced).then_some(&config.pacing);
    let partition = retry_partition_named(format!("cases-automation-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let cases = Paced::new(SdkCases::lazy_in_partition(cases_config.clone(), DOMAIN, partition), pacing);
    let profiles = SdkProfiles::lazy(cases_config.clone(), config.profiles_domain.clone());
    let store = DynamoClaims::lazy(super::moto::sdk_config().clone(), table);
    let work_queue = config.work_queue_url.clone().map(|url| WorkQueue::lazy(super::moto::sdk_config().clone(), url));
    let app = App::with_store(config, rules, cases, profiles, store);
    match work_queue {
        Some(queue) => app.with_work_queue(queue),
        None => app,
    }
}
