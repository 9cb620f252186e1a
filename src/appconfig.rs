//! Rules from AWS AppConfig, changed without a redeploy.
//!
//! The AppConfig Agent Lambda extension runs beside the function, polls AppConfig and serves the
//! deployed version on `http://localhost:{port}/applications/{a}/environments/{e}/configurations/{p}`
//! with its number in the `Configuration-Version` header. Before an invocation, at most once per
//! `RULES_REFRESH_SECONDS`, the function asks it (never during the cold start: the function
//! reaches its first invocation without a network call). A new version is validated completely,
//! as a rules file at cold start is, before it replaces the running rules; an invalid version, or
//! an agent that does not answer, leaves the last good rules running (the packaged ones until a
//! first version arrives), logged and counted (`RulesRefreshes`).
//!
//! AppConfig validates a version before deploying it by invoking the function with a validation
//! request (`validation_request`), which gets the same checks.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::config::AppConfigRules;
use crate::error::Error;
use crate::live_rules::LiveRules;
use crate::rules::RuleSet;
use crate::telemetry;

/// How long the agent may take to answer (it serves from memory, on the same machine).
const AGENT_TIMEOUT: Duration = Duration::from_millis(1000);

/// The agent, and what this instance last saw of it.
pub struct Agent {
    settings: AppConfigRules,
    client: Client<HttpConnector, Empty<Bytes>>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// When the agent was last asked.
    asked: Option<Instant>,
    /// The last version read, valid or not (not validated again).
    version: Option<String>,
}

/// What one read of the agent gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Asked too recently; nothing done.
    NotDue,
    Unchanged,
    Applied {
        version: String,
    },
    Refused {
        version: String,
    },
    Unavailable,
}

impl Agent {
    /// Builds the client only: nothing is sent until `refresh`.
    pub fn new(settings: AppConfigRules) -> Agent {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(AGENT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Agent { settings, client, seen: Mutex::new(Seen::default()) }
    }

    /// Asks the agent for the rules if the refresh interval has passed, and switches `rules` to a
    /// new, valid version.
    pub async fn refresh(&self, rules: &LiveRules) -> Refresh {
        {
            let mut seen = self.seen.lock().expect("never poisoned");
            if seen.asked.is_some_and(|at| at.elapsed() < self.settings.refresh) {
                return Refresh::NotDue;
            }
            seen.asked = Some(Instant::now());
        }
        let outcome = match tokio::time::timeout(AGENT_TIMEOUT, self.read()).await {
            Ok(Ok((version, text))) => self.consider(rules, version, &text),
            Ok(Err(reason)) => {
                tracing::warn!(reason = %reason, running = %rules.version(), "the AppConfig agent did not give the rules; the running rules stay");
                Refresh::Unavailable
            }
            Err(_) => {
                tracing::warn!(running = %rules.version(), "the AppConfig agent did not answer in time; the running rules stay");
                Refresh::Unavailable
            }
        };
        telemetry::rules_refresh(match outcome {
            Refresh::NotDue | Refresh::Unchanged => "unchanged",
            Refresh::Applied { .. } => "applied",
            Refresh::Refused { .. } => "refused",
            Refresh::Unavailable => "unavailable",
        });
        outcome
    }

    /// The deployed version's number and text.
    async fn read(&self) -> Result<(String, String), String> {
        let uri = format!("http://localhost:{}{}", self.settings.port, self.settings.path);
        let request = hyper::Request::get(&uri).body(Empty::new()).map_err(|e| e.to_string())?;
        let response = self.client.request(request).await.map_err(|e| format!("{uri}: {e}"))?;
        let status = response.status();
        let version = response.headers().get("Configuration-Version").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.into_body().collect().await.map_err(|e| format!("{uri}: {e}"))?.to_bytes();
        if !status.is_success() {
            return Err(format!("{uri} answered {status}"));
        }
        let text = String::from_utf8(body.to_vec()).map_err(|_| "the rules are not UTF-8 text".to_owned())?;
        // Without the header (it is always sent), the text names the version.
        let version = version.unwrap_or_else(|| crate::rules::content_version(&text));
        Ok((version, text))
    }

    fn consider(&self, rules: &LiveRules, version: String, text: &str) -> Refresh {
        let mut seen = self.seen.lock().expect("never poisoned");
        if seen.version.as_deref() == Some(version.as_str()) {
            return Refresh::Unchanged;
        }
        seen.version = Some(version.clone());
        let running = rules.version();
        match RuleSet::from_yaml(text, &format!("AppConfig version {version}")) {
            Ok(set) => {
                let label = format!("appconfig-{version}");
                rules.replace(set.with_version(label.clone()));
                tracing::info!(rules_version = %label, previous = %running, "switched to new rules from AppConfig");
                Refresh::Applied { version: label }
            }
            Err(problems) => {
                tracing::error!(refused = %version, running = %running, problems = %problems, "refused rules from AppConfig; the running rules stay");
                Refresh::Refused { version }
            }
        }
    }
}

/// The request AppConfig sends a validator function (`content` is the version, base64), if
/// `payload` is one.
pub fn validation_request(payload: &Value) -> Option<(&str, &str)> {
    let content = payload.get("content")?.as_str()?;
    let version = payload.get("configurationVersion").and_then(Value::as_str).unwrap_or("(new)");
    payload.get("configurationProfileId")?;
    Some((version, content))
}

/// Validates a version for AppConfig: an error (AppConfig refuses the version) naming every problem.
pub fn validate(version: &str, content_base64: &str) -> Result<Value, Error> {
    let bytes = aws_smithy_types::base64::decode(content_base64)
        .map_err(|_| Error::permanent("InvalidRules", format!("AppConfig version {version}: the content is not base64")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::permanent("InvalidRules", format!("AppConfig version {version}: the rules are not UTF-8 text")))?;
    let rules =
        RuleSet::from_yaml(&text, &format!("AppConfig version {version}")).map_err(|e| Error::permanent("InvalidRules", e.to_string()))?;
    Ok(json!({"valid": true, "rules": rules.rules.len(), "rulesVersion": rules.version}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_requests_are_told_apart_and_checked_completely() {
        let good = aws_smithy_types::base64::encode(crate::rules::DEFAULT_RULES);
        let request =
            json!({"applicationId": "a", "configurationProfileId": "p", "configurationVersion": "3", "content": good, "uri": "hosted"});
        let (version, content) = validation_request(&request).expect("a validation request");
        assert_eq!(version, "3");
        assert!(validate(version, content).is_ok());
        let bad = aws_smithy_types::base64::encode("rules:\n  - name: x\n    match: { source: x }\n    case: {}\n");
        let error = validate("4", &bad).unwrap_err();
        assert_eq!(error.error_type(), "Permanent.InvalidRules");
        assert!(
            error.message.contains("rule `x`, at `match.source`") && error.message.contains("rule `x`, at `case`"),
            "{}",
            error.message
        );
        assert!(validation_request(&json!({"detail-type": "x", "content": "y"})).is_none(), "events are not validation requests");
    }
}
