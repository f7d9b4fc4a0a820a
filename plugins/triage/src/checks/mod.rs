//! The checks: pure functions from a settled Snapshot to Findings, one file
//! per family, all registered in `CHECKS` so a new check is one new entry.
//!
//! Check modules never import each other (a test proves it): what several
//! need lives below them, in the pod-state layer (`crate::podstate`), the
//! snapshot's lookups, `crate::rollout` and `crate::contrast`.

use std::collections::BTreeSet;

use crate::report::{Finding, Reason};
use crate::snapshot::Snapshot;

pub use crate::context::Context;
pub use crate::podstate::IGNORE_ANNOTATION;

pub mod events;
pub mod gateway;
pub mod ingress;
pub mod jobs;
pub mod netpol;
pub mod nodes;
pub mod pods;
pub mod policy;
pub mod references;
pub mod services;
pub mod usage;
pub mod volumes;
pub mod webhooks;
pub mod workloads;

pub type Check = fn(&Snapshot, &Context) -> Vec<Finding>;

/// Every check, in the order findings are produced (the report sorts).
/// The Warning-event digest is not here: it needs the other findings.
pub const CHECKS: &[(&str, Check)] = &[
    ("pods", pods::check),
    ("references", references::check),
    ("workloads", workloads::check),
    ("services", services::check),
    ("ingress", ingress::check),
    ("gateway", gateway::check),
    ("networkpolicies", netpol::check),
    ("webhooks", webhooks::check),
    ("storage", policy::pvcs),
    ("volumes", volumes::check),
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
        let mut names = vec![format!("{}/{}/{}", o.kind, o.namespace, o.name)];
        names.extend(f.affected.iter().map(|a| {
            let namespace = if a.namespace.is_empty() {
                &o.namespace
            } else {
                &a.namespace
            };
            format!("{}/{namespace}/{}", a.kind, a.name)
        }));
        f.explains.extend(names);
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

/// Whether an ignore annotation value names this reason (or `*`).
fn names_reason(value: Option<&str>, reason: Reason) -> bool {
    value.is_some_and(|v| {
        v.split(',')
            .any(|r| r.trim() == "*" || r.trim().eq_ignore_ascii_case(reason.as_str()))
    })
}

/// Honour the ignore annotation on the finding's object, on the workload
/// owning a pod, and on each affected pod (a finding whose pods all opted
/// out disappears). Pods are found by UID, else by (namespace, name).
fn apply_ignore_annotations(snap: &Snapshot, mut f: Finding) -> Option<Finding> {
    let key = f.object.clone();
    if names_reason(snap.ignore_annotation(&key), f.reason) {
        return None;
    }
    if key.kind == "Pod"
        && let Some(state) = snap.pod(&key.namespace, &key.name)
        && state.owner != key
        && names_reason(snap.ignore_annotation(&state.owner), f.reason)
    {
        return None;
    }
    let had_pods = f.affected.iter().any(|a| a.kind == "Pod");
    let reason = f.reason;
    f.affected.retain(|a| {
        if a.kind != "Pod" {
            return true;
        }
        let pod = if a.uid.is_empty() {
            let namespace = if a.namespace.is_empty() {
                &key.namespace
            } else {
                &a.namespace
            };
            snap.pod(namespace, &a.name)
        } else {
            snap.pod_by_uid(&a.uid)
        };
        !pod.is_some_and(|p| names_reason(p.pod.ignore.as_deref(), reason))
    });
    if had_pods && !f.affected.iter().any(|a| a.kind == "Pod") {
        return None;
    }
    Some(f)
}

#[cfg(test)]
mod outage_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub mod testutil;
