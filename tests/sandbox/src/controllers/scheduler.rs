//! The scheduler for simulated pods: filters nodes like the default
//! scheduler's plugins (unschedulable, taints, affinity, resources) and binds
//! to the least allocated fit, or leaves the pod Pending with its message.

use super::podaffinity::{self, ExistingAnti};
use super::{NODES, PODS, expression_matches, quantity, set_condition};
use crate::store::{Inner, meta_str};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// What a pod asks for, as the scheduler counts it: cpu in millicores,
/// memory and ephemeral storage in bytes, every other resource (extended
/// resources such as `nvidia.com/gpu`, hugepages) in whole units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests {
    pub cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub scalar: BTreeMap<String, i64>,
}

impl Requests {
    /// A `ResourceList` (`{cpu: 100m, memory: 1Gi, nvidia.com/gpu: 1}`).
    pub fn from_list(list: &Value) -> Requests {
        let mut r = Requests::default();
        for (name, q) in list.as_object().into_iter().flatten() {
            r.set(name, q);
        }
        r
    }

    fn set(&mut self, name: &str, q: &Value) {
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return,
        };
        let parsed = if name == "cpu" {
            quantity::millis(&text)
        } else {
            quantity::units(&text)
        };
        let Some(v) = parsed else {
            return;
        };
        match name {
            "cpu" => self.cpu = v,
            "memory" => self.memory = v,
            "ephemeral-storage" => self.ephemeral_storage = v,
            "pods" => {}
            other => {
                self.scalar.insert(other.to_string(), v);
            }
        }
    }

    pub fn add(&mut self, o: &Requests) {
        self.cpu = self.cpu.saturating_add(o.cpu);
        self.memory = self.memory.saturating_add(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
    }

    pub fn sub(&mut self, o: &Requests) {
        self.cpu -= o.cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Per resource, the larger of the two.
    pub fn max_with(&mut self, o: &Requests) {
        self.cpu = self.cpu.max(o.cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    fn scalar(&self, name: &str) -> i64 {
        self.scalar.get(name).copied().unwrap_or(0)
    }
}

/// A container's requests; a resource with a limit but no request counts
/// its limit (API defaulting copies it).
pub fn container_requests(c: &Value) -> Requests {
    let mut r = c
        .pointer("/resources/limits")
        .map(Requests::from_list)
        .unwrap_or_default();
    if let Some(req) = c.pointer("/resources/requests").and_then(Value::as_object) {
        for (name, q) in req {
            r.set(name, q);
        }
    }
    r
}

/// Requests of a pod as the scheduler counts them (`resourcehelper.PodRequests`):
/// the sum over containers plus restartable (sidecar) init containers, at
/// least what each regular init container needs alongside the sidecars
/// started before it, plus the pod overhead.
pub fn pod_requests(pod: &Value) -> Requests {
    let list = |k: &str| {
        pod.get("spec")
            .and_then(|s| s.get(k))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let mut sum = Requests::default();
    for c in list("containers") {
        sum.add(&container_requests(c));
    }
    let mut sidecars = Requests::default();
    let mut init_peak = Requests::default();
    for c in list("initContainers") {
        let mut r = container_requests(c);
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            sum.add(&r);
            sidecars.add(&r);
            r = sidecars.clone();
        } else {
            r.add(&sidecars);
        }
        init_peak.max_with(&r);
    }
    sum.max_with(&init_peak);
    if let Some(o) = pod.pointer("/spec/overhead") {
        sum.add(&Requests::from_list(o));
    }
    sum
}

/// Requests of the pods bound to each node, kept up to date from the event
/// feed so scheduling one pod costs O(nodes), not O(pods). Built lazily from
/// the store on first use (fixture pods arrive without events). Bound pods
/// with required anti-affinity are indexed too, for the symmetric check.
#[derive(Default)]
pub struct Usage {
    ready: bool,
    by_node: HashMap<String, (Requests, i64)>,
    by_pod: HashMap<(String, String), (String, Requests)>,
    anti: HashMap<(String, String), ExistingAnti>,
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
        for n in inner.in_namespace(NODES, "") {
            for (ns, name) in inner.pods_on_node(&n.name) {
                if let Some(p) = inner.get(PODS, &ns, &name) {
                    self.set(&p);
                }
            }
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
        e.0.add(&r);
        e.1 += 1;
        if podaffinity::has_required_anti_affinity(pod) {
            self.anti.insert(
                key.clone(),
                ExistingAnti {
                    node: node.to_string(),
                    pod: pod.clone(),
                },
            );
        }
        self.by_pod.insert(key, (node.to_string(), r));
    }

    pub fn remove(&mut self, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        self.anti.remove(&key);
        if let Some((node, r)) = self.by_pod.remove(&key)
            && let Some(e) = self.by_node.get_mut(&node)
        {
            e.0.sub(&r);
            e.1 -= 1;
        }
    }

    fn of(&self, node: &str) -> (Requests, i64) {
        self.by_node.get(node).cloned().unwrap_or_default()
    }

    fn existing_anti(&self) -> impl Iterator<Item = &ExistingAnti> {
        self.anti.values()
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
    /// The node with `used`/`used_pods` already bound to it. Allocatable is
    /// read as the scheduler reads it (capacity when allocatable is absent);
    /// a node without cpu/memory figures is treated as roomy, not full.
    pub fn from_node(node: &Value, used: Requests, used_pods: i64) -> NodeView {
        let name = meta_str(node, "name").to_string();
        let list = node
            .pointer("/status/allocatable")
            .or_else(|| node.pointer("/status/capacity"));
        let mut alloc = list.map(Requests::from_list).unwrap_or_default();
        let has = |k: &str| list.and_then(|l| l.get(k)).is_some();
        for (k, slot) in [
            ("cpu", &mut alloc.cpu),
            ("memory", &mut alloc.memory),
            ("ephemeral-storage", &mut alloc.ephemeral_storage),
        ] {
            if !has(k) {
                *slot = i64::MAX / 4;
            }
        }
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
            alloc,
            alloc_pods: list
                .and_then(|l| l.get("pods"))
                .and_then(|p| match p {
                    Value::String(s) => quantity::units(s),
                    Value::Number(n) => n.as_i64(),
                    _ => None,
                })
                .unwrap_or(110),
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

/// A filter plugin's verdict on one node: the reasons it gives, and whether
/// evicting other pods could ever help (`UnschedulableAndUnresolvable`
/// otherwise), which decides the preemption half of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterStatus {
    pub reasons: Vec<String>,
    pub unresolvable: bool,
}

impl FilterStatus {
    pub fn unresolvable(reason: &str) -> FilterStatus {
        FilterStatus {
            reasons: vec![reason.to_string()],
            unresolvable: true,
        }
    }

    pub fn resolvable(reason: &str) -> FilterStatus {
        FilterStatus {
            reasons: vec![reason.to_string()],
            unresolvable: false,
        }
    }
}

/// NodeUnschedulable, TaintToleration and NodeAffinity, in the framework's
/// order; each rejects with `UnschedulableAndUnresolvable`.
pub fn node_filters(pod: &Value, node: &NodeView) -> Option<FilterStatus> {
    let tols = tolerations(pod);
    if node.unschedulable
        && !tolerates(
            &tols,
            &json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}),
        )
    {
        return Some(FilterStatus::unresolvable("node(s) were unschedulable"));
    }
    let mut taints = node.taints.clone();
    if !node.ready {
        // What the node lifecycle controller adds to a NotReady node.
        taints.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}));
    }
    for t in &taints {
        let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
        // PreferNoSchedule only lowers a node's score; it never filters.
        if matches!(effect, "NoSchedule" | "NoExecute") && !tolerates(&tols, t) {
            return Some(FilterStatus::unresolvable(&format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.get("key").and_then(Value::as_str).unwrap_or(""),
                t.get("value").and_then(Value::as_str).unwrap_or("")
            )));
        }
    }
    if !affinity_matches(pod, node) {
        return Some(FilterStatus::unresolvable(
            "node(s) didn't match Pod's node affinity/selector",
        ));
    }
    None
}

