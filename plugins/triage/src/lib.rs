//! kubectl triage: what is broken in a namespace, why, the evidence, and
//! the command that fixes it. Stages: args → client → collect → Snapshot (pods
//! classified once) → checks → TriageReport → render; `--context a,b` runs the
//! stages once per context, in parallel, into a TriageReportList.

pub mod args;
pub mod checks;
pub mod collect;
pub mod context;
pub mod contrast;
pub mod podstate;
pub mod render;
pub mod report;
pub mod rollout;
pub mod selectors;
pub mod snapshot;
pub mod text;

use std::collections::BTreeSet;
use std::time::Instant;

use common::Exit;
use common::cli::Connection;

use crate::args::Args;
use crate::context::Context;
use crate::report::{ContextError, Scope, Skipped, TriageReport, TriageReportList};

/// Run triage and return the exit code the contract asks for.
pub async fn run(args: Args) -> common::Result<Exit> {
    let contexts = args.contexts()?;
    let mut stdout = std::io::stdout().lock();
    let painter = args.out.painter();
    let Some(contexts) = contexts else {
        let conn = args.conn.connect().await?;
        let report = triage(&args, &conn).await?;
        render::render(&mut stdout, args.out.output, &report, &painter)?;
        if args.out.show_stats() {
            eprintln!("{} in {} ms", conn.stats_line(), report.stats.duration_ms);
        }
        return Ok(exit_of(&args, &report));
    };
    // Every context is connected first (no request yet): an unknown name is bad
    // input, reported before anything runs.
    let mut conns = Vec::new();
    for name in &contexts {
        let mut one = args.conn.clone();
        one.context = Some(name.clone());
        conns.push(one.connect().await?);
    }
    let runs = conns.iter().map(|conn| async {
        match triage(&args, conn).await {
            Ok(report) => report,
            Err(e) => TriageReport::failed(
                report_scope(&args, conn, 0, 0),
                ContextError::new(
                    &e.to_string(),
                    e.hint()
                        .map(|h| hint_for(h, &conn.server, &conn.context))
                        .as_deref(),
                    e.exit().code(),
                ),
            ),
        }
    });
    let reports = futures::future::join_all(runs).await;
    let exit = reports
        .iter()
        .map(|r| match &r.error {
            Some(e) => exit_from_code(e.exit_code),
            None => exit_of(&args, r),
        })
        .max_by_key(|e| badness(*e))
        .unwrap_or(Exit::Ok);
    let list = TriageReportList::new(reports);
    render::render_list(&mut stdout, args.out.output, &list, &painter)?;
    if args.out.show_stats() {
        for (conn, r) in conns.iter().zip(&list.items) {
            eprintln!(
                "{}: {} in {} ms",
                conn.context,
                conn.stats_line(),
                r.stats.duration_ms
            );
        }
    }
    Ok(exit)
}

/// Collect, analyse and report one context.
async fn triage(args: &Args, conn: &Connection) -> common::Result<TriageReport> {
    let started = Instant::now();
    let mut ctx = Context::new(jiff::Timestamp::now(), args.since);
    ctx.log_lines = args.logs;
    let scope = collect::Scope {
        conn,
        all_namespaces: args.all_namespaces,
        selector: args.selector.as_deref(),
    };
    let snap = collect::collect(&scope, &ctx).await?;
    let ignore: BTreeSet<_> = args.ignore.iter().copied().collect();
    let findings = checks::analyse(&snap, &ctx, &ignore);
    let skipped = snap
        .skipped
        .iter()
        .map(|s| Skipped {
            check: s.check.clone(),
            reason: s.reason.clone(),
        })
        .collect();
    let mut report = TriageReport::new(
        report_scope(args, conn, snap.pods.len(), snap.workload_count()),
        findings,
        skipped,
    );
    report.partial = snap.skipped.iter().any(|s| s.partial());
    report.stats.requests = conn.requests.get();
    report.stats.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

fn report_scope(args: &Args, conn: &Connection, pods: usize, workloads: usize) -> Scope {
    Scope {
        context: conn.context.clone(),
        namespaces: if args.all_namespaces {
            Vec::new()
        } else {
            vec![conn.namespace.clone()]
        },
        all_namespaces: args.all_namespaces,
        pods,
        workloads,
    }
}

/// The exit code of one report: a finding at/above `--fail-on` wins over partial.
fn exit_of(args: &Args, report: &TriageReport) -> Exit {
    if report
        .findings
        .iter()
        .any(|f| args.fail_on.trips(f.severity))
    {
        Exit::NotFine
    } else if report.partial {
        Exit::Partial
    } else {
        Exit::Ok
    }
}

fn exit_from_code(code: u8) -> Exit {
    match code {
        0 => Exit::Ok,
        2 => Exit::Usage,
        3 => Exit::Cluster,
        4 => Exit::Partial,
        130 => Exit::Interrupted,
        _ => Exit::NotFine,
    }
}

/// How bad an answer is, for "the worst of all contexts": a context that could
/// not be looked at (3), or not with these flags (2), is worse than findings (1),
/// which are worse than a partial answer (4), which is worse than fine (0).
fn badness(e: Exit) -> u8 {
    match e {
        Exit::Ok => 0,
        Exit::Partial => 1,
        Exit::NotFine => 2,
        Exit::Usage => 3,
        Exit::Cluster => 4,
        Exit::Interrupted => 5,
    }
}

/// Errors mapped from kube errors name the server of the most recent connection
/// (common keeps one process-wide target); with several contexts, name this one.
fn hint_for(hint: &str, server: &str, context: &str) -> String {
    let Some(start) = hint.find("(server ") else {
        return hint.to_string();
    };
    let Some(len) = hint[start..].find(')') else {
        return hint.to_string();
    };
    let target = if hint[start..start + len].contains(", context ") {
        format!("(server {server}, context {context})")
    } else {
        format!("(server {server})")
    };
    format!("{}{target}{}", &hint[..start], &hint[start + len + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_exit_ranks_unreachable_over_findings_over_partial() {
        let worst = |codes: &[Exit]| codes.iter().copied().max_by_key(|e| badness(*e));
        assert_eq!(
            worst(&[Exit::Ok, Exit::NotFine, Exit::Partial]),
            Some(Exit::NotFine)
        );
        assert_eq!(worst(&[Exit::NotFine, Exit::Cluster]), Some(Exit::Cluster));
        assert_eq!(worst(&[Exit::Ok, Exit::Partial]), Some(Exit::Partial));
        assert_eq!(exit_from_code(3), Exit::Cluster);
    }

    #[test]
    fn hints_name_the_context_they_are_about() {
        assert_eq!(
            hint_for(
                "check that the cluster is reachable (server https://b, context b)",
                "https://a",
                "a"
            ),
            "check that the cluster is reachable (server https://a, context a)"
        );
        assert_eq!(
            hint_for("retry later (server https://b)", "https://a", "a"),
            "retry later (server https://a)"
        );
        assert_eq!(
            hint_for("no server here", "https://a", "a"),
            "no server here"
        );
    }
}
