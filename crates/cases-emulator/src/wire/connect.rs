//! The HTTP side of the Amazon Connect subset (`connect`, 2017-08-08, restJson1) served on the
//! same listener as Cases: routing, label validation, responses and Amazon Connect's error shape.
//!
//! | operation | request | answer |
//! |---|---|---|
//! | DescribeContact | `GET /contacts/{InstanceId}/{ContactId}` | `{"Contact": {…}}`, timestamps in epoch seconds |
//! | GetContactAttributes | `GET /contact/attributes/{InstanceId}/{InitialContactId}` | `{"Attributes": {…}}` |
//!
//! Errors carry `x-amzn-ErrorType: <Name>` and `{"Message": "…"}` with the model's status codes
//! (InvalidRequestException 400, AccessDeniedException 403, ResourceNotFoundException 404,
//! ThrottlingException 429, InternalServiceException 500); see [`error_code`] for how the
//! emulator's [`ErrorKind`]s map onto them.

use axum::body::Body;
use axum::http::{Method, Response};
use serde_json::{Value as Json, json};

use super::errors::raw_error_response;
use crate::backend::Backend;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::operation::Operation;
use crate::util::parse_ts;
use crate::wire::validate as v;

/// The operation for an Amazon Connect request, or None.
pub fn route(method: &Method, segs: &[String]) -> Option<Operation> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    Some(match (method.as_str(), s.as_slice()) {
        ("GET", ["contacts", _, _]) => Operation::DescribeContact,
        ("GET", ["contact", "attributes", _, _]) => Operation::GetContactAttributes,
        _ => return None,
    })
}

/// The Amazon Connect error for an [`ErrorKind`]: (shape name, HTTP status).
pub fn error_code(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::ValidationException => ("InvalidRequestException", 400),
        ErrorKind::AccessDeniedException => ("AccessDeniedException", 403),
        ErrorKind::ResourceNotFoundException => ("ResourceNotFoundException", 404),
        ErrorKind::ConflictException => ("ResourceConflictException", 409),
        ErrorKind::ServiceQuotaExceededException => ("ServiceQuotaExceededException", 429),
        ErrorKind::ThrottlingException => ("ThrottlingException", 429),
        ErrorKind::InternalServerException => ("InternalServiceException", 500),
    }
}

/// The HTTP response of an error in Amazon Connect's shape.
pub fn error_response(err: &ApiError, request_id: &str) -> Response<Body> {
    let (name, status) = error_code(err.kind);
    raw_error_response(status, name, &json!({ "Message": err.message }), request_id)
}

/// Every `…Timestamp` member (at any depth) from RFC 3339 text to epoch seconds, as the
/// service's restJson1 timestamps are.
fn epoch_timestamps(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(key, member)| {
                    let converted = match (key.ends_with("Timestamp"), member.as_str().and_then(parse_ts)) {
                        (true, Some(t)) => {
                            let ms = t.unix_timestamp_nanos() / 1_000_000;
                            if ms % 1000 == 0 { json!((ms / 1000) as i64) } else { json!(ms as f64 / 1000.0) }
                        }
                        _ => epoch_timestamps(member),
                    };
                    (key, converted)
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(epoch_timestamps).collect()),
        other => other,
    }
}

/// Runs Amazon Connect operation `op` (see [`route`]).
pub fn dispatch(b: &Backend, op: Operation, segs: &[String]) -> ApiResult<Json> {
    let (instance, contact) = match segs {
        [_, instance, contact] | [_, _, instance, contact] => (instance.as_str(), contact.as_str()),
        _ => return Err(ApiError::internal(format!("operation {op} is routed without its labels"))),
    };
    v::length(instance, "InstanceId", 1, 100)?;
    match op {
        Operation::DescribeContact => {
            v::length(contact, "ContactId", 1, 256)?;
            let described = b.read(|s| s.describe_contact(instance, contact))?;
            Ok(json!({ "Contact": epoch_timestamps(Json::Object(described)) }))
        }
        Operation::GetContactAttributes => {
            v::length(contact, "InitialContactId", 1, 256)?;
            let attributes = b.read(|s| s.contact_attributes(instance, contact))?;
            Ok(json!({ "Attributes": attributes }))
        }
        other => Err(ApiError::internal(format!("operation {other} is routed but not implemented"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::routes::split_path;

    #[test]
    fn routes_and_error_codes() {
        assert_eq!(route(&Method::GET, &split_path("/contacts/i-1/c-1")), Some(Operation::DescribeContact));
        assert_eq!(route(&Method::GET, &split_path("/contact/attributes/i-1/c-1")), Some(Operation::GetContactAttributes));
        assert_eq!(route(&Method::POST, &split_path("/contacts/i-1/c-1")), None, "UpdateContact is not served");
        assert_eq!(route(&Method::GET, &split_path("/contacts/i-1")), None);
        assert_eq!(error_code(ErrorKind::ValidationException), ("InvalidRequestException", 400));
        assert_eq!(error_code(ErrorKind::InternalServerException), ("InternalServiceException", 500));
    }

    #[test]
    fn timestamps_become_epoch_seconds_at_any_depth() {
        let converted = epoch_timestamps(json!({
            "InitiationTimestamp": "2026-05-01T12:00:00.000Z",
            "QueueInfo": {"Id": "q", "EnqueueTimestamp": "2026-05-01T12:00:00.250Z"},
            "Name": "2026-05-01T12:00:00Z",
        }));
        assert_eq!(converted["InitiationTimestamp"], json!(1_777_636_800i64));
        assert_eq!(converted["QueueInfo"]["EnqueueTimestamp"], json!(1_777_636_800.25));
        assert_eq!(converted["Name"], "2026-05-01T12:00:00Z", "only timestamp members");
    }
}
