//! The checks: pure functions from a Snapshot to Findings, one file per
//! family, all registered in `CHECKS` so a new check is one new entry.

use std::collections::BTreeSet;

use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot};

pub mod events;
pub mod jobs;
pub mod nodes;
pub mod pods;
pub mod policy;
pub mod references;
pub mod services;
pub mod usage;
pub mod workloads;

/// The annotation that silences reasons on an object (and its pods).
pub const IGNORE_ANNOTATION: &str = "triage.kubectl-plugins.dev/ignore";

/// What every check may consult besides the snapshot.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: jiff::Timestamp,
    /// The `--since` window for restarts, rollouts and events.
    pub since: jiff::SignedDuration,
    /// `--logs N`: how many previous-log lines to show.
    pub log_lines: usize,
}

impl Context {
    pub fn new(now: jiff::Timestamp, since: jiff::SignedDuration) -> Self {
        Context {
            now,
            since,
            log_lines: 20,
        }
    }
    /// Whether a time falls inside the `--since` window.
    pub fn recent(&self, t: jiff::Timestamp) -> bool {
        self.now.duration_since(t) <= self.since
    }
}

pub type Check = fn(&Snapshot, &Context) -> Vec<Finding>;

/// Every check, in the order findings are produced (the report sorts).
/// The Warning-event digest is not here: it needs the other findings.
pub const CHECKS: &[(&str, Check)] = &[
    ("pods", pods::check),
    ("references", references::check),
    ("workloads", workloads::check),
    ("services", services::check),
    ("storage", policy::pvcs),
    ("autoscaling", policy::hpas),
    ("disruption", policy::pdbs),
    ("nodes", nodes::check),
    ("jobs", jobs::check),
    ("usage", usage::check),
];

/// Run all checks, drop ignored findings, and add the event digest.
pub fn analyse(snap: &Snapshot, ctx: &Context, ignore: &BTreeSet<Reason>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = CHECKS.iter().flat_map(|(_, c)| c(snap, ctx)).collect();
    // Events name objects by uid, or only by kind/namespace/name in some
    // sources: a finding explains both forms for its object and pods.
    for f in &mut findings {
        let o = &f.object;
        let own = format!("{}/{}/{}", o.kind, o.namespace, o.name);
        let pods: Vec<String> = f
            .affected
            .iter()
            .map(|a| format!("{}/{}/{}", a.kind, o.namespace, a.name))
            .collect();
        f.explains.insert(own);
        f.explains.extend(pods);
    }
    let explained: BTreeSet<String> = findings
        .iter()
        .flat_map(|f| f.explains.iter().cloned())
        .collect();
    findings.extend(events::digest(snap, ctx, &explained));
    findings
        .into_iter()
        .filter(|f| !ignore.contains(&f.reason))
        .filter_map(|f| apply_ignore_annotations(snap, f))
        .collect()
}

/// Reasons listed in an object's ignore annotation.
fn ignored_by(snap: &Snapshot, key: &ObjectRef, reason: Reason) -> bool {
    snap.annotations(key)
        .and_then(|a| a.get(IGNORE_ANNOTATION))
        .is_some_and(|v| {
            v.split(',')
                .any(|r| r.trim() == "*" || r.trim().eq_ignore_ascii_case(reason.as_str()))
        })
}

/// Honour the ignore annotation on the finding's object, on the workload
/// owning a pod, and on each affected pod (a finding whose pods all opted
/// out disappears).
fn apply_ignore_annotations(snap: &Snapshot, mut f: Finding) -> Option<Finding> {
    let key = f.object_key();
    if ignored_by(snap, &key, f.reason) {
        return None;
    }
    if key.kind == "Pod"
        && let Some(pod) = snap
            .pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(&key.name))
    {
        let owner = snap.owner_of_pod(pod);
        if owner != key && ignored_by(snap, &owner, f.reason) {
            return None;
        }
    }
    let had_pods = f.affected.iter().any(|a| a.kind == "Pod");
    f.affected.retain(|a| {
        a.kind != "Pod"
            || !ignored_by(
                snap,
                &ObjectRef::new("Pod", &key.namespace, &a.name),
                f.reason,
            )
    });
    if had_pods && !f.affected.iter().any(|a| a.kind == "Pod") {
        return None;
    }
    Some(f)
}

/// "137 (SIGKILL)": exit codes above 128 mean death by signal N-128.
pub fn exit_code_text(code: i32) -> String {
    let signal = match code - 128 {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "",
    };
    if signal.is_empty() {
        code.to_string()
    } else {
        format!("{code} ({signal})")
    }
}

/// "5m ago" style age for evidence lines.
pub fn ago(ctx: &Context, t: jiff::Timestamp) -> String {
    let secs = ctx.now.duration_since(t).as_secs().max(0);
    let text = if secs < 120 {
        format!("{secs}s")
    } else if secs < 2 * 3600 {
        format!("{}m", secs / 60)
    } else if secs < 48 * 3600 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}d", secs / 86400)
    };
    format!("{text} ago")
}

/// Keep evidence readable on big workloads: first N lines, then a count.
pub fn capped(lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() <= max {
        return lines;
    }
    let rest = lines.len() - max;
    let mut out: Vec<String> = lines.into_iter().take(max).collect();
    out.push(format!("... and {rest} more"));
    out
}

/// `-l`-style text of a label map.
pub fn selector_text(labels: &std::collections::BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub mod testutil;
