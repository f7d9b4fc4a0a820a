//! `kube-sandbox`: serve fixtures as a Kubernetes API server until SIGTERM/SIGINT.

use clap::Parser;
use kube_sandbox::{Sandbox, SandboxOptions, write_kubeconfig_copy};
use std::path::PathBuf;
use std::process::ExitCode;

// Start-up and lists allocate and free millions of small JSON values, where
// glibc malloc spent a third of the sandbox's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A test Kubernetes API server serving fixture YAML (see tests/sandbox/README.md).
#[derive(Parser, Debug)]
#[command(name = "kube-sandbox", version)]
struct Cli {
    /// Fixture file or directory (repeatable).
    #[arg(long = "fixtures", value_name = "PATH")]
    fixtures: Vec<PathBuf>,
    /// Where to write the kubeconfig.
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    plain_http: bool,
    /// Delay every response by N milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Inject failures, e.g. `verb=list,resource=pods,status=429,count=2` (repeatable).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            e.exit()
        }
        Err(e) => {
            // One line, like every other error of the suite.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("error: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let opts = SandboxOptions {
        fixtures: cli.fixtures,
        port: cli.port,
        plain_http: cli.plain_http,
        latency_ms: cli.latency_ms,
        faults: cli.faults,
        watch_history: None,
    };
    let sandbox = match Sandbox::start(opts)
        .and_then(|s| write_kubeconfig_copy(&s, &cli.kubeconfig_out).map(|_| s))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!("ready {}", sandbox.url());
    match wait_for_signal() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn wait_for_signal() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        Ok(())
    })
}
