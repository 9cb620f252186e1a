//! The HTTP side of the Amazon Connect Customer Profiles subset (`profile`, 2020-08-15,
//! restJson1) served on the same listener as Cases: which API a request is for, routing,
//! request parsing/validation, responses and the Customer Profiles error shape.
//!
//! | operation | request | counted as |
//! |---|---|---|
//! | SearchProfiles | `POST /domains/{DomainName}/profiles/search?max-results=N&next-token=T` | `SearchProfiles` |
//! | CreateProfile | `POST /domains/{DomainName}/profiles` | `CreateProfile` |
//! | GetDomain | `GET /domains/{DomainName}` | `GetProfilesDomain` |
//!
//! Errors carry `x-amzn-ErrorType: <Name>` and `{"Message": "…"}` with the model's status codes
//! (BadRequestException 400, AccessDeniedException 403, ResourceNotFoundException 404,
//! ThrottlingException 429, InternalServerException 500); see [`error_code`] for how the
//! emulator's [`ErrorKind`]s map onto them.

pub mod validate;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Response};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::errors::raw_error_response;
use super::handlers::parse_body;
use super::routes::Query;
use crate::backend::Backend;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::operation::{Api, Operation};
use crate::state::profiles::{LogicalOperator, ProfileDomain, ProfileSearch, SearchKey};
use crate::util::{decode_token, page, parse_ts};
use crate::wire::validate as v;

/// The API named by the SigV4 credential scope of the request (`Authorization: AWS4-HMAC-SHA256
/// Credential=AKID/20260501/us-east-1/profile/aws4_request, …`, or a presigned
/// `X-Amz-Credential`), if any: `profile` → Customer Profiles, `cases`/`connectcases` → Cases,
/// `connect` → Amazon Connect.
/// Any other or no scope: None (the caller routes by method and path).
pub fn api_from_signature(headers: &HeaderMap, query: &Query) -> Option<Api> {
    let from_header = headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| {
        let rest = &h[h.find("Credential=")? + "Credential=".len()..];
        Some(rest.split([',', ' ']).next().unwrap_or_default().to_string())
    });
    let credential = from_header.or_else(|| query.get("X-Amz-Credential").map(str::to_string))?;
    match credential.rsplit('/').nth(1)? {
        "profile" => Some(Api::Profiles),
        "cases" | "connectcases" => Some(Api::Cases),
        "connect" => Some(Api::Connect),
        _ => None,
    }
}

/// The operation (as counted) for a Customer Profiles request, or None.
pub fn route(method: &Method, segs: &[String]) -> Option<Operation> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    Some(match (method.as_str(), s.as_slice()) {
        ("POST", ["domains", _, "profiles", "search"]) => Operation::SearchProfiles,
        ("POST", ["domains", _, "profiles"]) => Operation::CreateProfile,
        ("GET", ["domains", _]) => Operation::GetProfilesDomain,
        _ => return None,
    })
}

/// The Customer Profiles error for an [`ErrorKind`]: (shape name, HTTP status).
/// ValidationException, ConflictException and ServiceQuotaExceededException (which the model
/// does not have) become BadRequestException.
pub fn error_code(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::ValidationException | ErrorKind::ConflictException | ErrorKind::ServiceQuotaExceededException => {
            ("BadRequestException", 400)
        }
        ErrorKind::AccessDeniedException => ("AccessDeniedException", 403),
        ErrorKind::ResourceNotFoundException => ("ResourceNotFoundException", 404),
        ErrorKind::ThrottlingException => ("ThrottlingException", 429),
        ErrorKind::InternalServerException => ("InternalServerException", 500),
    }
}

/// The HTTP response of an error in the Customer Profiles shape.
pub fn error_response(err: &ApiError, request_id: &str) -> Response<Body> {
    let (name, status) = error_code(err.kind);
    raw_error_response(status, name, &json!({ "Message": err.message }), request_id)
}

/// `{"KeyName", "Values"}` (AdditionalSearchKey).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdditionalSearchKeyIn {
    key_name: Option<String>,
    values: Option<Vec<String>>,
}

/// The SearchProfiles body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchProfilesIn {
    key_name: Option<String>,
    values: Option<Vec<String>>,
    additional_search_keys: Option<Vec<AdditionalSearchKeyIn>>,
    logical_operator: Option<String>,
}

