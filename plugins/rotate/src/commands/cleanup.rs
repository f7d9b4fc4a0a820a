//! `kubectl rotate cleanup`: delete superseded versions nothing references, keep the rest
//! and say why; confirmation on a terminal, `--yes` otherwise, `--dry-run` to look first.

use std::time::Instant;

use common::Exit;
use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;
use common::write::{Guard, Target, Writer, is_not_found_error};
use k8s_openapi::api::core::v1::Secret;

use crate::args::CleanupArgs;
use crate::cleanup::{self, Action};
use crate::collect::{self, Want};
use crate::consumers;
use crate::report::CleanupReport;
use crate::{holders, plan, render};

/// Run `rotate cleanup`.
pub async fn run(
    conn: &Connection,
    a: &CleanupArgs,
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
            history: true,
        },
    )
    .await?;
    collect::require_complete(&w, &format!("clean up {}", a.name))?;
    let versions = family.versions();
    let holders = holders::secret_holders(&w);
    let consumers = consumers::of_versions(&w, &ns, &versions);
    let current = plan::current_version(&versions, &consumers)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let decisions = cleanup::decide(
        &versions,
        &current,
        &holders,
        a.older_than,
        jiff::Timestamp::now(),
    );
    let doomed: Vec<&cleanup::Decision> = decisions
        .iter()
        .filter(|d| d.action == Action::Delete)
        .collect();

    let dry = a.dry_run.dry_run;
    if !doomed.is_empty() && !dry.is_dry() {
        let names: Vec<&str> = doomed.iter().map(|d| d.name.as_str()).collect();
        common::prompt::confirm(
            &format!(
                "delete {} superseded version(s) of {} in namespace {ns} ({})?",
                doomed.len(),
                family.base,
                names.join(", ")
            ),
            a.confirm.yes,
        )?;
    }
    let writer = Writer::new("rotate", dry, session.journal.clone());
    let target: Target<Secret> = Target::namespaced(&conn.client, &ns);
    let mut failed = 0;
    for d in &doomed {
        if session.is_cancelled() {
            break;
        }
        let v = versions.iter().find(|v| v.name == d.name);
        // Guarded by UID and resourceVersion: a Secret changed since we looked is left alone.
        let guard = Guard {
            uid: v.and_then(|v| v.uid.clone()),
            resource_version: v.and_then(|v| v.resource_version.clone()),
        };
        let how = format!("superseded version {} of {}", d.version, family.base);
        match writer.delete(&target, &d.name, guard, None, &how).await {
            Ok(_) => {}
            Err(e) if is_not_found_error(&e) => {}
            Err(e) => {
                failed += 1;
                eprintln!("warning: could not delete secret {}: {e}", d.name);
            }
        }
    }
    let mut report = CleanupReport::new(ns, family.base, dry, a.older_than, decisions);
    report.changes = session.journal.entries();
    report.stats = super::stats(conn, started);
    let painter = out.painter();
    let journal = session.journal.render_text(&painter);
    render::cleanup(
        &mut std::io::stdout().lock(),
        out.output,
        &report,
        &painter,
        &journal,
    )?;
    super::print_stats(out, conn, &report.stats);
    Ok(if session.is_cancelled() {
        Exit::Interrupted
    } else if failed > 0 {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
