//! Where an evicted pod's replacement can run: the default scheduler's filters, in its order,
//! over the nodes that stay schedulable, with exact integer resources and its messages.
//!
//! Filters per node, stopping at the first that rejects (as the scheduler framework does):
//! NodeUnschedulable (cordoned, or being drained), TaintToleration (NoSchedule/NoExecute; a
//! NotReady node counts as tainted `node.kubernetes.io/not-ready`), NodeAffinity
//! (nodeSelector + required node affinity), NodeResourcesFit (pods, cpu, memory,
//! ephemeral-storage, extended resources; every shortfall reported), VolumeBinding (a bound
//! PersistentVolume's node affinity), InterPodAffinity (required affinity, the pod's
//! anti-affinity, existing pods' anti-affinity; any topology key). Pods are placed one after
//! another, so each sees the room the previous ones took.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::resources::Requests;
use crate::selector;
use crate::snapshot::{NodeView, PodView, Snapshot};
use crate::wire::{PodAffinityTerm, Taint, Toleration};

pub const UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const TOO_MANY_PODS: &str = "Too many pods";
pub const VOLUME_AFFINITY: &str = "node(s) had volume node affinity conflict";
pub const AFFINITY_RULES: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_RULES: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

/// Why no node takes a pod: the scheduler's per-reason node counts and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Reason → number of nodes rejecting for it.
    pub reasons: BTreeMap<String, usize>,
    /// `0/5 nodes are available: 2 Insufficient cpu, 3 node(s) were unschedulable.`
    pub message: String,
}

/// Does `tolerations` tolerate `taint` (`Toleration.ToleratesTaint`)?
pub fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect = t.effect.as_deref().unwrap_or("");
        if !effect.is_empty() && effect != taint.effect {
            return false;
        }
        let key = t.key.as_deref().unwrap_or("");
        if !key.is_empty() && key != taint.key {
            return false;
        }
        match t.operator.as_deref().unwrap_or("") {
            "" | "Equal" => {
                t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
            }
            "Exists" => true,
            _ => false,
        }
    })
}

/// Which namespaces an affinity term looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Namespaces {
    All,
    Some(BTreeSet<String>),
}

/// An affinity term with its namespaces and label keys resolved against the pod carrying it.
#[derive(Debug, Clone)]
struct Term {
    namespaces: Namespaces,
    selector: Option<LabelSelector>,
    topology_key: String,
    /// A stable identity for caching counts.
    id: String,
}

impl Term {
    fn resolve(t: &PodAffinityTerm, owner: &PodView, snap: &Snapshot) -> Term {
        let mut selector = t.label_selector.clone();
        for (keys, operator) in [
            (&t.match_label_keys, "In"),
            (&t.mismatch_label_keys, "NotIn"),
        ] {
            for key in keys {
                if let (Some(sel), Some(v)) = (selector.as_mut(), owner.labels.get(key)) {
                    sel.match_expressions.get_or_insert_with(Vec::new).push(
                        LabelSelectorRequirement {
                            key: key.clone(),
                            operator: operator.to_string(),
                            values: Some(vec![v.clone()]),
                        },
                    );
                }
            }
        }
        let mut listed: BTreeSet<String> = t.namespaces.iter().cloned().collect();
        let namespaces = match &t.namespace_selector {
            Some(sel) if selector::is_empty(sel) => Namespaces::All,
            Some(sel) => {
                for (ns, labels) in snap.namespaces.iter().flatten() {
                    if selector::selects(Some(sel), labels) {
                        listed.insert(ns.clone());
                    }
                }
                Namespaces::Some(listed)
            }
            None if listed.is_empty() => {
                Namespaces::Some(BTreeSet::from([owner.namespace.clone()]))
            }
            None => Namespaces::Some(listed),
        };
        let id = format!("{namespaces:?}|{selector:?}|{}", t.topology_key);
        Term {
            namespaces,
            selector,
            topology_key: t.topology_key.clone(),
            id,
        }
    }

    fn matches(&self, pod: &PodView) -> bool {
        let ns_ok = match &self.namespaces {
            Namespaces::All => true,
            Namespaces::Some(set) => set.contains(&pod.namespace),
        };
        ns_ok && selector::selects(self.selector.as_ref(), &pod.labels)
    }
}

