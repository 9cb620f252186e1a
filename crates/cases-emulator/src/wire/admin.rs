//! The admin API under `/_emulator/` (JSON; not part of the Cases or Customer Profiles APIs, never
//! counted or faulted).
//!
//! | method & path | what |
//! |---|---|
//! | `GET /_emulator/health` | `{"status":"ok","region","account","domains":[ids],"profileDomains":[names],"quotas":bool}` |
//! | `POST /_emulator/faults` | add a fault rule or a list of them (see [`crate::faults::Fault`]) |
//! | `GET /_emulator/faults` | active rules with remaining counts |
//! | `DELETE /_emulator/faults` | remove every rule |
//! | `PUT /_emulator/quotas` | `{"enabled":true}` enforce the rate quotas (429 beyond) |
//! | `GET /_emulator/quotas` | `{"enabled":bool}` |
//! | `GET /_emulator/calls` | per-operation request counts (including failed ones) |
//! | `DELETE /_emulator/calls` | reset the counts |
//! | `GET /_emulator/events` | emitted case events (oldest first) |
//! | `DELETE /_emulator/events` | forget emitted events |
//! | `GET /_emulator/profiles/{domain}` | the stored profiles of a Customer Profiles domain (creation order) |
//! | `GET /_emulator/state` | full state dump |
//! | `POST /_emulator/reset` | back to the seed (also clears events) |

use axum::body::Body;
use axum::http::{Method, Response};
use serde_json::{Value as Json, json};

use super::App;
use super::errors::{json_response, raw_error_response};
use crate::faults::Fault;

fn bad_request(msg: String, rid: &str) -> Response<Body> {
    raw_error_response(400, "BadRequest", &json!({ "__type": "BadRequest", "message": msg }), rid)
}

/// Handles `/_emulator/{segs…}`.
pub fn handle(app: &App, method: &Method, segs: &[String], body: &[u8], rid: &str) -> Response<Body> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let parse = |body: &[u8]| -> Result<Json, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(json!({}))
        } else {
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))
        }
    };
    let ok = |v: Json| json_response(200, &v, rid);
    match (method.as_str(), s.as_slice()) {
        ("GET", ["health"]) => {
            let st = app.backend.state();
            ok(json!({
                "status": "ok",
                "region": st.region,
                "account": st.account,
                "domains": st.domains.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
                "profileDomains": st.profile_domains.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
                "quotas": app.faults.quotas_enabled(),
            }))
        }
        ("POST", ["faults"]) => {
            let v = match parse(body) {
                Ok(v) => v,
                Err(e) => return bad_request(e, rid),
            };
            let faults: Result<Vec<Fault>, _> =
                if v.is_array() { serde_json::from_value(v) } else { serde_json::from_value(v).map(|f| vec![f]) };
            match faults {
                Ok(list) => {
                    for f in list {
                        if f.error.is_none() && f.latency_ms.is_none() {
                            return bad_request("a fault needs \"error\" and/or \"latencyMs\"".into(), rid);
                        }
                        app.faults.inject(f);
                    }
                    ok(json!({ "faults": app.faults.list() }))
                }
                Err(e) => bad_request(format!("invalid fault: {e}"), rid),
            }
        }
        ("GET", ["faults"]) => ok(json!({ "faults": app.faults.list() })),
        ("DELETE", ["faults"]) => {
            app.faults.clear();
            ok(json!({ "faults": [] }))
        }
        ("PUT" | "POST", ["quotas"]) => match parse(body).map(|v| v.get("enabled").and_then(Json::as_bool)) {
            Ok(Some(enabled)) => {
                app.faults.set_quotas(enabled);
                ok(json!({ "enabled": enabled }))
            }
            Ok(None) => bad_request("expected {\"enabled\": true|false}".into(), rid),
            Err(e) => bad_request(e, rid),
        },
        ("GET", ["quotas"]) => ok(json!({ "enabled": app.faults.quotas_enabled() })),
        ("GET", ["calls"]) => ok(json!(app.faults.calls())),
        ("DELETE", ["calls"]) => {
            app.faults.reset_calls();
            ok(json!({}))
        }
        ("GET", ["events"]) => ok(Json::Array(app.backend.events().events())),
        ("DELETE", ["events"]) => {
            app.backend.events().clear();
            ok(json!([]))
        }
        ("GET", ["profiles", domain]) => match app.backend.read(|st| st.profile_domain(domain).map(|d| d.profiles.clone())) {
            Ok(list) => ok(Json::Array(list.into_iter().map(|p| p.to_json()).collect())),
            Err(_) => raw_error_response(
                404,
                "NotFound",
                &json!({ "__type": "NotFound", "message": format!("no Customer Profiles domain {domain}") }),
                rid,
            ),
        },
        ("GET", ["state"]) => ok(app.backend.snapshot()),
        ("POST", ["reset"]) => {
            app.backend.reset();
            ok(json!({ "status": "reset" }))
        }
        _ => raw_error_response(
            404,
            "NotFound",
            &json!({ "__type": "NotFound", "message": format!("no admin endpoint {method} /_emulator/{}", s.join("/")) }),
            rid,
        ),
    }
}
