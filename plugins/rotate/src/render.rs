//! Rendering the reports: tables for people (table/wide), one JSON/YAML document, and
//! `kind/namespace/name` lines. Reports hold no secret values, so nothing here can leak one.

use std::io::Write;

use common::output::{Cell, OutputFormat, Painter, Style, Table, print_document};

use crate::certs::Expiry;
use crate::cleanup::Action;
use crate::execute::{Outcome, Phase};
use crate::health::State;
use crate::pki::ChainOrder;
use crate::report::{
    CertificateReport, CleanupReport, RestartAction, RestartReport, RotationReport, StatusReport,
};
use crate::status::VersionState;

fn rel(kind: &str, name: &str) -> String {
    format!("{}/{name}", kind.to_lowercase())
}

fn state_cell(state: State, message: &str, seconds: f64) -> Cell {
    match state {
        State::Healthy => Cell::styled(format!("healthy ({seconds:.1}s)"), Style::Ok),
        State::NotWaited => Cell::styled("no rollout", Style::Dim),
        State::Failed => Cell::styled(format!("FAILED: {message}"), Style::Critical),
        State::TimedOut => Cell::styled(format!("TIMED OUT: {message}"), Style::Critical),
        State::Interrupted => Cell::styled("interrupted", Style::Warning),
    }
}

fn outcome_text(r: &RotationReport) -> (String, Style) {
    let plan = r.plan.as_ref();
    let new = plan.map(|p| p.secret.name.as_str()).unwrap_or("");
    let n = plan.map_or(0, |p| p.steps.len());
    let old = plan.map(|p| p.replaces.join(", ")).unwrap_or_default();
    match r.outcome {
        Outcome::Planned => (
            format!("dry run: would create {new} and repoint {n} consumer(s); nothing was changed"),
            Style::Info,
        ),
        Outcome::Validated => (
            "server dry run: the server accepted every write; nothing was stored".to_string(),
            Style::Info,
        ),
        Outcome::Invalid => (
            "the new data is not valid: nothing was changed".to_string(),
            Style::Critical,
        ),
        Outcome::Succeeded => (
            format!(
                "rotated: {n} consumer(s) use {new}{}; the old version is kept (delete it later with `kubectl rotate cleanup {} -n {}`)",
                if old.is_empty() {
                    String::new()
                } else {
                    format!(" instead of {old}")
                },
                r.base_name,
                r.namespace
            ),
            Style::Ok,
        ),
        Outcome::RolledBack => (
            "rotation FAILED and was rolled back: every consumer uses its previous version again"
                .to_string(),
            Style::Critical,
        ),
        Outcome::Interrupted => (
            "interrupted: every repointed consumer was pointed back to its previous version"
                .to_string(),
            Style::Warning,
        ),
        Outcome::FailedNoRollback => (
            "rotation FAILED; --no-rollback left the repointed consumers on the new version"
                .to_string(),
            Style::Critical,
        ),
        Outcome::RollbackIncomplete => (
            "rotation FAILED and the rollback did not complete: see the consumers below"
                .to_string(),
            Style::Critical,
        ),
    }
}

