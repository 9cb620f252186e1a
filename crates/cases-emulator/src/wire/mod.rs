//! The HTTP side: routing, request shapes, response shapes, error rendering, admin API.
//!
//! One axum fallback handler does the routing itself ([`routes`]), because the restJson1 paths
//! need per-segment percent-decoding and both trailing-slash forms.

pub mod admin;
pub mod errors;
pub mod handlers;
pub mod input;
pub mod output;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::Response;
use serde_json::json;

use crate::faults::Faults;
use crate::state::Backend;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Shared state of the HTTP service.
pub struct App {
    pub backend: Arc<Backend>,
    pub faults: Arc<Faults>,
}

/// The axum router serving the Cases API and `/_emulator/…`.
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
        return admin::handle(&app, &parts.method, &segs[1..], &bytes, &request_id);
    }
    let Some(op) = routes::route(&parts.method, &segs) else {
        tracing::warn!(method = %parts.method, path = %parts.uri.path(), "unknown operation");
        let body = json!({
            "__type": "UnknownOperationException",
            "message": format!("No Cases API operation for {} {}", parts.method, parts.uri.path()),
        });
        return errors::raw_error_response(404, "UnknownOperationException", &body, &request_id);
    };
    let query = routes::Query::parse(parts.uri.query());
    let (latency, fault) = app.faults.before(op);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let injected = fault.is_some();
    let result = match fault {
        Some(e) => Err(e),
        None => handlers::dispatch(&app.backend, op, &segs, &query, &bytes),
    };
    match result {
        Ok(v) => {
            tracing::info!(op, status = 200, request_id, "ok");
            errors::json_response(200, &v, &request_id)
        }
        Err(e) => {
            tracing::info!(op, status = e.kind.status(), error = e.kind.name(), injected, message = %e.message, request_id, "error");
            errors::error_response(&e, &request_id)
        }
    }
}
