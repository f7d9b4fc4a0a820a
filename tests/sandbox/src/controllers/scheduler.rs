//! The scheduler for simulated pods: filters nodes like the default
//! scheduler's plugins (unschedulable, taints, affinity, resources) and binds
//! to the least allocated fit, or leaves the pod Pending with its message.

use super::{NODES, PODS, expression_matches, quantity, set_condition};
use crate::store::{Inner, meta_str};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// What a pod asks for: cpu in millicores, memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub cpu: i64,
    pub memory: i64,
}

/// Requests of a pod as the scheduler counts them: the sum over containers,
/// at least the largest init container; a limit without a request counts as
/// the request (API defaulting does that).
pub fn pod_requests(pod: &Value) -> Requests {
    fn get(c: &Value, res: &str) -> Option<i64> {
        let r = c.get("resources")?;
        let v = r
            .get("requests")
            .and_then(|q| q.get(res))
            .or_else(|| r.get("limits").and_then(|q| q.get(res)))?;
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        if res == "cpu" {
            quantity::millis(&text)
        } else {
            quantity::units(&text)
        }
    }
    let of = |c: &Value| Requests {
        cpu: get(c, "cpu").unwrap_or(0),
        memory: get(c, "memory").unwrap_or(0),
    };
    let list = |k: &str| {
        pod.get("spec")
            .and_then(|s| s.get(k))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let mut sum = Requests::default();
    for c in list("containers") {
        let r = of(c);
        sum.cpu += r.cpu;
        sum.memory += r.memory;
    }
    for c in list("initContainers") {
        let r = of(c);
        sum.cpu = sum.cpu.max(r.cpu);
        sum.memory = sum.memory.max(r.memory);
    }
    sum
}

/// Requests of the pods bound to each node, kept up to date from the event
/// feed so scheduling one pod costs O(nodes), not O(pods). Built lazily from
/// the store on first use (fixture pods arrive without events).
#[derive(Default)]
pub struct Usage {
    ready: bool,
    by_node: HashMap<String, (Requests, i64)>,
    by_pod: HashMap<(String, String), (String, Requests)>,
}

impl Usage {
    /// Forgets everything (after a lagged feed); rebuilt on next use.
    pub fn reset(&mut self) {
        *self = Usage::default();
    }

    fn ensure(&mut self, inner: &Inner) {
        if self.ready {
            return;
        }
        self.ready = true;
        let pods: Vec<Value> = inner
            .in_namespace(NODES, "")
            .flat_map(|n| inner.pods_on_node(meta_str(n, "name")))
            .filter_map(|(ns, name)| inner.get(PODS, &ns, &name).cloned())
            .collect();
        for p in &pods {
            self.set(p);
        }
    }

    /// Records a pod's current state (idempotent: replaces what was known).
    pub fn set(&mut self, pod: &Value) {
        if !self.ready {
            return;
        }
        let key = (
            meta_str(pod, "namespace").to_string(),
            meta_str(pod, "name").to_string(),
        );
        self.remove(&key.0, &key.1);
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let phase = pod.pointer("/status/phase").and_then(Value::as_str);
        if node.is_empty() || matches!(phase, Some("Succeeded" | "Failed")) {
            return;
        }
        let r = pod_requests(pod);
        let e = self.by_node.entry(node.to_string()).or_default();
        e.0.cpu += r.cpu;
        e.0.memory += r.memory;
        e.1 += 1;
        self.by_pod.insert(key, (node.to_string(), r));
    }

    pub fn remove(&mut self, ns: &str, name: &str) {
        if let Some((node, r)) = self.by_pod.remove(&(ns.to_string(), name.to_string()))
            && let Some(e) = self.by_node.get_mut(&node)
        {
            e.0.cpu -= r.cpu;
            e.0.memory -= r.memory;
            e.1 -= 1;
        }
    }

    fn of(&self, node: &str) -> (Requests, i64) {
        self.by_node.get(node).copied().unwrap_or_default()
    }
}

/// A node as the filters see it.
#[derive(Debug, Clone, Default)]
pub struct NodeView {
    pub name: String,
    pub labels: Value,
    pub ready: bool,
    pub unschedulable: bool,
    pub taints: Vec<Value>,
    pub alloc: Requests,
    pub alloc_pods: i64,
    pub used: Requests,
    pub used_pods: i64,
}

impl NodeView {
    /// The node with `used`/`used_pods` already bound to it.
    pub fn from_node(node: &Value, used: Requests, used_pods: i64) -> NodeView {
        let name = meta_str(node, "name").to_string();
        let alloc = |k: &str| {
            node.pointer(&format!("/status/allocatable/{k}"))
                .or_else(|| node.pointer(&format!("/status/capacity/{k}")))
                .and_then(Value::as_str)
        };
        NodeView {
            labels: node
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or(json!({})),
            ready: super::kubelet::condition_true(node, "Ready"),
            unschedulable: node
                .pointer("/spec/unschedulable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            taints: node
                .pointer("/spec/taints")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            // A node without allocatable data is treated as roomy, not full.
            alloc: Requests {
                cpu: alloc("cpu")
                    .and_then(quantity::millis)
                    .unwrap_or(i64::MAX / 4),
                memory: alloc("memory")
                    .and_then(quantity::units)
                    .unwrap_or(i64::MAX / 4),
            },
            alloc_pods: alloc("pods").and_then(quantity::units).unwrap_or(110),
            used,
            used_pods,
            name,
        }
    }
}

/// Does a toleration list tolerate a taint (`v1helper.TolerationsTolerateTaint`)?
pub fn tolerates(tolerations: &[Value], taint: &Value) -> bool {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    tolerations.iter().any(|t| {
        let effect = s(t, "effect");
        if !effect.is_empty() && effect != s(taint, "effect") {
            return false;
        }
        let key = s(t, "key");
        if !key.is_empty() && key != s(taint, "key") {
            return false;
        }
        match s(t, "operator").as_str() {
            "Exists" => true,
            _ => s(t, "value") == s(taint, "value"),
        }
    })
}

fn tolerations(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// nodeSelector and required node affinity (terms ORed, expressions ANDed).
pub fn affinity_matches(pod: &Value, node: &NodeView) -> bool {
    let label = |k: &str| node.labels.get(k).and_then(Value::as_str);
    let selector_ok = pod
        .pointer("/spec/nodeSelector")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let terms = pod
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array);
    let affinity_ok = terms.is_none_or(|terms| {
        terms.iter().any(|term| {
            let exprs = term
                .get("matchExpressions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let fields = term
                .get("matchFields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let field = |k: &str| (k == "metadata.name").then_some(node.name.as_str());
            (!exprs.is_empty() || !fields.is_empty())
                && exprs.iter().all(|e| expression_matches(e, &label))
                && fields.iter().all(|e| expression_matches(e, &field))
        })
    });
    selector_ok && affinity_ok
}

/// Why a node does not fit, in the default scheduler's words (empty = fits).
/// Filters stop at the first failing plugin, as the framework does; the
/// resource filter reports every insufficient resource at once.
pub fn fit(pod: &Value, req: Requests, node: &NodeView) -> Vec<String> {
    let tols = tolerations(pod);
    if node.unschedulable
        && !tolerates(
            &tols,
            &json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}),
        )
    {
        return vec!["node(s) were unschedulable".into()];
    }
    let mut taints = node.taints.clone();
    if !node.ready {
        // What the node lifecycle controller adds to a NotReady node.
        taints.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}));
    }
    for t in &taints {
        let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
        if matches!(effect, "NoSchedule" | "NoExecute") && !tolerates(&tols, t) {
            return vec![format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.get("key").and_then(Value::as_str).unwrap_or(""),
                t.get("value").and_then(Value::as_str).unwrap_or("")
            )];
        }
    }
    if !affinity_matches(pod, node) {
        return vec!["node(s) didn't match Pod's node affinity/selector".into()];
    }
    let mut out = Vec::new();
    if node.used_pods + 1 > node.alloc_pods {
        out.push("Too many pods".to_string());
    }
    if req.cpu > 0 && node.used.cpu + req.cpu > node.alloc.cpu {
        out.push("Insufficient cpu".to_string());
    }
    if req.memory > 0 && node.used.memory + req.memory > node.alloc.memory {
        out.push("Insufficient memory".to_string());
    }
    out
}

