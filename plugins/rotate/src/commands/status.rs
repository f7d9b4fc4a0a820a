//! `kubectl rotate status`: read-only; the versions of a Secret and who uses which.

use std::collections::BTreeSet;
use std::time::Instant;

use common::Exit;
use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;

use crate::args::StatusArgs;
use crate::collect::{self, Want};
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
    let (family, w) = collect::family_and_workloads(
        conn,
        session,
        &a.name,
        Want {
            pods: true,
            history: false,
        },
    )
    .await?;
    let versions: Vec<Version> = family.secrets.iter().map(Version::of).collect();
    let names: BTreeSet<String> = versions.iter().map(|v| v.name.clone()).collect();
    let consumers = consumers::referencing(&consumers::find_all(&w), RefKind::Secret, &ns, &names);
    let usage = status::usage(&versions, &consumers, &w.pods);
    let partial = w.incomplete();
    let mut report = StatusReport::new(ns, family.base, usage, w.skipped.clone());
    report.stats = super::stats(conn, started);
    render::status(
        &mut std::io::stdout().lock(),
        out.output,
        &report,
        &out.painter(),
    )?;
    super::print_stats(out, conn, &report.stats);
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}
