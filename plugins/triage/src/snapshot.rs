//! The snapshot: everything triage read from the cluster, as plain data, with
//! each pod classified once ([`Snapshot::settle`]). Checks are pure functions over it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::DynamicObject;
use serde::Deserialize;

use crate::context::Context;
use crate::podstate::{LogKey, PodState, classify};

/// A list that may not have been read: `None` when the list was forbidden or
/// not served, so checks never mistake "could not look" for "absent".
pub type Listed<T> = Option<Vec<T>>;

/// An object a finding points at: the suite's one reference type.
pub use common::ObjectRef;
/// Quantities live in `common` (drainplan's fit needs them too).
pub use common::quantity;

/// A ConfigMap or Secret reduced to its key names: values are dropped as
/// soon as they are read so secret values never live past collection.
#[derive(Debug, Clone, Default)]
pub struct KeyedObject {
    pub namespace: String,
    pub name: String,
    pub keys: BTreeSet<String>,
    /// Last time it was written (newest managedFields entry, else creation).
    pub changed: Option<jiff::Timestamp>,
}

impl KeyedObject {
    pub fn from_meta(meta: &ObjectMeta, keys: BTreeSet<String>) -> Self {
        let created = meta.creation_timestamp.as_ref().map(|t| t.0);
        let written = meta
            .managed_fields
            .iter()
            .flatten()
            .filter_map(|m| m.time.as_ref().map(|t| t.0))
            .max();
        KeyedObject {
            namespace: ns(meta).to_string(),
            name: name(meta).to_string(),
            keys,
            changed: written.max(created),
        }
    }
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

/// A core/v1 Event reduced to what the checks read.
#[derive(Debug, Clone, Default)]
pub struct EventRecord {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub reason: String,
    pub message: String,
    pub warning: bool,
    pub count: i32,
    /// Last time it happened (series, lastTimestamp, eventTime, creation).
    pub time: Option<jiff::Timestamp>,
}

impl EventRecord {
    pub fn from_event(e: Event) -> Self {
        let time = e
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
            .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
            .or_else(|| e.event_time.as_ref().map(|t| t.0))
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let count = e
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(e.count)
            .unwrap_or(1)
            .max(1);
        let o = e.involved_object;
        EventRecord {
            kind: o.kind.unwrap_or_default(),
            namespace: o.namespace.or(e.metadata.namespace).unwrap_or_default(),
            name: o.name.unwrap_or_default(),
            uid: o.uid.unwrap_or_default(),
            reason: e.reason.unwrap_or_default(),
            message: e.message.unwrap_or_default(),
            warning: e.type_.as_deref() == Some("Warning"),
            count,
            time,
        }
    }
}

/// A discovery.k8s.io/v1 EndpointSlice reduced to its Service and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SliceSummary {
    pub namespace: String,
    /// The `kubernetes.io/service-name` label.
    pub service: String,
    pub ready: usize,
    pub total: usize,
}

impl SliceSummary {
    pub fn from_slice(s: k8s_openapi::api::discovery::v1::EndpointSlice) -> Self {
        // A nil `ready` means "unknown" and consumers treat it as ready.
        let ready = s
            .endpoints
            .iter()
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
            .count();
        SliceSummary {
            namespace: ns(&s.metadata).to_string(),
            service: s
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .cloned()
                .unwrap_or_default(),
            ready,
            total: s.endpoints.len(),
        }
    }
}

/// One webhook of a Validating/MutatingWebhookConfiguration.
#[derive(Debug, Clone, Default)]
pub struct Webhook {
    pub name: String,
    /// `Fail` (the v1 default) or `Ignore`.
    pub failure_policy: String,
    /// The Service it calls (namespace, name, port); `None` for a URL webhook.
    pub service: Option<(String, String, i32)>,
    pub namespace_selector: Option<LabelSelector>,
    pub object_selector: Option<LabelSelector>,
    /// "CREATE,UPDATE deployments.apps, pods" for people.
    pub rules: Vec<String>,
}

