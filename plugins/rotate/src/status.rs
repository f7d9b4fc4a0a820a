//! `status`: a rotated Secret's versions, which consumers and which running pods use
//! which version, and pods started before the data they read last changed (env values
//! and subPath mounts keep what the container started with). Pure.

use common::ObjectRef;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use crate::consumers::{Consumer, RefKind, Reference};
use crate::snapshot::Version;

/// How a version is used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum VersionState {
    /// The newest version a consumer uses.
    Current,
    /// An older version something still uses.
    InUse,
    /// Nothing uses it (a candidate for `cleanup`, or a rolled-back attempt).
    Unused,
}

/// One version with its users.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionUse {
    /// The version.
    #[serde(flatten)]
    pub version: Version,
    /// Current, in use, unused.
    pub state: VersionState,
    /// Consumers referencing it.
    pub consumers: Vec<ObjectRef>,
    /// Pods (not finished) referencing it.
    pub pods: usize,
}

/// One consumer and the versions it names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerUse {
    /// The consumer.
    pub object: ObjectRef,
    /// The versions it references.
    pub versions: Vec<String>,
    /// How.
    pub references: Vec<Reference>,
}

/// One pod and the versions it runs with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodUse {
    /// The pod.
    pub pod: ObjectRef,
    /// Its workload (Deployment, StatefulSet, ..., or the pod itself).
    pub workload: ObjectRef,
    /// Phase.
    pub phase: String,
    /// Ready condition.
    pub ready: bool,
    /// When its oldest running container started (else the pod).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    /// The versions it references.
    pub versions: Vec<String>,
    /// True when it started before the data of a version it reads at start changed.
    pub stale: bool,
    /// Why it is stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
}

/// The whole map.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMap {
    /// The current version's name.
    pub current: Option<String>,
    /// Versions, oldest first.
    pub versions: Vec<VersionUse>,
    /// Consumers.
    pub consumers: Vec<ConsumerUse>,
    /// Pods that reference any version.
    pub pods: Vec<PodUse>,
}

/// When the pod's containers started: the earliest `running.startedAt`, else the pod's
/// `startTime`.
pub fn pod_started(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.running.as_ref()?.started_at.as_ref())
        .map(|t| t.0)
        .min()
        .or_else(|| status.start_time.as_ref().map(|t| t.0))
}

