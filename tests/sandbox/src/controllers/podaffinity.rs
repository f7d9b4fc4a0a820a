//! Required inter-pod (anti-)affinity for the scheduler, following the
//! default InterPodAffinity plugin: a pre-filter counts topology pairs once
//! per pod, then each node is checked against the counts.

use super::scheduler::{FilterStatus, NodeView};
use super::{PODS, selector_matches};
use crate::store::{Inner, meta_str};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

pub const AFFINITY_RULES: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_RULES: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

/// The namespaces a term selects pods from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Namespaces {
    All,
    Some(BTreeSet<String>),
}

/// One `PodAffinityTerm`, with its namespaces resolved.
#[derive(Debug, Clone)]
pub struct Term {
    selector: Option<Value>,
    namespaces: Namespaces,
    topology_key: String,
}

impl Term {
    /// `owner` is the pod carrying the term: its namespace is the default and
    /// its labels fill `matchLabelKeys`/`mismatchLabelKeys`.
    fn parse(inner: &Inner, owner: &Value, t: &Value) -> Term {
        let mut selector = t.get("labelSelector").filter(|s| !s.is_null()).cloned();
        let own_labels = owner.pointer("/metadata/labels");
        for (field, operator) in [("matchLabelKeys", "In"), ("mismatchLabelKeys", "NotIn")] {
            for key in t
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let Some(v) = own_labels.and_then(|l| l.get(key)).and_then(Value::as_str) else {
                    continue;
                };
                if let Some(sel) = selector.as_mut() {
                    let expr = json!({"key": key, "operator": operator, "values": [v]});
                    match sel
                        .get_mut("matchExpressions")
                        .and_then(Value::as_array_mut)
                    {
                        Some(a) => a.push(expr),
                        None => sel["matchExpressions"] = json!([expr]),
                    }
                }
            }
        }
        let listed: BTreeSet<String> = t
            .get("namespaces")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let namespaces = match t.get("namespaceSelector").filter(|s| !s.is_null()) {
            // An empty namespaceSelector selects every namespace.
            Some(sel) if is_empty_selector(sel) => Namespaces::All,
            Some(sel) => {
                let mut set = listed;
                for ns in inner.in_namespace("/namespaces", "") {
                    if selector_matches(sel, ns.labels.as_ref()) {
                        set.insert(ns.name.clone());
                    }
                }
                Namespaces::Some(set)
            }
            None if listed.is_empty() => {
                Namespaces::Some(BTreeSet::from([meta_str(owner, "namespace").to_string()]))
            }
            None => Namespaces::Some(listed),
        };
        Term {
            selector,
            namespaces,
            topology_key: t
                .get("topologyKey")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }
    }

    /// Does `pod` fall under this term (namespace and label selector)?
    fn selects(&self, pod: &Value) -> bool {
        self.selects_in(meta_str(pod, "namespace"), pod.pointer("/metadata/labels"))
    }

    /// The same for a pod known by its namespace and labels.
    fn selects_in(&self, namespace: &str, labels: Option<&Value>) -> bool {
        let in_ns = match &self.namespaces {
            Namespaces::All => true,
            Namespaces::Some(set) => set.contains(namespace),
        };
        // A null label selector selects nothing.
        in_ns
            && self
                .selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, labels))
    }
}

fn is_empty_selector(sel: &Value) -> bool {
    let empty = |k: &str| {
        sel.get(k).is_none_or(|v| {
            v.is_null()
                || v.as_object().is_some_and(|m| m.is_empty())
                || v.as_array().is_some_and(|a| a.is_empty())
        })
    };
    empty("matchLabels") && empty("matchExpressions")
}

fn required_terms<'a>(pod: &'a Value, kind: &str) -> impl Iterator<Item = &'a Value> {
    pod.pointer(&format!(
        "/spec/affinity/{kind}/requiredDuringSchedulingIgnoredDuringExecution"
    ))
    .and_then(Value::as_array)
    .into_iter()
    .flatten()
}

/// Does the pod carry required pod anti-affinity (the scheduler keeps such
/// bound pods in an index for the symmetric check)?
pub fn has_required_anti_affinity(pod: &Value) -> bool {
    required_terms(pod, "podAntiAffinity").next().is_some()
}

