//! The cluster as a plan sees it: plain views of nodes, pods, budgets and volumes, indexed
//! once (pods by node), built from the wire types by `collect` or from JSON in tests.
//!
//! Everything downstream (rules, fit, budgets, waves) is a pure function of a `Snapshot`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::ObjectRef;
use common::model::Skipped;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::resources::{Requests, pod_requests};
use crate::wire::{self, IntOrString, NodeSelectorTerm, PodAffinityTerm, Taint, Toleration};

/// A pod's controlling owner reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// Where a pod may run, as the scheduler reads it.
#[derive(Debug, Clone, Default)]
pub struct Scheduling {
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity terms; `None` when the pod has none (any node).
    pub node_affinity: Option<Vec<NodeSelectorTerm>>,
    pub tolerations: Vec<Toleration>,
    /// Required pod affinity terms.
    pub affinity: Vec<PodAffinityTerm>,
    /// Required pod anti-affinity terms.
    pub anti_affinity: Vec<PodAffinityTerm>,
}

/// One pod, reduced to what a plan needs.
#[derive(Debug, Clone)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    /// `spec.nodeName`; empty when not scheduled.
    pub node: String,
    pub phase: String,
    pub ready: bool,
    /// Has a deletionTimestamp.
    pub terminating: bool,
    pub labels: BTreeMap<String, String>,
    /// Only the annotations in [`wire::KEPT_ANNOTATIONS`].
    pub annotations: BTreeMap<String, String>,
    pub controller: Option<Controller>,
    /// The workload behind the pod (Deployment through its ReplicaSet), or the pod itself.
    pub workload: ObjectRef,
    pub requests: Requests,
    /// Names of emptyDir volumes.
    pub empty_dirs: Vec<String>,
    /// Paths of hostPath volumes.
    pub host_paths: Vec<String>,
    /// Names of the PersistentVolumeClaims it mounts.
    pub claims: Vec<String>,
    pub scheduling: Scheduling,
    /// Scheduled by the default scheduler (others are not ours to predict).
    pub default_scheduler: bool,
}

impl PodView {
    /// `pod/namespace/name` reference.
    pub fn object(&self) -> ObjectRef {
        ObjectRef::new("Pod", &self.namespace, &self.name)
    }

    /// `namespace/name`, as kubectl prints pods.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Succeeded or Failed: it will never run again.
    pub fn is_terminal(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }

    /// The pod counts toward its node's usage (bound and not finished).
    pub fn occupies_node(&self) -> bool {
        !self.node.is_empty() && !self.is_terminal()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

impl From<wire::Pod> for PodView {
    fn from(p: wire::Pod) -> Self {
        let meta = &p.metadata;
        let workload = common::model::workload_of(meta, |_, _| None);
        let controller = common::model::controller_of(meta).map(|o| Controller {
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
        });
        let ready = p
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        let requests = pod_requests(
            &p.spec.containers,
            &p.spec.init_containers,
            p.spec.overhead.as_ref(),
        );
        let mut empty_dirs = Vec::new();
        let mut host_paths = Vec::new();
        let mut claims = Vec::new();
        for v in &p.spec.volumes {
            if v.empty_dir.is_some() {
                empty_dirs.push(v.name.clone());
            }
            if let Some(h) = &v.host_path {
                host_paths.push(h.path.clone());
            }
            if let Some(c) = &v.persistent_volume_claim {
                claims.push(c.claim_name.clone());
            }
        }
        let affinity = p.spec.affinity.unwrap_or_default();
        let scheduling = Scheduling {
            node_selector: p.spec.node_selector.unwrap_or_default(),
            node_affinity: affinity
                .node_affinity
                .and_then(|n| n.required_during_scheduling_ignored_during_execution)
                .map(|s| s.node_selector_terms),
            tolerations: p.spec.tolerations,
            affinity: affinity
                .pod_affinity
                .map(|a| a.required_during_scheduling_ignored_during_execution)
                .unwrap_or_default(),
            anti_affinity: affinity
                .pod_anti_affinity
                .map(|a| a.required_during_scheduling_ignored_during_execution)
                .unwrap_or_default(),
        };
        let scheduler = p.spec.scheduler_name.as_deref().unwrap_or("");
        let meta = p.metadata;
        PodView {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
            resource_version: meta.resource_version.unwrap_or_default(),
            node: p.spec.node_name.unwrap_or_default(),
            phase: p.status.phase.unwrap_or_else(|| "Pending".to_string()),
            ready,
            terminating: meta.deletion_timestamp.is_some(),
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
            controller,
            workload,
            requests,
            empty_dirs,
            host_paths,
            claims,
            scheduling,
            default_scheduler: scheduler.is_empty() || scheduler == "default-scheduler",
        }
    }
}

/// One node, reduced to what a plan needs.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub labels: BTreeMap<String, String>,
    pub unschedulable: bool,
    pub taints: Vec<Taint>,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `status.allocatable` (else `capacity`); a resource not listed is 0, as the scheduler reads it.
    pub allocatable: Requests,
    pub allocatable_pods: i64,
    /// Our cordon annotation's value, when this tool cordoned the node.
    pub cordoned_by_us: Option<String>,
}

impl From<wire::Node> for NodeView {
    fn from(n: wire::Node) -> Self {
        let list = n
            .status
            .allocatable
            .as_ref()
            .or(n.status.capacity.as_ref())
            .cloned()
            .unwrap_or_default();
        let allocatable_pods = list
            .get("pods")
            .and_then(|q| common::quantity::parse_int(&q.0))
            .unwrap_or(0);
        let meta = n.metadata;
        let cordoned_by_us = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::node::CORDONED_ANNOTATION))
            .cloned();
        NodeView {
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
            resource_version: meta.resource_version.unwrap_or_default(),
            labels: meta.labels.unwrap_or_default(),
            unschedulable: n.spec.unschedulable.unwrap_or(false),
            taints: n.spec.taints,
            ready: n
                .status
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True"),
            allocatable: Requests::from_list(&list),
            allocatable_pods,
            cordoned_by_us,
        }
    }
}

