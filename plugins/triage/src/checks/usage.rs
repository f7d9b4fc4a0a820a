//! HighResourceUsage: containers using more than 90% of their memory or
//! CPU limit (metrics.k8s.io PodMetrics), grouped by workload.

use std::collections::BTreeMap;

use super::Context;
use crate::podstate::PodState;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, quantity};

pub const THRESHOLD: f64 = 0.9;

/// (pod, evidence line) of one container over the threshold.
type Hit<'a> = (&'a PodState, String);

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    if items(&snap.pod_metrics).is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<ObjectRef, Vec<Hit>> = BTreeMap::new();
    for state in &snap.pods {
        let pod = &state.pod;
        if snap.metrics_for(&pod.namespace, &pod.name).is_none() {
            continue;
        }
        // An OOMKilled finding already shows usage against the limit.
        if state.issues.iter().any(|i| i.reason == Reason::OOMKilled) {
            continue;
        }
        for c in pod.containers.iter().filter(|c| !c.spec.init) {
            for (res, limit, show) in [
                (
                    "memory",
                    c.spec.memory_limit.as_deref(),
                    quantity::human_bytes as fn(f64) -> String,
                ),
                ("cpu", c.spec.cpu_limit.as_deref(), quantity::human_cpu),
            ] {
                let (Some(u), Some(l)) = (
                    snap.container_usage(&pod.namespace, &pod.name, c.name(), res),
                    limit.and_then(quantity::parse),
                ) else {
                    continue;
                };
                if l <= 0.0 || u / l <= THRESHOLD {
                    continue;
                }
                let line = format!(
                    "pod {} container {}: {res} {} of {} limit ({:.0}%)",
                    pod.name,
                    c.name(),
                    show(u),
                    show(l),
                    100.0 * u / l
                );
                groups
                    .entry(state.owner.clone())
                    .or_default()
                    .push((state, line));
            }
        }
    }
    let mut out = Vec::new();
    for (owner, hits) in groups {
        let first = hits.first().map(|h| h.1.clone()).unwrap_or_default();
        let mut pods: Vec<&str> = hits.iter().map(|h| h.0.pod.name.as_str()).collect();
        pods.dedup();
        let total = snap.pods_of(&owner).count().max(pods.len());
        let msg = first
            .split(": ")
            .nth(1)
            .unwrap_or("near its limit")
            .to_string();
        let mut f = Finding::new(
            Reason::HighResourceUsage,
            &owner,
            format!("{}/{total} pods above 90% of limit ({msg})", pods.len()),
        );
        for (state, line) in hits {
            f.add_evidence(line);
            let p = &state.pod;
            f.affect_pod(&p.namespace, &p.name, &p.uid, p.node.as_deref());
        }
        if owner.kind != "Pod" {
            f = f.remedy(format!(
                "kubectl set resources {} -n {} --limits=memory=<more>,cpu=<more>",
                owner.kubectl_ref(),
                owner.namespace
            ));
        }
        f = f.remedy(format!("kubectl top pods -n {}", owner.namespace));
        out.push(f);
    }
    out
}
