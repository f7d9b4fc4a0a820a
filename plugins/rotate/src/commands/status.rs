//! `kubectl rotate status`: read-only; the versions of a Secret and who uses which.

use std::time::Instant;

use common::Exit;
use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;

use crate::args::StatusArgs;
use crate::collect::{self, Want};
use crate::consumers;
use crate::report::StatusReport;
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
    let versions = family.versions();
    let consumers = consumers::of_versions(&w, &ns, &versions);
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
