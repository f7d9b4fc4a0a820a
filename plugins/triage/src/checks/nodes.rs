//! NodeProblem: nodes hosting the scope's pods that are NotReady, cordoned,
//! or under memory/disk/PID pressure. Pods on a NotReady node belong here.

use std::collections::BTreeMap;

use super::Context;
use crate::podstate::PodState;
use crate::report::{Finding, Reason, Severity};
use crate::snapshot::{ObjectRef, Snapshot, items, name, uid};
use crate::text::{capped, plural};

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut hosted: BTreeMap<&str, Vec<&PodState>> = BTreeMap::new();
    for p in &snap.pods {
        if let Some(n) = p.pod.node.as_deref() {
            hosted.entry(n).or_default().push(p);
        }
    }
    let mut out = Vec::new();
    for node in items(&snap.nodes) {
        let node_name = name(&node.metadata);
        let Some(pods) = hosted.get(node_name) else {
            continue;
        };
        let mut problems = Vec::new();
        let mut evidence = Vec::new();
        let mut critical = false;
        for c in node
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
        {
            let bad = match c.type_.as_str() {
                "Ready" => c.status != "True",
                "MemoryPressure" | "DiskPressure" | "PIDPressure" | "NetworkUnavailable" => {
                    c.status == "True"
                }
                _ => false,
            };
            if !bad {
                continue;
            }
            let label = if c.type_ == "Ready" {
                critical = true;
                "NotReady".to_string()
            } else {
                c.type_.clone()
            };
            let since = c
                .last_transition_time
                .as_ref()
                .map(|t| format!(" since {} ({})", t.0, ctx.ago(t.0)))
                .unwrap_or_default();
            evidence.push(format!(
                "condition {}={}{since}: {} {}",
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
            problems.push(label);
        }
        let cordoned = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if cordoned {
            problems.push("cordoned".into());
            evidence.push("spec.unschedulable=true (cordoned)".into());
        }
        if problems.is_empty() {
            continue;
        }
        let key = ObjectRef::new("Node", "", node_name);
        let mut f = Finding::new(
            Reason::NodeProblem,
            &key,
            format!(
                "node {} hosting {}",
                problems.join(", "),
                plural(pods.len(), "pod")
            ),
        );
        if critical {
            f.severity = Severity::Critical;
            // The node lifecycle controller marked these pods not Ready; their
            // container statuses are stale, so the node is the finding.
            let mut by_owner: BTreeMap<String, usize> = BTreeMap::new();
            for p in pods {
                *by_owner.entry(p.owner.to_string()).or_default() += 1;
            }
            let lines: Vec<String> = by_owner
                .into_iter()
                .map(|(o, n)| format!("{o}: {}", plural(n, "pod")))
                .collect();
            evidence.push(format!(
                "pods on it are marked not Ready (their container statuses are stale): {}",
                capped(lines, 6).join(", ")
            ));
        }
        f.extend_evidence(evidence);
        for p in pods {
            f.affect_pod(&p.pod.namespace, &p.pod.name, &p.pod.uid, Some(node_name));
        }
        f.explains.insert(uid(&node.metadata).to_string());
        f = f.remedy(format!("kubectl describe node {node_name}"));
        if cordoned {
            f = f.remedy(format!("kubectl uncordon {node_name}"));
        }
        out.push(f);
    }
    out
}