/// A Validating/MutatingWebhookConfiguration reduced to its webhooks.
#[derive(Debug, Clone, Default)]
pub struct WebhookConfig {
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub webhooks: Vec<Webhook>,
}

/// What is known about a Service outside the listed namespaces (webhook backends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceHealth {
    Missing,
    /// Ready endpoints of how many (from its EndpointSlices).
    Endpoints {
        ready: usize,
        total: usize,
    },
}

/// A PVC's usage from the kubelet's stats summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeUsage {
    pub namespace: String,
    pub claim: String,
    pub node: String,
    pub pod: String,
    pub used_bytes: u64,
    pub capacity_bytes: u64,
}

impl VolumeUsage {
    /// The runbooks alert at 85% full and page at 95%.
    pub const NEAR_FULL: f64 = 0.85;
    pub const FULL: f64 = 0.95;

    /// Used share of the capacity (0 when the capacity is unknown).
    pub fn fraction(&self) -> f64 {
        if self.capacity_bytes == 0 {
            return 0.0;
        }
        self.used_bytes as f64 / self.capacity_bytes as f64
    }
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

#[derive(Debug, Default)]
pub struct Snapshot {
    pub now: jiff::Timestamp,
    /// Pods, summarised as listed and classified by [`Snapshot::settle`].
    pub pods: Vec<PodState>,
    /// False when `-l` filtered the lists (pods, workloads, services, PVCs,
    /// ingresses): "no pod matches" and "does not exist" are then no claims.
    pub complete: bool,
    /// The namespace looked at; `None` with `-A`.
    pub scope_namespace: Option<String>,
    pub events: Listed<EventRecord>,
    pub deployments: Listed<Deployment>,
    pub replicasets: Listed<ReplicaSet>,
    pub statefulsets: Listed<StatefulSet>,
    pub daemonsets: Listed<DaemonSet>,
    pub controller_revisions: Listed<ControllerRevision>,
    pub services: Listed<Service>,
    pub endpoint_slices: Listed<SliceSummary>,
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
    pub ingresses: Listed<Ingress>,
    /// IngressClass names (listed only when an Ingress names one).
    pub ingress_classes: Listed<String>,
    pub network_policies: Listed<NetworkPolicy>,
    pub webhooks: Listed<WebhookConfig>,
    /// Webhook backends outside the listed namespaces, read one by one.
    pub webhook_services: BTreeMap<(String, String), ServiceHealth>,
    /// Labels of the namespaces in scope (and of all namespaces with `-A`
    /// when a webhook's namespaceSelector needs them).
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// gateway.networking.k8s.io/v1: `None` when not served (or forbidden).
    pub gateway_classes: Listed<DynamicObject>,
    pub gateways: Listed<DynamicObject>,
    pub http_routes: Listed<DynamicObject>,
    /// Read only when a PVC is near full (for the expansion command).
    pub storage_classes: Listed<StorageClass>,
    /// Mounted PVCs' usage from the kubelet stats of the nodes running them.
    pub volume_usage: Listed<VolumeUsage>,
    /// Tail of the previous container's log (redacted when it becomes evidence).
    pub logs: BTreeMap<LogKey, String>,
    pub skipped: Vec<Skip>,
    index: Index,
}

/// Lookups built once by [`Snapshot::settle`], so checks stay linear on big clusters.
#[derive(Debug, Default)]
struct Index {
    pod_by_uid: HashMap<String, usize>,
    pod_by_name: HashMap<(String, String), usize>,
    pods_by_owner: HashMap<ObjectRef, Vec<usize>>,
    pods_by_namespace: HashMap<String, Vec<usize>>,
    /// (kind, namespace, name) → positions in `events`.
    events: HashMap<(String, String, String), Vec<usize>>,
    /// (namespace, pod) → position in `pod_metrics`.
    metrics: HashMap<(String, String), usize>,
    /// (namespace, service) → (ready, total) endpoints over its EndpointSlices.
    endpoints: HashMap<(String, String), (usize, usize)>,
    failed_nodes: HashSet<String>,
}

/// Borrow a listed vector as a slice (empty when not listed).
pub fn items<T>(l: &Listed<T>) -> &[T] {
    l.as_deref().unwrap_or(&[])
}

pub fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}
pub fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}
pub fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

