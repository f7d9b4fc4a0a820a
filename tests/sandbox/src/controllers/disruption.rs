//! PodDisruptionBudgets: the disruption controller's status arithmetic
//! (expected/desired/current healthy, disruptions allowed) and the eviction
//! check the API server runs against it (429 when a budget would be violated).

use super::{DEPLOYMENTS, PDBS, PODS, REPLICASETS, STATEFULSETS, is_ready};
use super::{put_if_changed, scaled, selector_matches, set_condition};
use crate::error::ApiError;
use crate::store::{Inner, Txn, meta_str};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// policy/v1: a null selector selects nothing, an empty one every pod.
fn selects(pdb: &Value, pod_labels: Option<&Value>) -> bool {
    match pdb.pointer("/spec/selector") {
        None | Some(Value::Null) => false,
        Some(sel) => selector_matches(sel, pod_labels),
    }
}

/// Names of the PDBs in `ns` whose selector matches a pod with these labels.
pub fn matching_pdbs(inner: &Inner, ns: &str, pod_labels: Option<&Value>) -> Vec<String> {
    inner
        .values_in(PDBS, ns)
        .filter(|p| selects(p, pod_labels))
        .map(|p| meta_str(&p, "name").to_string())
        .collect()
}

/// The numbers the disruption controller derives for one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub expected: i64,
    pub desired_healthy: i64,
    pub current_healthy: i64,
    pub disruptions_allowed: i64,
}

/// Budget arithmetic (`getExpectedPodCount` + `updatePdbStatus`): minAvailable
/// as an int counts pods; a percentage or maxUnavailable scales against the
/// controllers' replica counts, rounding up.
pub fn budget(spec: &Value, pods: i64, controller_scale: i64, healthy: i64) -> Budget {
    let (expected, desired) = if let Some(max) = spec.get("maxUnavailable") {
        let expected = controller_scale;
        let max = scaled(Some(max), expected, true, 0);
        (expected, (expected - max).max(0))
    } else if let Some(min) = spec.get("minAvailable") {
        if min.is_string() {
            (
                controller_scale,
                scaled(Some(min), controller_scale, true, 0),
            )
        } else {
            (pods, min.as_i64().unwrap_or(0))
        }
    } else {
        // Neither field: nothing has to stay up.
        (pods, 0)
    };
    Budget {
        expected,
        desired_healthy: desired,
        current_healthy: healthy,
        disruptions_allowed: (healthy - desired).max(0),
    }
}

/// The replica count of the controller that owns a pod (Deployment through
/// its ReplicaSet), or None for pods without a scalable controller.
fn controller_scale(inner: &Inner, ns: &str, pod: &Value) -> Option<(String, i64)> {
    let (kind, name) = super::controller_of(pod)?;
    let replicas = |o: &Value| {
        o.pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    };
    match kind {
        "ReplicaSet" => {
            let rs = inner.get(REPLICASETS, ns, name)?;
            if let Some(("Deployment", d)) = super::controller_of(&rs) {
                let dep = inner.get(DEPLOYMENTS, ns, d)?;
                return Some((format!("Deployment/{d}"), replicas(&dep)));
            }
            Some((format!("ReplicaSet/{name}"), replicas(&rs)))
        }
        "StatefulSet" => inner
            .get(STATEFULSETS, ns, name)
            .map(|s| (format!("StatefulSet/{name}"), replicas(&s))),
        _ => None,
    }
}

/// The status the disruption controller would write for `pdb` now.
pub fn compute_status(inner: &Inner, pdb: &Value, ts: &str) -> Value {
    let ns = meta_str(pdb, "namespace");
    // Selected by the indexed labels; only those pods are parsed.
    let pods: Vec<Value> = inner
        .in_namespace(PODS, ns)
        .filter(|p| selects(pdb, p.labels.as_ref()))
        .map(|p| p.value())
        .collect();
    let mut disrupted: BTreeMap<String, Value> = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    // An entry lasts until its pod is gone (deletion is immediate here).
    disrupted.retain(|name, _| pods.iter().any(|p| meta_str(p, "name") == name));
    let healthy = pods
        .iter()
        .filter(|p| is_ready(p) && !disrupted.contains_key(meta_str(p, "name")))
        .count() as i64;
    let mut scales: BTreeMap<String, i64> = BTreeMap::new();
    let mut uncontrolled = 0;
    for p in &pods {
        match controller_scale(inner, ns, p) {
            Some((k, n)) => {
                scales.insert(k, n);
            }
            None => uncontrolled += 1,
        }
    }
    let scale = scales.values().sum::<i64>() + uncontrolled;
    let spec = pdb.get("spec").cloned().unwrap_or(json!({}));
    let b = budget(&spec, pods.len() as i64, scale, healthy);
    let generation = pdb
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut conditions: Vec<Value> = pdb
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (st, reason) = if b.disruptions_allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    set_condition(
        &mut conditions,
        "DisruptionAllowed",
        st,
        reason,
        "",
        ts,
        false,
    );
    for c in &mut conditions {
        c["observedGeneration"] = json!(generation);
    }
    let mut status = json!({
        "observedGeneration": generation,
        "disruptionsAllowed": b.disruptions_allowed,
        "currentHealthy": b.current_healthy,
        "desiredHealthy": b.desired_healthy,
        "expectedPods": b.expected,
        "conditions": conditions,
    });
    if !disrupted.is_empty() {
        status["disruptedPods"] = json!(disrupted);
    }
    status
}

