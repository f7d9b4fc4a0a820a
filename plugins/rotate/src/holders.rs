//! Who still references which Secret, beyond the consumers a rotation repoints: running
//! pods, ReplicaSets and ControllerRevisions kept for rollback. `cleanup` keeps a version
//! while anything here names it; `status` maps pods to versions with it.

use std::collections::BTreeMap;

use common::ObjectRef;
use k8s_openapi::api::core::v1::PodSpec;
use serde::Serialize;

use crate::consumers::{self, RefKind};
use crate::snapshot::Workloads;

/// One object that holds a reference, and why it matters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// The object.
    pub object: ObjectRef,
    /// Why it counts (`kept for rollback (revision 3)`, `running pod`).
    pub why: String,
}

fn secret_names(spec: &PodSpec) -> Vec<String> {
    let mut names: Vec<String> = consumers::finders::pod_spec_references(spec, "")
        .into_iter()
        .filter(|r| r.kind == RefKind::Secret)
        .map(|r| r.name)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn revision(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .map(|r| format!(", revision {r}"))
        .unwrap_or_default()
}

/// Secret name → every object in the snapshot that references it: the consumers
/// (workload templates, CronJobs, running Jobs, bare pods, ServiceAccounts, Ingresses),
/// every pod that is not finished, and the ReplicaSets and ControllerRevisions that
/// `kubectl rollout undo` would bring back.
pub fn secret_holders(w: &Workloads) -> BTreeMap<String, Vec<Holder>> {
    let mut out: BTreeMap<String, Vec<Holder>> = BTreeMap::new();
    let mut add = |name: String, object: ObjectRef, why: String| {
        let list = out.entry(name).or_default();
        let h = Holder { object, why };
        if !list.contains(&h) {
            list.push(h);
        }
    };
    for c in consumers::find_all(w) {
        if matches!(c.kind, consumers::ConsumerKind::Pod) {
            continue; // counted with the other pods below
        }
        for r in c.references.iter().filter(|r| r.kind == RefKind::Secret) {
            add(
                r.name.clone(),
                c.object.clone(),
                "references it".to_string(),
            );
        }
    }
    for p in &w.pods {
        if common::model::pod_terminal(p) {
            continue;
        }
        for name in p.spec.as_ref().map(secret_names).unwrap_or_default() {
            add(name, ObjectRef::of(p), "pod not finished".to_string());
        }
    }
    for rs in &w.replicasets {
        let Some(spec) = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.spec.as_ref())
        else {
            continue;
        };
        let replicas = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let why = if replicas > 0 {
            format!(
                "{replicas} replica{}{}",
                if replicas == 1 { "" } else { "s" },
                revision(&rs.metadata)
            )
        } else {
            format!("kept for rollback{}", revision(&rs.metadata))
        };
        for name in secret_names(spec) {
            add(name, ObjectRef::of(rs), why.clone());
        }
    }
    for cr in &w.controller_revisions {
        // A StatefulSet/DaemonSet revision stores `{"spec":{"template":{...}}}`.
        let spec = cr
            .data
            .as_ref()
            .and_then(|d| d.0.pointer("/spec/template/spec"))
            .and_then(|s| serde_json::from_value::<PodSpec>(s.clone()).ok());
        let Some(spec) = spec else { continue };
        let why = format!("kept for rollback, revision {}", cr.revision);
        for name in secret_names(&spec) {
            add(name, ObjectRef::of(cr), why.clone());
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn spec(secret: &str) -> serde_json::Value {
        json!({"containers": [{"name": "c"}], "volumes": [{"name": "v", "secret": {"secretName": secret}}]})
    }

    #[test]
    fn holders_include_history_and_running_pods() {
        let w = Workloads {
            deployments: vec![from(json!({"metadata": {"name": "api", "namespace": "ns"},
                "spec": {"selector": {}, "template": {"spec": spec("db-3")}}}))],
            replicasets: vec![
                from(
                    json!({"metadata": {"name": "api-1", "namespace": "ns", "annotations": {"deployment.kubernetes.io/revision": "1"}},
                    "spec": {"replicas": 0, "selector": {}, "template": {"spec": spec("db")}}}),
                ),
                from(json!({"metadata": {"name": "api-2", "namespace": "ns"},
                    "spec": {"replicas": 2, "selector": {}, "template": {"spec": spec("db-3")}}})),
            ],
            controller_revisions: vec![from(
                json!({"metadata": {"name": "cache-abc", "namespace": "ns"}, "revision": 4,
                "data": {"spec": {"template": {"spec": spec("db-2"), "$patch": "replace"}}}}),
            )],
            pods: vec![
                from(
                    json!({"metadata": {"name": "api-2-x", "namespace": "ns"}, "spec": spec("db-3"), "status": {"phase": "Running"}}),
                ),
                from(
                    json!({"metadata": {"name": "done", "namespace": "ns"}, "spec": spec("db-1"), "status": {"phase": "Succeeded"}}),
                ),
            ],
            ..Workloads::default()
        };
        let h = secret_holders(&w);
        let show = |name: &str| -> Vec<String> {
            h.get(name)
                .map(|v| {
                    v.iter()
                        .map(|x| format!("{} {}", x.object, x.why))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            show("db"),
            ["replicaset/ns/api-1 kept for rollback, revision 1"]
        );
        assert_eq!(
            show("db-2"),
            ["controllerrevision/ns/cache-abc kept for rollback, revision 4"]
        );
        assert_eq!(
            show("db-3"),
            [
                "deployment/ns/api references it",
                "pod/ns/api-2-x pod not finished",
                "replicaset/ns/api-2 2 replicas"
            ]
        );
        assert!(show("db-1").is_empty(), "finished pods do not count");
    }
}