/// `kubectl rotate secret`.
pub fn rotation(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &RotationReport,
    p: &Painter,
    journal: &str,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => return print_document(out, format, r),
        OutputFormat::Name => {
            if let Some(plan) = &r.plan {
                writeln!(
                    out,
                    "{}",
                    common::output::name_line("Secret", Some(&plan.namespace), &plan.secret.name)
                )?;
                for s in &plan.steps {
                    writeln!(out, "{}", s.consumer.name_line())?;
                }
            }
            return Ok(());
        }
        OutputFormat::Table | OutputFormat::Wide => {}
    }
    let wide = format == OutputFormat::Wide;
    if let Some(plan) = &r.plan {
        let keys: Vec<String> = plan
            .secret
            .keys
            .iter()
            .map(|k| match &k.source {
                crate::data::KeySource::Literal => format!("{} (literal)", k.key),
                crate::data::KeySource::File { path } => format!("{} (file {path})", k.key),
                crate::data::KeySource::EnvFile { path } => format!("{} (env file {path})", k.key),
                crate::data::KeySource::Generated { length } => {
                    format!("{} (generated, {length} chars)", k.key)
                }
                crate::data::KeySource::Kept { version } => {
                    format!("{} (kept from {version})", k.key)
                }
            })
            .collect();
        writeln!(
            out,
            "secret {}/{} → {} (version {}, {}, {}immutable)",
            r.namespace,
            plan.current,
            p.paint(&plan.secret.name, Style::Bold),
            plan.secret.version,
            plan.secret.type_,
            if plan.secret.exists {
                "exists already, "
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "keys: {}",
            if keys.is_empty() {
                "(none)".to_string()
            } else {
                keys.join(", ")
            }
        )?;
        writeln!(out)?;
        let mut t = Table::new(["consumer", "reference", "from", "result"]);
        for s in &plan.steps {
            let rollout = r
                .health
                .iter()
                .find(|h| h.consumer == s.consumer && h.phase == Phase::Rollout);
            let rollback = r
                .health
                .iter()
                .find(|h| h.consumer == s.consumer && h.phase == Phase::Rollback);
            let result = match (rollout, rollback) {
                (_, Some(b)) => {
                    let mut c = state_cell(b.verdict.state, &b.verdict.message, b.verdict.seconds);
                    c.text = format!("rolled back, {}", c.text);
                    c
                }
                (Some(h), None) => {
                    state_cell(h.verdict.state, &h.verdict.message, h.verdict.seconds)
                }
                (None, None) if r.dry_run.is_dry() => Cell::styled("would repoint", Style::Info),
                (None, None) if r.changes.iter().any(|c| c.object == s.consumer) => Cell::styled(
                    if s.waits_for_rollout {
                        "repointed"
                    } else {
                        "repointed (no rollout)"
                    },
                    Style::Ok,
                ),
                (None, None) => Cell::styled("not reached", Style::Dim),
            };
            for (i, rp) in s.repoints.iter().enumerate() {
                t.row([
                    Cell::new(if i == 0 {
                        rel(&s.consumer.kind, &s.consumer.name)
                    } else {
                        String::new()
                    }),
                    Cell::new(if wide {
                        format!("{} [{}]", rp.detail, rp.path)
                    } else {
                        rp.detail.clone()
                    }),
                    Cell::new(rp.from.clone()),
                    if i == 0 {
                        result.clone()
                    } else {
                        Cell::new("")
                    },
                ]);
            }
        }
        for n in &plan.not_repointed {
            t.row([
                Cell::new(rel(&n.consumer.kind, &n.consumer.name)),
                Cell::styled(n.reason.clone(), Style::Warning),
                Cell::new(n.versions.join(", ")),
                Cell::styled("not repointed", Style::Warning),
            ]);
        }
        if !t.is_empty() {
            out.write_all(t.render(p).as_bytes())?;
        }
        if !plan.warnings.is_empty() {
            writeln!(out)?;
            for w in &plan.warnings {
                writeln!(out, "{} {}", p.paint("warning:", Style::Warning), w.message)?;
                if let Some(fix) = &w.source_change {
                    writeln!(out, "  → {fix}")?;
                }
            }
        }
        if r.dry_run.is_dry() || wide {
            writeln!(out)?;
            writeln!(out, "patches (JSON patch, sent as they are):")?;
            for s in &plan.steps {
                writeln!(
                    out,
                    "  {}: {}",
                    s.consumer,
                    serde_json::Value::Array(s.patch.clone())
                )?;
            }
        }
    }
    if !r.validation.problems.is_empty() {
        writeln!(out)?;
        for pr in &r.validation.problems {
            writeln!(
                out,
                "{} {}",
                p.paint("invalid:", Style::Critical),
                pr.message
            )?;
        }
    }
    for w in &r.validation.warnings {
        writeln!(out, "{} {w}", p.paint("warning:", Style::Warning))?;
    }
    writeln!(out)?;
    let (text, style) = outcome_text(r);
    writeln!(out, "{}", p.paint(&text, style))?;
    if let Some(c) = &r.cause {
        writeln!(out, "cause: {c}")?;
    }
    if !r.left_on_new_version.is_empty() {
        let names: Vec<String> = r
            .left_on_new_version
            .iter()
            .map(ToString::to_string)
            .collect();
        writeln!(out, "left on the new version: {}", names.join(", "))?;
    }
    writeln!(out)?;
    out.write_all(journal.as_bytes())?;
    Ok(())
}