pub fn reconcile(txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let Some(pdb) = txn.get(PDBS, ns, name) else {
        return;
    };
    let status = compute_status(txn.inner(), &pdb, ts);
    let mut new = pdb.clone();
    new["status"] = status;
    put_if_changed(txn, PDBS, &pdb, new);
}

/// Fixture PDBs without a status get one at startup (a real cluster's
/// controller would have written it long ago); given statuses are kept.
pub fn init_missing_status(txn: &mut Txn<'_>, ts: &str) {
    let missing: Vec<(String, String)> = txn
        .inner()
        .values(PDBS)
        .filter(|p| {
            p.get("status")
                .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
        })
        .map(|p| {
            (
                meta_str(&p, "namespace").to_string(),
                meta_str(&p, "name").to_string(),
            )
        })
        .collect();
    for (ns, name) in missing {
        reconcile(txn, &ns, &name, ts);
    }
}

fn violation(cause: String) -> ApiError {
    let mut e = ApiError::new(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    e.details = Some(Box::new(
        json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]}),
    ));
    e
}

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// The eviction check (`pkg/registry/core/pod/storage/eviction.go`), inside
/// the eviction's write: Ok when the pod may go (the budget is charged in the
/// same transaction), a 429 or 500 Status otherwise.
pub fn check_eviction(txn: &mut Txn<'_>, pod: &Value, ts: &str) -> Result<(), ApiError> {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded" | "Failed" | "Pending"))
        || pod.pointer("/metadata/deletionTimestamp").is_some()
    {
        // Such pods are not counted by any budget: eviction just deletes.
        return Ok(());
    }
    let ns = meta_str(pod, "namespace");
    let names = matching_pdbs(txn.inner(), ns, pod.pointer("/metadata/labels"));
    let name = match names.as_slice() {
        [] => return Ok(()),
        [one] => one.clone(),
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let Some(mut pdb) = txn.get(PDBS, ns, &name) else {
        return Ok(());
    };
    if pdb
        .get("status")
        .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
    {
        pdb["status"] = compute_status(txn.inner(), &pdb, ts);
    }
    let generation = int(&pdb, "/metadata/generation").max(1);
    if let Some(observed) = pdb
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        && observed < generation
    {
        return Err(violation(format!(
            "The disruption budget {name} is still being processed by the server."
        )));
    }
    let current = int(&pdb, "/status/currentHealthy");
    let desired = int(&pdb, "/status/desiredHealthy");
    // unhealthyPodEvictionPolicy IfHealthyBudget (the default): a pod that is
    // not ready may go without charging the budget while the budget holds.
    if !is_ready(pod) && current >= desired {
        return Ok(());
    }
    let allowed = int(&pdb, "/status/disruptionsAllowed");
    if allowed <= 0 {
        return Err(violation(format!(
            "The disruption budget {name} needs {desired} healthy pods and has {current} currently"
        )));
    }
    pdb["status"]["disruptionsAllowed"] = json!(allowed - 1);
    pdb["status"]["disruptedPods"][meta_str(pod, "name")] = json!(ts);
    txn.put(PDBS, pdb);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_available_int_counts_pods() {
        let b = budget(&json!({"minAvailable": 2}), 2, 2, 2);
        assert_eq!(
            (b.expected, b.desired_healthy, b.disruptions_allowed),
            (2, 2, 0)
        );
        let b = budget(&json!({"minAvailable": 2}), 3, 3, 3);
        assert_eq!(b.disruptions_allowed, 1);
    }

    #[test]
    fn percentages_round_up() {
        // 50% of 3 → 2 must stay (rounded up), 1 may go.
        let b = budget(&json!({"minAvailable": "50%"}), 3, 3, 3);
        assert_eq!((b.desired_healthy, b.disruptions_allowed), (2, 1));
        // maxUnavailable 30% of 5 → 2 (rounded up) may go.
        let b = budget(&json!({"maxUnavailable": "30%"}), 5, 5, 5);
        assert_eq!((b.desired_healthy, b.disruptions_allowed), (3, 2));
        let b = budget(&json!({"maxUnavailable": 0}), 4, 4, 4);
        assert_eq!(b.disruptions_allowed, 0);
        // Unhealthy pods eat the budget.
        let b = budget(&json!({"maxUnavailable": 1}), 4, 4, 3);
        assert_eq!(b.disruptions_allowed, 0);
    }

    #[test]
    fn expected_follows_the_controller_scale() {
        let b = budget(&json!({"maxUnavailable": 1}), 2, 4, 2);
        assert_eq!(
            (b.expected, b.desired_healthy, b.disruptions_allowed),
            (4, 3, 0)
        );
    }
}