/// An existing pod's required anti-affinity term and the topology value of its node.
struct ExistingAnti {
    term: Term,
    /// The value of `term.topology_key` on the pod's node (`None`: the node lacks it).
    domain: Option<String>,
    uid: String,
}

/// Matching pods per topology value for one term, kept current as pods move.
struct TermCounts {
    term: Term,
    per_domain: HashMap<String, i64>,
}

/// Placing pods one by one on the nodes that stay schedulable.
pub struct Fit<'a> {
    snap: &'a Snapshot,
    /// Nodes being drained: never destinations.
    excluded: HashSet<String>,
    /// Per node: requested resources and pod count (bound, unfinished pods).
    used: HashMap<String, (Requests, i64)>,
    /// Where pods that moved are now (uid → node; empty: gone, being replaced).
    moved: HashMap<String, String>,
    /// Cached per-term counts (by term id).
    counts: HashMap<String, TermCounts>,
    /// Existing pods' required anti-affinity terms ...
    existing_anti: Vec<ExistingAnti>,
    /// ... by the namespace they look at (terms over every namespace under `None`) ...
    anti_by_namespace: HashMap<Option<String>, Vec<usize>>,
    /// ... and by the uid of the pod carrying them.
    anti_by_uid: HashMap<String, Vec<usize>>,
    /// Bound, unfinished pods by namespace (affinity terms rarely look beyond their own).
    pods_by_namespace: HashMap<&'a str, Vec<&'a PodView>>,
}

/// The per-pod facts every node is checked against.
struct Candidate<'p> {
    pod: &'p PodView,
    affinity: Vec<Term>,
    anti: Vec<Term>,
    /// (topology key, value) pairs where an existing pod's anti-affinity forbids this pod.
    forbidden: HashSet<(String, String)>,
    /// The pod has affinity to itself and no pod matches its terms yet: the first of a
    /// series may go anywhere with the topology labels.
    first_of_series: bool,
}

/// Per node: the requests and number of the pods bound to it and not finished (what the
/// scheduler counts as used).
pub fn usage(snap: &Snapshot) -> HashMap<String, (Requests, i64)> {
    let mut used: HashMap<String, (Requests, i64)> = HashMap::new();
    for p in snap.pods.iter().filter(|p| p.occupies_node()) {
        let e = used.entry(p.node.clone()).or_default();
        e.0.add(&p.requests);
        e.1 += 1;
    }
    used
}

impl<'a> Fit<'a> {
    /// The cluster of `snap` with `excluded` nodes (the ones being drained) taken out.
    pub fn new(snap: &'a Snapshot, excluded: impl IntoIterator<Item = String>) -> Self {
        let used = usage(snap);
        let mut existing_anti = Vec::new();
        let mut anti_by_namespace: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        let mut anti_by_uid: HashMap<String, Vec<usize>> = HashMap::new();
        let mut pods_by_namespace: HashMap<&str, Vec<&PodView>> = HashMap::new();
        for p in snap.pods.iter().filter(|p| p.occupies_node()) {
            pods_by_namespace
                .entry(p.namespace.as_str())
                .or_default()
                .push(p);
            for t in &p.scheduling.anti_affinity {
                let term = Term::resolve(t, p, snap);
                let domain = snap
                    .node(&p.node)
                    .and_then(|n| n.labels.get(&term.topology_key))
                    .cloned();
                let i = existing_anti.len();
                match &term.namespaces {
                    Namespaces::All => anti_by_namespace.entry(None).or_default().push(i),
                    Namespaces::Some(set) => {
                        for ns in set {
                            anti_by_namespace
                                .entry(Some(ns.clone()))
                                .or_default()
                                .push(i);
                        }
                    }
                }
                anti_by_uid.entry(p.uid.clone()).or_default().push(i);
                existing_anti.push(ExistingAnti {
                    term,
                    domain,
                    uid: p.uid.clone(),
                });
            }
        }
        Fit {
            snap,
            excluded: excluded.into_iter().collect(),
            used,
            moved: HashMap::new(),
            counts: HashMap::new(),
            existing_anti,
            anti_by_namespace,
            anti_by_uid,
            pods_by_namespace,
        }
    }

    /// Requested resources and pod count on `node` now.
    pub fn used(&self, node: &str) -> (Requests, i64) {
        self.used.get(node).cloned().unwrap_or_default()
    }

