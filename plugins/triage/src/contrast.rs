//! What a workload's failing pods have in common that its healthy pods do
//! not: the node (above all a new one), the zone, the revision, the image, or
//! a start after a ConfigMap/Secret change. How on-call finds a bad node or rollout.

use std::collections::BTreeSet;

use crate::context::Context;
use crate::podstate::{PodState, RefKind};
use crate::snapshot::{Snapshot, items};

/// A node that joined within this long counts as new.
const NEW_NODE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// The single dimension the failing pods share and the healthy ones lack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contrast {
    /// One sentence for people.
    pub text: String,
    /// The node, when that is the dimension (for `kubectl describe node`).
    pub node: Option<String>,
}

fn zone(snap: &Snapshot, node: &str) -> Option<String> {
    let labels = snap.node(node)?.metadata.labels.as_ref()?;
    ZONE_LABELS.iter().find_map(|l| labels.get(*l).cloned())
}

fn revision(p: &PodState) -> Option<String> {
    let l = &p.pod.labels;
    l.get("pod-template-hash")
        .or_else(|| l.get("controller-revision-hash"))
        .cloned()
}

/// "revision 8 (ReplicaSet checkout-7f8a9b0c1)" when the ReplicaSet is known,
/// else the template hash.
fn revision_name(snap: &Snapshot, p: &PodState) -> Option<String> {
    let hash = revision(p)?;
    let rs = p
        .pod
        .controller
        .as_ref()
        .filter(|c| c.kind == "ReplicaSet")
        .and_then(|c| {
            items(&snap.replicasets)
                .iter()
                .find(|r| r.metadata.uid.as_deref() == Some(c.uid.as_str()))
        });
    let number = rs.and_then(|r| {
        r.metadata
            .annotations
            .as_ref()?
            .get("deployment.kubernetes.io/revision")
            .cloned()
    });
    Some(match (number, rs) {
        (Some(n), Some(r)) => format!(
            "revision {n} (ReplicaSet {})",
            r.metadata.name.as_deref().unwrap_or("")
        ),
        _ => format!("template hash {hash}"),
    })
}

