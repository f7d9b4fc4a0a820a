//! Consumer discovery: which objects reference a Secret or ConfigMap, how (env key, envFrom,
//! volume, projected, CSI, imagePullSecrets, Ingress tls), and who owns them (GitOps).

pub mod finders;
pub mod gitops;

use std::collections::BTreeSet;

use common::ObjectRef;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::snapshot::Workloads;
pub use gitops::GitOps;

/// What is referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// How it is referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Usage {
    /// `env[].valueFrom.secretKeyRef` / `configMapKeyRef`.
    Env,
    /// `envFrom[]`.
    EnvFrom,
    /// A `secret` / `configMap` volume.
    Volume,
    /// A source of a `projected` volume.
    ProjectedVolume,
    /// A CSI volume's `nodePublishSecretRef`.
    CsiVolume,
    /// `imagePullSecrets` (pod or ServiceAccount).
    ImagePullSecret,
    /// An Ingress `spec.tls[].secretName`.
    IngressTls,
}

/// One place where an object names a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Secret or ConfigMap.
    pub kind: RefKind,
    /// The referenced name.
    pub name: String,
    /// How.
    pub usage: Usage,
    /// The container, for env and envFrom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// For people: `env DB_PASSWORD (key password)`, `volume creds at app:/etc/creds`.
    pub detail: String,
    /// Keys this reference needs (empty: none in particular, or all).
    pub keys: Vec<String>,
    /// `optional: true`: a missing object or key does not stop the pod.
    pub optional: bool,
    /// True when a running pod sees a changed value without a restart (volumes without
    /// subPath, refreshed by the kubelet); env values are fixed at container start.
    pub live_update: bool,
    /// JSON pointer of the name field in the object (what a repoint patch replaces).
    pub pointer: String,
}

/// The kinds of consumer, with what can be done to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConsumerKind {
    /// A Deployment: template repointed, rollout waited for.
    Deployment,
    /// A StatefulSet: likewise.
    StatefulSet,
    /// A DaemonSet: likewise.
    DaemonSet,
    /// A CronJob: job template repointed; nothing runs now.
    CronJob,
    /// A Job: immutable template, runs to completion on what it has.
    Job,
    /// A Pod without a workload controller: immutable spec.
    Pod,
    /// A ServiceAccount: imagePullSecrets repointed.
    ServiceAccount,
    /// An Ingress: tls repointed.
    Ingress,
}

impl ConsumerKind {
    /// Why this kind cannot be repointed in place, if it cannot.
    pub fn immutable_reason(self) -> Option<&'static str> {
        match self {
            ConsumerKind::Job => Some(
                "a Job's pod template is immutable: it keeps the version it has until it finishes",
            ),
            ConsumerKind::Pod => Some(
                "a Pod's spec is immutable: delete and recreate it (or its owner) to use the new version",
            ),
            _ => None,
        }
    }

    /// True for kinds with a rollout to wait for (and a `restartedAt` to set).
    pub fn rolls_out(self) -> bool {
        matches!(
            self,
            ConsumerKind::Deployment | ConsumerKind::StatefulSet | ConsumerKind::DaemonSet
        )
    }
}

/// An object that references at least one Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consumer {
    /// The object.
    pub object: ObjectRef,
    /// Its kind, as an enum.
    #[serde(skip_serializing, default = "default_kind")]
    pub kind: ConsumerKind,
    /// Its references (after filtering: only those to the names asked about).
    pub references: Vec<Reference>,
    /// The GitOps tool managing it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<GitOps>,
    /// Its controlling owner, when that is not a kind we handle (an operator's resource):
    /// the owner may revert our change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<ObjectRef>,
    /// UID, for patch preconditions.
    #[serde(skip)]
    pub uid: String,
    /// The label selector of its pods (workloads), for health checks.
    #[serde(skip)]
    pub selector: Option<String>,
    /// A StatefulSet or DaemonSet with the `OnDelete` update strategy: a template change
    /// reaches its pods only when they are deleted, so there is no rollout to wait for.
    #[serde(skip)]
    pub on_delete: bool,
}

fn default_kind() -> ConsumerKind {
    ConsumerKind::Pod
}

impl Consumer {
    fn new(kind: ConsumerKind, meta: &ObjectMeta, references: Vec<Reference>) -> Self {
        let object = ObjectRef::new(
            &format!("{kind:?}"),
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or(""),
        );
        let controller = common::model::controller_of(meta)
            .map(|o| ObjectRef::new(&o.kind, &object.namespace, &o.name));
        Consumer {
            object,
            kind,
            references,
            managed_by: gitops::detect(meta),
            controller,
            uid: meta.uid.clone().unwrap_or_default(),
            selector: None,
            on_delete: false,
        }
    }

    /// The names it references of one kind.
    pub fn names(&self, kind: RefKind) -> BTreeSet<&str> {
        self.references
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.name.as_str())
            .collect()
    }
}

