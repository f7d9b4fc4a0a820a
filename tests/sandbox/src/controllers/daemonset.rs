//! The DaemonSet controller: one pod per eligible node (nodeSelector,
//! affinity, NoSchedule/NoExecute taints with the daemon tolerations),
//! ControllerRevisions, rolling replacement of outdated pods, and status.

use super::scheduler::{NodeView, node_filters};
use super::statefulset::{REVISION_LABEL, ensure_revision, prune_revisions};
use super::{Controllers, DAEMONSETS, NODES, PODS, is_ready, owned, owner_ref};
use super::{pod_from_template, put_if_changed, random_suffix};
use crate::gc::{self, Propagation};
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Tolerations the DaemonSet controller adds to every daemon pod.
fn daemon_tolerations() -> Vec<Value> {
    [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
    .iter()
    .map(|(k, e)| json!({"key": k, "operator": "Exists", "effect": e}))
    .collect()
}

/// Does the node take a daemon pod of this template (resources aside)?
pub fn eligible(pod: &Value, node: &NodeView) -> bool {
    let mut n = node.clone();
    // Daemons run on NotReady nodes too (they tolerate not-ready).
    n.ready = true;
    node_filters(pod, &n).is_none()
}

pub fn reconcile(ctl: &mut Controllers, txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let Some(ds) = txn.get(DAEMONSETS, ns, name) else {
        return;
    };
    if ds.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let (rev_name, hash) = ensure_revision(txn, &ds, "DaemonSet", &template);
    let generation = ds
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .to_string();
    let mut probe = pod_from_template(&template, ns, name, owner_ref(&ds, "DaemonSet"), &[]);
    let mut tolerations = probe
        .pointer("/spec/tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    tolerations.extend(daemon_tolerations());
    probe["spec"]["tolerations"] = json!(tolerations);
    let nodes: Vec<NodeView> = txn
        .inner()
        .values_in(NODES, "")
        .map(|n| NodeView::from_node(&n, Default::default(), 0))
        .collect();
    let mut by_node: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for p in owned(txn, PODS, &ds) {
        let node = p
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        by_node.entry(node).or_default().push(p);
    }
    let on_update = ds
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        != Some("OnDelete");
    let mut desired = 0;
    let mut live: Vec<Value> = Vec::new();
    for n in &nodes {
        let mut pods = by_node.remove(&n.name).unwrap_or_default();
        if !eligible(&probe, n) {
            by_node.insert(n.name.clone(), pods);
            continue;
        }
        desired += 1;
        // Keep one pod per node, preferring an up-to-date one.
        pods.sort_by_key(|p| {
            p.pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
                .and_then(Value::as_str)
                != Some(&hash)
        });
        let mut keep = if pods.is_empty() {
            None
        } else {
            Some(pods.remove(0))
        };
        for extra in pods {
            gc::delete(
                txn,
                PODS,
                ns,
                meta_str(&extra, "name"),
                Propagation::Background,
                ts,
            );
        }
        let outdated = keep.as_ref().is_some_and(|p| {
            p.pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
                .and_then(Value::as_str)
                != Some(&hash)
        });
        if outdated
            && on_update
            && let Some(p) = keep.take()
        {
            gc::delete(
                txn,
                PODS,
                ns,
                meta_str(&p, "name"),
                Propagation::Background,
                ts,
            );
        }
        let pod = match keep {
            Some(p) => p,
            None => {
                let pod_name = format!("{name}-{}", random_suffix());
                let mut pod = pod_from_template(
                    &template,
                    ns,
                    &pod_name,
                    owner_ref(&ds, "DaemonSet"),
                    &[
                        (REVISION_LABEL, &hash),
                        ("pod-template-generation", &generation),
                    ],
                );
                pod["spec"]["tolerations"] = json!(tolerations);
                pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({"nodeSelectorTerms": [{"matchFields": [
                        {"key": "metadata.name", "operator": "In", "values": [n.name]}]}]});
                // Bound directly: the affinity pins it to this node anyway.
                pod["spec"]["nodeName"] = json!(n.name);
                ctl.create_pod(txn, pod, ts)
            }
        };
        live.push(pod);
    }
    // Pods on nodes that no longer qualify (or vanished) are removed.
    for pods in by_node.values() {
        for p in pods {
            gc::delete(
                txn,
                PODS,
                ns,
                meta_str(p, "name"),
                Propagation::Background,
                ts,
            );
        }
    }
    prune_revisions(txn, &ds, &[rev_name]);
    let ready = live.iter().filter(|p| is_ready(p)).count() as i64;
    let updated = live
        .iter()
        .filter(|p| {
            p.pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
                .and_then(Value::as_str)
                == Some(&hash)
        })
        .count();
    let Some(latest) = txn.get(DAEMONSETS, ns, name) else {
        return;
    };
    let mut status = json!({
        "currentNumberScheduled": live.len(),
        "desiredNumberScheduled": desired,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": (desired - ready).max(0),
        "updatedNumberScheduled": updated,
        "observedGeneration": latest.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
    });
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| {
            !matches!(
                k.as_str(),
                "numberAvailable" | "numberUnavailable" | "updatedNumberScheduled"
            ) || v.as_i64() != Some(0)
        });
    }
    let mut new = latest.clone();
    new["status"] = status;
    put_if_changed(txn, DAEMONSETS, &latest, new);
}