fn images(p: &PodState) -> Option<String> {
    let list: Vec<&str> = p
        .pod
        .containers
        .iter()
        .filter(|c| !c.spec.init)
        .map(|c| c.spec.image.as_str())
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// Values of one dimension for a set of pods; `None` when any pod lacks it.
fn values<F>(pods: &[&PodState], f: F) -> Option<BTreeSet<String>>
where
    F: Fn(&PodState) -> Option<String>,
{
    pods.iter().map(|p| f(p)).collect()
}

/// The one value every failing pod has and no healthy pod has.
fn distinct<F>(failing: &[&PodState], healthy: &[&PodState], f: F) -> Option<String>
where
    F: Fn(&PodState) -> Option<String>,
{
    let bad = values(failing, &f)?;
    let good = values(healthy, &f)?;
    match bad.len() {
        1 => bad.into_iter().next().filter(|v| !good.contains(v)),
        _ => None,
    }
}

fn list(values: &BTreeSet<String>) -> String {
    let v: Vec<&str> = values.iter().map(String::as_str).collect();
    match v.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn subject(failing: usize, state: &str) -> String {
    if failing == 1 {
        format!("the only {state} pod")
    } else {
        format!("the {failing} {state} pods")
    }
}

/// "the 2 pods on node-a and node-b are Ready".
fn healthy_text(healthy: &[&PodState], phrase: &str) -> String {
    let n = healthy.len();
    format!(
        "the {} {phrase} {} Ready",
        if n == 1 {
            "pod".to_string()
        } else {
            format!("{n} pods")
        },
        if n == 1 { "is" } else { "are" }
    )
}

/// Compare a workload's failing pods with its healthy ones.
///
/// `state` words the failure ("crashing", "failing"). `None` when there are
/// no healthy pods to compare with, or no single dimension sets them apart.
pub fn contrast(
    snap: &Snapshot,
    ctx: &Context,
    failing: &[&PodState],
    healthy: &[&PodState],
    state: &str,
) -> Option<Contrast> {
    if failing.is_empty() || healthy.is_empty() {
        return None;
    }
    let who = subject(failing.len(), state);
    let node_of = |p: &PodState| p.pod.node.clone();
    if let Some(node) = distinct(failing, healthy, node_of) {
        let joined = snap
            .node(&node)
            .and_then(|n| n.metadata.creation_timestamp.as_ref())
            .map(|t| t.0)
            .filter(|t| ctx.now.duration_since(*t) <= NEW_NODE)
            .map(|t| format!(", which joined {}", ctx.ago(t)))
            .unwrap_or_default();
        let good = values(healthy, node_of).unwrap_or_default();
        let verb = if failing.len() == 1 { "runs" } else { "run" };
        return Some(Contrast {
            text: format!(
                "{who} {verb} on {node}{joined}; {}",
                healthy_text(healthy, &format!("on {}", list(&good)))
            ),
            node: Some(node),
        });
    }
    let zone_of = |p: &PodState| p.pod.node.as_deref().and_then(|n| zone(snap, n));
    if let Some(z) = distinct(failing, healthy, zone_of) {
        let good = values(healthy, zone_of).unwrap_or_default();
        return Some(Contrast {
            text: format!(
                "{who} {} in zone {z}; {}",
                if failing.len() == 1 { "is" } else { "are" },
                healthy_text(healthy, &format!("in zone {}", list(&good)))
            ),
            node: None,
        });
    }
    if distinct(failing, healthy, revision).is_some() {
        let named = |p: &PodState| revision_name(snap, p);
        let bad = values(failing, named).unwrap_or_default();
        let good = values(healthy, named).unwrap_or_default();
        let image = distinct(failing, healthy, images)
            .map(|i| format!(" with image {i}"))
            .unwrap_or_default();
        return Some(Contrast {
            text: format!(
                "{who} {} from {}{image}; {}",
                if failing.len() == 1 { "is" } else { "are" },
                list(&bad),
                healthy_text(healthy, &format!("from {}", list(&good)))
            ),
            node: None,
        });
    }
    if let Some(i) = distinct(failing, healthy, images) {
        return Some(Contrast {
            text: format!(
                "{who} {} image {i}; {}",
                if failing.len() == 1 { "runs" } else { "run" },
                healthy_text(healthy, "with other images")
            ),
            node: None,
        });
    }
    config_change(snap, ctx, failing, healthy, &who)
}

/// Every failing pod started after a ConfigMap/Secret it uses changed, and
/// every healthy pod started before.
fn config_change(
    snap: &Snapshot,
    ctx: &Context,
    failing: &[&PodState],
    healthy: &[&PodState],
    who: &str,
) -> Option<Contrast> {
    let refs: BTreeSet<(RefKind, &str)> = failing
        .iter()
        .flat_map(|p| p.pod.refs.iter())
        .filter(|r| matches!(r.kind, RefKind::ConfigMap | RefKind::Secret))
        .map(|r| (r.kind, r.name.as_str()))
        .collect();
    let namespace = &failing.first()?.pod.namespace;
    for (kind, obj) in refs {
        let list = if kind == RefKind::Secret {
            &snap.secrets
        } else {
            &snap.configmaps
        };
        let Some(changed) = items(list)
            .iter()
            .find(|k| &k.namespace == namespace && k.name == obj)
            .and_then(|k| k.changed)
        else {
            continue;
        };
        let after = |p: &&PodState| p.pod.started.is_some_and(|s| s > changed);
        let before = |p: &&PodState| p.pod.started.is_some_and(|s| s <= changed);
        if failing.iter().all(after) && healthy.iter().all(before) {
            return Some(Contrast {
                text: format!(
                    "{who} started after {} {obj} changed {}; {}",
                    kind.as_str(),
                    ctx.ago(changed),
                    healthy_text(healthy, "started before it")
                ),
                node: None,
            });
        }
    }
    None
}
