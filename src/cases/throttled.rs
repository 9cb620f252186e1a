//! Tells the pacing (`paced`) that the Cases API throttled an attempt of the call it is making. The
//! SDK retries throttled attempts itself and reports only the final outcome, so the signal comes
//! from an interceptor that sees every attempt's response.

use aws_sdk_connectcases::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_connectcases::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_connectcases::error::BoxError;

/// Marks the paced call in progress as throttled when an attempt is answered with 429.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThrottleSignal;

impl Intercept for ThrottleSignal {
    fn name(&self) -> &'static str {
        "ThrottleSignal"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.response().is_some_and(|response| response.status().as_u16() == 429) {
            super::paced::note_throttled();
        }
        Ok(())
    }
}
