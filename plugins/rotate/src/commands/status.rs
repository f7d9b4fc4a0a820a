//! `kubectl rotate status`: read-only; the versions of a Secret and who uses which.

use std::collections::BTreeSet;
use std::time::Instant;

use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;
use common::{Error, Exit};

use super::secret::elapsed_ms;
use crate::args::StatusArgs;
use crate::collect::{self, Scope, Want};
use crate::consumers::{self, RefKind};
use crate::report::StatusReport;
use crate::snapshot::Version;
use crate::{render, status};

/// Run `rotate status`.
pub async fn run(
    conn: &Connection,
    a: &StatusArgs,
    out: &OutputArgs,
    session: &Session,
) -> common::Result<Exit> {
    let started = Instant::now();
    let ns = conn.namespace.clone();
    let scope = Scope {
        conn,
        all_namespaces: false,
    };
    let (family, w) = session
        .interruptible(async {
            let (f, w) = tokio::join!(
                collect::family(conn, &ns, &a.name),
                collect::workloads(
                    scope,
                    Want {
                        pods: true,
                        history: false
                    }
                )
            );
            Ok((f?, w?))
        })
        .await?;
    if family.secrets.is_empty() {
        return Err(Error::usage(format!(
            "secret \"{}\" not found in namespace \"{ns}\"",
            a.name
        ))
        .with_hint(format!("kubectl get secrets -n {ns}")));
    }
    let versions: Vec<Version> = family.secrets.iter().map(Version::of).collect();
    let names: BTreeSet<String> = versions.iter().map(|v| v.name.clone()).collect();
    let consumers = consumers::referencing(&consumers::find_all(&w), RefKind::Secret, &ns, &names);
    let usage = status::usage(&versions, &consumers, &w.pods);
    let partial = w.incomplete();
    let mut report = StatusReport::new(ns, family.base, usage, w.skipped.clone());
    report.stats.requests = conn.requests.get();
    report.stats.duration_ms = elapsed_ms(started);
    render::status(
        &mut std::io::stdout().lock(),
        out.output,
        &report,
        &out.painter(),
    )?;
    if out.show_stats() {
        eprintln!("{} in {} ms", conn.stats_line(), report.stats.duration_ms);
    }
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}
