//! Pod-level problems (crash loops, OOM, image pulls, scheduling, probes,
//! restarts, errors), grouped under the owning workload: one finding per
//! (workload, reason) listing the pods, not one per pod.

use std::collections::BTreeMap;

use super::Context;
use crate::contrast::contrast;
use crate::podstate::{PodIssue, PodState};
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, quantity};
use crate::text::capped;

/// Group pod issues into findings under their owners.
pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    type Group<'a> = Vec<(&'a PodState, PodIssue)>;
    let mut groups: BTreeMap<(ObjectRef, Reason), Group> = BTreeMap::new();
    for state in &snap.pods {
        let mut seen_reasons = Vec::new();
        // Missing references are the references check's: it names them.
        for issue in state
            .issues
            .iter()
            .filter(|i| i.reason != Reason::MissingReference)
        {
            // One entry per pod and reason; the first container is the headline.
            if seen_reasons.contains(&issue.reason) {
                if let Some(g) = groups.get_mut(&(state.owner.clone(), issue.reason))
                    && let Some((_, first)) = g.last_mut()
                {
                    first.evidence.extend(issue.evidence.iter().cloned());
                }
                continue;
            }
            seen_reasons.push(issue.reason);
            groups
                .entry((state.owner.clone(), issue.reason))
                .or_default()
                .push((state, issue.clone()));
        }
    }
    groups
        .into_iter()
        .filter_map(|((owner, reason), mut group)| {
            group.sort_by(|a, b| a.0.pod.name.cmp(&b.0.pod.name));
            finding(snap, ctx, &owner, reason, &group)
        })
        .collect()
}

fn finding(
    snap: &Snapshot,
    ctx: &Context,
    owner: &ObjectRef,
    reason: Reason,
    group: &[(&PodState, PodIssue)],
) -> Option<Finding> {
    let (first_pod, first) = group.first()?;
    let total = snap.pods_of(owner).count().max(group.len());
    let mut details: Vec<&str> = Vec::new();
    for (_, i) in group {
        if !details.contains(&i.detail.as_str()) {
            details.push(&i.detail);
        }
    }
    let message = if owner.kind == "Pod" {
        format!("pod {} ({})", first.state, details.join("; "))
    } else {
        format!(
            "{}/{} pods {} ({})",
            group.len(),
            total,
            first.state,
            details.join("; ")
        )
    };
    let mut f = Finding::new(reason, owner, message);
    for (state, _) in group {
        let p = &state.pod;
        f.affect_pod(&p.namespace, &p.name, &p.uid, p.node.as_deref());
    }
    // Owner UIDs too: BackOff/FailedCreate events on the workload are the same story.
    if let Some(owner_uid) = snap.uid_of(owner) {
        f.explains.insert(owner_uid);
    }
    // What sets the failing pods apart from the healthy ones of the workload.
    let mut contrast_node = None;
    if owner.kind != "Pod" {
        let failing: Vec<&PodState> = group.iter().map(|(s, _)| *s).collect();
        let healthy: Vec<&PodState> = snap.pods_of(owner).filter(|p| p.healthy()).collect();
        let word = if reason == Reason::CrashLoopBackOff || reason == Reason::OOMKilled {
            "crashing"
        } else {
            "failing"
        };
        if let Some(c) = contrast(snap, ctx, &failing, &healthy, word) {
            f.add_evidence(&c.text);
            contrast_node = c.node;
        }
    }
    f.extend_evidence(first.evidence.iter());
    if group.len() > 1 {
        let others: Vec<String> = group[1..]
            .iter()
            .map(|(p, i)| {
                format!(
                    "pod {}: {}",
                    p.pod.name,
                    i.evidence.first().unwrap_or(&i.detail)
                )
            })
            .collect();
        f.extend_evidence(capped(others, 4));
    }
    let namespace = &owner.namespace;
    let pod_name = &first_pod.pod.name;
    // The previous log of the representative pod.
    if let Some(c) = &first.container
        && let Some((log_pod, log)) = log_for(snap, owner, c)
    {
        f.log_excerpt(
            |shown| format!("previous log of {log_pod}/{c} (last {shown} lines):"),
            log,
            ctx.log_lines,
        );
    }
    let cflag = first
        .container
        .as_ref()
        .map(|c| format!(" -c {c}"))
        .unwrap_or_default();
    match reason {
        Reason::CrashLoopBackOff | Reason::HighRestarts | Reason::ContainerError => {
            if reason != Reason::ContainerError || first.state != "Evicted" {
                f = f.remedy(format!(
                    "kubectl logs {pod_name}{cflag} -n {namespace} --previous"
                ));
            }
            f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
        }
        Reason::OOMKilled => {
            let c = first.container.clone().unwrap_or_default();
            let new_limit = first_pod
                .pod
                .container(&c)
                .and_then(|s| s.spec.memory_limit.as_deref())
                .and_then(quantity::parse)
                .map(|b| quantity::human_bytes(b * 2.0))
                .unwrap_or_else(|| "512Mi".into());
            if let Some(usage) = snap.container_usage(namespace, pod_name, &c, "memory") {
                f.add_evidence(format!(
                    "container {c}: memory usage now {}",
                    quantity::human_bytes(usage)
                ));
            }
            if owner.kind != "Pod" {
                f = f.remedy(format!(
                    "kubectl set resources {} -n {namespace} -c {c} --limits=memory={new_limit}",
                    owner.kubectl_ref()
                ));
            }
            f = f.remedy(format!(
                "kubectl logs {pod_name}{cflag} -n {namespace} --previous"
            ));
        }
        Reason::ImagePullBackOff => {
            f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
            let missing: Vec<String> = f
                .evidence_lines()
                .iter()
                .filter_map(|e| {
                    e.strip_prefix("pull secret ")
                        .and_then(|r| r.strip_suffix(": does not exist"))
                        .map(str::to_string)
                })
                .collect();
            for s in missing {
                f = f.remedy(format!(
                    "kubectl create secret docker-registry {s} -n {namespace} --docker-server=<registry> --docker-username=<user> --docker-password=<password>"
                ));
            }
        }
        Reason::Unschedulable => {
            f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
            f = f.remedy("kubectl describe nodes".to_string());
        }
        Reason::ProbeFailing => {
            f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
            f = f.remedy(format!("kubectl logs {pod_name}{cflag} -n {namespace}"));
        }
        _ => {}
    }
    if let Some(node) = contrast_node {
        f = f.remedy(format!("kubectl describe node {node}"));
    }
    if owner.kind == "Deployment"
        && let Some(rollout) = crate::rollout::deployment(snap, ctx, owner)
    {
        f.extend_evidence(rollout.evidence);
        f = f.remedy(rollout.undo);
    }
    Some(f)
}

/// The fetched previous log of a pod of this workload, for this container.
fn log_for<'a>(
    snap: &'a Snapshot,
    owner: &ObjectRef,
    container: &str,
) -> Option<(&'a str, &'a str)> {
    snap.logs.iter().find_map(|(k, v)| {
        let state = snap.pod(&k.namespace, &k.pod)?;
        (k.container == container && state.owner == *owner).then_some((k.pod.as_str(), v.as_str()))
    })
}
