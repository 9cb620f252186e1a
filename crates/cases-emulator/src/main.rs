//! `cases-emulator`: run the local Amazon Connect Cases service (and the Customer Profiles
//! subset the automation uses, on the same address).

use std::net::SocketAddr;
use std::path::PathBuf;

use cases_emulator::{Emulator, Seed};
use clap::Parser;

/// A local, stateful Amazon Connect Cases service (plus SearchProfiles, CreateProfile and GetDomain
/// of Customer Profiles), wire-compatible with the AWS SDKs.
#[derive(Debug, Parser)]
#[command(name = "cases-emulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// Seed file (JSON); default: the built-in demo seed.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// State file: loaded at start if it exists, saved after every write.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Append every emitted "Amazon Connect Cases Change" event to this JSON-lines file
    /// (forces emission even where a domain has events disabled).
    #[arg(long)]
    events_out: Option<PathBuf>,
    /// Enforce the real rate quotas (CreateCase 2/s burst 10, …) with 429 ThrottlingException.
    #[arg(long)]
    quotas: bool,
    /// How long (ms, on the service clock) a written case takes to reach the search index that
    /// SearchCases, SearchRelatedItems and SearchAllRelatedItems read.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    search_lag_ms: u64,
    /// Region used in ARNs and events.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id used in ARNs and events.
    #[arg(long, default_value = "123456789012")]
    account: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let seed = match &args.seed {
        Some(p) => match Seed::from_file(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(2);
            }
        },
        None => Seed::demo(),
    };
    let mut b = Emulator::builder()
        .seed(seed)
        .quotas(args.quotas)
        .region(args.region)
        .account(args.account)
        .listen(args.listen)
        .search_lag(std::time::Duration::from_millis(args.search_lag_ms));
    if let Some(p) = args.state {
        b = b.state_file(p);
    }
    if let Some(p) = args.events_out {
        b = b.events_out(p);
    }
    let emu = match b.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {}", emu.endpoint_url());
        let _ = out.flush();
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    emu.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
