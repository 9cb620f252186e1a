//! The local Cases service started in-process, and the real SDK client pointed at it.

use aws_sdk_connectcases::config::{BehaviorVersion, Credentials, Region};
use cases_automation::cases::sdk::SdkCases;
use cases_automation::config::Config;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::handler::App;
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, Seed};

pub const DOMAIN: &str = "demo-domain";
pub const PROFILES_DOMAIN: &str = cases_emulator::demo::PROFILES_DOMAIN;
pub const IDENTITY: &str = "cases-automation";

pub async fn start() -> Emulator {
    Emulator::builder().seed(Seed::demo().without_cases()).quotas(false).start().await.expect("the local Cases service starts")
}

/// The SDK client as a test or an operator would build it: static credentials, any region.
pub fn client(service: &Emulator) -> aws_sdk_connectcases::Client {
    let config = aws_sdk_connectcases::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(service.endpoint_url())
        .retry_config(
            aws_sdk_connectcases::config::retry::RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(std::time::Duration::from_millis(10)),
        )
        .build();
    aws_sdk_connectcases::Client::from_conf(config)
}

/// The Customer Profiles client, pointed at the same local service.
pub fn profiles_client(service: &Emulator) -> aws_sdk_customerprofiles::Client {
    let config = aws_sdk_customerprofiles::Config::builder()
        .behavior_version(aws_sdk_customerprofiles::config::BehaviorVersion::latest())
        .region(aws_sdk_customerprofiles::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_customerprofiles::config::Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(service.endpoint_url())
        .build();
    aws_sdk_customerprofiles::Client::from_conf(config)
}

/// The function as these tests run it: Cases and Customer Profiles through the SDKs.
pub type LocalApp = App<SdkCases, SdkProfiles>;

/// The function's app with the default rules, talking to the service through the SDKs.
pub fn app(service: &Emulator) -> LocalApp {
    let config = Config::from_env(|name| match name {
        "CASES_DOMAIN_ID" => Some(DOMAIN.into()),
        "AUTOMATION_IDENTITY" => Some(IDENTITY.into()),
        "PROFILES_DOMAIN_NAME" => Some(PROFILES_DOMAIN.into()),
        _ => None,
    })
    .unwrap();
    let profiles = SdkProfiles::new(profiles_client(service), Some(PROFILES_DOMAIN.into()));
    App::with_profiles(config, RuleSet::default_rules(), SdkCases::new(client(service), DOMAIN), profiles)
}
