//! The ReplicaSet controller: creates or deletes the pods it owns until their
//! number matches `spec.replicas`, then writes the ReplicaSet's status.

use super::{Controllers, PODS, REPLICASETS, is_ready, owned, owner_ref, pod_from_template};
use super::{put_if_changed, random_suffix, selector_matches};
use crate::gc::{self, Propagation};
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};

/// Which pods go first when scaling down (`controller.ActivePods` order,
/// simplified): unscheduled, then not running, then not ready, then newest.
fn deletion_rank(pod: &Value) -> (u8, u8, u8, std::cmp::Reverse<String>) {
    let scheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let running = super::kubelet::is_running(pod);
    (
        u8::from(scheduled),
        u8::from(running),
        u8::from(is_ready(pod)),
        std::cmp::Reverse(meta_str(pod, "creationTimestamp").to_string()),
    )
}

pub fn reconcile(ctl: &mut Controllers, txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let Some(rs) = txn.get(REPLICASETS, ns, name) else {
        return;
    };
    if rs.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let want = rs
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let mut pods: Vec<Value> = owned(txn, PODS, &rs)
        .into_iter()
        .filter(|p| {
            p.pointer("/metadata/deletionTimestamp").is_none()
                && !matches!(
                    p.pointer("/status/phase").and_then(Value::as_str),
                    Some("Succeeded" | "Failed")
                )
        })
        .collect();
    let have = pods.len() as i64;
    let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    if have < want {
        for _ in have..want {
            let pod_name = loop {
                let n = format!("{name}-{}", random_suffix());
                if !txn.contains(PODS, ns, &n) {
                    break n;
                }
            };
            let pod =
                pod_from_template(&template, ns, &pod_name, owner_ref(&rs, "ReplicaSet"), &[]);
            pods.push(ctl.create_pod(txn, pod, ts));
        }
    } else if have > want {
        pods.sort_by_key(deletion_rank);
        let doomed: Vec<String> = pods
            .drain(..(have - want) as usize)
            .map(|p| meta_str(&p, "name").to_string())
            .collect();
        for p in doomed {
            gc::delete(txn, PODS, ns, &p, Propagation::Background, ts);
        }
    }
    write_status(txn, &rs, &pods);
}

fn write_status(txn: &mut Txn<'_>, rs: &Value, pods: &[Value]) {
    let selector_labels = rs.pointer("/spec/template/metadata/labels");
    let ready = pods.iter().filter(|p| is_ready(p)).count();
    let labeled = pods
        .iter()
        .filter(|p| {
            selector_labels.is_none_or(|l| {
                selector_matches(&json!({"matchLabels": l}), p.pointer("/metadata/labels"))
            })
        })
        .count();
    let mut status = json!({
        "replicas": pods.len(),
        "fullyLabeledReplicas": labeled,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
    });
    if let Some(m) = status.as_object_mut() {
        // The real status omits zero counts.
        m.retain(|k, v| k == "replicas" || v.as_i64() != Some(0));
    }
    let mut new = rs.clone();
    new["status"] = status;
    put_if_changed(txn, REPLICASETS, rs, new);
}
