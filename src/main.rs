//! The `cases-automation` binary: the Lambda function, or the command line (`plan`, `claims init`) when given arguments.

// The handler future (rules, SDK calls, SQS fan-out) is deeper than the default limit allows.
#![recursion_limit = "256"]

use std::process::ExitCode;

#[tokio::main]
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
