//! A test plugin (never shipped) that drives `common`'s write side the way a real plugin
//! does: connection flags, `--dry-run`, a write recorded in the journal, then a long wait
//! that SIGINT/SIGTERM interrupt. The suite's signal tests run it as a real process.

use std::time::Duration;

use clap::Parser;
use common::cli::ConnectionArgs;
use common::progress::Progress;
use common::run::Session;
use common::wait::{Check, Waited};
use common::write::{DryRunArgs, Target, Writer};
use common::{Error, Exit};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ObjectMeta;

/// Create ConfigMap NAME, then wait until it holds KEY.
#[derive(Debug, Parser)]
#[command(name = "write-probe")]
struct Args {
    #[command(flatten)]
    conn: ConnectionArgs,
    #[command(flatten)]
    dry: DryRunArgs,
    /// The ConfigMap to create.
    name: String,
    /// The key to wait for.
    key: String,
    /// How long to wait.
    #[arg(long, default_value = "60s", value_parser = common::duration::parse_duration)]
    timeout: Duration,
    /// After a stop request, take this long to "finish the step in flight".
    #[arg(long, default_value = "0s", value_parser = common::duration::parse_duration)]
    finish_step: Duration,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    common::run::main_with_session(|session| run(args, session))
}

async fn run(args: Args, session: Session) -> common::Result<Exit> {
    let conn = args.conn.connect().await?;
    let writer = Writer::new("probe", args.dry.dry_run, session.journal.clone());
    let target = Target::<ConfigMap>::namespaced(&conn.client, &conn.namespace);
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(args.name.clone()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    writer.create(&target, &cm, "probe").await?;
    eprintln!("waiting for key {}", args.key);
    let key = args.key.clone();
    let waited = common::wait::until(
        target.api(),
        &args.name,
        args.timeout,
        &session.cancel,
        &Progress::hidden(),
        |cm: Option<&ConfigMap>| match cm.and_then(|c| c.data.as_ref()) {
            Some(d) if d.contains_key(&key) => Check::Done,
            _ => Check::Waiting(format!("no key {key} yet")),
        },
    )
    .await?;
    match waited {
        Waited::Done(_) => Ok(Exit::Ok),
        Waited::Cancelled { .. } => {
            tokio::time::sleep(args.finish_step).await;
            Err(Error::Interrupted)
        }
        Waited::TimedOut { message, .. } | Waited::Failed { message, .. } => {
            Err(Error::other(format!("gave up: {message}")))
        }
    }
}
