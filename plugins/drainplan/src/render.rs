//! Rendering plans and reports: tables for people (blockers first, then wave by wave with
//! the room left), the JSON/YAML documents, and `kind/namespace/name` lines.

use std::io::Write;

use common::journal::Journal;
use common::output::{Cell, OutputFormat, Painter, Style, Table, name_line, print_document};

use crate::report::{
    Action, DrainPlan, DrainReport, Outcome, PlanPod, Room, UncordonReport, UncordonResult,
    Verdict, WaveStatus,
};
use crate::resources::{human_bytes, human_milli};

fn action_style(a: Action) -> Style {
    match a {
        Action::Evict => Style::Ok,
        Action::Delete => Style::Warning,
        Action::Stay => Style::Dim,
        Action::Blocked => Style::Critical,
    }
}

/// `cpu 2750m of 8 free, memory 6Gi of 16Gi free, pods 200 of 220 free`.
pub fn room_text(r: &Room) -> String {
    format!(
        "cpu {} of {} free, memory {} of {} free, pods {} of {} free",
        human_milli(r.cpu_millis.free),
        human_milli(r.cpu_millis.allocatable),
        human_bytes(r.memory_bytes.free),
        human_bytes(r.memory_bytes.allocatable),
        r.pods.free,
        r.pods.allocatable
    )
}

/// `1 pod`, `2 pods`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The first line: the verdict and what the drain does.
pub fn headline(plan: &DrainPlan) -> String {
    let s = &plan.summary;
    let moves = format!(
        "{} evicted, {} deleted, {} stay{}",
        count(s.evict, "pod"),
        s.delete,
        s.stay,
        if s.blocked > 0 {
            format!(", {} blocked", s.blocked)
        } else {
            String::new()
        }
    );
    match plan.verdict {
        Verdict::Safe => format!(
            "safe: drain {} in {}: {moves}",
            count(s.nodes, "node"),
            count(s.waves, "wave")
        ),
        Verdict::Blocked => format!(
            "blocked: {} the drain of {} ({moves})",
            if s.blockers == 1 {
                "1 pod blocks".to_string()
            } else {
                format!("{} pods block", s.blockers)
            },
            count(s.nodes, "node")
        ),
    }
}

fn pod_rows(table: &mut Table, pods: &[&PlanPod], wide: bool, p: &Painter) {
    for pod in pods {
        let mut cells = vec![
            Cell::styled(pod.action.as_str(), action_style(pod.action)),
            Cell::new(pod.reason.as_str()),
            Cell::new(format!("{}/{}", pod.namespace, pod.name)),
            Cell::new(pod.node.clone()),
            Cell::new(pod.destination.clone().unwrap_or_else(|| "-".to_string())),
        ];
        if wide {
            cells.push(Cell::new(pod.owner.to_string()));
            let mut msg = pod.message.clone();
            for w in &pod.warnings {
                msg.push_str("; ");
                msg.push_str(w);
            }
            cells.push(Cell::new(msg));
        }
        table.row(cells);
    }
    let _ = p;
}

fn pod_table(wide: bool) -> Table {
    let mut headers = vec!["ACTION", "REASON", "POD", "NODE", "DESTINATION"];
    if wide {
        headers.extend(["OWNER", "MESSAGE"]);
    }
    Table::new(headers)
}

/// The plan for people.
pub fn plan_table(plan: &DrainPlan, wide: bool, p: &Painter) -> String {
    let mut out = String::new();
    let style = match plan.verdict {
        Verdict::Safe => Style::Ok,
        Verdict::Blocked => Style::Critical,
    };
    out.push_str(&p.paint(&headline(plan), style));
    out.push('\n');

    let blockers: Vec<&PlanPod> = plan.pods.iter().filter(|x| x.blocking).collect();
    if !blockers.is_empty() {
        out.push_str("\nblocked by:\n");
        let mut t = Table::new(["REASON", "POD", "NODE", "MESSAGE"]);
        for b in &blockers {
            t.row([
                Cell::styled(b.reason.as_str(), Style::Critical),
                Cell::new(format!("{}/{}", b.namespace, b.name)),
                Cell::new(b.node.clone()),
                Cell::new(b.message.clone()),
            ]);
        }
        out.push_str(&indent(&t.render(p)));
    }

    for w in &plan.waves {
        out.push_str(&format!("\nwave {}: {}\n", w.number, w.nodes.join(", ")));
        let pods: Vec<&PlanPod> = plan
            .pods
            .iter()
            .filter(|x| w.nodes.contains(&x.node))
            .collect();
        if pods.is_empty() {
            out.push_str("  no pods\n");
        } else {
            let mut t = pod_table(wide);
            pod_rows(&mut t, &pods, wide, p);
            out.push_str(&indent(&t.render(p)));
        }
        out.push_str(&format!(
            "  room after wave {}: {}\n",
            w.number,
            room_text(&w.capacity_after.total)
        ));
        if wide {
            for n in &w.capacity_after.nodes {
                out.push_str(&format!(
                    "    {}: {}\n",
                    n.node,
                    room_text(&Room {
                        cpu_millis: n.cpu_millis.clone(),
                        memory_bytes: n.memory_bytes.clone(),
                        pods: n.pods.clone(),
                    })
                ));
            }
        }
    }

    if !plan.pdbs.is_empty() {
        out.push_str("\nPodDisruptionBudgets:\n");
        let mut t = Table::new([
            "PDB",
            "ALLOWED",
            "NEEDED",
            "HEALTHY",
            "EVICTIONS",
            "BLOCKS",
            "MESSAGE",
        ]);
        for b in &plan.pdbs {
            let blocks = if b.blocks.is_empty() {
                "-".to_string()
            } else {
                b.blocks.len().to_string()
            };
            t.row([
                Cell::new(format!("{}/{}", b.namespace, b.name)),
                Cell::new(b.allowed.to_string()),
                Cell::new(b.needed.to_string()),
                Cell::new(b.healthy.to_string()),
                Cell::new(b.evictions.to_string()),
                Cell::styled(
                    blocks,
                    if b.blocks.is_empty() {
                        Style::Plain
                    } else {
                        Style::Critical
                    },
                ),
                Cell::new(b.message.clone()),
            ]);
        }
        out.push_str(&indent(&t.render(p)));
    }
    for s in &plan.skipped {
        out.push_str(&format!(
            "{} {}: {}\n",
            p.paint("skipped", Style::Dim),
            s.what,
            s.reason()
        ));
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {}\n", l.trim_end()))
        .collect()
}

/// `pod/namespace/name` for every pod the plan evicts or deletes, wave by wave.
pub fn plan_names(plan: &DrainPlan) -> String {
    let mut pods: Vec<&PlanPod> = plan.pods.iter().filter(|x| x.action.leaves()).collect();
    pods.sort_by_key(|x| x.wave);
    pods.iter()
        .map(|x| format!("{}\n", name_line("Pod", Some(&x.namespace), &x.name)))
        .collect()
}

/// Write a document in `format`: json/yaml as is, `people` for table/wide, `names` for name.
fn emit<T: serde::Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    doc: &T,
    people: impl FnOnce(bool) -> String,
    names: impl FnOnce() -> String,
) -> common::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Yaml => print_document(out, format, doc)?,
        OutputFormat::Table => out.write_all(people(false).as_bytes())?,
        OutputFormat::Wide => out.write_all(people(true).as_bytes())?,
        OutputFormat::Name => out.write_all(names().as_bytes())?,
    }
    out.flush()?;
    Ok(())
}

