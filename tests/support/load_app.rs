//! One instance of the function for the load harness, built as `runtime::app_from_env` builds it in
//! Lambda (the configuration from the deployment's environment, the Cases client paced, the
//! coordination store), with the production SDK settings, or with one of the designs it was
//! compared with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_connectcases::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_connectcases::config::timeout::TimeoutConfig;
use aws_sdk_connectcases::config::{BehaviorVersion, Credentials, Region};
use cases_automation::cases::paced::Paced;
use cases_automation::cases::sdk::SdkCases;
use cases_automation::cases::throttled::ThrottleSignal;
use cases_automation::claims::dynamodb::DynamoClaims;
use cases_automation::config::Config;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::App;
use cases_automation::rules::RuleSet;

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

/// The Cases client with the function's settings (`aws::sdk_config`, `SdkCases::lazy`): 4 attempts,
/// 200 ms initial back-off, 1 s connect and 3 s per-attempt timeouts, retries that never run out of
/// quota, throttled attempts signalled to the pacing. Each client has a retry partition of its own,
/// as each instance is a process of its own in Lambda.
fn cases_client(endpoint: &str, design: Design) -> aws_sdk_connectcases::Client {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let retries = match design {
        Design::AdaptiveRetries => RetryConfig::adaptive(),
        Design::Paced | Design::StandardRetries => RetryConfig::standard(),
    };
    let partition = format!("cases-automation-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let config = aws_sdk_connectcases::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(retries.with_max_attempts(4).with_initial_backoff(Duration::from_millis(200)))
        .retry_partition(RetryPartition::custom(partition).token_bucket(TokenBucket::unlimited()).build())
        .timeout_config(
            TimeoutConfig::builder().connect_timeout(Duration::from_secs(1)).operation_attempt_timeout(Duration::from_secs(3)).build(),
        )
        .interceptor(ThrottleSignal)
        .build();
    aws_sdk_connectcases::Client::from_conf(config)
}

/// The coordination store's client with the function's timeouts, on the local server, with more
/// attempts than the function's 4: moto's server is not thread-safe and answers some concurrent
/// requests with a 500 ("dictionary changed size during iteration"), which DynamoDB does not.
fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(super::moto::endpoint())
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(3))
                .build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn profiles_client(endpoint: &str) -> aws_sdk_customerprofiles::Client {
    let config = aws_sdk_customerprofiles::Config::builder()
        .behavior_version(aws_sdk_customerprofiles::config::BehaviorVersion::latest())
        .region(aws_sdk_customerprofiles::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_customerprofiles::config::Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_customerprofiles::Client::from_conf(config)
}

/// A new instance (a cold start) with `environment` (the function's, as deployed).
pub fn instance(endpoint: &str, environment: &[(String, String)], rules: RuleSet, design: Design) -> LoadApp {
    let config = Config::from_env(|name| environment.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .unwrap_or_else(|problems| panic!("the deployed environment is invalid: {problems:?}"));
    let table = config.claims_table.clone().expect("the template deploys the coordination store by default");
    let pacing = (design == Design::Paced).then_some(&config.pacing);
    let cases = Paced::new(SdkCases::new(cases_client(endpoint, design), DOMAIN), pacing);
    let profiles = SdkProfiles::new(profiles_client(endpoint), config.profiles_domain.clone());
    let store = DynamoClaims::new(dynamodb_client(), table);
    App::with_store(config, rules, cases, profiles, store)
}