fn histogram(reasons: &BTreeMap<String, usize>) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    parts.join(", ")
}

/// The FailedScheduling message: `0/3 nodes are available: 1 node(s) were
/// unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: ...`.
pub fn unschedulable_message(total: usize, per_node: &[Vec<String>]) -> String {
    let mut reasons = BTreeMap::new();
    let mut preemption = BTreeMap::new();
    for r in per_node {
        for x in r {
            *reasons.entry(x.clone()).or_insert(0) += 1;
        }
        // Evicting lower-priority pods only helps against resource shortage.
        let resources = r
            .iter()
            .all(|x| x.starts_with("Insufficient") || x == "Too many pods");
        let key = if resources && !r.is_empty() {
            "No preemption victims found for incoming pod"
        } else {
            "Preemption is not helpful for scheduling"
        };
        *preemption.entry(key.to_string()).or_insert(0) += 1;
    }
    if total == 0 {
        return "no nodes available to schedule pods".into();
    }
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        histogram(&reasons),
        histogram(&preemption)
    )
}

/// Binds an unbound pod to the best node, or marks it Unschedulable.
/// Pods that already name a node (DaemonSet pods) pass through.
pub fn schedule(inner: &Inner, usage: &mut Usage, mut pod: Value, ts: &str) -> Value {
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
    {
        return pod;
    }
    let req = pod_requests(&pod);
    usage.ensure(inner);
    let nodes: Vec<NodeView> = inner
        .in_namespace(NODES, "")
        .map(|n| {
            let (used, pods) = usage.of(meta_str(n, "name"));
            NodeView::from_node(n, used, pods)
        })
        .collect();
    if let Some(claim) = missing_claim(inner, &pod) {
        // The VolumeBinding pre-filter fails before any node is looked at.
        let total = nodes.len();
        let msg = format!(
            "0/{total} nodes are available: persistentvolumeclaim \"{claim}\" not found. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        );
        return unschedulable(pod, &msg, ts);
    }
    let mut failures = Vec::new();
    let mut best: Option<(f64, &NodeView)> = None;
    for n in &nodes {
        let why = fit(&pod, req, n);
        if why.is_empty() {
            let frac = |used: i64, r: i64, alloc: i64| {
                if alloc <= 0 {
                    1.0
                } else {
                    (used + r) as f64 / alloc as f64
                }
            };
            let score = frac(n.used.cpu, req.cpu, n.alloc.cpu)
                + frac(n.used.memory, req.memory, n.alloc.memory)
                + frac(n.used_pods, 1, n.alloc_pods);
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, n));
            }
        } else {
            failures.push(why);
        }
    }
    let mut conditions: Vec<Value> = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match best {
        Some((_, n)) => {
            pod["spec"]["nodeName"] = json!(n.name);
            set_condition(&mut conditions, "PodScheduled", "True", "", "", ts, false);
            strip_empty(&mut conditions);
            pod["status"]["conditions"] = json!(conditions);
            // Counted now: the next pod of the same batch must see it.
            usage.set(&pod);
        }
        None => {
            let msg = unschedulable_message(nodes.len(), &failures);
            return unschedulable(pod, &msg, ts);
        }
    }
    pod
}