/// Build the map from the family's versions, their consumers and the namespace's pods.
pub fn usage(versions: &[Version], consumers: &[Consumer], pods: &[Pod]) -> UsageMap {
    let current = crate::plan::current_version(versions, consumers).map(|v| v.name.clone());
    let is_version = |name: &str| versions.iter().any(|v| v.name == name);
    let mut pod_uses = Vec::new();
    for p in pods.iter().filter(|p| !common::model::pod_terminal(p)) {
        let Some(spec) = &p.spec else { continue };
        let refs: Vec<Reference> = crate::consumers::finders::pod_spec_references(spec, "/spec")
            .into_iter()
            .filter(|r| r.kind == RefKind::Secret && is_version(&r.name))
            .collect();
        if refs.is_empty() {
            continue;
        }
        let started = pod_started(p);
        let mut names: Vec<String> = refs.iter().map(|r| r.name.clone()).collect();
        names.sort();
        names.dedup();
        let stale_reason = refs.iter().filter(|r| !r.live_update).find_map(|r| {
            let v = versions.iter().find(|v| v.name == r.name)?;
            let changed = v.data_changed?;
            (started? < changed).then(|| {
                format!(
                    "started before the data of {} changed ({changed}); it reads {} only at container start",
                    v.name, r.detail
                )
            })
        });
        pod_uses.push(PodUse {
            pod: ObjectRef::of(p),
            workload: common::model::workload_of(&p.metadata, |_, _| None),
            phase: common::model::pod_phase(p).to_string(),
            ready: common::model::pod_ready(p),
            started,
            versions: names,
            stale: stale_reason.is_some(),
            stale_reason,
        });
    }
    let mut sorted: Vec<&Version> = versions.iter().collect();
    sorted.sort_by_key(|v| v.version);
    let version_uses = sorted
        .into_iter()
        .map(|v| {
            let users: Vec<ObjectRef> = consumers
                .iter()
                .filter(|c| c.references.iter().any(|r| r.name == v.name))
                .map(|c| c.object.clone())
                .collect();
            let pods = pod_uses
                .iter()
                .filter(|p| p.versions.contains(&v.name))
                .count();
            let state =
                if current.as_deref() == Some(v.name.as_str()) && (!users.is_empty() || pods > 0) {
                    VersionState::Current
                } else if users.is_empty() && pods == 0 {
                    VersionState::Unused
                } else {
                    VersionState::InUse
                };
            VersionUse {
                version: v.clone(),
                state,
                consumers: users,
                pods,
            }
        })
        .collect();
    let consumer_uses = consumers
        .iter()
        .map(|c| {
            let mut names: Vec<String> = c.references.iter().map(|r| r.name.clone()).collect();
            names.sort();
            names.dedup();
            ConsumerUse {
                object: c.object.clone(),
                versions: names,
                references: c.references.clone(),
            }
        })
        .collect();
    UsageMap {
        current,
        versions: version_uses,
        consumers: consumer_uses,
        pods: pod_uses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Secret;
    use serde_json::json;

    fn version(name: &str, n: u32, changed: &str) -> Version {
        let s: Secret = serde_json::from_value(
            json!({"metadata": {"name": name, "creationTimestamp": changed,
            "labels": {"rotate.kubectl-plugins.dev/version": n.to_string()}}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Version::of(&s)
    }

    fn pod(name: &str, secret: &str, via_env: bool, started: &str) -> Pod {
        let container = if via_env {
            json!({"name": "c", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": secret, "key": "k"}}}]})
        } else {
            json!({"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/s"}]})
        };
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "labels": {"pod-template-hash": "h1"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-h1", "uid": "r", "controller": true}]},
            "spec": {"containers": [container], "volumes": [{"name": "v", "secret": {"secretName": secret}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "image": "x", "imageID": "", "ready": true, "restartCount": 0,
                    "state": {"running": {"startedAt": started}}}]}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn maps_pods_to_versions_and_flags_stale_env_readers() {
        let versions = [
            version("db", 1, "2025-01-05T00:00:00Z"),
            version("db-2", 2, "2025-01-06T00:00:00Z"),
            version("db-3", 3, "2025-01-07T00:00:00Z"),
        ];
        let pods = [
            pod("api-h1-a", "db-2", true, "2025-01-06T01:00:00Z"),
            pod("api-h1-b", "db", true, "2025-01-01T00:00:00Z"),
            pod("api-h1-c", "db", false, "2025-01-01T00:00:00Z"),
        ];
        let consumer = Consumer {
            object: ObjectRef::new("Deployment", "ns", "api"),
            kind: crate::consumers::ConsumerKind::Deployment,
            references: crate::consumers::finders::pod_spec_references(
                pods[0].spec.as_ref().unwrap_or_else(|| panic!()),
                "/spec/template/spec",
            ),
            managed_by: None,
            controller: None,
            uid: String::new(),
            selector: None,
            on_delete: false,
        };
        let map = usage(&versions, &[consumer], &pods);
        assert_eq!(map.current.as_deref(), Some("db-2"));
        let states: Vec<(&str, VersionState, usize)> = map
            .versions
            .iter()
            .map(|v| (v.version.name.as_str(), v.state, v.pods))
            .collect();
        assert_eq!(
            states,
            [
                ("db", VersionState::InUse, 2),
                ("db-2", VersionState::Current, 1),
                ("db-3", VersionState::Unused, 0)
            ]
        );
        assert_eq!(
            map.pods[0].workload,
            ObjectRef::new("Deployment", "ns", "api")
        );
        assert!(!map.pods[0].stale);
        assert!(
            map.pods[1].stale,
            "env reader started before the data changed"
        );
        assert!(
            map.pods[1]
                .stale_reason
                .as_deref()
                .is_some_and(|r| r.contains("only at container start"))
        );
        assert!(!map.pods[2].stale, "a volume is refreshed in place");
        assert_eq!(map.consumers[0].versions, ["db-2"]);
    }
}
