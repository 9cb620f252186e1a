//! The Cases API as this function uses it: a trait over the handful of operations it calls, the
//! request/response data (`model`), name resolution (`catalog`), and the `aws-sdk-connectcases`
//! adapter (`sdk`). Tests substitute the trait; production and end-to-end tests use the SDK.

pub mod catalog;
pub mod model;
pub mod paced;
pub mod sdk;
pub mod throttled;

use std::fmt;
use std::future::Future;

use model::*;

/// The operations the function calls, on one domain.
pub trait CasesApi: Send + Sync {
    /// Case ids of the first page of results.
    fn search_cases(&self, input: &SearchCasesInput) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    fn create_case(&self, input: &CreateCaseInput) -> impl Future<Output = Result<CreatedCase, ApiError>> + Send;
    fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn search_related_items(
        &self,
        case_id: &str,
        input: &SearchRelatedItemsInput,
    ) -> impl Future<Output = Result<RelatedItemsPage, ApiError>> + Send;
    /// The case's current values of `field_ids` (GetCase); fields without a value are absent.
    fn get_case_fields(
        &self,
        case_id: &str,
        field_ids: &[String],
    ) -> impl Future<Output = Result<std::collections::HashMap<String, FieldValue>, ApiError>> + Send;
    /// The new related item's id.
    fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// Every field of the domain (all pages).
    fn list_fields(&self) -> impl Future<Output = Result<Vec<FieldInfo>, ApiError>> + Send;
    /// Every template of the domain (all pages).
    fn list_templates(&self) -> impl Future<Output = Result<Vec<TemplateInfo>, ApiError>> + Send;
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
    Other,
}

impl ApiErrorKind {
    /// Whether trying again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ApiErrorKind::Throttling | ApiErrorKind::ServerError | ApiErrorKind::Timeout | ApiErrorKind::Network)
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
