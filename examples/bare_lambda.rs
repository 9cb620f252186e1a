//! The truly bare floor for cold-start comparisons: a `lambda_runtime` function that echoes its
//! input, with no logging set up, built with the same release profile as `cases-automation`. Used
//! by `make bench` beside `hello_lambda` (the same with logging).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
