//! The floor for warm CPU per API call: a `lambda_runtime` function with no logging whose only work
//! is `calls` SearchCases requests an event (`{"calls": 9}`), one after another, through a Cases
//! client on the function's SDK configuration (`cases_automation::aws`: the same HTTP client,
//! retries, timeouts, credentials and retry partition) but without its two interceptors (call
//! counting and the throttle signal), built with the same release profile. `make bench` measures it beside the function, so that the CPU the AWS SDK spends on a
//! call is told apart from the function's own.

use aws_sdk_connectcases as cases;
use cases_automation::aws::{retry_partition, sdk_config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = sdk_config().await;
    let client = cases::Client::from_conf(cases::config::Builder::from(&config).retry_partition(retry_partition()).build());
    let domain = std::env::var("CASES_DOMAIN_ID")?;
    let client = &client;
    let domain = domain.as_str();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let calls = event.payload["calls"].as_u64().unwrap_or(1);
        for _ in 0..calls {
            client.search_cases().domain_id(domain).max_results(1).send().await?;
        }
        Ok::<Value, Error>(json!({ "calls": calls }))
    }))
    .await
}