fn search_key(key_name: &Option<String>, values: &Option<Vec<String>>, path: &str) -> ApiResult<SearchKey> {
    let kp = if path.is_empty() { "KeyName".to_string() } else { format!("{path}.KeyName") };
    let vp = if path.is_empty() { "Values".to_string() } else { format!("{path}.Values") };
    let key_name = v::required(key_name, &kp)?;
    validate::profiles_name(key_name, &kp)?;
    let values = v::required(values, &vp)?;
    for (i, x) in values.iter().enumerate() {
        v::length(x, &format!("{vp}[{i}]"), 1, 255)?;
    }
    Ok(SearchKey { key_name: key_name.clone(), values: values.clone() })
}

/// Validates a SearchProfiles body: `KeyName` (required, 1–64 `^[a-zA-Z0-9_-]+$`), `Values`
/// (required, each 1–255 characters), `AdditionalSearchKeys` (1–4 keys of the same shape),
/// `LogicalOperator` (`AND` | `OR`, default `OR`).
fn search_input(body: &[u8]) -> ApiResult<ProfileSearch> {
    let i: SearchProfilesIn = parse_body(body)?;
    let mut keys = vec![search_key(&i.key_name, &i.values, "")?];
    if let Some(extra) = &i.additional_search_keys {
        v::list_size(extra.len(), "AdditionalSearchKeys", 1, 4)?;
        for (n, k) in extra.iter().enumerate() {
            keys.push(search_key(&k.key_name, &k.values, &format!("AdditionalSearchKeys[{n}]"))?);
        }
    }
    let operator = match i.logical_operator.as_deref() {
        None => LogicalOperator::default(),
        Some(s) => {
            v::enum_value(s, "LogicalOperator", &["AND", "OR"])?;
            LogicalOperator::parse(s).unwrap_or_default()
        }
    };
    Ok(ProfileSearch { keys, operator })
}

fn max_results(q: &Query) -> ApiResult<usize> {
    let n = q
        .get("max-results")
        .map(|s| s.parse::<i64>().map_err(|_| ApiError::validation(format!("max-results: '{s}' is not an integer"))))
        .transpose()?;
    v::max_results(n, "MaxResults", 1, 100, 20)
}

fn next_token(q: &Query) -> ApiResult<usize> {
    match q.get("next-token") {
        None => Ok(0),
        Some(t) => {
            v::length(t, "NextToken", 1, 1024)?;
            decode_token(Some(t)).map_err(|_| ApiError::validation("NextToken: invalid pagination token"))
        }
    }
}

/// Epoch seconds (with milliseconds) of a stored RFC 3339 timestamp.
fn epoch_seconds(ts: &str) -> Json {
    match parse_ts(ts) {
        Some(t) => {
            let ms = t.unix_timestamp_nanos() / 1_000_000;
            if ms % 1000 == 0 { json!((ms / 1000) as i64) } else { json!(ms as f64 / 1000.0) }
        }
        None => json!(0),
    }
}

/// `GetDomainResponse`.
pub fn get_domain(d: &ProfileDomain) -> Json {
    let total_size: usize = d.profiles.iter().map(|p| serde_json::to_vec(&p.0).map(|b| b.len()).unwrap_or(0)).sum();
    json!({
        "DomainName": d.name,
        "DefaultExpirationDays": d.default_expiration_days,
        "Stats": {
            "ProfileCount": d.profiles.len(),
            "MeteringProfileCount": d.profiles.len(),
            "ObjectCount": 0,
            "TotalSize": total_size,
        },
        "CreatedAt": epoch_seconds(&d.created_at),
        "LastUpdatedAt": epoch_seconds(&d.last_updated_at),
        "Tags": d.tags,
    })
}