/// A bound pod with required anti-affinity: its terms bind incoming pods.
#[derive(Debug, Clone)]
pub struct ExistingAnti {
    pub node: String,
    pub pod: Value,
}

type Pair = (String, String);

/// What the pre-filter computes for one incoming pod.
#[derive(Debug, Default)]
pub struct PreFilter {
    affinity_terms: Vec<Term>,
    anti_terms: Vec<Term>,
    affinity_counts: HashMap<Pair, i64>,
    anti_counts: HashMap<Pair, i64>,
    existing_anti_counts: HashMap<Pair, i64>,
    /// The pod matches all of its own affinity terms (the first pod of a
    /// self-affine group may go anywhere).
    self_match: bool,
}

fn pair(node: &NodeView, key: &str) -> Option<Pair> {
    node.labels
        .get(key)
        .and_then(Value::as_str)
        .map(|v| (key.to_string(), v.to_string()))
}

/// Counts the topology pairs of existing pods that the incoming `pod`'s
/// terms match, and of existing pods whose anti-affinity matches `pod`.
pub fn prefilter<'a>(
    inner: &Inner,
    pod: &Value,
    nodes: &[NodeView],
    existing: impl IntoIterator<Item = &'a ExistingAnti>,
) -> PreFilter {
    let by_name: HashMap<&str, &NodeView> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut pre = PreFilter {
        affinity_terms: required_terms(pod, "podAffinity")
            .map(|t| Term::parse(inner, pod, t))
            .collect(),
        anti_terms: required_terms(pod, "podAntiAffinity")
            .map(|t| Term::parse(inner, pod, t))
            .collect(),
        ..Default::default()
    };
    let me = (meta_str(pod, "namespace"), meta_str(pod, "name"));
    for e in existing {
        if (meta_str(&e.pod, "namespace"), meta_str(&e.pod, "name")) == me {
            continue;
        }
        let Some(node) = by_name.get(e.node.as_str()) else {
            continue;
        };
        for t in required_terms(&e.pod, "podAntiAffinity") {
            let term = Term::parse(inner, &e.pod, t);
            if term.selects(pod)
                && let Some(p) = pair(node, &term.topology_key)
            {
                *pre.existing_anti_counts.entry(p).or_default() += 1;
            }
        }
    }
    if pre.affinity_terms.is_empty() && pre.anti_terms.is_empty() {
        return pre;
    }
    pre.self_match = pre.affinity_terms.iter().all(|t| t.selects(pod));
    // Existing pods by their indexed node, phase, namespace and labels: none is parsed.
    for other in inner.iter_resource(PODS) {
        let Some(node) = other.node().and_then(|n| by_name.get(n)) else {
            continue;
        };
        if (other.namespace.as_str(), other.name.as_str()) == me
            || matches!(other.field("status.phase"), Some("Succeeded" | "Failed"))
        {
            continue;
        }
        let labels = other.labels.as_ref();
        if !pre.affinity_terms.is_empty()
            && pre
                .affinity_terms
                .iter()
                .all(|t| t.selects_in(&other.namespace, labels))
        {
            for t in &pre.affinity_terms {
                if let Some(p) = pair(node, &t.topology_key) {
                    *pre.affinity_counts.entry(p).or_default() += 1;
                }
            }
        }
        for t in &pre.anti_terms {
            if t.selects_in(&other.namespace, labels)
                && let Some(p) = pair(node, &t.topology_key)
            {
                *pre.anti_counts.entry(p).or_default() += 1;
            }
        }
    }
    pre
}