    /// The nodes that can receive pods at all: not being drained, not cordoned, Ready.
    pub fn destinations(&self) -> Vec<&'a NodeView> {
        let snap: &'a Snapshot = self.snap;
        snap.nodes
            .iter()
            .filter(|n| !self.excluded.contains(&n.name) && !n.unschedulable && n.ready)
            .collect()
    }

    /// Where `pod` (on a node being drained) would be scheduled once evicted: the least
    /// allocated node passing every filter (the scheduler picks among them; this is one it
    /// would accept), which then holds the pod's requests. Or why no node would take it, in
    /// which case the pod stays where it is.
    pub fn place(&mut self, pod: &PodView) -> Result<String, Rejection> {
        let origin = pod.node.clone();
        // The evicted pod is gone before its replacement is scheduled.
        self.relocate(pod, None);
        let resolve = |terms: &[PodAffinityTerm]| -> Vec<Term> {
            terms
                .iter()
                .map(|t| Term::resolve(t, pod, self.snap))
                .collect()
        };
        let affinity = resolve(&pod.scheduling.affinity);
        let anti = resolve(&pod.scheduling.anti_affinity);
        for t in affinity.iter().chain(&anti) {
            self.ensure_counts(t);
        }
        let forbidden = [None, Some(pod.namespace.clone())]
            .iter()
            .filter_map(|ns| self.anti_by_namespace.get(ns))
            .flatten()
            .map(|&i| &self.existing_anti[i])
            .filter(|e| e.uid != pod.uid && e.term.matches(pod))
            .filter_map(|e| e.domain.clone().map(|d| (e.term.topology_key.clone(), d)))
            .collect();
        let none_match = affinity.iter().all(|t| {
            self.counts
                .get(&t.id)
                .is_none_or(|c| c.per_domain.values().all(|n| *n <= 0))
        });
        let first_of_series =
            !affinity.is_empty() && none_match && affinity.iter().all(|t| t.matches(pod));
        let cand = Candidate {
            pod,
            affinity,
            anti,
            forbidden,
            first_of_series,
        };

        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut best: Option<(i64, &NodeView)> = None;
        for node in &self.snap.nodes {
            match self.filter(&cand, node) {
                Ok(()) => {
                    let score = self.score(pod, node);
                    // Ties go to the first node by name (nodes are sorted).
                    if best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, node));
                    }
                }
                Err(why) => {
                    for r in why {
                        *reasons.entry(r).or_default() += 1;
                    }
                }
            }
        }
        match best {
            Some((_, node)) => {
                let name = node.name.clone();
                self.relocate(pod, Some(&name));
                Ok(name)
            }
            None => {
                self.relocate(pod, Some(&origin));
                Err(Rejection {
                    message: message(self.snap.nodes.len(), &reasons),
                    reasons,
                })
            }
        }
    }

    /// Every filter for one node; `Err` holds the first failing filter's reasons.
    fn filter(&self, c: &Candidate<'_>, node: &NodeView) -> Result<(), Vec<String>> {
        let pod = c.pod;
        let tol = &pod.scheduling.tolerations;
        let reject = |r: &str| Err(vec![r.to_string()]);
        // NodeUnschedulable: cordoned, or about to be (being drained).
        let unschedulable_taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: None,
            effect: "NoSchedule".into(),
        };
        if self.excluded.contains(&node.name)
            || (node.unschedulable && !tolerates(tol, &unschedulable_taint))
        {
            return reject(UNSCHEDULABLE);
        }
        // TaintToleration: the first untolerated NoSchedule/NoExecute taint.
        let not_ready = Taint {
            key: "node.kubernetes.io/not-ready".into(),
            value: None,
            effect: "NoSchedule".into(),
        };
        let implied = (!node.ready && !node.taints.iter().any(|t| t.key == not_ready.key))
            .then_some(&not_ready);
        if let Some(t) = node
            .taints
            .iter()
            .chain(implied)
            .filter(|t| matches!(t.effect.as_str(), "NoSchedule" | "NoExecute"))
            .find(|t| !tolerates(tol, t))
        {
            return reject(&format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or("")
            ));
        }
        // NodeAffinity: nodeSelector and required node affinity.
        let selector_ok = pod
            .scheduling
            .node_selector
            .iter()
            .all(|(k, v)| node.labels.get(k) == Some(v));
        let affinity_ok = pod
            .scheduling
            .node_affinity
            .as_ref()
            .is_none_or(|terms| selector::node_terms_match(terms, &node.name, &node.labels));
        if !selector_ok || !affinity_ok {
            return reject(NODE_AFFINITY);
        }
        // NodeResourcesFit.
        let short = self.shortfalls(pod, node);
        if !short.is_empty() {
            return Err(short);
        }
        // VolumeBinding: a bound PV's node affinity.
        for claim in &pod.claims {
            if let Some(terms) = self
                .snap
                .volume_of(pod, claim)
                .and_then(|pv| pv.node_affinity.as_ref())
                && !selector::node_terms_match(terms, &node.name, &node.labels)
            {
                return reject(VOLUME_AFFINITY);
            }
        }
        // InterPodAffinity.
        if !c.affinity.is_empty() {
            let mut all_have = true;
            let mut pods_exist = true;
            for t in &c.affinity {
                match self.matching(t, node) {
                    None => all_have = false,
                    Some(n) if n <= 0 => pods_exist = false,
                    Some(_) => {}
                }
            }
            if !all_have || (!pods_exist && !c.first_of_series) {
                return reject(AFFINITY_RULES);
            }
        }
        if c.anti.iter().any(|t| self.matching(t, node) > Some(0)) {
            return reject(ANTI_AFFINITY_RULES);
        }
        if node
            .labels
            .iter()
            .any(|(k, v)| c.forbidden.contains(&(k.clone(), v.clone())))
        {
            return reject(EXISTING_ANTI_AFFINITY);
        }
        Ok(())
    }

    /// Pods matching `t` in `node`'s topology domain; `None` when the node lacks the key.
    fn matching(&self, t: &Term, node: &NodeView) -> Option<i64> {
        let v = node.labels.get(&t.topology_key)?;
        Some(
            self.counts
                .get(&t.id)
                .and_then(|c| c.per_domain.get(v))
                .copied()
                .unwrap_or(0),
        )
    }

    /// NodeResourcesFit (`fitsRequest`): request ≤ allocatable − requested, per resource.
    fn shortfalls(&self, pod: &PodView, node: &NodeView) -> Vec<String> {
        let (used, pods) = self.used(&node.name);
        let mut out = Vec::new();
        if pods + 1 > node.allocatable_pods {
            out.push(TOO_MANY_PODS.to_string());
        }
        for (name, want) in pod.requests.entries() {
            if want > 0 && want > node.allocatable.get(name).saturating_sub(used.get(name)) {
                out.push(format!("Insufficient {name}"));
            }
        }
        out
    }

    /// LeastAllocated: the mean share of cpu and memory left free after placing the pod, in
    /// parts per million (higher is better).
    fn score(&self, pod: &PodView, node: &NodeView) -> i64 {
        let (used, _) = self.used(&node.name);
        let free = |alloc: i64, used: i64, want: i64| {
            if alloc <= 0 {
                0
            } else {
                (alloc - used - want).max(0).saturating_mul(1_000_000) / alloc
            }
        };
        (free(node.allocatable.cpu, used.cpu, pod.requests.cpu)
            + free(node.allocatable.memory, used.memory, pod.requests.memory))
            / 2
    }

    /// Move `pod` from where it is now to `to` (`None`: nowhere, it is being replaced),
    /// keeping usage, term counts and its own anti-affinity entries current.
    fn relocate(&mut self, pod: &PodView, to: Option<&str>) {
        let now = match self.moved.get(&pod.uid) {
            Some(n) => n.clone(),
            None if pod.occupies_node() => pod.node.clone(),
            None => String::new(),
        };
        if !now.is_empty() {
            if let Some(e) = self.used.get_mut(&now) {
                e.0.sub(&pod.requests);
                e.1 -= 1;
            }
            self.count(pod, &now, -1);
        }
        let to = to.unwrap_or("");
        if !to.is_empty() {
            let e = self.used.entry(to.to_string()).or_default();
            e.0.add(&pod.requests);
            e.1 += 1;
            self.count(pod, to, 1);
        }
        let node = self.snap.node(to);
        for &i in self.anti_by_uid.get(&pod.uid).into_iter().flatten() {
            let e = &mut self.existing_anti[i];
            e.domain = node
                .and_then(|n| n.labels.get(&e.term.topology_key))
                .cloned();
        }
        self.moved.insert(pod.uid.clone(), to.to_string());
    }

    /// Add `delta` for `pod` on `node` to every cached term it matches.
    fn count(&mut self, pod: &PodView, node: &str, delta: i64) {
        let Some(n) = self.snap.node(node) else {
            return;
        };
        for c in self.counts.values_mut() {
            if c.term.matches(pod)
                && let Some(v) = n.labels.get(&c.term.topology_key)
            {
                *c.per_domain.entry(v.clone()).or_default() += delta;
            }
        }
    }

    /// Count matching pods per topology value for `term`, once; kept current afterwards.
    fn ensure_counts(&mut self, term: &Term) {
        if self.counts.contains_key(&term.id) {
            return;
        }
        let mut per_domain: HashMap<String, i64> = HashMap::new();
        let candidates: Vec<&PodView> = match &term.namespaces {
            Namespaces::All => self.pods_by_namespace.values().flatten().copied().collect(),
            Namespaces::Some(set) => set
                .iter()
                .filter_map(|ns| self.pods_by_namespace.get(ns.as_str()))
                .flatten()
                .copied()
                .collect(),
        };
        for p in candidates {
            if !term.matches(p) {
                continue;
            }
            let node = match self.moved.get(&p.uid) {
                Some(n) => n.as_str(),
                None => p.node.as_str(),
            };
            if let Some(v) = self
                .snap
                .node(node)
                .and_then(|n| n.labels.get(&term.topology_key))
            {
                *per_domain.entry(v.clone()).or_default() += 1;
            }
        }
        self.counts.insert(
            term.id.clone(),
            TermCounts {
                term: term.clone(),
                per_domain,
            },
        );
    }
}

