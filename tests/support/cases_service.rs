//! The local Cases service started in-process, and the function's own SDK configuration
//! (`aws::sdk_config_for_local_service`: the production retries, retry partition, timeouts and
//! HTTP client) pointed at it. Every SDK client of the tests, the function's and the ones that
//! read back what it wrote, is built from it.

use cases_automation::aws::sdk_config_for_local_service;
use cases_automation::cases::sdk::SdkCases;
use cases_automation::claims::NoClaims;
use cases_automation::contacts::sdk::SdkContacts;
use cases_automation::customers::sdk::SdkProfiles;
use cases_automation::rules::RuleSet;
use cases_emulator::{Emulator, Seed};

pub const DOMAIN: &str = "demo-domain";
pub const PROFILES_DOMAIN: &str = cases_emulator::demo::PROFILES_DOMAIN;
pub const IDENTITY: &str = "cases-automation";

/// The demo domain without its cases, quotas off.
pub async fn start() -> Emulator {
    start_with(Seed::demo().without_cases()).await
}

pub async fn start_with(seed: Seed) -> Emulator {
    Emulator::builder().seed(seed).quotas(false).start().await.expect("the local Cases service starts")
}

/// The function's SDK configuration, pointed at the service. Loading it is async; the test code
/// that builds apps is not, so the loading runs on a thread of its own.
pub fn sdk_config(service: &Emulator) -> aws_config::SdkConfig {
    let endpoint = service.endpoint_url();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(sdk_config_for_local_service(&endpoint))
            })
            .join()
            .expect("the SDK configuration loads")
    })
}

/// The Cases adapter as the function builds it (client built on first use, retry partition).
pub fn cases_api(service: &Emulator) -> SdkCases {
    SdkCases::lazy(sdk_config(service), DOMAIN)
}

/// The Customer Profiles adapter as the function builds it.
pub fn profiles_api(service: &Emulator, domain: Option<String>) -> SdkProfiles {
    SdkProfiles::lazy(sdk_config(service), domain)
}

/// The Amazon Connect adapter as the function builds it (the same service serves it).
pub fn contacts_api(service: &Emulator) -> SdkContacts {
    SdkContacts::lazy(sdk_config(service))
}

/// An SDK client to read back (or change) what is in the service.
pub fn client(service: &Emulator) -> aws_sdk_connectcases::Client {
    aws_sdk_connectcases::Client::new(&sdk_config(service))
}

/// The Customer Profiles client, pointed at the same local service.
pub fn profiles_client(service: &Emulator) -> aws_sdk_customerprofiles::Client {
    aws_sdk_customerprofiles::Client::new(&sdk_config(service))
}

/// The function as these tests run it: Cases, Customer Profiles and Amazon Connect through the SDKs.
pub type LocalApp = cases_automation::handler::App<SdkCases, SdkProfiles, NoClaims, SdkContacts>;

/// The function's app with the default rules and the demo profiles domain.
pub fn app(service: &Emulator) -> LocalApp {
    super::lambda::instance(service, RuleSet::default_rules(), &[])
}
