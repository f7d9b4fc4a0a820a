//! The snapshot: everything triage read from the cluster, as plain data.
//! Checks are pure functions over it, so tests build one in code.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Endpoints, Event, Node, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Deserialize;

/// A list that may not have been read: `None` when the list was forbidden or
/// not served, so checks never mistake "could not look" for "absent".
pub type Listed<T> = Option<Vec<T>>;

/// A ConfigMap or Secret reduced to its key names: values are dropped as
/// soon as they are read so secret values never live past collection.
#[derive(Debug, Clone, Default)]
pub struct KeyedObject {
    pub namespace: String,
    pub name: String,
    pub keys: BTreeSet<String>,
}

/// A ServiceAccount reduced to what the checks need.
#[derive(Debug, Clone, Default)]
pub struct AccountRef {
    pub namespace: String,
    pub name: String,
}

/// metrics.k8s.io/v1beta1 PodMetrics (not part of k8s-openapi).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodMetrics {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub containers: Vec<ContainerMetrics>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerMetrics {
    pub name: String,
    #[serde(default)]
    pub usage: BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
}

/// A check (or list) that could not run, with the reason shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub check: String,
    pub reason: String,
    /// Why, typed: only causes that are `is_partial()` (forbidden, unavailable) make the
    /// run partial (exit 4); an API that is not installed (metrics) does not.
    pub cause: common::model::SkipCause,
}

impl Skip {
    /// True when this skip makes the answer incomplete (exit 4).
    pub fn partial(&self) -> bool {
        self.cause.is_partial()
    }
}

/// Key of a container whose previous log was fetched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub now: jiff::Timestamp,
    pub pods: Vec<Pod>,
    pub events: Listed<Event>,
    pub deployments: Listed<Deployment>,
    pub replicasets: Listed<ReplicaSet>,
    pub statefulsets: Listed<StatefulSet>,
    pub daemonsets: Listed<DaemonSet>,
    pub controller_revisions: Listed<ControllerRevision>,
    pub services: Listed<Service>,
    pub endpoints: Listed<Endpoints>,
    pub pvcs: Listed<PersistentVolumeClaim>,
    pub hpas: Listed<HorizontalPodAutoscaler>,
    pub pdbs: Listed<PodDisruptionBudget>,
    pub jobs: Listed<Job>,
    pub cronjobs: Listed<CronJob>,
    pub configmaps: Listed<KeyedObject>,
    pub secrets: Listed<KeyedObject>,
    pub service_accounts: Listed<AccountRef>,
    pub nodes: Listed<Node>,
    pub pod_metrics: Listed<PodMetrics>,
    /// Tail of the previous container's log, already redacted.
    pub logs: BTreeMap<LogKey, String>,
    pub skipped: Vec<Skip>,
    /// Lazily built lookups so checks stay linear on 5,000-pod namespaces.
    pub index: Index,
}

#[derive(Debug, Default)]
pub struct Index {
    /// Owner of `pods[i]`.
    owners: OnceLock<Vec<ObjectRef>>,
    /// (kind, namespace, name) → positions in `events`.
    events: OnceLock<HashMap<(String, String, String), Vec<usize>>>,
    /// (namespace, pod) → position in `pod_metrics`.
    metrics: OnceLock<HashMap<(String, String), usize>>,
}

/// Borrow a listed vector as a slice (empty when not listed).
pub fn items<T>(l: &Listed<T>) -> &[T] {
    l.as_deref().unwrap_or(&[])
}

/// An object a finding points at: the suite's one reference type.
pub use common::ObjectRef;

pub fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}
pub fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}
pub fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let refs = meta.owner_references.as_deref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
}

impl Snapshot {
    /// The workload a pod belongs to, following Pod → ReplicaSet → Deployment.
    /// Pods without a controller stand for themselves.
    pub fn owner_of_pod(&self, pod: &Pod) -> ObjectRef {
        let owners = self.owners();
        // Callers pass pods from `self.pods`: find the position from the
        // address instead of a linear search (5,000 pods × several passes).
        let size = std::mem::size_of::<Pod>().max(1);
        let offset = (pod as *const Pod as usize).wrapping_sub(self.pods.as_ptr() as usize);
        let i = offset / size;
        if offset.is_multiple_of(size)
            && let Some(p) = self.pods.get(i)
            && std::ptr::eq(p, pod)
            && let Some(o) = owners.get(i)
        {
            return o.clone();
        }
        let rs: HashMap<(&str, &str), &ReplicaSet> = HashMap::new();
        resolve_owner(pod, &rs, self.replicasets.is_some())
    }

    fn owners(&self) -> &Vec<ObjectRef> {
        self.index.owners.get_or_init(|| {
            let rs: HashMap<(&str, &str), &ReplicaSet> = items(&self.replicasets)
                .iter()
                .map(|r| ((ns(&r.metadata), name(&r.metadata)), r))
                .collect();
            self.pods
                .iter()
                .map(|p| resolve_owner(p, &rs, self.replicasets.is_some()))
                .collect()
        })
    }

