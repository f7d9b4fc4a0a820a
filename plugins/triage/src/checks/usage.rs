//! HighResourceUsage: containers using more than 90% of their memory or
//! CPU limit (metrics.k8s.io PodMetrics), grouped by workload.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::Context;
use crate::report::{Affected, Finding, Reason};
use crate::snapshot::{ObjectRef, PodMetrics, Snapshot, items, name, ns, quantity, uid};

pub const THRESHOLD: f64 = 0.9;

/// (pod, pod uid, node, evidence line) of one container over the threshold.
type Hit = (String, String, Option<String>, String);

fn metrics_of<'a>(snap: &'a Snapshot, pod: &Pod) -> Option<&'a PodMetrics> {
    snap.metrics_for(ns(&pod.metadata), name(&pod.metadata))
}

fn usage(snap: &Snapshot, pod: &Pod, container: &str, resource: &str) -> Option<f64> {
    let m = metrics_of(snap, pod)?;
    let c = m.containers.iter().find(|c| c.name == container)?;
    quantity::parse(&c.usage.get(resource)?.0)
}

pub fn memory_usage(snap: &Snapshot, pod: &Pod, container: &str) -> Option<f64> {
    usage(snap, pod, container, "memory")
}

fn limit(pod: &Pod, container: &str, resource: &str) -> Option<f64> {
    let c = pod
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == container)?;
    quantity::parse(&c.resources.as_ref()?.limits.as_ref()?.get(resource)?.0)
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    if items(&snap.pod_metrics).is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<ObjectRef, Vec<Hit>> = BTreeMap::new();
    for pod in &snap.pods {
        if metrics_of(snap, pod).is_none() {
            continue;
        }
        // An OOMKilled finding already shows usage against the limit.
        let oom = crate::checks::pods::classify(snap, ctx, pod)
            .iter()
            .any(|i| i.reason == Reason::OOMKilled);
        if oom {
            continue;
        }
        for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            for (res, show) in [
                ("memory", quantity::human_bytes as fn(f64) -> String),
                ("cpu", quantity::human_cpu),
            ] {
                let (Some(u), Some(l)) = (usage(snap, pod, &c.name, res), limit(pod, &c.name, res))
                else {
                    continue;
                };
                if l <= 0.0 || u / l <= THRESHOLD {
                    continue;
                }
                let line = format!(
                    "pod {} container {}: {res} {} of {} limit ({:.0}%)",
                    name(&pod.metadata),
                    c.name,
                    show(u),
                    show(l),
                    100.0 * u / l
                );
                groups.entry(snap.owner_of_pod(pod)).or_default().push((
                    name(&pod.metadata).to_string(),
                    uid(&pod.metadata).to_string(),
                    pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                    line,
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (owner, hits) in groups {
        let first = hits.first().map(|h| h.3.clone()).unwrap_or_default();
        let mut pods: Vec<&str> = hits.iter().map(|h| h.0.as_str()).collect();
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
        for (pod, pod_uid, node, line) in hits {
            f.evidence.push(line);
            if !f.affected.iter().any(|a| a.name == pod) {
                f.affected.push(Affected {
                    kind: "Pod".into(),
                    name: pod,
                    node,
                });
            }
            f.explains.insert(pod_uid);
        }
        if owner.kind != "Pod" {
            f = f.remedy(format!(
                "kubectl set resources {}/{} -n {} --limits=memory=<more>,cpu=<more>",
                owner.kind.to_lowercase(),
                owner.name,
                owner.namespace
            ));
        }
        f = f.remedy(format!("kubectl top pods -n {}", owner.namespace));
        out.push(f);
    }
    out
}
