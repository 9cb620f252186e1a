//! Cold start: configuration, rules and the SDK configuration (the clients are built on first use);
//! then the Lambda loop. Nothing here touches the network, so the function reaches its first
//! invocation even when the Cases endpoint is unreachable.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::aws::sdk_config;
use crate::cases::paced::Paced;
use crate::cases::sdk::SdkCases;
use crate::claims::dynamodb::DynamoClaims;
use crate::config::Config;
use crate::customers::sdk::SdkProfiles;
use crate::handler::{App, Invocation};
use crate::rules::RuleSet;

/// Reads a YAML rules file, or gives the shipped default rules.
pub fn load_rules(rules_file: Option<&std::path::Path>) -> Result<RuleSet, String> {
    match rules_file {
        None => Ok(RuleSet::default_rules()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("rules file {}: cannot read it: {e}", path.display()))?;
            RuleSet::from_yaml(&text, &path.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// The app as Lambda runs it: the SDK adapters (the Cases calls of events paced at the instance's
/// share of the quotas), and the coordination store when `CLAIMS_TABLE` is set.
pub type LambdaApp = App<Paced<SdkCases>, SdkProfiles, Option<DynamoClaims>>;

/// Builds the app from the environment.
pub async fn app_from_env() -> Result<LambdaApp, String> {
    let config = Config::from_env(|name| std::env::var(name).ok())
        .map_err(|problems| format!("the configuration is invalid:\n  - {}", problems.join("\n  - ")))?;
    let rules = load_rules(config.rules_file.as_deref())?;
    let sdk = sdk_config().await;
    let api = Paced::new(SdkCases::lazy(sdk.clone(), config.domain_id.clone()), Some(&config.pacing));
    let claims = config.claims_table.clone().map(|table| DynamoClaims::lazy(sdk.clone(), table));
    let profiles = SdkProfiles::lazy(sdk, config.profiles_domain.clone());
    tracing::info!(
        domain = %config.domain_id,
        profiles_domain = config.profiles_domain.as_deref().unwrap_or("(none)"),
        claims_table = config.claims_table.as_deref().unwrap_or("(off)"),
        event_instances = config.pacing.event_instances,
        create_case_per_second = config.pacing.instance_rate("CreateCase").unwrap_or_default(),
        identity = %config.identity,
        rules = rules.rules.len(),
        "ready"
    );
    Ok(App::with_store(config, rules, api, profiles, claims))
}

/// Runs the function until the runtime stops it.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let app = app_from_env().await.map_err(|message| {
        tracing::error!("{message}");
        message
    })?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation::from_context(&event.context);
        app.handle(event.payload, &invocation).await
    }))
    .await
}
