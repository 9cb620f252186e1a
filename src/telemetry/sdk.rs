//! An SDK interceptor that counts, per operation, the calls, the attempts after the first, and
//! the attempts the service throttled: what the SDK's own retries hide from the function.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use metrics::counter;

/// Counts `ApiCalls`, `ApiRetries` and `ApiThrottles` by operation.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountCalls;

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = operation(cfg);
        if cfg.load::<RequestAttempts>().is_some_and(|a| a.attempts() > 1) {
            counter!("ApiRetries", "Operation" => operation.clone()).increment(1);
        }
        if context.response().is_some_and(|r| is_throttled(r.status().as_u16(), r.headers().get("x-amzn-errortype"))) {
            counter!("ApiThrottles", "Operation" => operation).increment(1);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        counter!("ApiCalls", "Operation" => operation(cfg)).increment(1);
        Ok(())
    }
}

fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned())
}

/// Throttling as the REST-JSON services answer it: status 429, or the error type in the header.
fn is_throttled(status: u16, error_type: Option<&str>) -> bool {
    status == 429 || error_type.is_some_and(|t| t.starts_with("ThrottlingException") || t.starts_with("TooManyRequestsException"))
}

#[cfg(test)]
mod tests {
    use super::is_throttled;

    #[test]
    fn throttling_is_told_by_status_or_error_type() {
        assert!(is_throttled(429, None));
        assert!(is_throttled(400, Some("ThrottlingException:http://internal.amazon.com/coral/")));
        assert!(!is_throttled(400, Some("ValidationException")));
        assert!(!is_throttled(500, None));
    }
}