/// The scheduler's FitError text: `0/N nodes are available: ` and the reasons as
/// `"<count> <reason>"` strings sorted as strings (`sortReasonsHistogram`).
pub fn message(total: usize, reasons: &BTreeMap<String, usize>) -> String {
    if total == 0 {
        return "no nodes available to schedule pods".to_string();
    }
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!("0/{total} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_support::{node, pod, snapshot};
    use serde_json::{Value, json};

    fn place(objects: &[Value], targets: &[&str], pods: &[&str]) -> Vec<Result<String, String>> {
        let snap = snapshot(objects);
        let mut fit = Fit::new(&snap, targets.iter().map(|t| t.to_string()));
        pods.iter()
            .map(|name| {
                let p = snap.pods.iter().find(|p| p.name == *name).expect("pod");
                fit.place(p).map_err(|r| r.message)
            })
            .collect()
    }

    #[test]
    fn exactly_enough_room_fits_one_byte_more_does_not() {
        // d has 1Gi and 1 cpu; a resident takes 512Mi and 500m: exactly 512Mi/500m left.
        let objects = |mem: &str, cpu: &str| {
            vec![
                node("d", "1", "1Gi", 110),
                node("t", "4", "8Gi", 110),
                pod("x", "resident", "d", "r", "500m", "512Mi"),
                pod("x", "mover", "t", "m", cpu, mem),
            ]
        };
        assert_eq!(
            place(&objects("512Mi", "500m"), &["t"], &["mover"]),
            [Ok("d".to_string())]
        );
        assert_eq!(
            place(&objects("536870913", "500m"), &["t"], &["mover"]),
            [Err(
                "0/2 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable."
                    .to_string()
            )]
        );
        // 0.5001 cpu is 501m after rounding up, like MilliValue.
        assert_eq!(
            place(&objects("1", "0.5001"), &["t"], &["mover"]),
            [Err(
                "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."
                    .to_string()
            )]
        );
    }

    #[test]
    fn each_placement_takes_room_from_the_next() {
        let objs = vec![
            node("d", "1", "1Gi", 110),
            node("t", "4", "8Gi", 110),
            pod("x", "a", "t", "m", "600m", "1Mi"),
            pod("x", "b", "t", "m", "600m", "1Mi"),
        ];
        let got = place(&objs, &["t"], &["a", "b"]);
        assert_eq!(got[0], Ok("d".into()));
        assert!(
            got[1]
                .as_ref()
                .is_err_and(|m| m.contains("1 Insufficient cpu"))
        );
    }

    #[test]
    fn taints_selectors_pods_and_extended_resources() {
        let mut tainted = node("gpu", "8", "16Gi", 110);
        tainted["spec"] = json!({"taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"},
                                              {"key": "spot", "effect": "PreferNoSchedule"}]});
        tainted["status"]["allocatable"]["nvidia.com/gpu"] = json!("1");
        let mut full = node("full", "8", "16Gi", 1);
        full["metadata"]["labels"]["disk"] = json!("ssd");
        let mut cordoned = node("cordoned", "8", "16Gi", 110);
        cordoned["spec"] = json!({"unschedulable": true});
        let mut sick = node("sick", "8", "16Gi", 110);
        sick["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        let mut trainer = pod("x", "trainer", "t", "m", "1", "1Gi");
        trainer["spec"]["containers"][0]["resources"]["limits"] = json!({"nvidia.com/gpu": "2"});
        trainer["spec"]["tolerations"] =
            json!([{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]);
        let mut db = pod("x", "db", "t", "m", "100m", "1Gi");
        db["spec"]["nodeSelector"] = json!({"disk": "ssd"});
        let objs = vec![
            tainted,
            full,
            cordoned,
            sick,
            node("small", "500m", "16Gi", 110),
            node("t", "8", "16Gi", 110),
            pod("x", "resident", "full", "r", "1", "1Gi"),
            trainer,
            db,
            pod("x", "plain", "t", "m", "1", "1Gi"),
        ];
        let got = place(&objs, &["t"], &["trainer", "db", "plain"]);
        let err = |s: &str| Err(format!("0/6 nodes are available: {s}."));
        assert_eq!(
            got[0],
            err(
                "1 Insufficient cpu, 1 Too many pods, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) were unschedulable, 3 Insufficient nvidia.com/gpu"
            ),
            "gpu node has 1 of 2, full and small none; every shortfall of a node counts"
        );
        assert_eq!(
            got[1],
            err(
                "1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) were unschedulable"
            ),
            "taints are checked before the selector"
        );
        assert_eq!(
            got[2],
            err(
                "1 Insufficient cpu, 1 Too many pods, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) were unschedulable"
            )
        );
    }

    #[test]
    fn tolerations_like_the_api() {
        let taint = Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoSchedule".into(),
        };
        let tol = |key: Option<&str>,
                   op: Option<&str>,
                   value: Option<&str>,
                   effect: Option<&str>| Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
        };
        assert!(tolerates(&[tol(Some("k"), None, Some("v"), None)], &taint));
        assert!(
            tolerates(&[tol(None, Some("Exists"), None, None)], &taint),
            "tolerate everything"
        );
        assert!(!tolerates(&[tol(Some("k"), None, Some("w"), None)], &taint));
        assert!(!tolerates(
            &[tol(Some("k"), Some("Exists"), None, Some("NoExecute"))],
            &taint
        ));
        assert!(!tolerates(&[], &taint));
    }

    fn with_anti(mut p: Value, key: &str) -> Value {
        p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": p["metadata"]["labels"]["app"].clone()}}, "topologyKey": key}]}});
        p
    }

    #[test]
    fn anti_affinity_on_hostnames_counts_placed_pods() {
        // Two replicas with required anti-affinity on two drained nodes; three other nodes,
        // one of them already running a replica: the two land on the two free ones.
        let objs = vec![
            node("a", "4", "8Gi", 110),
            node("b", "4", "8Gi", 110),
            node("c", "4", "8Gi", 110),
            node("t1", "4", "8Gi", 110),
            node("t2", "4", "8Gi", 110),
            with_anti(
                pod("x", "web-0", "a", "web", "1", "1Gi"),
                "kubernetes.io/hostname",
            ),
            with_anti(
                pod("x", "web-1", "t1", "web", "1", "1Gi"),
                "kubernetes.io/hostname",
            ),
            with_anti(
                pod("x", "web-2", "t2", "web", "1", "1Gi"),
                "kubernetes.io/hostname",
            ),
        ];
        let got = place(&objs, &["t1", "t2"], &["web-1", "web-2"]);
        assert_eq!(got, [Ok("b".to_string()), Ok("c".to_string())]);
        // With one free node fewer, the second has nowhere to go.
        let mut fewer = objs.clone();
        fewer.retain(|o| o["metadata"]["name"] != "c");
        let got = place(&fewer, &["t1", "t2"], &["web-1", "web-2"]);
        assert_eq!(got[0], Ok("b".to_string()));
        assert_eq!(
            got[1],
            Err("0/4 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 2 node(s) were unschedulable.".to_string())
        );
    }

    #[test]
    fn existing_pods_anti_affinity_is_symmetric() {
        // A guard pod on `a` refuses `app: web` next to it; the mover has no terms itself.
        let mut guard = pod("x", "guard", "a", "guard", "1m", "1");
        guard["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}});
        let objs = vec![
            node("a", "4", "8Gi", 110),
            node("t", "4", "8Gi", 110),
            guard,
            pod("x", "web-1", "t", "web", "1", "1Gi"),
        ];
        assert_eq!(
            place(&objs, &["t"], &["web-1"]),
            [Err("0/2 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules, 1 node(s) were unschedulable.".to_string())]
        );
    }

    #[test]
    fn terms_look_at_their_namespaces_only() {
        // Guards in namespace `g`: one looks at `x` by name, one at every namespace, one
        // only at its own (`g`), so it does not see `x/web-1`.
        let guard = |name: &str, node: &str, term: Value| {
            let mut g = pod("g", name, node, name, "1m", "1");
            g["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}});
            g
        };
        let sel = json!({"matchLabels": {"app": "web"}});
        let host = "kubernetes.io/hostname";
        let objs = vec![
            node("a", "4", "8Gi", 110),
            node("b", "4", "8Gi", 110),
            node("c", "4", "8Gi", 110),
            node("t", "4", "8Gi", 110),
            guard(
                "by-name",
                "a",
                json!({"labelSelector": sel, "namespaces": ["x"], "topologyKey": host}),
            ),
            guard(
                "everywhere",
                "b",
                json!({"labelSelector": sel, "namespaceSelector": {}, "topologyKey": host}),
            ),
            guard(
                "own",
                "c",
                json!({"labelSelector": sel, "topologyKey": host}),
            ),
            pod("x", "web-1", "t", "web", "1", "1Gi"),
        ];
        assert_eq!(place(&objs, &["t"], &["web-1"]), [Ok("c".to_string())]);
    }

    #[test]
    fn pod_affinity_and_volume_affinity() {
        let mut a = node("a", "4", "8Gi", 110);
        a["metadata"]["labels"]["zone"] = json!("z1");
        let mut b = node("b", "4", "8Gi", 110);
        b["metadata"]["labels"]["zone"] = json!("z2");
        let mut cache = pod("x", "cache", "b", "cache", "1m", "1");
        cache["metadata"]["labels"]["app"] = json!("cache");
        let mut web = pod("x", "web", "t", "web", "1", "1Gi");
        web["spec"]["affinity"] = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "zone"}]}});
        let mut db = pod("x", "db", "t", "db", "1", "1Gi");
        db["spec"]["volumes"] =
            json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]);
        let pvc = json!({"kind": "PersistentVolumeClaim", "metadata": {"namespace": "x", "name": "data"}, "spec": {"volumeName": "pv-1"}});
        let pv = json!({"kind": "PersistentVolume", "metadata": {"name": "pv-1"}, "spec": {"nodeAffinity": {"required": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z9"]}]}]}}}});
        let objs = vec![a, b, node("t", "4", "8Gi", 110), cache, web, db, pvc, pv];
        let got = place(&objs, &["t"], &["web", "db"]);
        assert_eq!(
            got[0],
            Ok("b".to_string()),
            "next to the cache, in its zone"
        );
        assert_eq!(
            got[1],
            Err("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict.".to_string())
        );
    }

    #[test]
    fn histogram_sorts_as_strings() {
        let reasons = BTreeMap::from([
            ("Insufficient memory".to_string(), 10),
            ("node(s) were unschedulable".to_string(), 2),
        ]);
        assert_eq!(
            message(12, &reasons),
            "0/12 nodes are available: 10 Insufficient memory, 2 node(s) were unschedulable."
        );
    }
}
