//! The Cases API as this function uses it: a trait over the handful of operations it calls, the
//! request/response data (`model`), field values and their conversion to a field's type
//! (`value`), name resolution (`catalog`), what the domain allows and the
//! checks of planned writes against it (`domain`), the per-process cache of the domain
//! (`domain_cache`), service messages without the values they quote (`redact`), and the
//! `aws-sdk-connectcases` adapter (`sdk`).

pub mod catalog;
pub mod domain;
pub mod domain_cache;
pub mod limits;
pub mod model;
pub mod paced;
pub mod redact;
pub mod sdk;
pub mod tags;
pub mod throttled;
pub mod value;

use std::fmt;
use std::future::Future;

use model::*;

/// The operations the function calls, on one domain.
pub trait CasesApi: Send + Sync {
    /// One page of results (with the requested field values), and the token of the next.
    fn search_cases(&self, input: &SearchCasesInput) -> impl Future<Output = Result<CasesPage, ApiError>> + Send;
    fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    fn create_case(&self, input: &CreateCaseInput) -> impl Future<Output = Result<CreatedCase, ApiError>> + Send;
    fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn search_related_items(
        &self,
        case_id: &str,
        input: &SearchRelatedItemsInput,
    ) -> impl Future<Output = Result<RelatedItemsPage, ApiError>> + Send;
    /// One page of the domain's SLAs (SearchAllRelatedItems), for a sweep.
    fn search_slas(&self, input: &SearchSlasInput) -> impl Future<Output = Result<SlasPage, ApiError>> + Send;
    /// The case's current values of `field_ids` (GetCase); fields without a value are absent.
    fn get_case_fields(
        &self,
        case_id: &str,
        field_ids: &[String],
    ) -> impl Future<Output = Result<std::collections::HashMap<String, FieldValue>, ApiError>> + Send;
    /// The new related item's id.
    fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// New content for a comment or custom item (UpdateRelatedItem, with `performedBy`).
    fn update_related_item(
        &self,
        case_id: &str,
        related_item_id: &str,
        input: &UpdateRelatedItemInput,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Every field of the domain (all pages).
    fn list_fields(&self) -> impl Future<Output = Result<Vec<FieldInfo>, ApiError>> + Send;
    /// Every template of the domain (all pages).
    fn list_templates(&self) -> impl Future<Output = Result<Vec<TemplateInfo>, ApiError>> + Send;
    /// Every option of a single-select field, active or not (all pages).
    fn list_field_options(&self, field_id: &str) -> impl Future<Output = Result<Vec<FieldOption>, ApiError>> + Send;
    /// A template's status and required fields.
    fn get_template(&self, template_id: &str) -> impl Future<Output = Result<TemplateDetail, ApiError>> + Send;
}

/// A failed API call: which operation, what kind of failure, and the service's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub operation: &'static str,
    pub kind: ApiErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    Throttling,
    ServerError,
    Timeout,
    Network,
    Validation,
    NotFound,
    Conflict,
    AccessDenied,
    QuotaExceeded,
    /// An error code the function does not know, with a 5xx status: the service's trouble.
    UnknownServerError,
    /// An error code the function does not know, with a 4xx status other than 429: the request's.
    UnknownClientError,
    Other,
}

impl ApiError {
    /// Whether a failed create certainly created nothing (refused: validation, throttling,
    /// access), as opposed to a timeout or a server error after which the item may exist.
    pub fn refused_outright(&self) -> bool {
        !self.kind.is_retryable() || self.kind == ApiErrorKind::Throttling
    }
}

impl ApiErrorKind {
    /// Whether trying again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ApiErrorKind::Throttling
                | ApiErrorKind::ServerError
                | ApiErrorKind::Timeout
                | ApiErrorKind::Network
                | ApiErrorKind::UnknownServerError
        )
    }

    /// The kind of an error the service answered: by its code when the function knows it, else by
    /// the HTTP status, which says whose the fault is: 5xx the service's and 429 too much traffic,
    /// both passing (retryable); any other 4xx the request's, which a retry repeats (permanent).
    pub fn of_service_error(code: Option<&str>, status: u16) -> ApiErrorKind {
        use ApiErrorKind::*;
        match code {
            Some("ThrottlingException") => Throttling,
            // Amazon Connect names its 500 InternalServiceException, and its 400s InvalidRequest
            // and InvalidParameter.
            Some("InternalServerException" | "InternalServiceException") => ServerError,
            Some("ValidationException" | "BadRequestException" | "InvalidRequestException" | "InvalidParameterException") => Validation,
            Some("ResourceNotFoundException") => NotFound,
            Some("ConflictException") => Conflict,
            Some("AccessDeniedException") => AccessDenied,
            Some("ServiceQuotaExceededException") => QuotaExceeded,
            _ if status == 429 => Throttling,
            _ if (500..=599).contains(&status) => UnknownServerError,
            _ if (400..=499).contains(&status) => UnknownClientError,
            _ => Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ApiErrorKind::Throttling => "ThrottlingException",
            ApiErrorKind::ServerError => "InternalServerException",
            ApiErrorKind::Timeout => "Timeout",
            ApiErrorKind::Network => "NetworkError",
            ApiErrorKind::Validation => "ValidationException",
            ApiErrorKind::NotFound => "ResourceNotFoundException",
            ApiErrorKind::Conflict => "ConflictException",
            ApiErrorKind::AccessDenied => "AccessDeniedException",
            ApiErrorKind::QuotaExceeded => "ServiceQuotaExceededException",
            ApiErrorKind::UnknownServerError => "UnknownServerError",
            ApiErrorKind::UnknownClientError => "UnknownClientError",
            ApiErrorKind::Other => "UnknownError",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with {}: {}", self.operation, self.kind.name(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::ApiErrorKind::{self, *};

    #[test]
    fn unknown_codes_are_classed_by_their_http_status() {
        for (code, status, kind) in [
            (Some("ThrottlingException"), 400, Throttling),
            (Some("ValidationException"), 500, Validation),
            (Some("ServiceUnavailableException"), 503, UnknownServerError),
            (None, 502, UnknownServerError),
            (Some("TooManyRequestsException"), 429, Throttling),
            (Some("RequestEntityTooLargeException"), 413, UnknownClientError),
            (None, 400, UnknownClientError),
            (Some("Whatever"), 302, Other),
            (Some("InternalServiceException"), 500, ServerError),
            (Some("InvalidRequestException"), 400, Validation),
        ] {
            assert_eq!(ApiErrorKind::of_service_error(code, status), kind, "{code:?} {status}");
        }
        assert!(UnknownServerError.is_retryable() && Throttling.is_retryable());
        assert!(!UnknownClientError.is_retryable() && !Other.is_retryable());
    }
}
