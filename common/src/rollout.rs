//! Rollout status by kubectl's rules (`kubectl rollout status`): pure functions over a
//! Deployment, StatefulSet or DaemonSet, usable as [`crate::wait::until`] conditions.
//! The messages are kubectl's, so people recognise them.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};

use crate::wait::Check;

fn name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// A Deployment's rollout: done when the new ReplicaSet has every replica updated and
/// available and no old replica is left; failed on `ProgressDeadlineExceeded`.
pub fn deployment(obj: Option<&Deployment>) -> Check {
    let Some(d) = obj else {
        return Check::Failed("the deployment was deleted".to_string());
    };
    let n = name(&d.metadata);
    let status = d.status.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    if generation > status.observed_generation.unwrap_or(0) {
        return Check::Waiting("Waiting for deployment spec update to be observed...".into());
    }
    let progressing = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == "Progressing");
    if progressing.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
        return Check::Failed(format!("deployment \"{n}\" exceeded its progress deadline"));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if let Some(want) = d.spec.as_ref().and_then(|s| s.replicas)
        && updated < want
    {
        return Check::Waiting(format!(
            "Waiting for deployment \"{n}\" rollout to finish: {updated} out of {want} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return Check::Waiting(format!(
            "Waiting for deployment \"{n}\" rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return Check::Waiting(format!(
            "Waiting for deployment \"{n}\" rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Check::Done
}

/// A StatefulSet's rolling update: every replica ready and at the update revision (or, with
/// a partition, every replica above it updated). Only `RollingUpdate` has a status to follow.
pub fn statefulset(obj: Option<&StatefulSet>) -> Check {
    let Some(s) = obj else {
        return Check::Failed("the statefulset was deleted".to_string());
    };
    let spec = s.spec.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Check::Failed(
            "rollout status is only available for RollingUpdate strategy type".to_string(),
        );
    }
    let status = s.status.clone().unwrap_or_default();
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return Check::Waiting("Waiting for statefulset spec update to be observed...".into());
    }
    let want = spec.replicas.unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < want {
        return Check::Waiting(format!("Waiting for {} pods to be ready...", want - ready));
    }
    if let Some(partition) = strategy
        .rolling_update
        .as_ref()
        .and_then(|r| r.partition)
        .filter(|p| *p > 0)
    {
        let updated = status.updated_replicas.unwrap_or(0);
        if updated < want - partition {
            return Check::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                want - partition
            ));
        }
        return Check::Done;
    }
    if status.update_revision != status.current_revision {
        return Check::Waiting(format!(
            "waiting for statefulset rolling update to complete {} pods at revision {}...",
            status.updated_replicas.unwrap_or(0),
            status.update_revision.unwrap_or_default()
        ));
    }
    Check::Done
}