/// `kubectl rotate cleanup`.
pub fn cleanup(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &CleanupReport,
    p: &Painter,
    journal: &str,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => return print_document(out, format, r),
        OutputFormat::Name => {
            for v in r.versions.iter().filter(|v| v.action == Action::Delete) {
                writeln!(
                    out,
                    "{}",
                    common::output::name_line("Secret", Some(&r.namespace), &v.name)
                )?;
            }
            return Ok(());
        }
        _ => {}
    }
    let mut t = Table::new(["secret", "version", "action", "why"]);
    for v in &r.versions {
        let (action, style) = match (v.action, r.dry_run.is_dry()) {
            (Action::Delete, false) => ("deleted", Style::Warning),
            (Action::Delete, true) => ("would delete", Style::Info),
            (Action::Keep, _) => ("keep", Style::Ok),
        };
        t.row([
            Cell::new(v.name.clone()),
            Cell::new(v.version.to_string()),
            Cell::styled(action, style),
            Cell::new(if v.reasons.is_empty() {
                "superseded, nothing references it".to_string()
            } else {
                v.reasons.join("; ")
            }),
        ]);
    }
    out.write_all(t.render(p).as_bytes())?;
    let deleted = r
        .versions
        .iter()
        .filter(|v| v.action == Action::Delete)
        .count();
    writeln!(out)?;
    writeln!(
        out,
        "{deleted} of {} version(s) of {} {}deleted, {} kept",
        r.versions.len(),
        r.base_name,
        if r.dry_run.is_dry() { "would be " } else { "" },
        r.versions.len() - deleted
    )?;
    writeln!(out)?;
    out.write_all(journal.as_bytes())?;
    Ok(())
}

/// `kubectl rotate status`.
pub fn status(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &StatusReport,
    p: &Painter,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => return print_document(out, format, r),
        OutputFormat::Name => {
            for v in &r.usage.versions {
                writeln!(
                    out,
                    "{}",
                    common::output::name_line("Secret", Some(&r.namespace), &v.version.name)
                )?;
            }
            return Ok(());
        }
        _ => {}
    }
    let now = jiff::Timestamp::now();
    let age = |t: Option<jiff::Timestamp>| {
        t.map_or("-".to_string(), |t| {
            common::duration::human_age(now.duration_since(t))
        })
    };
    let mut t = Table::new([
        "version",
        "name",
        "state",
        "age",
        "keys",
        "consumers",
        "pods",
    ]);
    for v in &r.usage.versions {
        let (state, style) = match v.state {
            VersionState::Current => ("current", Style::Ok),
            VersionState::InUse => ("in use", Style::Warning),
            VersionState::Unused => ("unused", Style::Dim),
        };
        t.row([
            Cell::new(v.version.version.to_string()),
            Cell::new(v.version.name.clone()),
            Cell::styled(state, style),
            Cell::new(age(v.version.created)),
            Cell::new(v.version.keys.join(",")),
            Cell::new(v.consumers.len().to_string()),
            Cell::new(v.pods.to_string()),
        ]);
    }
    out.write_all(t.render(p).as_bytes())?;
    if !r.usage.consumers.is_empty() {
        writeln!(out)?;
        let mut t = Table::new(["consumer", "version", "reference"]);
        for c in &r.usage.consumers {
            for (i, rf) in c.references.iter().enumerate() {
                t.row([
                    Cell::new(if i == 0 {
                        rel(&c.object.kind, &c.object.name)
                    } else {
                        String::new()
                    }),
                    Cell::new(rf.name.clone()),
                    Cell::new(rf.detail.clone()),
                ]);
            }
        }
        out.write_all(t.render(p).as_bytes())?;
    }
    if !r.usage.pods.is_empty() {
        writeln!(out)?;
        let mut t = Table::new(["pod", "workload", "version", "ready", "started", "note"]);
        for pu in &r.usage.pods {
            t.row([
                Cell::new(pu.pod.name.clone()),
                Cell::new(rel(&pu.workload.kind, &pu.workload.name)),
                Cell::new(pu.versions.join(",")),
                Cell::new(if pu.ready { "true" } else { "false" }),
                Cell::new(age(pu.started)),
                match &pu.stale_reason {
                    Some(why) => Cell::styled(format!("STALE: {why}"), Style::Warning),
                    None => Cell::new(""),
                },
            ]);
        }
        out.write_all(t.render(p).as_bytes())?;
    }
    let stale: Vec<&crate::status::PodUse> = r.usage.pods.iter().filter(|p| p.stale).collect();
    writeln!(out)?;
    let hint = match stale.first().and_then(|p| p.versions.first()) {
        Some(v) => format!(
            ", {} started before their data changed (restart them: `kubectl rotate restart --secret {v} -n {}`)",
            stale.len(),
            r.namespace
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "{} version(s); current: {}; {} pod(s) use a version{hint}",
        r.usage.versions.len(),
        r.usage.current.as_deref().unwrap_or("none"),
        r.usage.pods.len(),
    )?;
    for s in &r.skipped {
        writeln!(
            out,
            "{} could not list {}: {}",
            p.paint("warning:", Style::Warning),
            s.what,
            s.reason()
        )?;
    }
    Ok(())
}

