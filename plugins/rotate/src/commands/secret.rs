//! `kubectl rotate secret`: collect → consumers → data → validate → plan → execute →
//! record → report, in that order; each stage is its own module.

use std::time::Instant;

use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;
use common::write::Writer;
use common::{Error, Exit};

use crate::args::SecretArgs;
use crate::collect::{self, Want};
use crate::consumers;
use crate::execute::{self, Options};
use crate::report::RotationReport;
use crate::snapshot::SecretData;
use crate::{data, plan, render, validate};

/// Run `rotate secret`.
pub async fn run(
    conn: &Connection,
    a: &SecretArgs,
    out: &OutputArgs,
    session: &Session,
) -> common::Result<Exit> {
    let started = Instant::now();
    let ns = conn.namespace.clone();
    let flags = a.data();
    if flags.is_empty() {
        return Err(Error::usage("no data for the new version").with_hint(
            "give --from-literal, --from-file, --from-env-file, --generate and/or --keep",
        ));
    }
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
    collect::require_complete(&w, &format!("rotate secret {}", a.name))?;

    let versions = family.versions();
    let consumers = consumers::of_versions(&w, &ns, &versions);
    let current = plan::current_version(&versions, &consumers)
        .ok_or_else(|| Error::other("no current version"))?
        .clone();
    let current_data = family
        .secrets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(current.name.as_str()))
        .map(SecretData::of)
        .unwrap_or_default();
    let (new_data, keys) = data::assemble(
        &flags,
        Some((&current.name, &current_data)),
        &mut data::read_file,
        &mut data::random_alphanumeric,
    )?;

    let validation = validate::validate(
        &current.type_,
        &new_data,
        &consumers,
        jiff::Timestamp::now(),
    );
    let painter = out.painter();
    let mut stdout = std::io::stdout().lock();
    if !validation.ok() {
        let mut report = RotationReport::new(
            ns.clone(),
            family.base.clone(),
            a.dry_run.dry_run,
            versions,
            consumers,
            validation.clone(),
            None,
            None,
        );
        report.stats = super::stats(conn, started);
        // Documents carry the verdict for scripts; people get the error lines below.
        if out.output.is_document() {
            render::rotation(&mut stdout, out.output, &report, &painter, "")?;
        }
        for p in &validation.problems {
            eprintln!("error: {}", p.message);
        }
        eprintln!("hint: nothing was changed; fix the new data and run again");
        return Ok(Exit::Usage);
    }

    let plan = plan::build(&plan::Input {
        namespace: &ns,
        base: &family.base,
        versions: &versions,
        data: &new_data,
        keys: &keys,
        consumers: &consumers,
    })?;
    if plan.secret.exists {
        // Same name means same content hash, unless someone else made a Secret of that name.
        let theirs = family
            .secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(plan.secret.name.as_str()));
        let same = theirs.is_some_and(|s| {
            plan::content_hash(s.type_.as_deref().unwrap_or("Opaque"), &SecretData::of(s))
                == plan::content_hash(&plan.secret.type_, &new_data)
        });
        if !same {
            return Err(Error::usage(format!(
                "secret \"{}\" exists with other data: refusing to reuse its name",
                plan.secret.name
            )));
        }
    }

    let writer = Writer::new("rotate", a.dry_run.dry_run, session.journal.clone());
    let say = |m: &str| eprintln!("{m}");
    let execution = execute::execute(
        &conn.client,
        &writer,
        session,
        &plan,
        &new_data,
        Options {
            timeout: a.timeout,
            no_rollback: a.no_rollback,
        },
        &say,
    )
    .await?;
    let exit = execution.outcome.exit();
    let mut report = RotationReport::new(
        ns,
        family.base,
        a.dry_run.dry_run,
        versions,
        consumers,
        validation,
        Some(plan),
        Some(execution),
    );
    report.changes = session.journal.entries();
    report.stats = super::stats(conn, started);
    let journal = session.journal.render_text(&painter);
    render::rotation(&mut stdout, out.output, &report, &painter, &journal)?;
    super::print_stats(out, conn, &report.stats);
    Ok(exit)
}