/// Runs Customer Profiles operation `op` (see [`route`]).
pub fn dispatch(b: &Backend, op: Operation, segs: &[String], q: &Query, body: &[u8]) -> ApiResult<Json> {
    let domain = segs.get(1).map(String::as_str).unwrap_or_default();
    validate::profiles_name(domain, "DomainName")?;
    match op {
        Operation::SearchProfiles => {
            let max = max_results(q)?;
            let offset = next_token(q)?;
            let search = search_input(body)?;
            let hits = b.read(|s| s.search_profiles(domain, &search))?;
            let (items, next) = page(&hits, offset, max);
            let items: Vec<Json> = items
                .into_iter()
                .map(|h| {
                    let mut p = h.profile.0;
                    let found: Vec<Json> = h.found_by.iter().map(|k| json!({ "KeyName": k.key_name, "Values": k.values })).collect();
                    p.insert("FoundByItems".into(), Json::Array(found));
                    Json::Object(p)
                })
                .collect();
            let mut out = json!({ "Items": items });
            if let Some(t) = next {
                out["NextToken"] = json!(t);
            }
            Ok(out)
        }
        Operation::CreateProfile => {
            let raw: serde_json::Map<String, Json> = parse_body(body)?;
            let profile = validate::create_profile(&raw)?;
            let id = b.write(|s, _| s.create_profile(domain, None, profile))?;
            Ok(json!({ "ProfileId": id }))
        }
        Operation::GetProfilesDomain => b.read(|s| s.profile_domain(domain).map(get_domain)),
        other => Err(ApiError::internal(format!("operation {other} is routed but not implemented"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::routes::split_path;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        h
    }

    #[test]
    fn the_credential_scope_names_the_api() {
        let q = Query::default();
        let sig = |svc: &str| {
            format!("AWS4-HMAC-SHA256 Credential=test/20260501/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=abc")
        };
        assert_eq!(api_from_signature(&headers(&sig("profile")), &q), Some(Api::Profiles));
        assert_eq!(api_from_signature(&headers(&sig("cases")), &q), Some(Api::Cases));
        assert_eq!(api_from_signature(&headers(&sig("connectcases")), &q), Some(Api::Cases));
        assert_eq!(api_from_signature(&headers(&sig("connect")), &q), Some(Api::Connect));
        assert_eq!(api_from_signature(&headers(&sig("s3")), &q), None);
        assert_eq!(api_from_signature(&HeaderMap::new(), &q), None);
        let presigned = Query::parse(Some("X-Amz-Credential=test%2F20260501%2Fus-east-1%2Fprofile%2Faws4_request"));
        assert_eq!(api_from_signature(&HeaderMap::new(), &presigned), Some(Api::Profiles));
    }

    #[test]
    fn routes_and_error_codes() {
        assert_eq!(route(&Method::POST, &split_path("/domains/d/profiles/search")), Some(Operation::SearchProfiles));
        assert_eq!(route(&Method::POST, &split_path("/domains/d/profiles")), Some(Operation::CreateProfile));
        assert_eq!(route(&Method::GET, &split_path("/domains/d")), Some(Operation::GetProfilesDomain));
        assert_eq!(route(&Method::POST, &split_path("/domains/d")), None);
        assert_eq!(error_code(ErrorKind::ValidationException), ("BadRequestException", 400));
        assert_eq!(error_code(ErrorKind::ThrottlingException), ("ThrottlingException", 429));
    }

    #[test]
    fn search_bodies() {
        let s = search_input(br#"{"KeyName":"_phone","Values":["+1"],"AdditionalSearchKeys":[{"KeyName":"_email","Values":["a@b"]}],"LogicalOperator":"AND"}"#).unwrap();
        assert_eq!(s.keys.len(), 2);
        assert_eq!(s.operator, LogicalOperator::And);
        assert_eq!(search_input(br#"{"KeyName":"_phone","Values":["+1"]}"#).unwrap().operator, LogicalOperator::Or);
        let err = |b: &[u8]| search_input(b).unwrap_err().message;
        assert!(err(br#"{"Values":["+1"]}"#).contains("'KeyName'"));
        assert!(err(br#"{"KeyName":"_phone"}"#).contains("'Values'"));
        assert!(err(br#"{"KeyName":"bad key","Values":["x"]}"#).contains("pattern"));
        assert!(err(br#"{"KeyName":"_phone","Values":[""]}"#).contains("Values[0]"));
        assert!(err(br#"{"KeyName":"_phone","Values":["x"],"AdditionalSearchKeys":[]}"#).contains("AdditionalSearchKeys"));
        assert!(err(br#"{"KeyName":"_phone","Values":["x"],"LogicalOperator":"XOR"}"#).contains("[AND, OR]"));
        assert_eq!(epoch_seconds("2026-05-01T12:00:00.000Z"), json!(1_777_636_800i64));
        assert_eq!(epoch_seconds("2026-05-01T12:00:00.250Z"), json!(1_777_636_800.25));
    }
}