/// `kubectl rotate restart`.
pub fn restart(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &RestartReport,
    p: &Painter,
    journal: &str,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => return print_document(out, format, r),
        OutputFormat::Name => {
            for c in r
                .consumers
                .iter()
                .filter(|c| c.action == RestartAction::Restarted)
            {
                writeln!(out, "{}", c.object.name_line())?;
            }
            return Ok(());
        }
        _ => {}
    }
    let mut t = Table::new(["consumer", "action", "result"]);
    for c in &r.consumers {
        let (action, result) = match c.action {
            RestartAction::Restarted => (
                Cell::styled(
                    if r.dry_run.is_dry() {
                        "would restart"
                    } else {
                        "restarted"
                    },
                    Style::Ok,
                ),
                c.health.as_ref().map_or(Cell::new(""), |h| {
                    state_cell(h.state, &h.message, h.seconds)
                }),
            ),
            RestartAction::NotRestarted => (
                Cell::styled("not restarted", Style::Dim),
                Cell::new(c.reason.clone().unwrap_or_default()),
            ),
        };
        t.row([
            Cell::new(rel(&c.object.kind, &c.object.name)),
            action,
            result,
        ]);
    }
    if t.is_empty() {
        writeln!(out, "nothing references {}", r.target)?;
    } else {
        out.write_all(t.render(p).as_bytes())?;
    }
    writeln!(out)?;
    let restarted = r
        .consumers
        .iter()
        .filter(|c| c.action == RestartAction::Restarted)
        .count();
    if r.interrupted {
        writeln!(
            out,
            "{}",
            p.paint(
                "interrupted while waiting: the restarts were made and continue",
                Style::Warning
            )
        )?;
    } else if !r.unhealthy.is_empty() {
        let names: Vec<String> = r.unhealthy.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "{}",
            p.paint(
                &format!("not healthy after the restart: {}", names.join(", ")),
                Style::Critical
            )
        )?;
    } else {
        writeln!(
            out,
            "{restarted} consumer(s) of {} restarted{}",
            r.target,
            if r.dry_run.is_dry() {
                " (dry run)"
            } else {
                " and healthy"
            }
        )?;
    }
    writeln!(out)?;
    out.write_all(journal.as_bytes())?;
    Ok(())
}

