//! The Deployment controller: one ReplicaSet per pod template (named by the
//! template hash), revisions for `rollout history`/`undo`, RollingUpdate and
//! Recreate one step per reconcile, history pruning and the Deployment status.

use super::{DEPLOYMENTS, REPLICASETS, annotation_i64, owned, owner_ref, put_if_changed};
use super::{scaled, strip_hash_labels, template_hash};
use crate::gc::{self, Propagation};
use crate::meta::fill_create_metadata;
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};
use std::time::Duration;

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

/// Reconciles one Deployment; returns when to look again if the rollout is
/// waiting for its progress deadline (`requeueStuckDeployment`).
pub fn reconcile(txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) -> Option<Duration> {
    let d = txn.get(DEPLOYMENTS, ns, name)?;
    if d.pointer("/metadata/deletionTimestamp").is_some() {
        return None;
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
    let mut created = false;
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
            created = true;
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
        created,
        replicas,
        max_unavailable,
        ts,
    )
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
            && let Some(stored) = txn.get(
                REPLICASETS,
                meta_str(&rs, "namespace"),
                meta_str(&rs, "name"),
            )
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

const PROGRESSING: &str = "Progressing";
/// The API default when a Deployment does not say.
const DEFAULT_PROGRESS_DEADLINE: i64 = 600;

fn condition<'a>(conditions: &'a [Value], kind: &str) -> Option<&'a Value> {
    conditions
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn cond_str<'a>(c: &'a Value, k: &str) -> &'a str {
    c.get(k).and_then(Value::as_str).unwrap_or("")
}

/// `SetDeploymentCondition`: nothing changes when status and reason are the
/// same; otherwise the condition moves to the end of the list, keeping its
/// lastTransitionTime when only the reason changed.
fn set_deployment_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    ts: &str,
) {
    let current = condition(conditions, kind).cloned();
    if let Some(c) = &current
        && cond_str(c, "status") == status
        && cond_str(c, "reason") == reason
    {
        return;
    }
    let transition = match &current {
        Some(c) if cond_str(c, "status") == status => cond_str(c, "lastTransitionTime").to_string(),
        _ => ts.to_string(),
    };
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(kind));
    conditions.push(json!({"type": kind, "status": status, "lastUpdateTime": ts,
        "lastTransitionTime": transition, "reason": reason, "message": message}));
}

/// Counts the controller derives from its ReplicaSets (`calculateStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    replicas: i64,
    updated: i64,
    ready: i64,
    available: i64,
}