/// A PodDisruptionBudget: its spec and the disruption controller's status.
#[derive(Debug, Clone)]
pub struct PdbView {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub generation: i64,
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    /// `unhealthyPodEvictionPolicy: AlwaysAllow`.
    pub always_allow_unhealthy: bool,
    pub observed_generation: Option<i64>,
    pub disruptions_allowed: i64,
    pub current_healthy: i64,
    pub desired_healthy: i64,
    pub expected_pods: i64,
}

impl PdbView {
    /// `pdb/namespace/name` reference.
    pub fn object(&self) -> ObjectRef {
        ObjectRef::new("PodDisruptionBudget", &self.namespace, &self.name)
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Does this budget cover `pod`? (Same namespace, selector matches.)
    pub fn covers(&self, pod: &PodView) -> bool {
        self.namespace == pod.namespace
            && crate::selector::selects(self.selector.as_ref(), &pod.labels)
    }
}

impl From<wire::PodDisruptionBudget> for PdbView {
    fn from(p: wire::PodDisruptionBudget) -> Self {
        let meta = p.metadata;
        PdbView {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
            generation: meta.generation.unwrap_or(1),
            selector: p.spec.selector,
            min_available: p.spec.min_available,
            max_unavailable: p.spec.max_unavailable,
            always_allow_unhealthy: p.spec.unhealthy_pod_eviction_policy.as_deref()
                == Some("AlwaysAllow"),
            observed_generation: p.status.observed_generation,
            disruptions_allowed: p.status.disruptions_allowed,
            current_healthy: p.status.current_healthy,
            desired_healthy: p.status.desired_healthy,
            expected_pods: p.status.expected_pods,
        }
    }
}

/// A PersistentVolume, as far as "is its data on one node" and "where may it be used".
#[derive(Debug, Clone, Default)]
pub struct PvView {
    pub name: String,
    /// `spec.local`: a local disk of one node.
    pub local: bool,
    /// `spec.hostPath.path`: a directory on one node.
    pub host_path: Option<String>,
    /// `spec.nodeAffinity.required` terms.
    pub node_affinity: Option<Vec<NodeSelectorTerm>>,
}

impl From<wire::PersistentVolume> for PvView {
    fn from(v: wire::PersistentVolume) -> Self {
        PvView {
            name: v.metadata.name.unwrap_or_default(),
            local: v.spec.local.is_some(),
            host_path: v.spec.host_path.map(|h| h.path),
            node_affinity: v
                .spec
                .node_affinity
                .and_then(|a| a.required)
                .map(|r| r.node_selector_terms),
        }
    }
}

/// Storage lookups: which PV a claim is bound to, and the PVs themselves.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    /// (namespace, claim) → bound PersistentVolume name.
    pub claims: HashMap<(String, String), String>,
    pub volumes: HashMap<String, PvView>,
}

