//! Who may use the admin API: not web pages.
//!
//! A page the developer's browser opens could otherwise reset the state or change the clock: by
//! DNS rebinding (its own host name resolving to 127.0.0.1, so the `Host` header names that
//! host) or by a cross-site request (browsers send `Origin` on those; the SDKs and curl do
//! not). So `/_emulator/*` answers only requests whose `Host` is the listen address as a local
//! client writes it (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`, or the bound address
//! itself) and that carry no `Origin` header.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Uri, header};

/// The `Host` values the admin API accepts for a listener bound to `addr`.
pub fn admin_hosts(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
    if !addr.ip().is_unspecified() {
        let bound = addr.to_string();
        if !hosts.contains(&bound) {
            hosts.push(bound);
        }
    }
    hosts
}

/// Why a request may not use the admin API, or Ok.
pub fn check(headers: &HeaderMap, uri: &Uri, hosts: &[String]) -> Result<(), String> {
    if headers.contains_key(header::ORIGIN) {
        return Err("the admin API does not answer requests with an Origin header (browsers send one on cross-site requests)".into());
    }
    let host = match headers.get(header::HOST) {
        Some(h) => h.to_str().ok().map(str::to_string),
        None => uri.authority().map(|a| a.as_str().to_string()),
    };
    match host {
        Some(h) if hosts.iter().any(|x| x.eq_ignore_ascii_case(h.trim())) => Ok(()),
        Some(h) => Err(format!("the admin API answers only requests for {}, not Host '{h}'", hosts.join(", "))),
        None => Err(format!("the admin API answers only requests with a Host header naming {}", hosts.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn local() -> Vec<String> {
        admin_hosts(SocketAddr::from(([127, 0, 0, 1], 4566)))
    }

    #[test]
    fn local_host_names_of_the_listen_port_pass() {
        let uri = Uri::from_static("/_emulator/health");
        for h in ["127.0.0.1:4566", "localhost:4566", "LocalHost:4566", "[::1]:4566"] {
            assert_eq!(check(&headers(&[("host", h)]), &uri, &local()), Ok(()), "{h}");
        }
    }

    #[test]
    fn other_hosts_and_ports_are_refused() {
        let uri = Uri::from_static("/_emulator/health");
        for h in ["evil.example:4566", "127.0.0.1:4567", "localhost", "127.0.0.1"] {
            let e = check(&headers(&[("host", h)]), &uri, &local()).unwrap_err();
            assert!(e.contains(h), "{e}");
        }
        assert!(check(&HeaderMap::new(), &uri, &local()).is_err(), "no Host at all");
    }

    #[test]
    fn any_origin_is_refused() {
        let uri = Uri::from_static("/_emulator/health");
        for o in ["http://127.0.0.1:4566", "https://evil.example", "null"] {
            assert!(check(&headers(&[("host", "127.0.0.1:4566"), ("origin", o)]), &uri, &local()).is_err(), "{o}");
        }
    }

    #[test]
    fn an_absolute_uri_names_the_host_when_the_header_is_missing() {
        assert_eq!(check(&HeaderMap::new(), &Uri::from_static("http://localhost:4566/_emulator/health"), &local()), Ok(()));
    }

    #[test]
    fn a_specific_bound_address_is_accepted_too() {
        let hosts = admin_hosts(SocketAddr::from(([10, 0, 0, 7], 80)));
        assert!(hosts.contains(&"10.0.0.7:80".to_string()));
        assert!(!admin_hosts(SocketAddr::from(([0, 0, 0, 0], 80))).iter().any(|h| h.starts_with("0.0.0.0")));
    }
}
