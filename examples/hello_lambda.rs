//! The floor for cold-start comparisons: a bare `lambda_runtime` function that echoes its input,
//! with the same logging setup and release profile as `cases-automation`. Used by `make bench`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