/// NodeResourcesFit (`fitsRequest`): the pod fits when, per resource,
/// request <= allocatable - already requested, in exact integers (cpu in
/// millicores, the rest in units). Every insufficient resource is reported;
/// a request larger than the whole node is unresolvable.
pub fn resources_fit(req: &Requests, node: &NodeView) -> Option<FilterStatus> {
    let mut reasons = Vec::new();
    let mut unresolvable = false;
    if node.used_pods + 1 > node.alloc_pods {
        reasons.push("Too many pods".to_string());
    }
    let mut check = |name: &str, want: i64, alloc: i64, used: i64| {
        if want > 0 && want > alloc.saturating_sub(used) {
            reasons.push(format!("Insufficient {name}"));
            unresolvable |= want > alloc;
        }
    };
    check("cpu", req.cpu, node.alloc.cpu, node.used.cpu);
    check("memory", req.memory, node.alloc.memory, node.used.memory);
    check(
        "ephemeral-storage",
        req.ephemeral_storage,
        node.alloc.ephemeral_storage,
        node.used.ephemeral_storage,
    );
    for (name, want) in &req.scalar {
        check(name, *want, node.alloc.scalar(name), node.used.scalar(name));
    }
    (!reasons.is_empty()).then_some(FilterStatus {
        reasons,
        unresolvable,
    })
}