fn unschedulable(mut pod: Value, msg: &str, ts: &str) -> Value {
    let mut conditions: Vec<Value> = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    set_condition(
        &mut conditions,
        "PodScheduled",
        "False",
        "Unschedulable",
        msg,
        ts,
        false,
    );
    pod["status"]["conditions"] = json!(conditions);
    pod["status"]["phase"] = json!("Pending");
    pod
}

/// The first PersistentVolumeClaim the pod mounts that does not exist.
fn missing_claim(inner: &Inner, pod: &Value) -> Option<String> {
    let ns = meta_str(pod, "namespace");
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
        })
        .find(|c| inner.get("/persistentvolumeclaims", ns, c).is_none())
        .map(str::to_string)
}

/// Pod conditions omit empty reason/message.
pub fn strip_empty(conditions: &mut [Value]) {
    for c in conditions {
        if let Some(m) = c.as_object_mut() {
            m.retain(|_, v| v.as_str() != Some(""));
        }
    }
}

/// Pod IPs per node from its `podCIDR` (else a 10.244.N.0/24 of its own).
#[derive(Default)]
pub struct IpAllocator {
    next: HashMap<String, u32>,
    subnets: HashMap<String, u32>,
}

impl IpAllocator {
    pub fn allocate(&mut self, node: Option<&Value>, node_name: &str) -> String {
        let n = self.next.entry(node_name.to_string()).or_insert(10);
        *n += 1;
        let host = *n % 250 + 2;
        let prefix = node
            .and_then(|nd| nd.pointer("/spec/podCIDR"))
            .and_then(Value::as_str)
            .and_then(|c| c.split('/').next())
            .and_then(|ip| ip.rsplit_once('.').map(|(p, _)| p.to_string()));
        match prefix {
            Some(p) => format!("{p}.{host}"),
            None => {
                let count = self.subnets.len() as u32;
                let subnet = *self
                    .subnets
                    .entry(node_name.to_string())
                    .or_insert(count + 100);
                format!("10.244.{}.{host}", subnet % 250)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu: i64, mem: i64) -> NodeView {
        NodeView {
            name: name.into(),
            labels: json!({"kubernetes.io/hostname": name, "zone": "a"}),
            ready: true,
            alloc: Requests { cpu, memory: mem },
            alloc_pods: 110,
            ..Default::default()
        }
    }

    fn pod(cpu: &str, mem: &str) -> Value {
        json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}})
    }

    #[test]
    fn requests_sum_and_limits_default() {
        let p = json!({"spec": {"containers": [
            {"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]}});
        assert_eq!(
            pod_requests(&p),
            Requests {
                cpu: 2000,
                memory: (64 << 20) + (1 << 30)
            }
        );
    }

    #[test]
    fn fit_reports_each_filter() {
        let p = pod("500m", "1Gi");
        let req = pod_requests(&p);
        assert!(fit(&p, req, &node("a", 1000, 2 << 30)).is_empty());
        let mut full = node("b", 400, 512 << 20);
        assert_eq!(
            fit(&p, req, &full),
            ["Insufficient cpu", "Insufficient memory"]
        );
        full.unschedulable = true;
        assert_eq!(fit(&p, req, &full), ["node(s) were unschedulable"]);
        let mut tainted = node("c", 1000, 2 << 30);
        tainted.taints = vec![json!({"key": "gpu", "value": "yes", "effect": "NoSchedule"})];
        assert_eq!(
            fit(&p, req, &tainted),
            ["node(s) had untolerated taint {gpu: yes}"]
        );
        let mut tolerant = p.clone();
        tolerant["spec"]["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}]);
        assert!(fit(&tolerant, req, &tainted).is_empty());
        tainted.taints = vec![json!({"key": "x", "effect": "PreferNoSchedule"})];
        assert!(fit(&p, req, &tainted).is_empty());
    }

    #[test]
    fn affinity_and_selector() {
        let n = node("a", 1000, 1 << 30);
        let mut p = pod("1m", "1");
        p["spec"]["nodeSelector"] = json!({"zone": "a"});
        assert!(affinity_matches(&p, &n));
        p["spec"]["nodeSelector"] = json!({"zone": "b"});
        assert!(!affinity_matches(&p, &n));
        p["spec"]["nodeSelector"] = json!({});
        p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]},
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["a", "b"]},
                                  {"key": "zone", "operator": "Exists"}]}]}}});
        assert!(affinity_matches(&p, &n));
        p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] =
            json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}]);
        assert!(!affinity_matches(&p, &n));
    }

    #[test]
    fn message_like_the_scheduler() {
        let msg = unschedulable_message(
            3,
            &[
                vec!["node(s) were unschedulable".into()],
                vec!["Insufficient memory".into()],
                vec!["Insufficient memory".into()],
            ],
        );
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }
}