/// Write the plan in `format`.
pub fn plan(
    out: &mut dyn Write,
    format: OutputFormat,
    plan: &DrainPlan,
    p: &Painter,
) -> common::Result<()> {
    emit(
        out,
        format,
        plan,
        |wide| plan_table(plan, wide, p),
        || plan_names(plan),
    )
}

/// The execution report for people.
pub fn report_table(r: &DrainReport, journal: &Journal, p: &Painter) -> String {
    let mut out = String::new();
    for w in &r.waves {
        let status = match w.status {
            WaveStatus::Done => p.paint("done", Style::Ok),
            WaveStatus::Stopped => p.paint("stopped", Style::Critical),
            WaveStatus::NotStarted => p.paint("not started", Style::Dim),
        };
        #[allow(clippy::cast_precision_loss)] // display only
        let secs = w.duration_ms as f64 / 1000.0;
        out.push_str(&format!(
            "wave {} ({}): {status} in {secs:.1}s; cordoned {}; evicted {} pod{}\n",
            w.number,
            w.nodes.join(", "),
            if w.cordoned.is_empty() {
                "none".to_string()
            } else {
                w.cordoned.join(", ")
            },
            w.evicted.len(),
            if w.evicted.len() == 1 { "" } else { "s" }
        ));
    }
    let style = match r.outcome {
        Outcome::Drained => Style::Ok,
        _ => Style::Critical,
    };
    out.push_str(&p.paint(&r.message, style));
    out.push('\n');
    if !r.cordoned.is_empty() {
        let list: Vec<String> = r
            .cordoned
            .iter()
            .map(|c| {
                if c.by_drainplan {
                    c.node.clone()
                } else {
                    format!("{} (cordoned before)", c.node)
                }
            })
            .collect();
        out.push_str(&format!("cordoned: {}\n", list.join(", ")));
    }
    if !r.remaining.is_empty() {
        out.push_str(&format!(
            "remaining on the nodes: {}\n",
            r.remaining.join(", ")
        ));
    }
    out.push_str(&journal.render_text(p));
    out
}

/// Write the execution report in `format` (`-o name`: the pods evicted).
pub fn report(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &DrainReport,
    journal: &Journal,
    p: &Painter,
) -> common::Result<()> {
    emit(
        out,
        format,
        r,
        |_| report_table(r, journal, p),
        || {
            r.waves
                .iter()
                .flat_map(|w| &w.evicted)
                .map(|pod| {
                    let (ns, name) = pod.split_once('/').unwrap_or(("", pod));
                    format!("{}\n", name_line("Pod", Some(ns), name))
                })
                .collect()
        },
    )
}

/// The uncordon report for people: one line per node, then the journal.
fn uncordon_table(r: &UncordonReport, journal: &Journal, p: &Painter) -> String {
    let mut out = String::new();
    for n in &r.nodes {
        let style = match n.result {
            UncordonResult::Uncordoned => Style::Ok,
            UncordonResult::LeftCordoned => Style::Warning,
            UncordonResult::NotCordoned => Style::Dim,
        };
        out.push_str(&format!(
            "node/{}: {}\n",
            n.node,
            p.paint(&n.message, style)
        ));
    }
    out.push_str(&journal.render_text(p));
    out
}

/// Write the uncordon report in `format` (`-o name`: the nodes uncordoned).
pub fn uncordon(
    out: &mut dyn Write,
    format: OutputFormat,
    r: &UncordonReport,
    journal: &Journal,
    p: &Painter,
) -> common::Result<()> {
    emit(
        out,
        format,
        r,
        |_| uncordon_table(r, journal, p),
        || {
            r.nodes
                .iter()
                .filter(|n| n.result == UncordonResult::Uncordoned)
                .map(|n| format!("{}\n", name_line("Node", None, &n.node)))
                .collect()
        },
    )
}