/// The InterPodAffinity filter for one node: affinity, then the pod's
/// anti-affinity, then existing pods' anti-affinity.
pub fn filter(pre: &PreFilter, node: &NodeView) -> Option<FilterStatus> {
    let satisfies_affinity = pre.affinity_terms.iter().all(|t| {
        pair(node, &t.topology_key).is_some_and(|p| pre.affinity_counts.get(&p).copied() > Some(0))
    }) || (pre.affinity_counts.is_empty() && pre.self_match);
    if !pre.affinity_terms.is_empty() && !satisfies_affinity {
        return Some(FilterStatus::unresolvable(AFFINITY_RULES));
    }
    if pre.anti_terms.iter().any(|t| {
        pair(node, &t.topology_key).is_some_and(|p| pre.anti_counts.get(&p).copied() > Some(0))
    }) {
        return Some(FilterStatus::resolvable(ANTI_AFFINITY_RULES));
    }
    let labels = node.labels.as_object();
    if !pre.existing_anti_counts.is_empty()
        && labels.is_some_and(|m| {
            m.iter().any(|(k, v)| {
                v.as_str().is_some_and(|v| {
                    pre.existing_anti_counts
                        .get(&(k.clone(), v.to_string()))
                        .copied()
                        > Some(0)
                })
            })
        })
    {
        return Some(FilterStatus::resolvable(EXISTING_ANTI_AFFINITY));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn node(name: &str, zone: &str) -> NodeView {
        NodeView {
            name: name.into(),
            labels: json!({"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}),
            ready: true,
            ..Default::default()
        }
    }

    fn pod(ns: &str, name: &str, app: &str, node: Option<&str>) -> Value {
        let mut p = json!({"metadata": {"namespace": ns, "name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c"}]}});
        if let Some(n) = node {
            p["spec"]["nodeName"] = json!(n);
        }
        p
    }

    fn anti(mut p: Value, key: &str) -> Value {
        let app = p["metadata"]["labels"]["app"].clone();
        p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}]}});
        p
    }

    #[test]
    fn anti_affinity_on_hostname_and_zone() {
        let s = Store::new();
        s.write(false, |t| {
            t.put("/pods", pod("web", "a", "web", Some("n1")));
            t.put("/pods", pod("other", "b", "web", Some("n2")));
        });
        let nodes = [node("n1", "z1"), node("n2", "z1"), node("n3", "z2")];
        let incoming = anti(pod("web", "new", "web", None), "kubernetes.io/hostname");
        let pre = s.read(|i| prefilter(i, &incoming, &nodes, []));
        assert_eq!(
            filter(&pre, &nodes[0]).map(|f| f.reasons),
            Some(vec![ANTI_AFFINITY_RULES.to_string()])
        );
        // The pod in namespace "other" is outside the term's namespaces.
        assert!(filter(&pre, &nodes[1]).is_none());
        let by_zone = anti(
            pod("web", "new", "web", None),
            "topology.kubernetes.io/zone",
        );
        let pre = s.read(|i| prefilter(i, &by_zone, &nodes, []));
        assert!(filter(&pre, &nodes[1]).is_some());
        assert!(filter(&pre, &nodes[2]).is_none());
        // An empty namespaceSelector widens the term to every namespace.
        let mut all = anti(pod("web", "new", "web", None), "kubernetes.io/hostname");
        all["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            [0]["namespaceSelector"] = json!({});
        let pre = s.read(|i| prefilter(i, &all, &nodes, []));
        assert!(filter(&pre, &nodes[1]).is_some());
    }

    #[test]
    fn existing_pods_anti_affinity_is_symmetric() {
        let s = Store::new();
        let guard = anti(
            pod("db", "guard", "db", Some("n1")),
            "kubernetes.io/hostname",
        );
        let nodes = [node("n1", "z1"), node("n2", "z1")];
        let existing = [ExistingAnti {
            node: "n1".into(),
            pod: guard,
        }];
        let incoming = pod("db", "new", "db", None);
        let pre = s.read(|i| prefilter(i, &incoming, &nodes, &existing));
        let st = filter(&pre, &nodes[0]).expect("rejected");
        assert_eq!(st.reasons, [EXISTING_ANTI_AFFINITY]);
        assert!(!st.unresolvable);
        assert!(filter(&pre, &nodes[1]).is_none());
    }

    #[test]
    fn affinity_needs_a_matching_pod_unless_self_affine() {
        let s = Store::new();
        let nodes = [node("n1", "z1"), node("n2", "z2")];
        let mut p = pod("web", "new", "web", None);
        p["spec"]["affinity"] = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "topology.kubernetes.io/zone"}]}});
        let pre = s.read(|i| prefilter(i, &p, &nodes, []));
        let st = filter(&pre, &nodes[0]).expect("no cache pod anywhere");
        assert!(st.unresolvable);
        s.write(false, |t| {
            t.put("/pods", pod("web", "cache", "cache", Some("n2")));
        });
        let pre = s.read(|i| prefilter(i, &p, &nodes, []));
        assert!(filter(&pre, &nodes[0]).is_some());
        assert!(filter(&pre, &nodes[1]).is_none());
    }
}
