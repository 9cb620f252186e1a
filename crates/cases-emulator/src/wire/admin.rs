//! The admin API under `/_emulator/` (JSON; not part of the Cases or Customer Profiles APIs, never
//! counted or faulted). Only for local clients: a request whose `Host` is not the listen address
//! (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`) or that has an `Origin` header gets 403
//! (see [`super::admin_access`]).
//!
//! | method & path | what |
//! |---|---|
//! | `GET /_emulator/health` | `{"status":"ok","region","account","domains":[ids],"profileDomains":[names],"quotas":bool,"now","searchLagMs"}` |
//! | `GET /_emulator/clock` | `{"now":"2026-05-01T12:34:56.789Z"}`: the service clock |
//! | `PUT /_emulator/clock` | `{"now":"<RFC 3339>"}` jump to that instant, or `{"advanceSeconds":N}` move forward N ≥ 0 seconds (fractions allowed); answers `{"now"}` |
//! | `GET /_emulator/search-lag` | `{"ms":N}`: how long a written case takes to reach the search index |
//! | `PUT /_emulator/search-lag` | `{"ms":N}` set it (0 to 86400000) for the writes that follow; answers `{"ms"}` |
//! | `POST /_emulator/faults` | add a fault rule or a list of them (see [`crate::faults::Fault`]) |
//! | `GET /_emulator/faults` | active rules with remaining counts |
//! | `DELETE /_emulator/faults` | remove every rule |
//! | `PUT /_emulator/quotas` | `{"enabled":true}` enforce the rate quotas (429 beyond) |
//! | `GET /_emulator/quotas` | `{"enabled":bool}` |
//! | `GET /_emulator/calls` | per-operation request counts (including failed ones) |
//! | `GET /_emulator/calls?operation=X&atLeast=N&waitMs=T` | waits up to T ms (default 0, at most 300000) until operation X (default `*`: all together) has been called N times (default 1); answers the counts plus `"reached":true\|false` |
//! | `DELETE /_emulator/calls` | reset the counts |
//! | `GET /_emulator/events` | emitted case events (oldest first) |
//! | `DELETE /_emulator/events` | forget emitted events |
//! | `GET /_emulator/profiles/{domain}` | the stored profiles of a Customer Profiles domain (creation order) |
//! | `GET /_emulator/state` | full state dump |
//! | `POST /_emulator/reset` | back to the seed (also clears events) |

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Response};
use serde_json::{Value as Json, json};

use super::App;
use super::errors::{json_response, raw_error_response};
use super::routes::Query;
use crate::backend::MAX_SEARCH_LAG;
use crate::faults::{Fault, Operations};
use crate::util::{format_ts, parse_ts};

/// Longest long-poll of `GET /_emulator/calls`.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

fn bad_request(msg: String, rid: &str) -> Response<Body> {
    raw_error_response(400, "BadRequest", &json!({ "__type": "BadRequest", "message": msg }), rid)
}

/// What `PUT /_emulator/clock` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClockRequest {
    JumpTo(time::OffsetDateTime),
    Advance(Duration),
}

/// Reads `{"now": "<RFC 3339>"}` or `{"advanceSeconds": N}`.
pub fn clock_request(v: &Json) -> Result<ClockRequest, String> {
    let usage = "expected {\"now\": \"<RFC 3339 date-time>\"} or {\"advanceSeconds\": <seconds, at least 0>}";
    let obj = v.as_object().ok_or_else(|| format!("{usage}, got {v}"))?;
    match (obj.get("now"), obj.get("advanceSeconds"), obj.len()) {
        (Some(now), None, 1) => {
            let text = now.as_str().ok_or_else(|| format!("now: {usage}, got {now}"))?;
            parse_ts(text).map(ClockRequest::JumpTo).ok_or_else(|| format!("now: '{text}' is not an RFC 3339 date-time"))
        }
        (None, Some(secs), 1) => {
            let n = secs.as_f64().ok_or_else(|| format!("advanceSeconds: expected a number of seconds, got {secs}"))?;
            if n < 0.0 {
                return Err(format!(
                    "advanceSeconds: {n} is negative; the clock never goes backwards this way (jump with {{\"now\": …}} instead)"
                ));
            }
            Duration::try_from_secs_f64(n).map(ClockRequest::Advance).map_err(|e| format!("advanceSeconds: {n}: {e}"))
        }
        _ => Err(format!("{usage}, exactly one of them; got {v}")),
    }
}

/// Reads `{"ms": N}` (a whole number of milliseconds up to [`MAX_SEARCH_LAG`]).
pub fn search_lag_request(v: &Json) -> Result<Duration, String> {
    let max = MAX_SEARCH_LAG.as_millis();
    match v.get("ms").and_then(Json::as_u64) {
        Some(ms) if u128::from(ms) <= max && v.as_object().is_some_and(|o| o.len() == 1) => Ok(Duration::from_millis(ms)),
        _ => Err(format!("expected {{\"ms\": <whole milliseconds from 0 to {max}>}}, got {v}")),
    }
}

