//! The DynamoDB- and SQS-compatible server the tests run against: moto's server mode, installed
//! from PyPI into `.venv-moto` by `make test` (`make moto`), started once per test binary on a free
//! port and stopped when the test binary ends. `MOTO_ENDPOINT` points the tests at a server that
//! is already running instead.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use cases_automation::claims::dynamodb::{DynamoClaims, create_table};

/// The server's endpoint (`http://127.0.0.1:PORT`), started on first use.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT")
            && !endpoint.is_empty()
        {
            return endpoint;
        }
        let root = env!("CARGO_MANIFEST_DIR");
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| format!("{root}/.venv-moto/bin/python"));
        assert!(
            std::path::Path::new(&python).exists(),
            "moto is not installed at {python}: run `make moto` (or `make test`, which installs it into .venv-moto), or set MOTO_ENDPOINT"
        );
        let mut child = Command::new(&python)
            .arg(format!("{root}/scripts/moto_server.py"))
            .arg("--watch-parent")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto with {python}: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("moto prints its address");
        // The child is not waited for: it stops itself when this test binary ends (--watch-parent).
        std::mem::forget(child);
        line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("moto did not start: {line:?}")).to_owned()
    })
}

/// A DynamoDB client for the local server.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(endpoint())
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(5)).build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A new claims table of its own (every test isolates its claims this way), created as
/// `cases-automation claims init` creates it.
pub async fn claims_table() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let table = format!("claims-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    create_table(&dynamodb(), &table).await.expect("the claims table is created");
    table
}

/// The coordination store on a new table.
pub async fn claims() -> DynamoClaims {
    DynamoClaims::new(dynamodb(), claims_table().await)
}
