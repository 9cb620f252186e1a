//! The function's error: permanent or retryable, with a code for Lambda's `errorType` and a
//! message that names the event, the rule and the field, and never echoes personal data.

use std::fmt;

use lambda_runtime::Diagnostic;

use crate::cases::ApiError;
use crate::customers::{CustomerError, ResolveError};
use crate::execute::ExecError;
use crate::inbound::{Event, InboundError};
use crate::plan::PlanError;
use crate::preflight::PreflightError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Retrying the same event cannot help: bad input, a rule that does not fit the event,
    /// validation or not-found errors from Cases. It goes to the dead-letter queue.
    Permanent,
    /// Throttling, server errors, timeouts: a later delivery can succeed.
    Retryable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    /// Short and stable, e.g. `InvalidEvent`, `ThrottlingException`.
    pub code: String,
    pub message: String,
}

impl Error {
    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error { kind: Kind::Permanent, code: code.into(), message: message.into() }
    }

    pub fn retryable(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error { kind: Kind::Retryable, code: code.into(), message: message.into() }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == Kind::Retryable
    }

    /// What Lambda reports as `errorType`, e.g. `Retryable.ThrottlingException`.
    pub fn error_type(&self) -> String {
        let kind = match self.kind {
            Kind::Permanent => "Permanent",
            Kind::Retryable => "Retryable",
        };
        format!("{kind}.{}", self.code)
    }

    pub fn invalid_event(error: InboundError) -> Error {
        Error::permanent("InvalidEvent", error.0)
    }

    /// A Cases API failure while handling `event`.
    pub fn api(event: &Event, context: &str, error: &ApiError) -> Error {
        let message = format!("{}: {context}: {error}", describe(event));
        if error.kind.is_retryable() { Error::retryable(error.kind.name(), message) } else { Error::permanent(error.kind.name(), message) }
    }

    pub fn plan(event: &Event, error: &PlanError) -> Error {
        Error::permanent("RuleDoesNotFitEvent", format!("{}: {error}", describe(event)))
    }

    /// An event refused before any write: a rule that does not fit it or the domain, or a failed
    /// read of the domain.
    pub fn preflight(event: &Event, error: &PreflightError) -> Error {
        match error {
            PreflightError::Api { what, error } => Error::api(event, what, error),
            PreflightError::Plan(error) => Error::plan(event, error),
        }
    }

    pub fn customer(event: &Event, error: &CustomerError) -> Error {
        let place = format!("rule `{}`, at `{}`", error.rule, error.path);
        match &error.error {
            ResolveError::Api(api) => Error::api(event, &format!("{place}: looking up the customer"), api),
            ResolveError::Store(store) => Error::retryable(
                if store.throttled { "CoordinationStoreThrottled" } else { "CoordinationStoreUnavailable" },
                format!("{}: {place}: claiming a new customer profile: {store}; a redelivery will complete it", describe(event)),
            ),
            ResolveError::Unresolved(reason) => Error::permanent("CustomerNotResolved", format!("{}: {place}: {reason}", describe(event))),
        }
    }

    pub fn exec(event: &Event, error: &ExecError) -> Error {
        match error {
            ExecError::Api { rule, step, error } => Error::api(event, &format!("rule `{rule}`, at `{step}`"), error),
            ExecError::Store { rule, step, error } => Error::retryable(
                if error.throttled { "CoordinationStoreThrottled" } else { "CoordinationStoreUnavailable" },
                format!("{}: rule `{rule}`, at `{step}`: {error}; a redelivery will complete it", describe(event)),
            ),
            ExecError::Customer(error) => Error::customer(event, error),
            ExecError::NeedsStore { rule, step } => Error::permanent(
                "NeedsCoordinationStore",
                format!(
                    "{}: rule `{rule}`, at `{step}`: `mode: keep-one` needs the coordination store (set CLAIMS_TABLE), which holds which item is kept",
                    describe(event)
                ),
            ),
            ExecError::NoCaseToLink { rule, step } => Error::permanent(
                "CaseNotFound",
                format!(
                    "{}: rule `{rule}`, at `{step}`: found no case to link (set `ifMissing: skip` to go on without the link)",
                    describe(event)
                ),
            ),
            ExecError::CaseNotFound { rule } => Error::permanent(
                "CaseNotFound",
                format!(
                    "{}: rule `{rule}` found no case and does not create one (set `case.ifMissing: skip` to ignore such events)",
                    describe(event)
                ),
            ),
        }
    }
}

/// `contact flow c-123` or `custom event 1a2b…`: enough to find the event in logs and DLQs.
pub fn describe(event: &Event) -> String {
    format!("{} {}", event.kind, event.key)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Diagnostic {
        Diagnostic { error_type: error.error_type(), error_message: error.message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::ApiErrorKind;
    use crate::inbound::EventKind;

    fn event() -> Event {
        Event {
            raw: serde_json::json!({}),
            key: "e-1".into(),
            kind: EventKind::Custom,
            contact_arn: None,
            instance_arn: None,
            performer: None,
            time_ms: None,
            scope: None,
        }
    }

    #[test]
    fn api_errors_keep_their_retryability_and_context() {
        let throttled = ApiError { operation: "CreateCase", kind: ApiErrorKind::Throttling, message: "slow down".into() };
        let error = Error::api(&event(), "rule `r`, at `case.create`", &throttled);
        assert!(error.is_retryable());
        assert_eq!(error.error_type(), "Retryable.ThrottlingException");
        assert!(error.message.contains("custom event e-1") && error.message.contains("rule `r`"), "{error}");

        let invalid = ApiError { operation: "CreateCase", kind: ApiErrorKind::Validation, message: "bad".into() };
        let diagnostic = Diagnostic::from(Error::api(&event(), "x", &invalid));
        assert_eq!(diagnostic.error_type, "Permanent.ValidationException");
    }

    #[test]
    fn the_coordination_store_failing_or_throttled_is_retryable() {
        for (throttled, code) in [(false, "Retryable.CoordinationStoreUnavailable"), (true, "Retryable.CoordinationStoreThrottled")] {
            let store = crate::claims::StoreError { operation: "PutItem", throttled, message: "no".into() };
            let error = Error::exec(&event(), &ExecError::Store { rule: "r".into(), step: "case.create".into(), error: store.clone() });
            assert_eq!(error.error_type(), code);
            assert!(error.message.contains("rule `r`, at `case.create`"), "{error}");
            let customer = CustomerError { rule: "r".into(), path: "p".into(), error: ResolveError::Store(store) };
            assert_eq!(Error::customer(&event(), &customer).error_type(), code);
        }
    }
}