fn counts_of(status: Option<&Value>) -> Counts {
    let n = |k: &str| {
        status
            .and_then(|s| s.get(k))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    Counts {
        replicas: n("replicas"),
        updated: n("updatedReplicas"),
        ready: n("readyReplicas"),
        available: n("availableReplicas"),
    }
}

/// `DeploymentProgressing`: more updated, ready or available replicas, or
/// fewer old ones, than the last status recorded.
fn progressed(old: Counts, new: Counts) -> bool {
    new.updated > old.updated
        || (new.replicas - new.updated) < (old.replicas - old.updated)
        || new.ready > old.ready
        || new.available > old.available
}

/// When a Progressing condition's last update plus the deadline lies; None
/// when the time cannot be read.
fn deadline_of(cond: &Value, seconds: i64) -> Option<jiff::Timestamp> {
    let from: jiff::Timestamp = cond_str(cond, "lastUpdateTime").parse().ok()?;
    from.checked_add(jiff::SignedDuration::from_secs(seconds))
        .ok()
}

#[allow(clippy::too_many_arguments)] // the controller's view of one sync
fn write_status(
    txn: &mut Txn<'_>,
    ns: &str,
    name: &str,
    new_name: Option<&str>,
    created: bool,
    replicas: i64,
    max_unavailable: i64,
    ts: &str,
) -> Option<Duration> {
    let d = txn.get(DEPLOYMENTS, ns, name)?;
    let rses = owned(txn, REPLICASETS, &d);
    let sum = |ptr: &str| rses.iter().map(|r| int(r, ptr)).sum::<i64>();
    let new_rs = rses.iter().find(|r| Some(meta_str(r, "name")) == new_name);
    let now = Counts {
        replicas: sum("/status/replicas"),
        updated: new_rs.map_or(0, |r| int(r, "/status/replicas")),
        ready: sum("/status/readyReplicas"),
        available: sum("/status/availableReplicas"),
    };
    let before = counts_of(d.get("status"));
    let total_spec = sum("/spec/replicas");
    let generation = int(&d, "/metadata/generation").max(1);
    let mut conditions: Vec<Value> = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let deadline = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE);
    // `math.MaxInt32` means "no deadline" to the real controller.
    let has_deadline = deadline != i64::from(i32::MAX);
    // What getNewReplicaSet records before the rollout is looked at.
    match new_name {
        Some(n) if created && has_deadline => set_deployment_condition(
            &mut conditions,
            PROGRESSING,
            "True",
            "NewReplicaSetCreated",
            &format!("Created new replica set \"{n}\""),
            ts,
        ),
        Some(n) if has_deadline && condition(&conditions, PROGRESSING).is_none() => {
            set_deployment_condition(
                &mut conditions,
                PROGRESSING,
                "True",
                "FoundNewReplicaSet",
                &format!("Found new replica set \"{n}\""),
                ts,
            )
        }
        _ => {}
    }
    if available_enough(now.available, replicas, max_unavailable) {
        set_deployment_condition(
            &mut conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            ts,
        );
    } else {
        set_deployment_condition(
            &mut conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            ts,
        );
    }
    let complete = now.updated == replicas && now.replicas == replicas && now.available == replicas;
    let mut requeue = None;
    if paused {
        set_deployment_condition(
            &mut conditions,
            PROGRESSING,
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            ts,
        );
    } else if condition(&conditions, PROGRESSING)
        .is_some_and(|c| cond_str(c, "reason") == "DeploymentPaused")
    {
        set_deployment_condition(
            &mut conditions,
            PROGRESSING,
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed",
            ts,
        );
    } else if has_deadline && let Some(n) = new_name {
        // syncRolloutStatus: estimate progress unless this rollout already
        // completed.
        let current = condition(&conditions, PROGRESSING).cloned();
        let already_complete = now.replicas == now.updated
            && current
                .as_ref()
                .is_some_and(|c| cond_str(c, "reason") == "NewReplicaSetAvailable");
        if !already_complete {
            if complete {
                set_deployment_condition(
                    &mut conditions,
                    PROGRESSING,
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{n}\" has successfully progressed."),
                    ts,
                );
            } else if progressed(before, now) {
                // Progress refreshes lastUpdateTime even with the same reason.
                let transition = current
                    .as_ref()
                    .filter(|c| cond_str(c, "status") == "True")
                    .map_or(ts.to_string(), |c| {
                        cond_str(c, "lastTransitionTime").to_string()
                    });
                conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(PROGRESSING));
                conditions.push(
                    json!({"type": PROGRESSING, "status": "True", "lastUpdateTime": ts,
                    "lastTransitionTime": transition, "reason": "ReplicaSetUpdated",
                    "message": format!("ReplicaSet \"{n}\" is progressing.")}),
                );
            } else if let Some(c) = &current
                && cond_str(c, "reason") != "NewReplicaSetAvailable"
            {
                let timed_out = cond_str(c, "reason") == "ProgressDeadlineExceeded"
                    || deadline_of(c, deadline).is_some_and(|t| t < jiff::Timestamp::now());
                if timed_out {
                    set_deployment_condition(
                        &mut conditions,
                        PROGRESSING,
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{n}\" has timed out progressing."),
                        ts,
                    );
                }
            }
        }
        // requeueStuckDeployment: look again when the deadline passes.
        if !complete
            && let Some(c) = condition(&conditions, PROGRESSING)
            && !matches!(
                cond_str(c, "reason"),
                "ProgressDeadlineExceeded" | "NewReplicaSetAvailable"
            )
            && let Some(at) = deadline_of(c, deadline)
        {
            let left = jiff::Timestamp::now().duration_until(at);
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            requeue = Some(left + Duration::from_millis(100));
        }
    }
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": now.replicas,
        "updatedReplicas": now.updated,
        "readyReplicas": now.ready,
        "availableReplicas": now.available,
        "unavailableReplicas": (total_spec - now.available).max(0),
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
    requeue
}

fn available_enough(available: i64, replicas: i64, max_unavailable: i64) -> bool {
    available >= replicas - max_unavailable
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
