//! The HTTP side: routing, request shapes, response shapes, error rendering, admin API.
//!
//! One axum fallback handler does the routing itself ([`routes`]), because the restJson1 paths
//! need per-segment percent-decoding and both trailing-slash forms.
//!
//! The same listener also serves the Customer Profiles subset ([`profiles`]) and the Amazon
//! Connect subset ([`connect`]: DescribeContact, GetContactAttributes). Which API a request is
//! for is decided by the SigV4 credential scope when the request is signed
//! (`…/profile/aws4_request`, `…/cases/aws4_request`, `…/connect/aws4_request`), otherwise by
//! method and path (the APIs' routes do not overlap: Cases GetDomain is `POST /domains/{id}`,
//! Customer Profiles GetDomain is `GET /domains/{name}`, Amazon Connect's are `GET /contacts/…`
//! and `GET /contact/attributes/…`).

pub mod admin;
pub mod admin_access;
pub mod connect;
pub mod errors;
pub mod handlers;
pub mod input;
pub mod output;
pub mod profiles;
pub mod routes;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::Response;
use serde_json::json;

use crate::backend::Backend;
use crate::faults::Faults;
use crate::operation::Api;
pub use admin_access::admin_hosts;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Shared state of the HTTP service.
pub struct App {
    pub backend: Arc<Backend>,
    pub faults: Arc<Faults>,
    /// The `Host` values the admin API answers (see [`admin_access`]).
    pub admin_hosts: Vec<String>,
}

/// The axum router serving the Cases API, the Customer Profiles and Amazon Connect subsets and
/// `/_emulator/…`.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            let err = crate::error::ApiError::validation(format!("Cannot read request body: {e}"));
            return errors::error_response(&err, &request_id);
        }
    };
    let segs = routes::split_path(parts.uri.path());
    if segs.first().map(String::as_str) == Some("_emulator") {
        if let Err(why) = admin_access::check(&parts.headers, &parts.uri, &app.admin_hosts) {
            tracing::warn!(path = %parts.uri.path(), why, "admin request refused");
            return errors::raw_error_response(403, "Forbidden", &json!({ "__type": "Forbidden", "message": why }), &request_id);
        }
        let query = routes::Query::parse(parts.uri.query());
        return admin::handle(&app, &parts.method, &segs[1..], &query, &bytes, &request_id).await;
    }
    let query = routes::Query::parse(parts.uri.query());
    let cases = || routes::route(&parts.method, &segs);
    let profiles = || profiles::route(&parts.method, &segs);
    let connect = || connect::route(&parts.method, &segs);
    let signed = profiles::api_from_signature(&parts.headers, &query);
    let routed = match signed {
        Some(Api::Cases) => cases(),
        Some(Api::Profiles) => profiles(),
        Some(Api::Connect) => connect(),
        None => cases().or_else(profiles).or_else(connect),
    };
    let Some(op) = routed else {
        tracing::warn!(method = %parts.method, path = %parts.uri.path(), ?signed, "unknown operation");
        let what = signed.unwrap_or(Api::Cases).title();
        let message = format!("No {what} API operation for {} {}", parts.method, parts.uri.path());
        let body = if matches!(signed, Some(Api::Profiles | Api::Connect)) {
            json!({ "Message": message })
        } else {
            json!({ "__type": "UnknownOperationException", "message": message })
        };
        return errors::raw_error_response(404, "UnknownOperationException", &body, &request_id);
    };
    let (latency, fault) = app.faults.before(op);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let injected = fault.is_some();
    let api = op.api();
    let result = match (fault, api) {
        (Some(e), _) => Err(e),
        (None, Api::Cases) => handlers::dispatch(&app.backend, op, &segs, &query, &bytes),
        (None, Api::Profiles) => profiles::dispatch(&app.backend, op, &segs, &query, &bytes),
        (None, Api::Connect) => connect::dispatch(&app.backend, op, &segs),
    };
    match result {
        Ok(v) => {
            tracing::info!(op = op.as_str(), status = 200, request_id, "ok");
            errors::json_response(200, &v, &request_id)
        }
        Err(e) => {
            let (status, name) = match api {
                Api::Cases => (e.kind.status(), e.kind.name()),
                Api::Profiles => {
                    let (name, status) = profiles::error_code(e.kind);
                    (status, name)
                }
                Api::Connect => {
                    let (name, status) = connect::error_code(e.kind);
                    (status, name)
                }
            };
            tracing::info!(op = op.as_str(), status, error = name, injected, message = %e.message, request_id, "error");
            match api {
                Api::Cases => errors::error_response(&e, &request_id),
                Api::Profiles => profiles::error_response(&e, &request_id),
                Api::Connect => connect::error_response(&e, &request_id),
            }
        }
    }
}
