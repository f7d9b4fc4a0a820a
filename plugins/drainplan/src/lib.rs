//! kubectl drainplan: know before a maintenance drain what will move, what blocks, where it
//! lands and in which waves — then execute exactly that plan. Stages: args → client →
//! collect → Snapshot → rules → budgets → fit → waves → DrainPlan → render | execute.

pub mod args;
pub mod collect;
pub mod execute;
pub mod feed;
pub mod fit;
pub mod node;
pub mod pdb;
pub mod plan;
pub mod planfile;
pub mod render;
pub mod report;
pub mod resources;
pub mod rules;
pub mod selector;
pub mod snapshot;
pub mod uncordon;
pub mod waves;
pub mod wire;

use std::io::{IsTerminal, Write};

use common::run::Session;
use common::write::DryRun;
use common::{Error, Exit, Result};

use crate::args::{Args, Command};
use crate::collect::Targets;
use crate::report::{DrainReport, KIND_REPORT, Outcome, PlanSpec, ReportMetadata, Verdict};

/// Run `kubectl drainplan` and return the exit code the contract asks for.
pub async fn run(args: Args, session: Session) -> Result<Exit> {
    if let Some(Command::Uncordon(u)) = &args.command {
        if args.execute
            || args.force
            || args.delete_emptydir_data
            || args.ignore_daemonsets
            || args.selector.is_some()
            || !args.nodes.is_empty()
            || args.dry_run.dry_run.is_dry()
            || args.confirm.yes
        {
            return Err(Error::usage(
                "uncordon takes nodes, -l and --dry-run after it, and no drain flags",
            )
            .with_hint("kubectl drainplan uncordon NODE... [--dry-run]"));
        }
        return uncordon::run(&args, u, &session).await;
    }
    if !args.execute && (args.dry_run.dry_run.is_dry() || args.confirm.yes) {
        return Err(Error::usage(
            "--dry-run and --yes apply to --execute (a plan changes nothing)",
        ));
    }
    if args.execute {
        execute(&args, &session).await
    } else {
        plan_only(&args).await
    }
}

/// The nodes named on the command line or chosen by `-l` (exactly one of the two).
fn targets(nodes: &[String], selector: Option<&str>) -> Result<Targets> {
    match (nodes.is_empty(), selector) {
        (true, None) => Err(Error::usage(
            "name the nodes to drain, or choose them with -l SELECTOR",
        )
        .with_hint("kubectl drainplan node-1 node-2, or kubectl drainplan -l pool=old")),
        (false, Some(_)) => Err(Error::usage("name nodes or give -l, not both")),
        (false, None) => Ok(Targets {
            names: nodes.to_vec(),
            selector: None,
        }),
        (true, Some(s)) => Ok(Targets {
            names: Vec::new(),
            selector: Some(s.to_string()),
        }),
    }
}

fn origin(conn: &common::cli::Connection) -> plan::Origin {
    plan::Origin {
        context: conn.context.clone(),
        server: conn.server.clone(),
        now: jiff::Timestamp::now(),
    }
}

fn spec_of(args: &Args, nodes: Vec<String>) -> PlanSpec {
    PlanSpec {
        nodes,
        selector: args.selector.clone(),
        force: args.force,
        delete_emptydir_data: args.delete_emptydir_data,
        ignore_daemonsets: args.ignore_daemonsets,
    }
}

fn stats(args: &Args, conn: &common::cli::Connection, started: std::time::Instant) {
    if args.out.show_stats() {
        eprintln!(
            "{} in {} ms",
            conn.stats_line(),
            started.elapsed().as_millis()
        );
    }
}

/// `kubectl drainplan NODE...`: the plan, and exit 0 (safe), 1 (blocked) or 4 (safe, but
/// something could not be checked).
async fn plan_only(args: &Args) -> Result<Exit> {
    let started = std::time::Instant::now();
    let targets = targets(&args.nodes, args.selector.as_deref())?;
    let conn = args.conn.connect().await?;
    let collected = collect::collect(&conn, &targets).await?;
    let spec = spec_of(args, collected.nodes);
    let plan = plan::make(&collected.snapshot, &spec, &origin(&conn))?;
    let mut stdout = std::io::stdout().lock();
    render::plan(&mut stdout, args.out.output, &plan, &args.out.painter())?;
    stats(args, &conn, started);
    Ok(match plan.verdict {
        Verdict::Blocked => Exit::NotFine,
        Verdict::Safe if plan.skipped.iter().any(|s| s.cause.is_partial()) => Exit::Partial,
        Verdict::Safe => Exit::Ok,
    })
}

