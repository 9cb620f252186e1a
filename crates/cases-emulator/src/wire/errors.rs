//! HTTP rendering of [`ApiError`]s and JSON responses.
//!
//! Errors carry both the `x-amzn-ErrorType` header and `__type` in the body (every AWS SDK
//! finds the code in one of them), a `message`, and for 404 `resourceId`/`resourceType`.
//! Every response has an `x-amzn-RequestId` header.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use serde_json::{Value as Json, json};

use crate::error::{ApiError, ErrorKind};

/// A JSON response with the given status.
pub fn json_response(status: u16, body: &Json, request_id: &str) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}

/// The error body of an [`ApiError`].
pub fn error_body(err: &ApiError) -> Json {
    let mut body = json!({ "__type": err.kind.name(), "message": err.message });
    if err.kind == ErrorKind::ResourceNotFoundException {
        body["resourceId"] = json!(err.resource_id.clone().unwrap_or_default());
        body["resourceType"] = json!(err.resource_type.clone().unwrap_or_default());
    }
    body
}

/// The HTTP response of an [`ApiError`].
pub fn error_response(err: &ApiError, request_id: &str) -> Response<Body> {
    raw_error_response(err.kind.status(), err.kind.name(), &error_body(err), request_id)
}

/// An error response with any code (e.g. `UnknownOperationException`).
pub fn raw_error_response(status: u16, code: &str, body: &Json, request_id: &str) -> Response<Body> {
    let mut resp = json_response(status, body, request_id);
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-amzn-ErrorType", v);
    }
    resp
}