fn expiry_cell(e: Expiry) -> Cell {
    match e {
        Expiry::Expired => Cell::styled("EXPIRED", Style::Critical),
        Expiry::Critical => Cell::styled("critical", Style::Critical),
        Expiry::Warning => Cell::styled("warning", Style::Warning),
        Expiry::NotYetValid => Cell::styled("not yet valid", Style::Warning),
        Expiry::Ok => Cell::styled("ok", Style::Ok),
    }
}

/// `kubectl rotate certs`.
pub fn certs(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &CertificateReport,
    p: &Painter,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => return print_document(out, format, r),
        OutputFormat::Name => {
            let mut last = None;
            for c in &r.certificates {
                if last != Some(&c.secret) {
                    writeln!(out, "{}", c.secret.name_line())?;
                    last = Some(&c.secret);
                }
            }
            return Ok(());
        }
        _ => {}
    }
    let wide = format == OutputFormat::Wide;
    let mut headers = vec![
        "namespace",
        "secret",
        "key",
        "subject",
        "not after",
        "days",
        "status",
        "key match",
        "chain",
        "consumers",
    ];
    if !r.all_namespaces {
        headers.remove(0);
    }
    if wide {
        headers.extend(["sans", "issuer"]);
    }
    let mut t = Table::new(headers);
    for c in &r.certificates {
        let mut row = Vec::new();
        if r.all_namespaces {
            row.push(Cell::new(c.secret.namespace.clone()));
        }
        row.push(Cell::new(c.secret.name.clone()));
        row.push(Cell::new(if c.index > 0 {
            format!("{}[{}]", c.key, c.index)
        } else {
            c.key.clone()
        }));
        row.push(Cell::new(c.subject.clone()));
        row.push(Cell::new(c.not_after.strftime("%Y-%m-%d").to_string()));
        row.push(Cell::new(c.days_left.to_string()));
        row.push(expiry_cell(c.status));
        row.push(match c.key_match {
            Some(true) => Cell::styled("match", Style::Ok),
            Some(false) => Cell::styled("MISMATCH", Style::Critical),
            None => Cell::new(if c.key_note.is_some() { "unknown" } else { "-" }),
        });
        row.push(Cell::new(match (c.index, c.chain_order) {
            (0, ChainOrder::Single) | (1.., _) => "",
            (0, ChainOrder::Ok) => "ok",
            (0, ChainOrder::WrongOrder) => "WRONG ORDER",
            (0, ChainOrder::NotAChain) => "bundle",
        }));
        let consumers: Vec<String> = c.consumers.iter().map(|o| rel(&o.kind, &o.name)).collect();
        row.push(Cell::new(consumers.join(",")));
        if wide {
            row.push(Cell::new(c.sans.join(",")));
            row.push(Cell::new(c.issuer.clone()));
        }
        t.row(row);
    }
    if !t.is_empty() {
        out.write_all(t.render(p).as_bytes())?;
        writeln!(out)?;
    }
    for u in &r.unreadable {
        writeln!(
            out,
            "{} {} key {} certificate {}: {}",
            p.paint("unreadable:", Style::Warning),
            u.secret,
            u.key,
            u.index,
            u.message
        )?;
    }
    let s = &r.summary;
    let mut parts = Vec::new();
    for (n, label) in [
        (s.expired, "expired"),
        (s.critical, "critical"),
        (s.warning, "warning"),
        (s.not_yet_valid, "not yet valid"),
        (s.ok, "ok"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    if s.key_mismatches > 0 {
        parts.push(format!("{} key mismatch", s.key_mismatches));
    }
    let scope = if r.all_namespaces {
        "in all namespaces".to_string()
    } else {
        format!("in namespace {}", r.namespace)
    };
    writeln!(
        out,
        "{} certificate(s) in {} of {} Secret(s) {scope}{}{}",
        s.certificates,
        s.secrets,
        s.secrets_scanned,
        if parts.is_empty() { "" } else { ": " },
        parts.join(", ")
    )?;
    for sk in &r.skipped {
        writeln!(
            out,
            "{} could not list {}: {}",
            p.paint("warning:", Style::Warning),
            sk.what,
            sk.reason()
        )?;
    }
    Ok(())
}
