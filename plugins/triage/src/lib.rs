//! kubectl triage: what is broken in a namespace, why, the evidence, and
//! the command that fixes it. Stages: args → client → collect → Snapshot →
//! checks → TriageReport → render.

pub mod args;
pub mod checks;
pub mod collect;
pub mod render;
pub mod report;
pub mod snapshot;

use std::collections::BTreeSet;
use std::time::Instant;

use common::Exit;

use crate::args::Args;
use crate::checks::Context;
use crate::report::{Scope, Skipped, TriageReport};

/// Run triage and return the exit code the contract asks for.
pub async fn run(args: Args) -> common::Result<Exit> {
    let started = Instant::now();
    let conn = args.conn.connect().await?;
    let mut ctx = Context::new(jiff::Timestamp::now(), args.since);
    ctx.log_lines = args.logs;
    let scope = collect::Scope {
        conn: &conn,
        all_namespaces: args.all_namespaces,
        selector: args.selector.as_deref(),
    };
    let snap = collect::collect(&scope, &ctx).await?;
    let ignore: BTreeSet<_> = args.ignore.iter().copied().collect();
    let findings = checks::analyse(&snap, &ctx, &ignore);

    let partial = snap.skipped.iter().any(|s| s.partial());
    let skipped = snap
        .skipped
        .iter()
        .map(|s| Skipped {
            check: s.check.clone(),
            reason: s.reason.clone(),
        })
        .collect();
    let report_scope = Scope {
        context: conn.context.clone(),
        namespaces: if args.all_namespaces {
            Vec::new()
        } else {
            vec![conn.namespace.clone()]
        },
        all_namespaces: args.all_namespaces,
        pods: snap.pods.len(),
        workloads: snap.workload_count(),
    };
    let mut report = TriageReport::new(report_scope, findings, skipped);
    report.stats.requests = conn.requests.get();
    report.stats.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let mut stdout = std::io::stdout().lock();
    render::render(&mut stdout, args.out.output, &report, &args.out.painter())?;
    if args.out.show_stats() {
        eprintln!("{} in {} ms", conn.stats_line(), report.stats.duration_ms);
    }
    let exit = if report
        .findings
        .iter()
        .any(|f| args.fail_on.trips(f.severity))
    {
        Exit::NotFine
    } else if partial {
        Exit::Partial
    } else {
        Exit::Ok
    };
    Ok(exit)
}