/// The object's controller (`controller: true`), as the suite resolves owners.
pub use common::model::controller_of;

/// A node whose Ready condition is not True (NotReady or Unknown).
pub fn node_failed(node: &Node) -> bool {
    node.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "Ready" && c.status != "True")
}

fn find_meta<'a, T>(
    list: &'a Listed<T>,
    meta: fn(&T) -> &ObjectMeta,
    namespace: &str,
    obj: &str,
) -> Option<&'a T> {
    items(list)
        .iter()
        .find(|o| ns(meta(o)) == namespace && name(meta(o)) == obj)
}

impl Snapshot {
    /// Build the lookups, resolve each pod's workload and classify it, once.
    pub fn settle(&mut self, ctx: &Context) {
        let mut index = Index::default();
        for (i, e) in items(&self.events).iter().enumerate() {
            index
                .events
                .entry((e.kind.clone(), e.namespace.clone(), e.name.clone()))
                .or_default()
                .push(i);
        }
        for (i, m) in items(&self.pod_metrics).iter().enumerate() {
            index.metrics.insert(
                (ns(&m.metadata).to_string(), name(&m.metadata).to_string()),
                i,
            );
        }
        for s in items(&self.endpoint_slices) {
            let e = index
                .endpoints
                .entry((s.namespace.clone(), s.service.clone()))
                .or_default();
            e.0 += s.ready;
            e.1 += s.total;
        }
        index.failed_nodes = items(&self.nodes)
            .iter()
            .filter(|n| node_failed(n))
            .map(|n| name(&n.metadata).to_string())
            .collect();
        // ReplicaSet (namespace, name) → its controller, for Pod → Deployment.
        let rs_owner: HashMap<
            (&str, &str),
            Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
        > = items(&self.replicasets)
            .iter()
            .map(|r| {
                (
                    (ns(&r.metadata), name(&r.metadata)),
                    controller_of(&r.metadata),
                )
            })
            .collect();
        let owners: Vec<ObjectRef> =
            self.pods
                .iter()
                .map(|p| {
                    let pod = &p.pod;
                    let meta = ObjectMeta {
                        namespace: Some(pod.namespace.clone()),
                        name: Some(pod.name.clone()),
                        owner_references: pod.controller.as_ref().map(|c| {
                            vec![
                                k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                                    kind: c.kind.clone(),
                                    name: c.name.clone(),
                                    uid: c.uid.clone(),
                                    controller: Some(true),
                                    ..Default::default()
                                },
                            ]
                        }),
                        labels: pod.labels.get("pod-template-hash").map(|h| {
                            BTreeMap::from([("pod-template-hash".to_string(), h.clone())])
                        }),
                        ..ObjectMeta::default()
                    };
                    common::model::workload_of(&meta, |n, r| rs_owner.get(&(n, r)).copied())
                })
                .collect();
        for (i, (state, owner)) in self.pods.iter_mut().zip(owners).enumerate() {
            index.pod_by_uid.insert(state.pod.uid.clone(), i);
            index
                .pod_by_name
                .insert((state.pod.namespace.clone(), state.pod.name.clone()), i);
            index
                .pods_by_owner
                .entry(owner.clone())
                .or_default()
                .push(i);
            index
                .pods_by_namespace
                .entry(state.pod.namespace.clone())
                .or_default()
                .push(i);
            state.owner = owner;
            state.on_failed_node = state
                .pod
                .node
                .as_ref()
                .is_some_and(|n| index.failed_nodes.contains(n));
        }
        self.index = index;
        let issues: Vec<_> = self
            .pods
            .iter()
            .map(|p| {
                if p.on_failed_node {
                    Vec::new()
                } else {
                    classify(self, ctx, &p.pod)
                }
            })
            .collect();
        for (p, i) in self.pods.iter_mut().zip(issues) {
            p.issues = i;
        }
    }

    pub fn pod_by_uid(&self, uid: &str) -> Option<&PodState> {
        self.pods.get(*self.index.pod_by_uid.get(uid)?)
    }

    pub fn pod(&self, namespace: &str, pod: &str) -> Option<&PodState> {
        let i = self
            .index
            .pod_by_name
            .get(&(namespace.to_string(), pod.to_string()))?;
        self.pods.get(*i)
    }

    /// Pods of a workload (or the pod itself for a bare pod).
    pub fn pods_of<'a>(&'a self, owner: &ObjectRef) -> impl Iterator<Item = &'a PodState> + 'a {
        self.index
            .pods_by_owner
            .get(owner)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| self.pods.get(*i))
    }

    /// Pods of one namespace.
    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a PodState> + 'a {
        self.index
            .pods_by_namespace
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| self.pods.get(*i))
    }

    /// Pods a Service's selector picks (none for a Service without selector).
    pub fn pods_behind<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a PodState> + 'a {
        let selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty());
        self.pods_in(ns(&svc.metadata))
            .filter(move |p| {
                selector.is_some_and(|sel| sel.iter().all(|(k, v)| p.pod.labels.get(k) == Some(v)))
            })
            .filter(|p| !p.pod.deleting)
    }

    /// Whether objects of this namespace were listed (always with `-A`).
    pub fn in_scope(&self, namespace: &str) -> bool {
        self.scope_namespace
            .as_deref()
            .is_none_or(|n| n == namespace)
    }

    /// Whether a Service exists and how many endpoints are ready: from its
    /// EndpointSlices, else from the readiness of the pods it selects. `None`
    /// when it cannot be told (not listed, not looked up).
    pub fn service_health(&self, namespace: &str, svc: &str) -> Option<ServiceHealth> {
        let looked_up = self
            .webhook_services
            .get(&(namespace.to_string(), svc.to_string()))
            .copied();
        if looked_up.is_some() || !self.in_scope(namespace) || !self.complete {
            return looked_up;
        }
        self.services.as_ref()?;
        let Some(service) = self.service(namespace, svc) else {
            return Some(ServiceHealth::Missing);
        };
        let (ready, total) = self.endpoints_of(namespace, svc).unwrap_or_else(|| {
            let pods: Vec<&PodState> = self.pods_behind(service).collect();
            (pods.iter().filter(|p| p.pod.ready).count(), pods.len())
        });
        Some(ServiceHealth::Endpoints { ready, total })
    }

    /// Events about one object.
    pub fn events_for<'a>(
        &'a self,
        kind: &str,
        namespace: &str,
        obj_name: &str,
    ) -> impl Iterator<Item = &'a EventRecord> + 'a {
        let hits: &[usize] = self
            .index
            .events
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
        let i = self
            .index
            .metrics
            .get(&(namespace.to_string(), pod.to_string()))?;
        items(&self.pod_metrics).get(*i)
    }

    /// A container's current usage of `memory` (bytes) or `cpu` (cores).
    pub fn container_usage(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        resource: &str,
    ) -> Option<f64> {
        let m = self.metrics_for(namespace, pod)?;
        let c = m.containers.iter().find(|c| c.name == container)?;
        quantity::parse(&c.usage.get(resource)?.0)
    }

    /// Ready and total endpoints of a Service over its EndpointSlices;
    /// `None` when slices were not listed or the Service has none.
    pub fn endpoints_of(&self, namespace: &str, service: &str) -> Option<(usize, usize)> {
        self.endpoint_slices.as_ref()?;
        self.index
            .endpoints
            .get(&(namespace.to_string(), service.to_string()))
            .copied()
    }

    pub fn node(&self, node: &str) -> Option<&Node> {
        items(&self.nodes)
            .iter()
            .find(|n| name(&n.metadata) == node)
    }

    /// Whether a node is NotReady/Unknown.
    pub fn is_failed_node(&self, node: &str) -> bool {
        self.index.failed_nodes.contains(node)
    }

    pub fn pvc(&self, namespace: &str, claim: &str) -> Option<&PersistentVolumeClaim> {
        find_meta(&self.pvcs, |o| &o.metadata, namespace, claim)
    }

    /// A claim's StorageClass: the one it names, else the cluster default.
    pub fn storage_class(&self, named: Option<&str>) -> Option<&StorageClass> {
        let classes = items(&self.storage_classes);
        match named {
            Some(n) => classes.iter().find(|c| name(&c.metadata) == n),
            None => classes.iter().find(|c| {
                c.metadata.annotations.as_ref().is_some_and(|a| {
                    a.get("storageclass.kubernetes.io/is-default-class")
                        .is_some_and(|v| v == "true")
                })
            }),
        }
    }

    /// Whether a Service missing from the list is really absent (listed, unfiltered, in scope).
    pub fn knows_services_of(&self, namespace: &str) -> bool {
        self.services.is_some() && self.complete && self.in_scope(namespace)
    }

    pub fn service(&self, namespace: &str, svc: &str) -> Option<&Service> {
        find_meta(&self.services, |o| &o.metadata, namespace, svc)
    }

    /// Metadata of a namespaced (or cluster-scoped, empty namespace) object
    /// of one of the kinds triage reads, matched by (namespace, name).
    fn meta_of(&self, key: &ObjectRef) -> Option<&ObjectMeta> {
        let (n, o) = (key.namespace.as_str(), key.name.as_str());
        match key.kind.as_str() {
            "Deployment" => {
                find_meta(&self.deployments, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "ReplicaSet" => {
                find_meta(&self.replicasets, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "StatefulSet" => {
                find_meta(&self.statefulsets, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "DaemonSet" => find_meta(&self.daemonsets, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "Service" => find_meta(&self.services, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "PersistentVolumeClaim" => {
                find_meta(&self.pvcs, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "HorizontalPodAutoscaler" => {
                find_meta(&self.hpas, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "PodDisruptionBudget" => {
                find_meta(&self.pdbs, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "Job" => find_meta(&self.jobs, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "CronJob" => find_meta(&self.cronjobs, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "Node" => find_meta(&self.nodes, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "Ingress" => find_meta(&self.ingresses, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "NetworkPolicy" => {
                find_meta(&self.network_policies, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "Gateway" => find_meta(&self.gateways, |x| &x.metadata, n, o).map(|x| &x.metadata),
            "GatewayClass" => {
                find_meta(&self.gateway_classes, |x| &x.metadata, n, o).map(|x| &x.metadata)
            }
            "HTTPRoute" => find_meta(&self.http_routes, |x| &x.metadata, n, o).map(|x| &x.metadata),
            _ => None,
        }
    }

    /// The ignore annotation of an object, matched by kind and (namespace, name).
    pub fn ignore_annotation(&self, key: &ObjectRef) -> Option<&str> {
        if key.kind == "Pod" {
            return self.pod(&key.namespace, &key.name)?.pod.ignore.as_deref();
        }
        self.meta_of(key)?
            .annotations
            .as_ref()?
            .get(crate::podstate::IGNORE_ANNOTATION)
            .map(String::as_str)
    }

    /// The UID of an object triage listed, when known.
    pub fn uid_of(&self, key: &ObjectRef) -> Option<String> {
        if key.kind == "Pod" {
            return self
                .pod(&key.namespace, &key.name)
                .map(|p| p.pod.uid.clone());
        }
        self.meta_of(key)?.uid.clone()
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