/// The cluster state a plan is made from.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every node, sorted by name.
    pub nodes: Vec<NodeView>,
    /// Every pod in the cluster (fit needs usage on every node).
    pub pods: Vec<PodView>,
    pub pdbs: Vec<PdbView>,
    /// (namespace, name) of every DaemonSet; `None` when not listed (no target pod needs it).
    pub daemonsets: Option<BTreeSet<(String, String)>>,
    /// Claims and volumes; `None` when not listed (no target pod mounts a claim).
    pub storage: Option<Storage>,
    /// Namespace labels; `None` when no affinity term needs them.
    pub namespaces: Option<HashMap<String, BTreeMap<String, String>>>,
    /// Lists that could not be made (RBAC), and what the plan could not check because of it.
    pub skipped: Vec<Skipped>,
    /// The pod list's resourceVersion (where a watch of later changes starts).
    pub pods_resource_version: Option<String>,
    node_index: HashMap<String, usize>,
    pods_by_node: HashMap<String, Vec<usize>>,
}

impl Snapshot {
    /// A snapshot of these objects; the optional lookups are filled in later by `collect`.
    pub fn new(mut nodes: Vec<NodeView>, pods: Vec<PodView>, pdbs: Vec<PdbView>) -> Self {
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let node_index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut pods_by_node: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in pods.iter().enumerate() {
            if !p.node.is_empty() {
                pods_by_node.entry(p.node.clone()).or_default().push(i);
            }
        }
        // Pods on a node in a stable order: namespace, then name.
        for list in pods_by_node.values_mut() {
            list.sort_by(|&a, &b| {
                (&pods[a].namespace, &pods[a].name).cmp(&(&pods[b].namespace, &pods[b].name))
            });
        }
        Snapshot {
            nodes,
            pods,
            pdbs,
            node_index,
            pods_by_node,
            ..Snapshot::default()
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.node_index.get(name).map(|&i| &self.nodes[i])
    }

    /// Every pod bound to `node` (any phase), by namespace and name.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a PodView> + 'a {
        self.pods_by_node
            .get(node)
            .into_iter()
            .flatten()
            .map(|&i| &self.pods[i])
    }

    /// The budgets covering `pod`.
    pub fn pdbs_for(&self, pod: &PodView) -> Vec<&PdbView> {
        self.pdbs.iter().filter(|b| b.covers(pod)).collect()
    }

    /// The PersistentVolume bound to `claim` in the pod's namespace, when known.
    pub fn volume_of(&self, pod: &PodView, claim: &str) -> Option<&PvView> {
        let storage = self.storage.as_ref()?;
        let pv = storage
            .claims
            .get(&(pod.namespace.clone(), claim.to_string()))?;
        storage.volumes.get(pv)
    }

    /// Does the DaemonSet `namespace/name` exist? `None` when DaemonSets were not listed.
    pub fn daemonset_exists(&self, namespace: &str, name: &str) -> Option<bool> {
        self.daemonsets
            .as_ref()
            .map(|s| s.contains(&(namespace.to_string(), name.to_string())))
    }
}

#[cfg(test)]
pub mod test_support {
    //! Snapshots from Kubernetes-shaped JSON, for the unit tests of every stage.
    use super::*;
    use serde_json::Value;

