//! The log subscriber: the level and format Lambda asks for (`AWS_LAMBDA_LOG_LEVEL`,
//! `AWS_LAMBDA_LOG_FORMAT`) for the function's own logs, and at most INFO for the libraries it
//! runs on. At DEBUG the AWS SDK logs error responses, which quote the values they refuse, and at
//! TRACE every request and response body: phone numbers, e-mail addresses and comment text. The
//! function's own DEBUG and TRACE logs carry ids and timings only, so every level Lambda offers
//! keeps the privacy of INFO.

use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use lambda_runtime::tracing::subscriber::{self, EnvFilter};

/// The most the libraries (AWS SDK, HTTP, the Lambda runtime) may log, whatever the level.
pub const LIBRARY_MAX_LEVEL: LevelFilter = LevelFilter::INFO;

/// The level of the function's own logs: `AWS_LAMBDA_LOG_LEVEL` (Lambda's logging configuration),
/// else `RUST_LOG` when it is a plain level, else INFO. Lambda's FATAL is ERROR here.
pub fn level(lambda_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    let parse = |text: &str| match text.trim().to_ascii_lowercase().as_str() {
        "fatal" => Some(LevelFilter::ERROR),
        other => other.parse::<LevelFilter>().ok(),
    };
    lambda_level.and_then(parse).or_else(|| rust_log.and_then(parse)).unwrap_or(LevelFilter::INFO)
}

/// The filter directives: `level` for this crate, the lesser of `level` and
/// [`LIBRARY_MAX_LEVEL`] for everything else.
pub fn directives(level: LevelFilter) -> String {
    let libraries = level.min(LIBRARY_MAX_LEVEL);
    format!("{libraries},{}={level}", env!("CARGO_CRATE_NAME"))
}

/// Installs the subscriber from the environment: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`.
pub fn init() {
    let level = level(std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(), std::env::var("RUST_LOG").ok().as_deref());
    let collector = subscriber::fmt().with_target(false).without_time().with_env_filter(EnvFilter::new(directives(level)));
    if std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        collector.json().init();
    } else {
        collector.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_never_log_below_info_whatever_the_level() {
        assert_eq!(directives(LevelFilter::TRACE), "info,cases_automation=trace");
        assert_eq!(directives(LevelFilter::DEBUG), "info,cases_automation=debug");
        assert_eq!(directives(LevelFilter::INFO), "info,cases_automation=info");
        assert_eq!(directives(LevelFilter::WARN), "warn,cases_automation=warn");
        assert_eq!(directives(LevelFilter::ERROR), "error,cases_automation=error");
    }

    #[test]
    fn the_level_comes_from_lambda_then_rust_log() {
        assert_eq!(level(Some("DEBUG"), Some("error")), LevelFilter::DEBUG);
        assert_eq!(level(None, Some("warn")), LevelFilter::WARN);
        assert_eq!(level(Some("FATAL"), None), LevelFilter::ERROR);
        assert_eq!(level(None, Some("info,aws_smithy_runtime=trace")), LevelFilter::INFO, "directives are not taken from RUST_LOG");
        assert_eq!(level(None, None), LevelFilter::INFO);
        assert_eq!(level(Some("loud"), None), LevelFilter::INFO);
    }
}