/// A label selector as a `-l` string (`app=web,tier in (a,b)`); `None` for an empty or
/// unusable selector.
pub fn selector_string(sel: &LabelSelector) -> Option<String> {
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

fn with_refs(
    out: &mut Vec<Consumer>,
    kind: ConsumerKind,
    meta: &ObjectMeta,
    spec: Option<&PodSpec>,
    base: &str,
    selector: Option<&LabelSelector>,
) -> Option<usize> {
    let refs = finders::pod_spec_references(spec?, base);
    if refs.is_empty() {
        return None;
    }
    let mut c = Consumer::new(kind, meta, refs);
    c.selector = selector.and_then(selector_string);
    out.push(c);
    Some(out.len() - 1)
}

fn mark_on_delete(out: &mut [Consumer], at: Option<usize>, strategy: Option<&str>) {
    if let Some(i) = at
        && strategy == Some("OnDelete")
    {
        out[i].on_delete = true;
    }
}

/// True when a Job has finished (Complete or Failed): it will not start pods again.
fn job_finished(job: &k8s_openapi::api::batch::v1::Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        })
}

/// True when a pod belongs to a controller whose own template is already a consumer
/// (Deployment via its ReplicaSet, StatefulSet, DaemonSet, Job).
fn owned_by_workload(pod: &Pod) -> bool {
    match common::model::controller_of(&pod.metadata) {
        Some(o) if o.kind == "ReplicaSet" => pod
            .metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key("pod-template-hash")),
        Some(o) => matches!(o.kind.as_str(), "StatefulSet" | "DaemonSet" | "Job"),
        None => false,
    }
}

/// Every object in the snapshot that references any Secret or ConfigMap, with all its
/// references. Finished Jobs, terminal pods and pods whose workload is listed are left out.
pub fn find_all(w: &Workloads) -> Vec<Consumer> {
    let mut out = Vec::new();
    const TEMPLATE: &str = "/spec/template/spec";
    for d in &w.deployments {
        let spec = d.spec.as_ref();
        with_refs(
            &mut out,
            ConsumerKind::Deployment,
            &d.metadata,
            spec.and_then(|s| s.template.spec.as_ref()),
            TEMPLATE,
            spec.map(|s| &s.selector),
        );
    }
    for s in &w.statefulsets {
        let spec = s.spec.as_ref();
        let at = with_refs(
            &mut out,
            ConsumerKind::StatefulSet,
            &s.metadata,
            spec.and_then(|s| s.template.spec.as_ref()),
            TEMPLATE,
            spec.map(|s| &s.selector),
        );
        let strategy = spec
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref());
        mark_on_delete(&mut out, at, strategy);
    }
    for d in &w.daemonsets {
        let spec = d.spec.as_ref();
        let at = with_refs(
            &mut out,
            ConsumerKind::DaemonSet,
            &d.metadata,
            spec.and_then(|s| s.template.spec.as_ref()),
            TEMPLATE,
            spec.map(|s| &s.selector),
        );
        let strategy = spec
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref());
        mark_on_delete(&mut out, at, strategy);
    }
    for c in &w.cronjobs {
        let spec = c
            .spec
            .as_ref()
            .and_then(|s| s.job_template.spec.as_ref())
            .and_then(|j| j.template.spec.as_ref());
        with_refs(
            &mut out,
            ConsumerKind::CronJob,
            &c.metadata,
            spec,
            "/spec/jobTemplate/spec/template/spec",
            None,
        );
    }
    for j in w.jobs.iter().filter(|j| !job_finished(j)) {
        let spec = j.spec.as_ref();
        with_refs(
            &mut out,
            ConsumerKind::Job,
            &j.metadata,
            spec.and_then(|s| s.template.spec.as_ref()),
            TEMPLATE,
            spec.and_then(|s| s.selector.as_ref()),
        );
    }
    for p in &w.pods {
        if common::model::pod_terminal(p) || owned_by_workload(p) {
            continue;
        }
        with_refs(
            &mut out,
            ConsumerKind::Pod,
            &p.metadata,
            p.spec.as_ref(),
            "/spec",
            None,
        );
    }
    for sa in &w.service_accounts {
        let refs = finders::service_account_pull_secrets(sa);
        if !refs.is_empty() {
            out.push(Consumer::new(
                ConsumerKind::ServiceAccount,
                &sa.metadata,
                refs,
            ));
        }
    }
    for ing in &w.ingresses {
        let refs = finders::ingress_tls(ing);
        if !refs.is_empty() {
            out.push(Consumer::new(ConsumerKind::Ingress, &ing.metadata, refs));
        }
    }
    out
}

/// The consumers of `names` (of one kind, in one namespace), each with only its
/// references to those names.
pub fn referencing(
    all: &[Consumer],
    kind: RefKind,
    namespace: &str,
    names: &BTreeSet<String>,
) -> Vec<Consumer> {
    all.iter()
        .filter(|c| c.object.namespace == namespace)
        .filter_map(|c| {
            let refs: Vec<Reference> = c
                .references
                .iter()
                .filter(|r| r.kind == kind && names.contains(&r.name))
                .cloned()
                .collect();
            (!refs.is_empty()).then(|| Consumer {
                references: refs,
                ..c.clone()
            })
        })
        .collect()
}