    /// Build a snapshot from objects with `kind` set (Node, Pod, PodDisruptionBudget,
    /// DaemonSet, PersistentVolumeClaim, PersistentVolume, Namespace).
    pub fn snapshot(objects: &[Value]) -> Snapshot {
        fn of<'v>(objects: &'v [Value], kind: &'static str) -> impl Iterator<Item = Value> + 'v {
            objects.iter().filter(move |o| o["kind"] == kind).cloned()
        }
        let of = |kind: &'static str| of(objects, kind);
        let nodes = of("Node")
            .map(|v| NodeView::from(serde_json::from_value::<wire::Node>(v).expect("node")))
            .collect();
        let pods = of("Pod")
            .map(|v| PodView::from(serde_json::from_value::<wire::Pod>(v).expect("pod")))
            .collect();
        let pdbs = of("PodDisruptionBudget")
            .map(|v| {
                PdbView::from(serde_json::from_value::<wire::PodDisruptionBudget>(v).expect("pdb"))
            })
            .collect();
        let mut snap = Snapshot::new(nodes, pods, pdbs);
        snap.daemonsets = Some(
            of("DaemonSet")
                .map(|v| {
                    let d: wire::DaemonSet = serde_json::from_value(v).expect("ds");
                    (
                        d.metadata.namespace.unwrap_or_default(),
                        d.metadata.name.unwrap_or_default(),
                    )
                })
                .collect(),
        );
        let mut storage = Storage::default();
        for v in of("PersistentVolumeClaim") {
            let c: wire::PersistentVolumeClaim = serde_json::from_value(v).expect("pvc");
            if let Some(pv) = c.spec.volume_name {
                storage.claims.insert(
                    (
                        c.metadata.namespace.unwrap_or_default(),
                        c.metadata.name.unwrap_or_default(),
                    ),
                    pv,
                );
            }
        }
        for v in of("PersistentVolume") {
            let pv = PvView::from(serde_json::from_value::<wire::PersistentVolume>(v).expect("pv"));
            storage.volumes.insert(pv.name.clone(), pv);
        }
        snap.storage = Some(storage);
        snap.namespaces = Some(
            of("Namespace")
                .map(|v| {
                    let n: wire::Namespace = serde_json::from_value(v).expect("ns");
                    (
                        n.metadata.name.unwrap_or_default(),
                        n.metadata.labels.unwrap_or_default(),
                    )
                })
                .collect(),
        );
        snap
    }

    /// A Ready node with `cpu` cores, `mem` bytes and room for `pods` pods.
    pub fn node(name: &str, cpu: &str, mem: &str, pods: u32) -> Value {
        serde_json::json!({
            "kind": "Node",
            "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1",
                         "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods.to_string()},
                       "conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    /// A Running, Ready pod of ReplicaSet `rs` (label `app: <rs>`) on `node` requesting
    /// `cpu`/`mem`.
    pub fn pod(ns: &str, name: &str, node: &str, rs: &str, cpu: &str, mem: &str) -> Value {
        serde_json::json!({
            "kind": "Pod",
            "metadata": {"namespace": ns, "name": name, "uid": format!("uid-{ns}-{name}"),
                         "resourceVersion": "1", "labels": {"app": rs},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                              "uid": format!("uid-rs-{rs}"), "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x",
                     "resources": {"requests": {"cpu": cpu, "memory": mem}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    /// A PDB over `app: <app>` with the given status numbers.
    pub fn pdb(ns: &str, app: &str, min: i64, allowed: i64, healthy: i64, expected: i64) -> Value {
        serde_json::json!({
            "kind": "PodDisruptionBudget",
            "metadata": {"namespace": ns, "name": app, "uid": format!("uid-pdb-{app}"), "generation": 1},
            "spec": {"minAvailable": min, "selector": {"matchLabels": {"app": app}}},
            "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                       "desiredHealthy": min, "expectedPods": expected}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use serde_json::json;

    #[test]
    fn views_and_indexes() {
        let mut bare = pod("shop", "b", "n1", "x", "1", "1Gi");
        bare["metadata"]["ownerReferences"] = json!([]);
        bare["spec"]["volumes"] = json!([{"name": "tmp", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/var/log"}}]);
        let snap = snapshot(&[
            node("n2", "4", "8Gi", 110),
            node("n1", "4", "8Gi", 110),
            pod("shop", "web-2", "n1", "web-7c9d8f6b5", "250m", "256Mi"),
            pod("shop", "web-1", "n1", "web-7c9d8f6b5", "250m", "256Mi"),
            bare,
            pdb("shop", "web-7c9d8f6b5", 1, 1, 2, 2),
        ]);
        assert_eq!(snap.nodes[0].name, "n1", "nodes sorted");
        assert_eq!(snap.node("n2").map(|n| n.allocatable.cpu), Some(4000));
        let on: Vec<_> = snap.pods_on("n1").map(|p| p.name.as_str()).collect();
        assert_eq!(on, ["b", "web-1", "web-2"]);
        let web = &snap.pods[1];
        assert_eq!(web.workload.to_string(), "replicaset/shop/web-7c9d8f6b5");
        assert_eq!(snap.pdbs_for(web).len(), 1);
        let b = snap.pods.iter().find(|p| p.name == "b").expect("b");
        assert!(b.controller.is_none());
        assert_eq!(b.empty_dirs, ["tmp"]);
        assert_eq!(b.host_paths, ["/var/log"]);
        assert_eq!(b.requests.memory, 1 << 30);
    }
}
