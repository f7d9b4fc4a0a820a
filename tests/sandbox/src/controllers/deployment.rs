//! The Deployment controller: one ReplicaSet per pod template (named by the
//! template hash), revisions for `rollout history`/`undo`, RollingUpdate and
//! Recreate one step per reconcile, history pruning and the Deployment status.

use super::{DEPLOYMENTS, REPLICASETS, annotation_i64, owned, owner_ref, put_if_changed};
use super::{scaled, set_condition, strip_hash_labels, template_hash};
use crate::gc::{self, Propagation};
use crate::meta::fill_create_metadata;
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn revision(rs: &Value) -> i64 {
    annotation_i64(rs, REVISION).unwrap_or(0)
}

/// (maxSurge, maxUnavailable) resolved against the replica count, as
/// `deploymentutil.ResolveFenceposts` does (surge rounds up, unavailable down).
pub fn fenceposts(d: &Value, replicas: i64) -> (i64, i64) {
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(
        ru.and_then(|r| r.get("maxSurge")).or(Some(&json!("25%"))),
        replicas,
        true,
        0,
    );
    let unavailable = scaled(
        ru.and_then(|r| r.get("maxUnavailable"))
            .or(Some(&json!("25%"))),
        replicas,
        false,
        0,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

fn set_rs_replicas(txn: &mut Txn<'_>, rs: &Value, replicas: i64, d_replicas: i64, surge: i64) {
    let mut new = rs.clone();
    new["spec"]["replicas"] = json!(replicas);
    if let Some(a) = new
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(DESIRED.into(), json!(d_replicas.to_string()));
        a.insert(MAX.into(), json!((d_replicas + surge).to_string()));
    }
    if new.get("spec") != rs.get("spec") {
        new["metadata"]["generation"] = json!(int(rs, "/metadata/generation").max(1) + 1);
    }
    put_if_changed(txn, REPLICASETS, rs, new);
}

/// The annotations a new ReplicaSet copies from its Deployment.
fn copied_annotations(d: &Value) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    if let Some(a) = d
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if k != "kubectl.kubernetes.io/last-applied-configuration"
                && k != REVISION
                && k != REVISION_HISTORY
            {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn new_replicaset(d: &Value, hash: &str, revision: i64, replicas: i64, surge: i64) -> Value {
    let name = format!("{}-{hash}", meta_str(d, "name"));
    let mut template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut annotations = copied_annotations(d);
    annotations.insert(DESIRED.into(), json!(replicas.to_string()));
    annotations.insert(MAX.into(), json!((replicas + surge).to_string()));
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": meta_str(d, "namespace"),
            "labels": template["metadata"]["labels"].clone(), "annotations": annotations,
            "ownerReferences": [owner_ref(d, "Deployment")]},
        "spec": {"replicas": 0, "minReadySeconds": d.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0)),
            "selector": selector, "template": template}})
}

/// Fixtures often abbreviate ReplicaSet templates. A Deployment whose
/// current spec was already observed (status.observedGeneration, or a fixture
/// status at generation 1) is not rolling out: its newest ReplicaSet is the
/// current one even when the templates differ in detail.
fn observed_fixture(d: &Value, rses: &[Value]) -> Option<usize> {
    let generation = int(d, "/metadata/generation").max(1);
    let observed = match d
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
    {
        Some(o) => o >= generation,
        None => generation == 1 && d.get("status").is_some_and(Value::is_object),
    };
    if !observed {
        return None;
    }
    rses.iter()
        .enumerate()
        .max_by_key(|(_, rs)| (revision(rs), meta_str(rs, "creationTimestamp").to_string()))
        .map(|(i, _)| i)
}