/// Why a node does not fit, in the default scheduler's words (None = fits).
/// Filters stop at the first failing plugin, as the framework does; the
/// resource filter reports every insufficient resource at once.
pub fn fit(
    pod: &Value,
    req: &Requests,
    node: &NodeView,
    inter: &podaffinity::PreFilter,
) -> Option<FilterStatus> {
    node_filters(pod, node)
        .or_else(|| resources_fit(req, node))
        .or_else(|| podaffinity::filter(inter, node))
}

fn histogram(reasons: &BTreeMap<String, usize>) -> String {
    // `sortReasonsHistogram`: "N reason" strings sorted as strings.
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    parts.join(", ")
}

/// The FailedScheduling message: `0/3 nodes are available: 1 node(s) were
/// unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: ...`.
/// Preemption cannot help on a node whose filter was unresolvable; elsewhere
/// the sandbox has no lower-priority victims to offer.
pub fn unschedulable_message(total: usize, per_node: &[FilterStatus]) -> String {
    let mut reasons = BTreeMap::new();
    let mut preemption = BTreeMap::new();
    for st in per_node {
        for x in &st.reasons {
            *reasons.entry(x.clone()).or_insert(0) += 1;
        }
        let key = if st.unresolvable {
            "Preemption is not helpful for scheduling"
        } else {
            "No preemption victims found for incoming pod"
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

/// Whether the default scheduler would act on this pod at all: pods that
/// name a node, or another scheduler, are not its business.
pub fn wants_scheduling(pod: &Value) -> bool {
    let bound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let scheduler = pod
        .pointer("/spec/schedulerName")
        .and_then(Value::as_str)
        .unwrap_or("default-scheduler");
    !bound && (scheduler.is_empty() || scheduler == "default-scheduler")
}

/// Binds an unbound pod to the best node, or marks it Unschedulable.
/// Pods that already name a node (DaemonSet pods) pass through.
pub fn schedule(inner: &Inner, usage: &mut Usage, mut pod: Value, ts: &str) -> Value {
    if !wants_scheduling(&pod) {
        return pod;
    }
    let req = pod_requests(&pod);
    usage.ensure(inner);
    let nodes: Vec<NodeView> = inner
        .values_in(NODES, "")
        .map(|n| {
            let (used, pods) = usage.of(meta_str(&n, "name"));
            NodeView::from_node(&n, used, pods)
        })
        .collect();
    if let Some(why) = super::volumes::prefilter(inner, &pod) {
        // The VolumeBinding pre-filter fails before any node is looked at.
        let total = nodes.len();
        let msg = format!(
            "0/{total} nodes are available: {why}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        );
        return unschedulable(pod, &msg, ts);
    }
    let inter = podaffinity::prefilter(inner, &pod, &nodes, usage.existing_anti());
    let mut failures = Vec::new();
    let mut best: Option<(f64, &NodeView)> = None;
    for n in &nodes {
        match fit(&pod, &req, n, &inter) {
            None => {
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
            }
            Some(why) => failures.push(why),
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

fn unschedulable(pod: Value, msg: &str, ts: &str) -> Value {
    not_scheduled(pod, "Unschedulable", msg, ts)
}

/// A pod placed on a node whose volumes could not be bound (PreBind):
/// unbound again, with the scheduler's error.
pub fn prebind_failed(pod: Value, why: &str, ts: &str) -> Value {
    not_scheduled(pod, "SchedulerError", why, ts)
}

/// Pending with `PodScheduled=False` for `reason`.
fn not_scheduled(mut pod: Value, reason: &str, msg: &str, ts: &str) -> Value {
    let mut conditions: Vec<Value> = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    set_condition(
        &mut conditions,
        "PodScheduled",
        "False",
        reason,
        msg,
        ts,
        false,
    );
    pod["status"]["conditions"] = json!(conditions);
    pod["status"]["phase"] = json!("Pending");
    pod
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
            alloc: Requests {
                cpu,
                memory: mem,
                ephemeral_storage: i64::MAX / 4,
                scalar: BTreeMap::new(),
            },
            alloc_pods: 110,
            ..Default::default()
        }
    }

    fn pod(cpu: &str, mem: &str) -> Value {
        json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}})
    }

    fn reasons(p: &Value, n: &NodeView) -> Vec<String> {
        fit(p, &pod_requests(p), n, &Default::default())
            .map(|s| s.reasons)
            .unwrap_or_default()
    }

    #[test]
    fn requests_sum_and_limits_default() {
        let p = json!({"spec": {"containers": [
            {"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]}});
        let r = pod_requests(&p);
        assert_eq!((r.cpu, r.memory), (2000, (64 << 20) + (1 << 30)));
        assert_eq!(r.scalar.get("nvidia.com/gpu"), Some(&1));
    }

    #[test]
    fn sidecars_add_to_the_sum_and_overhead_counts() {
        // Sidecar 200m runs beside the app (500m) and beside the later init
        // container (1000m): max(500+200, 1000+200) + overhead 50m.
        let p = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "500m"}}}],
            "initContainers": [
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
                {"resources": {"requests": {"cpu": "1"}}}],
            "overhead": {"cpu": "50m"}}});
        assert_eq!(pod_requests(&p).cpu, 1250);
    }

    #[test]
    fn fit_reports_each_filter() {
        let p = pod("500m", "1Gi");
        assert!(reasons(&p, &node("a", 1000, 2 << 30)).is_empty());
        let mut full = node("b", 400, 512 << 20);
        assert_eq!(
            reasons(&p, &full),
            ["Insufficient cpu", "Insufficient memory"]
        );
        full.unschedulable = true;
        assert_eq!(reasons(&p, &full), ["node(s) were unschedulable"]);
        let mut tainted = node("c", 1000, 2 << 30);
        tainted.taints = vec![json!({"key": "gpu", "value": "yes", "effect": "NoSchedule"})];
        assert_eq!(
            reasons(&p, &tainted),
            ["node(s) had untolerated taint {gpu: yes}"]
        );
        let mut tolerant = p.clone();
        tolerant["spec"]["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}]);
        assert!(reasons(&tolerant, &tainted).is_empty());
        tainted.taints = vec![json!({"key": "x", "effect": "PreferNoSchedule"})];
        assert!(reasons(&p, &tainted).is_empty());
        tainted.taints = vec![json!({"key": "x", "value": "1", "effect": "NoExecute"})];
        assert_eq!(
            reasons(&p, &tainted),
            ["node(s) had untolerated taint {x: 1}"]
        );
    }

    #[test]
    fn boundary_is_exact_to_the_byte_and_millicore() {
        let mut n = node("a", 1000, 1 << 30);
        n.used = Requests {
            cpu: 500,
            memory: 512 << 20,
            ..Default::default()
        };
        // Exactly the room left fits ...
        let exact = pod("500m", "512Mi");
        assert!(reasons(&exact, &n).is_empty());
        // ... one byte or one millicore more does not.
        let byte_more = pod("500m", &((512u64 << 20) + 1).to_string());
        assert_eq!(reasons(&byte_more, &n), ["Insufficient memory"]);
        let milli_more = pod("501m", "1");
        assert_eq!(reasons(&milli_more, &n), ["Insufficient cpu"]);
        // A fraction of a millicore rounds up, as MilliValue does.
        let tiny = pod("0.5001", "1");
        assert_eq!(reasons(&tiny, &n), ["Insufficient cpu"]);
    }

    #[test]
    fn extended_resources_and_unresolvable() {
        let mut gpu = node("gpu", 4000, 8 << 30);
        gpu.alloc.scalar.insert("nvidia.com/gpu".into(), 2);
        let plain = node("plain", 4000, 8 << 30);
        let mut p = pod("100m", "1Gi");
        p["spec"]["containers"][0]["resources"]["limits"] = json!({"nvidia.com/gpu": 2});
        assert!(reasons(&p, &gpu).is_empty());
        let st = resources_fit(&pod_requests(&p), &plain).expect("no gpu");
        assert_eq!(st.reasons, ["Insufficient nvidia.com/gpu"]);
        assert!(st.unresolvable, "the node has none at all");
        gpu.used.scalar.insert("nvidia.com/gpu".into(), 1);
        let st = resources_fit(&pod_requests(&p), &gpu).expect("one left");
        assert!(!st.unresolvable, "evicting the other user would help");
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
        let mut numeric = n.clone();
        numeric.labels["cores"] = json!("16");
        for (op, v, want) in [
            ("Gt", "8", true),
            ("Gt", "16", false),
            ("Lt", "32", true),
            ("Lt", "x", false),
        ] {
            p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"] =
                json!([{"matchExpressions": [{"key": "cores", "operator": op, "values": [v]}]}]);
            assert_eq!(affinity_matches(&p, &numeric), want, "{op} {v}");
        }
        p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] =
            json!([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}]);
        assert!(affinity_matches(&p, &numeric));
    }

    #[test]
    fn message_like_the_scheduler() {
        let msg = unschedulable_message(
            3,
            &[
                FilterStatus::unresolvable("node(s) were unschedulable"),
                FilterStatus::resolvable("Insufficient memory"),
                FilterStatus::resolvable("Insufficient memory"),
            ],
        );
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
        let msg = unschedulable_message(
            5,
            &[
                FilterStatus::resolvable("Insufficient cpu"),
                FilterStatus::resolvable("Insufficient cpu"),
                FilterStatus::unresolvable("node(s) didn't match Pod's node affinity/selector"),
                FilterStatus::unresolvable("node(s) didn't match Pod's node affinity/selector"),
                FilterStatus::unresolvable("node(s) didn't match Pod's node affinity/selector"),
            ],
        );
        assert_eq!(
            msg,
            "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn only_default_scheduler_pods_without_a_node() {
        assert!(wants_scheduling(&json!({"spec": {}})));
        assert!(wants_scheduling(
            &json!({"spec": {"schedulerName": "default-scheduler"}})
        ));
        assert!(!wants_scheduling(
            &json!({"spec": {"schedulerName": "volcano"}})
        ));
        assert!(!wants_scheduling(&json!({"spec": {"nodeName": "n1"}})));
    }
}
