//! The DynamoDB- and SQS-compatible server the tests run against: moto's server mode, installed
//! from PyPI into `.venv-moto` by `make test` (`make moto`), started once per test binary on a free
//! port and stopped when the test binary ends. `MOTO_ENDPOINT` points the tests at a server that
//! is already running instead.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use cases_automation::aws::sdk_config_for_local_service;
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

/// The function's own SDK configuration (`aws::sdk_config_for_local_service`), pointed at the server.
pub fn sdk_config() -> &'static aws_config::SdkConfig {
    static CONFIG: OnceLock<aws_config::SdkConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let endpoint = endpoint();
        // Loading is async; callers may be sync: the loading runs on a thread of its own.
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                    runtime.block_on(sdk_config_for_local_service(endpoint))
                })
                .join()
                .expect("the SDK configuration loads")
        })
    })
}

/// A DynamoDB client for the local server.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk_config())
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

/// The coordination store on a new table, as the function builds it.
pub async fn claims() -> DynamoClaims {
    DynamoClaims::lazy(sdk_config().clone(), claims_table().await)
}