/// The confirmation question for executing `plan`.
fn question(plan: &report::DrainPlan) -> String {
    let s = &plan.summary;
    format!(
        "drain {} node(s) in {} wave(s): cordon them and evict {} pod(s) ({} not recreated)?",
        s.nodes,
        s.waves,
        s.evict + s.delete,
        s.delete
    )
}

/// `kubectl drainplan ... --execute`: plan (or check the given plan), confirm, execute.
async fn execute(args: &Args, session: &Session) -> Result<Exit> {
    let started = std::time::Instant::now();
    let dry_run = args.dry_run.dry_run;
    let conn = args.conn.connect().await?;
    let (plan, snapshot) = match &args.plan {
        Some(file) => {
            let given = planfile::load(file)?;
            planfile::check_flags(args, &given.spec)?;
            let targets = Targets {
                names: given.spec.nodes.clone(),
                selector: None,
            };
            let collected = collect::collect(&conn, &targets).await?;
            let fresh = plan::make(&collected.snapshot, &given.spec, &origin(&conn))?;
            planfile::verify(file, &given, &fresh)?;
            (given, collected.snapshot)
        }
        None => {
            let targets = targets(&args.nodes, args.selector.as_deref())?;
            let collected = collect::collect(&conn, &targets).await?;
            let spec = spec_of(args, collected.nodes);
            let plan = plan::make(&collected.snapshot, &spec, &origin(&conn))?;
            (plan, collected.snapshot)
        }
    };
    // Nobody to ask and no --yes: refuse before printing anything.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if dry_run == DryRun::None && !args.confirm.yes && !interactive && plan.verdict == Verdict::Safe
    {
        common::prompt::confirm(&question(&plan), false)?;
    }
    let painter = args.out.painter();
    let format = args.out.output;
    let people = !format.is_document() && format != common::output::OutputFormat::Name;
    let mut stdout = std::io::stdout().lock();
    if people {
        stdout.write_all(
            render::plan_table(
                &plan,
                format == common::output::OutputFormat::Wide,
                &painter,
            )
            .as_bytes(),
        )?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }

    if plan.verdict == Verdict::Blocked {
        let report = DrainReport {
            api_version: report::api_version(),
            kind: KIND_REPORT.to_string(),
            metadata: ReportMetadata {
                started_at: jiff::Timestamp::now().to_string(),
                finished_at: jiff::Timestamp::now().to_string(),
                context: conn.context.clone(),
                server: conn.server.clone(),
                requests: conn.requests.get(),
            },
            dry_run,
            outcome: Outcome::Blocked,
            message: "blocked: the plan is not safe, nothing was changed".to_string(),
            plan,
            waves: Vec::new(),
            cordoned: Vec::new(),
            remaining: Vec::new(),
            changes: Vec::new(),
        };
        if people {
            writeln!(
                stdout,
                "{}",
                painter.paint(&report.message, common::output::Style::Critical)
            )?;
        } else {
            render::report(&mut stdout, format, &report, &session.journal, &painter)?;
        }
        stats(args, &conn, started);
        return Ok(Exit::NotFine);
    }

    if dry_run == DryRun::None {
        common::prompt::confirm(&question(&plan), args.confirm.yes)?;
    }
    drop(stdout);
    let opts = execute::Options {
        timeout: args.timeout,
        pod_timeout: args.pod_timeout,
        dry_run,
    };
    let done = execute::execute(&conn, session, plan, &snapshot, &opts).await?;
    let mut stdout = std::io::stdout().lock();
    render::report(
        &mut stdout,
        format,
        &done.report,
        &session.journal,
        &painter,
    )?;
    stats(args, &conn, started);
    Ok(done.exit)
}