/// The consumers of any version of a rotated Secret (its family) in `namespace`.
pub fn of_versions(
    w: &Workloads,
    namespace: &str,
    versions: &[crate::snapshot::Version],
) -> Vec<Consumer> {
    let names: BTreeSet<String> = versions.iter().map(|v| v.name.clone()).collect();
    referencing(&find_all(w), RefKind::Secret, namespace, &names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn template(secret: &str) -> serde_json::Value {
        json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c",
            "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}]}]}})
    }

    fn snapshot() -> Workloads {
        Workloads {
            deployments: vec![from(
                json!({"metadata": {"name": "api", "namespace": "shop", "uid": "u1",
                "labels": {"app.kubernetes.io/managed-by": "Helm"}, "annotations": {"meta.helm.sh/release-name": "shop"}},
                "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": template("db")}}),
            )],
            cronjobs: vec![from(
                json!({"metadata": {"name": "report", "namespace": "shop"},
                "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template("db")}}}}),
            )],
            jobs: vec![
                from(
                    json!({"metadata": {"name": "report-1", "namespace": "shop", "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "c", "controller": true}]},
                    "spec": {"template": template("db")}}),
                ),
                from(
                    json!({"metadata": {"name": "done", "namespace": "shop"}, "spec": {"template": template("db")},
                    "status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
                ),
            ],
            pods: vec![
                from(
                    json!({"metadata": {"name": "api-abc-x", "namespace": "shop", "labels": {"pod-template-hash": "abc"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-abc", "uid": "r", "controller": true}]},
                    "spec": template("db")["spec"].clone(), "status": {"phase": "Running"}}),
                ),
                from(
                    json!({"metadata": {"name": "debug", "namespace": "shop"}, "spec": template("db")["spec"].clone(), "status": {"phase": "Running"}}),
                ),
                from(
                    json!({"metadata": {"name": "old", "namespace": "shop"}, "spec": template("db")["spec"].clone(), "status": {"phase": "Succeeded"}}),
                ),
            ],
            service_accounts: vec![from(
                json!({"metadata": {"name": "default", "namespace": "shop"}}),
            )],
            statefulsets: vec![from(
                json!({"metadata": {"name": "cache", "namespace": "shop"},
                "spec": {"serviceName": "cache", "selector": {"matchLabels": {"app": "cache"}},
                    "updateStrategy": {"type": "OnDelete"}, "template": template("db")}}),
            )],
            ..Workloads::default()
        }
    }

    #[test]
    fn finds_workloads_cronjobs_running_jobs_and_bare_pods() {
        let all = find_all(&snapshot());
        let names: Vec<String> = all.iter().map(|c| c.object.to_string()).collect();
        assert_eq!(
            names,
            [
                "deployment/shop/api",
                "statefulset/shop/cache",
                "cronjob/shop/report",
                "job/shop/report-1",
                "pod/shop/debug"
            ]
        );
        assert!(
            all[1].on_delete && !all[0].on_delete,
            "OnDelete StatefulSets are marked"
        );
        let all: Vec<Consumer> = all
            .into_iter()
            .filter(|c| c.kind != ConsumerKind::StatefulSet)
            .collect();
        assert_eq!(all[0].selector.as_deref(), Some("app=api"));
        assert_eq!(
            all[0].references[0].pointer,
            "/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name"
        );
        assert_eq!(
            all[1].references[0].pointer,
            "/spec/jobTemplate/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name"
        );
        assert_eq!(
            all[0].managed_by.as_ref().map(|g| g.tool),
            Some(gitops::Tool::Helm)
        );
        assert_eq!(
            all[2].controller,
            Some(ObjectRef::new("CronJob", "shop", "report"))
        );
        assert!(ConsumerKind::Job.immutable_reason().is_some());
        assert!(ConsumerKind::Deployment.immutable_reason().is_none());
    }

    #[test]
    fn filtering_keeps_only_matching_references() {
        let all = find_all(&snapshot());
        let names = BTreeSet::from(["db".to_string()]);
        assert_eq!(referencing(&all, RefKind::Secret, "shop", &names).len(), 5);
        assert!(referencing(&all, RefKind::Secret, "other", &names).is_empty());
        assert!(referencing(&all, RefKind::ConfigMap, "shop", &names).is_empty());
        let none = BTreeSet::from(["nope".to_string()]);
        assert!(referencing(&all, RefKind::Secret, "shop", &none).is_empty());
    }

    #[test]
    fn selectors() {
        let sel: LabelSelector = from(json!({"matchLabels": {"app": "a"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["x", "y"]}, {"key": "canary", "operator": "DoesNotExist"}]}));
        assert_eq!(
            selector_string(&sel).as_deref(),
            Some("app=a,tier in (x,y),!canary")
        );
        assert_eq!(selector_string(&LabelSelector::default()), None);
    }
}
