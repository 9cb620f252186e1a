//! The service errors of the Cases API, independent of HTTP. The Customer Profiles operations
//! use the same kinds; `wire::profiles` renders them in that API's error shape.
//!
//! [`ApiError`] is what the backend (`state`) and the validation layer return; the wire layer
//! (`wire::errors`) turns it into an HTTP response with the status code, the
//! `x-amzn-ErrorType` header and the `{"__type", "message", …}` body that the AWS SDKs parse.

use serde::{Deserialize, Serialize};

/// The error shapes of the `connectcases` model (all have a required `message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// 400, not retried by the SDK.
    ValidationException,
    /// 403.
    AccessDeniedException,
    /// 404, carries `resourceId` and `resourceType`.
    ResourceNotFoundException,
    /// 409 (CreateCase token reuse with different parameters, among others).
    ConflictException,
    /// 402 (sic): item quotas such as related items per case.
    ServiceQuotaExceededException,
    /// 429, retried by the SDK.
    ThrottlingException,
    /// 500, retried by the SDK.
    InternalServerException,
}

impl ErrorKind {
    /// All error kinds, for parsing and documentation.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::ValidationException,
        ErrorKind::AccessDeniedException,
        ErrorKind::ResourceNotFoundException,
        ErrorKind::ConflictException,
        ErrorKind::ServiceQuotaExceededException,
        ErrorKind::ThrottlingException,
        ErrorKind::InternalServerException,
    ];

    /// The shape name, used for `x-amzn-ErrorType` and `__type`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ValidationException => "ValidationException",
            ErrorKind::AccessDeniedException => "AccessDeniedException",
            ErrorKind::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorKind::ConflictException => "ConflictException",
            ErrorKind::ServiceQuotaExceededException => "ServiceQuotaExceededException",
            ErrorKind::ThrottlingException => "ThrottlingException",
            ErrorKind::InternalServerException => "InternalServerException",
        }
    }

    /// The HTTP status code from the model's `@httpError` traits.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::ValidationException => 400,
            ErrorKind::AccessDeniedException => 403,
            ErrorKind::ResourceNotFoundException => 404,
            ErrorKind::ConflictException => 409,
            ErrorKind::ServiceQuotaExceededException => 402,
            ErrorKind::ThrottlingException => 429,
            ErrorKind::InternalServerException => 500,
        }
    }

    /// Parses a shape name; also accepts a few short aliases (`Throttling`, `InternalServer`,
    /// `Validation`, `AccessDenied`, `Conflict`, `ServiceQuotaExceeded`, `ResourceNotFound`),
    /// and Customer Profiles' `BadRequestException` / `BadRequest` (= ValidationException, which
    /// that API renders as BadRequestException).
    pub fn parse(s: &str) -> Option<ErrorKind> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("BadRequestException") || s.eq_ignore_ascii_case("BadRequest") {
            return Some(ErrorKind::ValidationException);
        }
        ErrorKind::ALL.into_iter().find(|k| {
            let n = k.name();
            n.eq_ignore_ascii_case(s) || n.trim_end_matches("Exception").eq_ignore_ascii_case(s)
        })
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A service error: kind, message and, for 404, the resource it is about.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// `resourceId` of a ResourceNotFoundException.
    pub resource_id: Option<String>,
    /// `resourceType` of a ResourceNotFoundException.
    pub resource_type: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into(), resource_id: None, resource_type: None }
    }

    /// 400 ValidationException.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValidationException, message)
    }

    /// 404 ResourceNotFoundException about `resource_type` `resource_id`.
    pub fn not_found(resource_type: &str, resource_id: &str) -> Self {
        ApiError {
            kind: ErrorKind::ResourceNotFoundException,
            message: format!("{resource_type} {resource_id} not found"),
            resource_id: Some(resource_id.to_string()),
            resource_type: Some(resource_type.to_string()),
        }
    }

    /// 409 ConflictException.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ConflictException, message)
    }

    /// 402 ServiceQuotaExceededException.
    pub fn quota(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ServiceQuotaExceededException, message)
    }

    /// 429 ThrottlingException.
    pub fn throttling(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ThrottlingException, message)
    }

    /// 500 InternalServerException.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalServerException, message)
    }
}

/// Result alias used throughout the crate.
pub type ApiResult<T> = Result<T, ApiError>;