pub fn reconcile(txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let Some(d) = txn.get(DEPLOYMENTS, ns, name).cloned() else {
        return;
    };
    if d.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let replicas = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    let (surge, max_unavailable) = if recreate {
        (0, replicas)
    } else {
        fenceposts(&d, replicas)
    };
    let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let wanted = strip_hash_labels(&template);
    let mut rses = owned(txn, REPLICASETS, &d);
    let max_rev = rses.iter().map(revision).max().unwrap_or(0);
    let existing = rses
        .iter()
        .position(|rs| {
            strip_hash_labels(rs.pointer("/spec/template").unwrap_or(&Value::Null)) == wanted
        })
        .or_else(|| observed_fixture(&d, &rses));

    // Find or create the ReplicaSet of the current template.
    let new_rs: Option<Value> = match existing {
        Some(i) if paused => Some(rses[i].clone()),
        Some(i) => {
            let rs = rses[i].clone();
            let rev = revision(&rs);
            if rev < max_rev || rev == 0 {
                // A rollback: the old ReplicaSet becomes the newest revision.
                let mut bumped = rs.clone();
                let mut history: Vec<String> = rs
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(REVISION_HISTORY))
                    .and_then(Value::as_str)
                    .map(|h| h.split(',').map(str::to_string).collect())
                    .unwrap_or_default();
                if rev > 0 {
                    history.push(rev.to_string());
                }
                bumped["metadata"]["annotations"][REVISION] = json!((max_rev + 1).to_string());
                if !history.is_empty() {
                    bumped["metadata"]["annotations"][REVISION_HISTORY] = json!(history.join(","));
                }
                let stored = txn.put(REPLICASETS, bumped);
                rses[i] = stored.clone();
                Some(stored)
            } else {
                Some(rs)
            }
        }
        None if paused => None,
        None => {
            let mut hash = template_hash(&template);
            let mut collisions = 0;
            while txn
                .get(REPLICASETS, ns, &format!("{name}-{hash}"))
                .is_some()
            {
                // A same-named ReplicaSet with another template: rehash with
                // a collision count, as the real controller does.
                collisions += 1;
                let mut t = template.clone();
                t["__collision"] = json!(collisions);
                hash = template_hash(&t);
            }
            let mut rs = new_replicaset(&d, &hash, max_rev + 1, replicas, surge);
            fill_create_metadata(&mut rs, Some(ns), jiff::Timestamp::now());
            let stored = txn.put(REPLICASETS, rs);
            rses.push(stored.clone());
            Some(stored)
        }
    };
    let new_name = new_rs.as_ref().map(|r| meta_str(r, "name").to_string());
    let is_new = |rs: &Value| Some(meta_str(rs, "name")) == new_name.as_deref();
    let olds: Vec<Value> = rses.iter().filter(|r| !is_new(r)).cloned().collect();
    let old_active: i64 = olds.iter().map(|r| int(r, "/spec/replicas")).sum();

    if let Some(nrs) = &new_rs {
        let new_spec = int(nrs, "/spec/replicas");
        if paused || old_active == 0 {
            // Plain scaling (or a paused rollout): the new ReplicaSet takes
            // all replicas only when no old one is still active.
            if old_active == 0 && new_spec != replicas {
                set_rs_replicas(txn, nrs, replicas, replicas, surge);
            }
        } else if recreate {
            // Recreate: old pods all go before any new one starts.
            let old_pods: i64 = olds.iter().map(|r| int(r, "/status/replicas")).sum();
            for rs in &olds {
                if int(rs, "/spec/replicas") > 0 {
                    set_rs_replicas(txn, rs, 0, replicas, surge);
                }
            }
            if old_pods == 0 {
                set_rs_replicas(txn, nrs, replicas, replicas, surge);
            }
        } else {
            rolling_step(txn, nrs, &olds, replicas, surge, max_unavailable);
        }
    }

    cleanup(txn, &d, &new_name);
    write_status(
        txn,
        ns,
        name,
        new_name.as_deref(),
        replicas,
        max_unavailable,
        ts,
    );
}

/// One RollingUpdate step: scale the new ReplicaSet up within maxSurge, then
/// the old ones down while availability stays above replicas-maxUnavailable.
fn rolling_step(
    txn: &mut Txn<'_>,
    nrs: &Value,
    olds: &[Value],
    replicas: i64,
    surge: i64,
    max_unavailable: i64,
) {
    let new_spec = int(nrs, "/spec/replicas");
    let all_spec: i64 = new_spec + olds.iter().map(|r| int(r, "/spec/replicas")).sum::<i64>();
    if new_spec < replicas {
        let room = (replicas + surge - all_spec).max(0);
        let target = replicas.min(new_spec + room);
        if target != new_spec {
            set_rs_replicas(txn, nrs, target, replicas, surge);
            return;
        }
    } else if new_spec > replicas {
        set_rs_replicas(txn, nrs, replicas, replicas, surge);
        return;
    }
    let min_available = replicas - max_unavailable;
    let new_unavailable = (new_spec - int(nrs, "/status/availableReplicas")).max(0);
    let mut max_scaled_down = all_spec - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return;
    }
    let mut olds: Vec<Value> = olds.to_vec();
    olds.sort_by_key(|r| (revision(r), meta_str(r, "creationTimestamp").to_string()));
    // Unhealthy old replicas first: they add nothing to availability.
    let mut changed = Vec::new();
    for rs in &mut olds {
        let spec = int(rs, "/spec/replicas");
        let unhealthy = (spec - int(rs, "/status/availableReplicas")).max(0);
        let cut = unhealthy.min(max_scaled_down);
        if cut > 0 {
            rs["spec"]["replicas"] = json!(spec - cut);
            max_scaled_down -= cut;
            changed.push(meta_str(rs, "name").to_string());
        }
    }
    let available: i64 = int(nrs, "/status/availableReplicas")
        + olds
            .iter()
            .map(|r| int(r, "/status/availableReplicas").min(int(r, "/spec/replicas")))
            .sum::<i64>();
    let mut budget = (available - min_available).max(0).min(max_scaled_down);
    for rs in &mut olds {
        if budget == 0 {
            break;
        }
        let spec = int(rs, "/spec/replicas");
        let cut = spec.min(budget);
        if cut > 0 {
            rs["spec"]["replicas"] = json!(spec - cut);
            budget -= cut;
            changed.push(meta_str(rs, "name").to_string());
        }
    }
    for rs in olds {
        if changed.iter().any(|c| c == meta_str(&rs, "name"))
            && let Some(stored) = txn
                .get(
                    REPLICASETS,
                    meta_str(&rs, "namespace"),
                    meta_str(&rs, "name"),
                )
                .cloned()
        {
            set_rs_replicas(txn, &stored, int(&rs, "/spec/replicas"), replicas, surge);
        }
    }
}

