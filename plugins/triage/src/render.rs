//! Rendering the report: a findings list for people (table/wide), the
//! JSON/YAML document, and `kind/namespace/name` lines.

use std::io::Write;

use common::output::{OutputFormat, Painter, Style, name_line, print_document};

use crate::report::{Severity, TriageReport, TriageReportList};

fn style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::Critical,
        Severity::Warning => Style::Warning,
        Severity::Info => Style::Info,
    }
}

fn scope_text(r: &TriageReport) -> String {
    if r.scope.all_namespaces {
        "in all namespaces".to_string()
    } else if r.scope.namespaces.len() == 1 {
        format!("in namespace {}", r.scope.namespaces[0])
    } else {
        format!("in namespaces {}", r.scope.namespaces.join(", "))
    }
}

/// The closing line: "3 findings: 2 critical, 1 warning in namespace x (...)".
pub fn summary_line(r: &TriageReport) -> String {
    let checked = format!(
        "({} pods, {} workloads checked)",
        r.scope.pods, r.scope.workloads
    );
    let n = r.findings.len();
    if n == 0 {
        return format!("no problems found {} {checked}", scope_text(r));
    }
    let s = &r.summary;
    format!(
        "{n} finding{}: {} {} {checked}",
        if n == 1 { "" } else { "s" },
        by_severity(s.critical, s.warning, s.info),
        scope_text(r)
    )
}

/// "2 critical, 1 warning": the non-zero counts.
fn by_severity(critical: usize, warning: usize, info: usize) -> String {
    let parts: Vec<String> = [(critical, "critical"), (warning, "warning"), (info, "info")]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, label)| format!("{count} {label}"))
        .collect();
    parts.join(", ")
}

pub fn table(r: &TriageReport, wide: bool, p: &Painter) -> String {
    let mut out = String::new();
    let objects: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            if r.scope.all_namespaces && !f.object.namespace.is_empty() {
                format!(
                    "{}/{}/{}",
                    f.object.kind.to_lowercase(),
                    f.object.namespace,
                    f.object.name
                )
            } else {
                format!("{}/{}", f.object.kind.to_lowercase(), f.object.name)
            }
        })
        .collect();
    let w_reason = r
        .findings
        .iter()
        .map(|f| f.reason.as_str().len())
        .max()
        .unwrap_or(0);
    let w_obj = objects.iter().map(String::len).max().unwrap_or(0);
    for (f, obj) in r.findings.iter().zip(&objects) {
        let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
        out.push_str(&format!(
            "{}  {:<w_reason$}  {:<w_obj$}  {}\n",
            p.paint(&sev, style(f.severity)),
            f.reason.as_str(),
            p.paint(obj, Style::Bold),
            f.message()
        ));
        for e in f.evidence_lines() {
            // A multi-line item (a termination message) stays indented as one block.
            out.push_str(&format!("    {}\n", e.replace('\n', "\n      ")));
        }
        if wide && !f.affected.is_empty() {
            let list: Vec<String> = f
                .affected
                .iter()
                .map(|a| {
                    let name = if a.kind == "Pod" {
                        a.name.clone()
                    } else {
                        format!("{}/{}", a.kind.to_lowercase(), a.name)
                    };
                    match &a.node {
                        Some(n) => format!("{name} (node {n})"),
                        None => name,
                    }
                })
                .collect();
            out.push_str(&format!("    affected: {}\n", list.join(", ")));
        }
        for c in f.remediation() {
            out.push_str(&format!("    {} {c}\n", p.paint("→", Style::Ok)));
        }
    }
    if !r.findings.is_empty() {
        out.push('\n');
    }
    for s in &r.skipped {
        out.push_str(&format!(
            "{} {}: {}\n",
            p.paint("skipped", Style::Dim),
            s.check,
            s.reason
        ));
    }
    out.push_str(&summary_line(r));
    out.push('\n');
    out
}

pub fn names(r: &TriageReport) -> String {
    let mut lines: Vec<String> = Vec::new();
    for f in &r.findings {
        let ns = (!f.object.namespace.is_empty()).then_some(f.object.namespace.as_str());
        let line = name_line(&f.object.kind, ns, &f.object.name);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.into_iter().map(|l| l + "\n").collect()
}

/// Several contexts: each context's table under its name, then the totals.
pub fn list_table(list: &TriageReportList, wide: bool, p: &Painter) -> String {
    let mut out = String::new();
    for r in &list.items {
        out.push_str(&p.paint(&format!("CONTEXT {}", r.scope.context), Style::Bold));
        out.push('\n');
        match &r.error {
            Some(e) => {
                out.push_str(&format!(
                    "{} {}\n",
                    p.paint("error:", Style::Critical),
                    e.message
                ));
                if let Some(h) = &e.hint {
                    out.push_str(&format!("hint: {h}\n"));
                }
            }
            None => out.push_str(&table(r, wide, p)),
        }
        out.push('\n');
    }
    let s = &list.summary;
    let findings = s.critical + s.warning + s.info;
    out.push_str(&format!(
        "{} context{}: {} triaged, {} failed; {} finding{}{}\n",
        s.contexts,
        if s.contexts == 1 { "" } else { "s" },
        s.contexts - s.failed,
        s.failed,
        findings,
        if findings == 1 { "" } else { "s" },
        if findings == 0 {
            String::new()
        } else {
            format!(" ({})", by_severity(s.critical, s.warning, s.info))
        }
    ));
    out
}

/// `-o name` of several contexts: `CONTEXT kind/namespace/name` per finding object.
pub fn list_names(list: &TriageReportList) -> String {
    list.items
        .iter()
        .flat_map(|r| {
            names(r)
                .lines()
                .map(|l| format!("{} {l}\n", r.scope.context))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Write one document in the asked format: `table(wide)` for people, `names()` for `-o name`.
fn emit<T: serde::Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    doc: &T,
    table: impl Fn(bool) -> String,
    names: impl Fn() -> String,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => print_document(out, format, doc)?,
        OutputFormat::Table => out.write_all(table(false).as_bytes())?,
        OutputFormat::Wide => out.write_all(table(true).as_bytes())?,
        OutputFormat::Name => out.write_all(names().as_bytes())?,
    }
    out.flush()?;
    Ok(())
}

pub fn render_list(
    out: &mut dyn Write,
    format: OutputFormat,
    list: &TriageReportList,
    p: &Painter,
) -> common::Result<()> {
    emit(
        out,
        format,
        list,
        |wide| list_table(list, wide, p),
        || list_names(list),
    )
}

pub fn render(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &TriageReport,
    p: &Painter,
) -> common::Result<()> {
    emit(out, format, r, |wide| table(r, wide, p), || names(r))
}
