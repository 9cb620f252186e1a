//! Cold start: configuration, rules and the SDK configuration (the clients, Amazon Connect's too,
//! are built on first use);
//! then the Lambda loop. Nothing here touches the network, so the function reaches its first
//! invocation even when the Cases endpoint is unreachable.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::appconfig::{self, Agent};
use crate::aws::sdk_config;
use crate::cases::paced::Paced;
use crate::cases::sdk::SdkCases;
use crate::claims::dynamodb::DynamoClaims;
use crate::config::Config;
use crate::contacts::sdk::SdkContacts;
use crate::customers::sdk::SdkProfiles;
use crate::handler::{App, Invocation};
use crate::telemetry::emf::{Emf, InvocationFacts};
use crate::telemetry::store::Counted;

/// The app as Lambda runs it: the SDK adapters (the Cases calls of events paced at the instance's
/// share of the quotas), and the coordination store when `CLAIMS_TABLE` is set.
pub type LambdaApp = App<Paced<SdkCases>, SdkProfiles, Counted<Option<DynamoClaims>>, SdkContacts>;

/// Builds the app from the environment; `started`: when the process started.
pub async fn app_from_env(started: std::time::Instant) -> Result<LambdaApp, String> {
    let config = Config::from_env(|name| std::env::var(name).ok())
        .map_err(|problems| format!("the configuration is invalid:\n  - {}", problems.join("\n  - ")))?;
    let rules = crate::live_rules::load(config.rules_file.as_deref())?;
    if let (Some((rule, at)), None) = (rules.keeping_one(), &config.claims_table) {
        return Err(format!(
            "rule `{rule}`, at `{at}`: `mode: keep-one` needs the coordination store, which holds which item is kept: set CLAIMS_TABLE"
        ));
    }
    let sdk = sdk_config().await;
    let api = Paced::new(SdkCases::lazy(sdk.clone(), config.domain_id.clone()), Some(&config.pacing));
    let claims = Counted(config.claims_table.clone().map(|table| DynamoClaims::lazy(sdk.clone(), table)));
    let work_queue = config.work_queue_url.clone().map(|url| crate::sweep::queue::WorkQueue::lazy(sdk.clone(), url));
    let contacts = SdkContacts::lazy(sdk.clone());
    let profiles = SdkProfiles::lazy(sdk, config.profiles_domain.clone());
    tracing::info!(
        domain = %config.domain_id,
        profiles_domain = config.profiles_domain.as_deref().unwrap_or("(none)"),
        claims_table = config.claims_table.as_deref().unwrap_or("(off)"),
        rules_appconfig = config.rules_appconfig.as_ref().map_or("(off)", |a| a.path.as_str()),
        event_instances = config.pacing.event_instances,
        create_case_per_second = config.pacing.instance_rate("CreateCase").unwrap_or_default(),
        identity = %config.identity,
        rules = rules.rules.len(),
        rules_version = %rules.version,
        "ready"
    );
    let app = App::with_store(config, rules, api, profiles, claims).with_contacts(contacts);
    let app = match work_queue {
        Some(queue) => app.with_work_queue(queue),
        None => app,
    };
    // An on-demand process is started for the invocation it then receives first, so a flow
    // behind that invocation has been waiting since the start. Provisioned concurrency and
    // SnapStart start processes ahead of any call.
    let on_demand = std::env::var("AWS_LAMBDA_INITIALIZATION_TYPE").ok().is_none_or(|kind| kind == "on-demand");
    Ok(if on_demand { app.with_process_start(started) } else { app })
}

/// Runs the function until the runtime stops it; `started`: when the process started.
pub async fn run(started: std::time::Instant) -> Result<(), lambda_runtime::Error> {
    let emf = Emf::install(&function_name()).map_err(log_start_error)?;
    let app = app_from_env(started).await.map_err(log_start_error)?;
    if app.rules.current().set.looks_up_phone_numbers() {
        // The first event's calls (the Runtime API, the domain's fields and templates) wait on the
        // network while this thread decodes the metadata; its first phone number need not wait.
        let _ = std::thread::Builder::new().name("phone-metadata".into()).spawn(crate::rules::customer::load_phone_metadata);
    }
    // Rules from AppConfig: the client only; the agent is first asked before the first invocation.
    let agent = app.config.rules_appconfig.clone().map(Agent::new);
    let (app, emf, agent) = (&app, &emf, &agent);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let LambdaEvent { payload, context } = event;
        if let Some((version, content)) = appconfig::validation_request(&payload) {
            return appconfig::validate(version, content);
        }
        emf.invocation_started();
        if let Some(agent) = agent {
            agent.refresh(&app.rules).await;
        }
        let invocation = Invocation::from_context(&context);
        let answer = app.handle(payload, &invocation).await;
        if let Err(error) = &answer
            && error.code == "InvalidEvent"
        {
            crate::telemetry::invalid_payload();
        }
        let facts = InvocationFacts {
            request_id: &context.request_id,
            trace_id: context.xray_trace_id.as_deref(),
            rules_version: &app.rules.version(),
        };
        emf.flush(facts);
        answer
    }))
    .await
}

/// The function's name, the dimension of its metrics.
fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| crate::config::FALLBACK_IDENTITY.into())
}

fn log_start_error(message: String) -> String {
    tracing::error!("{message}");
    message
}