/// Old ReplicaSets beyond `revisionHistoryLimit` (scaled to zero, oldest
/// revision first) are deleted.
fn cleanup(txn: &mut Txn<'_>, d: &Value, new_name: &Option<String>) {
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .max(0) as usize;
    let mut idle: Vec<Value> = owned(txn, REPLICASETS, d)
        .into_iter()
        .filter(|r| Some(meta_str(r, "name")) != new_name.as_deref())
        .filter(|r| int(r, "/spec/replicas") == 0 && int(r, "/status/replicas") == 0)
        .collect();
    if idle.len() <= limit {
        return;
    }
    idle.sort_by_key(revision);
    let n = idle.len() - limit;
    for rs in idle.into_iter().take(n) {
        gc::delete(
            txn,
            REPLICASETS,
            meta_str(&rs, "namespace"),
            meta_str(&rs, "name"),
            Propagation::Background,
            "",
        );
    }
}

fn write_status(
    txn: &mut Txn<'_>,
    ns: &str,
    name: &str,
    new_name: Option<&str>,
    replicas: i64,
    max_unavailable: i64,
    ts: &str,
) {
    let Some(d) = txn.get(DEPLOYMENTS, ns, name).cloned() else {
        return;
    };
    let rses = owned(txn, REPLICASETS, &d);
    let sum = |ptr: &str| rses.iter().map(|r| int(r, ptr)).sum::<i64>();
    let new_rs = rses.iter().find(|r| Some(meta_str(r, "name")) == new_name);
    let status_replicas = sum("/status/replicas");
    let updated = new_rs.map_or(0, |r| int(r, "/status/replicas"));
    let ready = sum("/status/readyReplicas");
    let available = sum("/status/availableReplicas");
    let total_spec = sum("/spec/replicas");
    let generation = int(&d, "/metadata/generation").max(1);
    let mut conditions: Vec<Value> = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if available >= replicas - max_unavailable {
        set_condition(
            &mut conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            ts,
            true,
        );
    } else {
        set_condition(
            &mut conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            ts,
            true,
        );
    }
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let complete = updated == replicas && status_replicas == replicas && available >= replicas;
    match (paused, new_name) {
        (true, _) => set_condition(
            &mut conditions,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            ts,
            true,
        ),
        (false, Some(n)) if complete => set_condition(
            &mut conditions,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{n}\" has successfully progressed."),
            ts,
            true,
        ),
        (false, Some(n)) => set_condition(
            &mut conditions,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{n}\" is progressing."),
            ts,
            true,
        ),
        (false, None) => {}
    }
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": status_replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": (total_spec - available).max(0),
        "conditions": conditions,
    });
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| k == "observedGeneration" || k == "conditions" || v.as_i64() != Some(0));
    }
    if let Some(c) = d.pointer("/status/collisionCount") {
        status["collisionCount"] = c.clone();
    }
    let mut new = d.clone();
    new["status"] = status;
    if let Some(rs) = new_rs {
        let rev = revision(rs);
        if rev > 0 {
            new["metadata"]["annotations"][REVISION] = json!(rev.to_string());
        }
    }
    put_if_changed(txn, DEPLOYMENTS, &d, new);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_like_the_controller() {
        let d = json!({"spec": {}});
        assert_eq!(fenceposts(&d, 4), (1, 1));
        assert_eq!(fenceposts(&d, 10), (3, 2));
        assert_eq!(fenceposts(&d, 1), (1, 0));
        let d =
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}});
        assert_eq!(fenceposts(&d, 3), (0, 1));
    }
}