/// A DaemonSet's rolling update: every scheduled pod updated and available.
pub fn daemonset(obj: Option<&DaemonSet>) -> Check {
    let Some(ds) = obj else {
        return Check::Failed("the daemonset was deleted".to_string());
    };
    let n = name(&ds.metadata);
    let strategy = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" {
        return Check::Failed(
            "rollout status is only available for RollingUpdate strategy type".to_string(),
        );
    }
    let status = ds.status.clone().unwrap_or_default();
    if ds.metadata.generation.unwrap_or(0) > status.observed_generation.unwrap_or(0) {
        return Check::Waiting("Waiting for daemon set spec update to be observed...".into());
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    if updated < desired {
        return Check::Waiting(format!(
            "Waiting for daemon set \"{n}\" rollout to finish: {updated} out of {desired} new pods have been updated..."
        ));
    }
    let available = status.number_available.unwrap_or(0);
    if available < desired {
        return Check::Waiting(format!(
            "Waiting for daemon set \"{n}\" rollout to finish: {available} of {desired} updated pods are available..."
        ));
    }
    Check::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn deployment_rules() {
        let d = |generation: i64, status: serde_json::Value| -> Deployment {
            from(
                json!({"metadata": {"name": "api", "generation": generation},
                "spec": {"replicas": 3, "selector": {}, "template": {}}, "status": status}),
            )
        };
        let done = d(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
        );
        assert_eq!(deployment(Some(&done)), Check::Done);
        let unobserved = d(3, json!({"observedGeneration": 2}));
        assert!(
            matches!(deployment(Some(&unobserved)), Check::Waiting(m) if m.contains("observed"))
        );
        let updating = d(
            2,
            json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 1, "availableReplicas": 3}),
        );
        assert!(
            matches!(deployment(Some(&updating)), Check::Waiting(m) if m.contains("1 out of 3 new replicas"))
        );
        let old_left = d(
            2,
            json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
        );
        assert!(
            matches!(deployment(Some(&old_left)), Check::Waiting(m) if m.contains("1 old replicas"))
        );
        let unavailable = d(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
        );
        assert!(
            matches!(deployment(Some(&unavailable)), Check::Waiting(m) if m.contains("2 of 3 updated"))
        );
        let stuck = d(
            2,
            json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert_eq!(
            deployment(Some(&stuck)),
            Check::Failed("deployment \"api\" exceeded its progress deadline".into())
        );
        assert!(matches!(deployment(None), Check::Failed(_)));
    }

    #[test]
    fn statefulset_rules() {
        let s = |spec: serde_json::Value, status: serde_json::Value| -> StatefulSet {
            let mut full =
                json!({"selector": {}, "template": {}, "serviceName": "db", "replicas": 2});
            if let (Some(f), Some(extra)) = (full.as_object_mut(), spec.as_object()) {
                f.extend(extra.clone());
            }
            from(
                json!({"metadata": {"name": "db", "generation": 1}, "spec": full, "status": status}),
            )
        };
        let done = s(
            json!({}),
            json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "currentRevision": "r1", "updateRevision": "r1"}),
        );
        assert_eq!(statefulset(Some(&done)), Check::Done);
        let rolling = s(
            json!({}),
            json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 1, "currentRevision": "r1", "updateRevision": "r2"}),
        );
        assert!(
            matches!(statefulset(Some(&rolling)), Check::Waiting(m) if m.contains("revision r2"))
        );
        let not_ready = s(
            json!({}),
            json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 1}),
        );
        assert!(matches!(statefulset(Some(&not_ready)), Check::Waiting(m) if m.contains("1 pods")));
        let on_delete = s(
            json!({"updateStrategy": {"type": "OnDelete"}}),
            json!({"observedGeneration": 1}),
        );
        assert!(matches!(statefulset(Some(&on_delete)), Check::Failed(_)));
        let partitioned = s(
            json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
            json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 1, "currentRevision": "r1", "updateRevision": "r2"}),
        );
        assert_eq!(statefulset(Some(&partitioned)), Check::Done);
    }

    #[test]
    fn daemonset_rules() {
        let d = |status: serde_json::Value| -> DaemonSet {
            from(json!({"metadata": {"name": "agent", "generation": 1},
                "spec": {"selector": {}, "template": {}}, "status": status}))
        };
        let base = json!({"observedGeneration": 1, "currentNumberScheduled": 3, "numberMisscheduled": 0, "numberReady": 3, "desiredNumberScheduled": 3});
        let mut done = base.clone();
        done["updatedNumberScheduled"] = json!(3);
        done["numberAvailable"] = json!(3);
        assert_eq!(daemonset(Some(&d(done))), Check::Done);
        let mut updating = base.clone();
        updating["updatedNumberScheduled"] = json!(1);
        assert!(
            matches!(daemonset(Some(&d(updating))), Check::Waiting(m) if m.contains("1 out of 3"))
        );
        let mut unavailable = base;
        unavailable["updatedNumberScheduled"] = json!(3);
        unavailable["numberAvailable"] = json!(2);
        assert!(
            matches!(daemonset(Some(&d(unavailable))), Check::Waiting(m) if m.contains("2 of 3"))
        );
    }
}