/// The query of `GET /_emulator/calls`: None without any of its parameters (plain counts).
/// Returns (operations, at least, wait); an operation name the service does not have is an error.
pub fn calls_query(q: &Query) -> Result<Option<(Operations, u64, Duration)>, String> {
    let (op, at_least, wait) = (q.get("operation"), q.get("atLeast"), q.get("waitMs"));
    if op.is_none() && at_least.is_none() && wait.is_none() {
        return Ok(None);
    }
    let number = |name: &str, v: Option<&str>, default: u64| -> Result<u64, String> {
        v.map_or(Ok(default), |s| s.parse::<u64>().map_err(|_| format!("{name}: '{s}' is not a whole number")))
    };
    let at_least = number("atLeast", at_least, 1)?;
    let wait = Duration::from_millis(number("waitMs", wait, 0)?);
    if wait > MAX_WAIT {
        return Err(format!("waitMs: at most {}", MAX_WAIT.as_millis()));
    }
    let op = op.unwrap_or("*");
    if op.is_empty() {
        return Err("operation: must not be empty (\"*\" counts every operation)".into());
    }
    let op = op.parse::<Operations>().map_err(|e| format!("operation: {e}"))?;
    Ok(Some((op, at_least, wait)))
}

/// Handles `/_emulator/{segs…}`.
pub async fn handle(app: &App, method: &Method, segs: &[String], query: &Query, body: &[u8], rid: &str) -> Response<Body> {
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
                "now": format_ts(app.backend.now()),
                "searchLagMs": app.backend.search_lag().as_millis(),
            }))
        }
        ("GET", ["clock"]) => ok(json!({ "now": format_ts(app.backend.now()) })),
        ("PUT" | "POST", ["clock"]) => {
            let moved = parse(body).and_then(|v| clock_request(&v)).and_then(|req| {
                match req {
                    ClockRequest::JumpTo(t) => app.backend.set_clock(t),
                    ClockRequest::Advance(d) => app.backend.advance_clock(d),
                }
                .map_err(|e| e.to_string())
            });
            match moved {
                Ok(now) => ok(json!({ "now": format_ts(now) })),
                Err(e) => bad_request(e, rid),
            }
        }
        ("GET", ["search-lag"]) => ok(json!({ "ms": app.backend.search_lag().as_millis() })),
        ("PUT" | "POST", ["search-lag"]) => match parse(body).and_then(|v| search_lag_request(&v)) {
            Ok(lag) => {
                app.backend.set_search_lag(lag);
                ok(json!({ "ms": app.backend.search_lag().as_millis() }))
            }
            Err(e) => bad_request(e, rid),
        },
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
        ("GET", ["calls"]) => match calls_query(query) {
            Ok(None) => ok(json!(app.faults.calls())),
            Ok(Some((op, at_least, wait))) => {
                let reached = app.faults.wait_for(op, at_least, wait).await.is_ok();
                let mut counts = json!(app.faults.calls());
                counts["reached"] = json!(reached);
                ok(counts)
            }
            Err(e) => bad_request(e, rid),
        },
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::operation::Operation;

    #[test]
    fn clock_requests() {
        assert_eq!(
            clock_request(&json!({"now": "2030-01-02T03:04:05.678+01:00"})),
            Ok(ClockRequest::JumpTo(datetime!(2030-01-02 02:04:05.678 UTC)))
        );
        assert_eq!(clock_request(&json!({"advanceSeconds": 1.5})), Ok(ClockRequest::Advance(Duration::from_millis(1500))));
        assert_eq!(clock_request(&json!({"advanceSeconds": 0})), Ok(ClockRequest::Advance(Duration::ZERO)));
        assert!(clock_request(&json!({"advanceSeconds": -1})).unwrap_err().contains("never goes backwards"));
        assert!(clock_request(&json!({"advanceSeconds": "5"})).is_err());
        assert!(clock_request(&json!({"advanceSeconds": 1e300})).is_err());
        assert!(clock_request(&json!({"now": "yesterday"})).unwrap_err().contains("RFC 3339"));
        assert!(clock_request(&json!({"now": "2030-01-01T00:00:00Z", "advanceSeconds": 1})).is_err());
        assert!(clock_request(&json!({})).is_err());
        assert!(clock_request(&json!([1])).is_err());
    }

    #[test]
    fn search_lag_requests() {
        assert_eq!(search_lag_request(&json!({"ms": 1000})), Ok(Duration::from_secs(1)));
        assert_eq!(search_lag_request(&json!({"ms": 0})), Ok(Duration::ZERO));
        for bad in [json!({"ms": -1}), json!({"ms": 1.5}), json!({"ms": 86_400_001}), json!({}), json!({"ms": 1, "x": 2})] {
            assert!(search_lag_request(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn calls_queries() {
        assert_eq!(calls_query(&Query::parse(None)), Ok(None));
        assert_eq!(
            calls_query(&Query::parse(Some("operation=CreateCase&atLeast=3&waitMs=500"))),
            Ok(Some((Operations::Only(Operation::CreateCase), 3, Duration::from_millis(500))))
        );
        assert_eq!(calls_query(&Query::parse(Some("waitMs=10"))), Ok(Some((Operations::Any, 1, Duration::from_millis(10)))));
        let unknown = calls_query(&Query::parse(Some("operation=CreateCases"))).unwrap_err();
        assert!(unknown.starts_with("operation: unknown operation \"CreateCases\""), "{unknown}");
        assert!(calls_query(&Query::parse(Some("atLeast=x"))).is_err());
        assert!(calls_query(&Query::parse(Some("waitMs=300001"))).is_err());
        assert!(calls_query(&Query::parse(Some("operation="))).is_err());
    }
}