    /// Annotations of a namespaced object of one of the kinds triage reads.
    pub fn annotations(&self, key: &ObjectRef) -> Option<&BTreeMap<String, String>> {
        fn find<'a, T, F>(list: &'a [T], key: &ObjectRef, meta: F) -> Option<&'a ObjectMeta>
        where
            F: Fn(&'a T) -> &'a ObjectMeta,
        {
            list.iter().map(meta).find(|m| {
                name(m) == key.name && (ns(m) == key.namespace || key.namespace.is_empty())
            })
        }
        let meta = match key.kind.as_str() {
            "Pod" => find(&self.pods, key, |o| &o.metadata),
            "Deployment" => find(items(&self.deployments), key, |o| &o.metadata),
            "ReplicaSet" => find(items(&self.replicasets), key, |o| &o.metadata),
            "StatefulSet" => find(items(&self.statefulsets), key, |o| &o.metadata),
            "DaemonSet" => find(items(&self.daemonsets), key, |o| &o.metadata),
            "Service" => find(items(&self.services), key, |o| &o.metadata),
            "PersistentVolumeClaim" => find(items(&self.pvcs), key, |o| &o.metadata),
            "HorizontalPodAutoscaler" => find(items(&self.hpas), key, |o| &o.metadata),
            "PodDisruptionBudget" => find(items(&self.pdbs), key, |o| &o.metadata),
            "Job" => find(items(&self.jobs), key, |o| &o.metadata),
            "CronJob" => find(items(&self.cronjobs), key, |o| &o.metadata),
            "Node" => find(items(&self.nodes), key, |o| &o.metadata),
            _ => None,
        }?;
        meta.annotations.as_ref()
    }

    pub fn pods_of<'a>(&'a self, owner: &'a ObjectRef) -> impl Iterator<Item = &'a Pod> + 'a {
        self.pods
            .iter()
            .zip(self.owners().iter())
            .filter(move |(_, o)| *o == owner)
            .map(|(p, _)| p)
    }

    /// Events about one object.
    pub fn events_for<'a>(
        &'a self,
        kind: &str,
        namespace: &str,
        obj_name: &str,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        let index = self.index.events.get_or_init(|| {
            let mut m: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
            for (i, e) in items(&self.events).iter().enumerate() {
                let o = &e.involved_object;
                let namespace = o
                    .namespace
                    .clone()
                    .unwrap_or_else(|| ns(&e.metadata).to_string());
                m.entry((
                    o.kind.clone().unwrap_or_default(),
                    namespace,
                    o.name.clone().unwrap_or_default(),
                ))
                .or_default()
                .push(i);
            }
            m
        });
        let hits: &[usize] = index
            .get(&(
                kind.to_string(),
                namespace.to_string(),
                obj_name.to_string(),
            ))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let events = items(&self.events);
        hits.iter().filter_map(move |i| events.get(*i))
    }

    /// PodMetrics of one pod, when metrics are served.
    pub fn metrics_for(&self, namespace: &str, pod: &str) -> Option<&PodMetrics> {
        let index = self.index.metrics.get_or_init(|| {
            items(&self.pod_metrics)
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        (ns(&m.metadata).to_string(), name(&m.metadata).to_string()),
                        i,
                    )
                })
                .collect()
        });
        let i = index.get(&(namespace.to_string(), pod.to_string()))?;
        items(&self.pod_metrics).get(*i)
    }

    /// Number of workloads (controllers) seen, for the summary line.
    pub fn workload_count(&self) -> usize {
        items(&self.deployments).len()
            + items(&self.statefulsets).len()
            + items(&self.daemonsets).len()
            + items(&self.jobs).len()
            + items(&self.cronjobs).len()
    }
}

fn resolve_owner(pod: &Pod, rs: &HashMap<(&str, &str), &ReplicaSet>, rs_listed: bool) -> ObjectRef {
    let namespace = ns(&pod.metadata);
    let Some(owner) = controller_of(&pod.metadata) else {
        return ObjectRef::new("Pod", namespace, name(&pod.metadata));
    };
    if owner.kind == "ReplicaSet" {
        let set = rs.get(&(namespace, owner.name.as_str()));
        if let Some(dep) = set.and_then(|s| controller_of(&s.metadata))
            && dep.kind == "Deployment"
        {
            return ObjectRef::new("Deployment", namespace, &dep.name);
        }
        // ReplicaSets not listed: the pod-template-hash suffix names the
        // Deployment well enough for grouping.
        if (set.is_none() || !rs_listed)
            && let Some(hash) = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
            && let Some(dep) = owner.name.strip_suffix(&format!("-{hash}"))
        {
            return ObjectRef::new("Deployment", namespace, dep);
        }
    }
    ObjectRef::new(&owner.kind, namespace, &owner.name)
}

/// Last time an event happened (series, lastTimestamp, eventTime, creation).
pub fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

pub fn event_count(e: &Event) -> i32 {
    e.series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1)
}

/// Quantities live in `common` (drainplan's fit needs them too).
pub use common::quantity;
