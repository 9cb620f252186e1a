//! The `cases-automation` binary: the Lambda function, or the command line (`plan`, `claims init`) when given arguments.

// The handler future (rules, SDK calls, SQS fan-out) is deeper than the default limit allows.
#![recursion_limit = "256"]

use std::process::ExitCode;

// One thread: an invocation's work is I/O-bound and Lambda runs one invocation at a time per
// instance, so worker threads only add wake-ups and context switches to every API call (and
// thread start-up to the cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let args: Vec<String> = std::env::args().collect();
    if args.len() > 1 {
        return cases_automation::cli::main(args).await;
    }
    cases_automation::logging::init();
    match cases_automation::runtime::run(started).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
