//! PVCNearFull: mounted PersistentVolumeClaims at ≥ 85% of their capacity
//! (critical at ≥ 95%), from the kubelet stats summary of the nodes running
//! them, with the expansion command when the StorageClass allows it.

use std::collections::BTreeMap;

use super::Context;
use crate::report::{Finding, Reason, Severity};
use crate::snapshot::{ObjectRef, Snapshot, VolumeUsage, items, name, quantity, uid};

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    // One entry per claim: the fullest report of it (a RWX claim is mounted on several nodes).
    let mut claims: BTreeMap<(&str, &str), Vec<&VolumeUsage>> = BTreeMap::new();
    for v in items(&snap.volume_usage) {
        claims
            .entry((v.namespace.as_str(), v.claim.as_str()))
            .or_default()
            .push(v);
    }
    let mut out = Vec::new();
    for ((namespace, claim), uses) in claims {
        let Some(worst) = uses
            .iter()
            .copied()
            .max_by(|a, b| a.fraction().total_cmp(&b.fraction()))
        else {
            continue;
        };
        let full = worst.fraction();
        if full < VolumeUsage::NEAR_FULL {
            continue;
        }
        let key = ObjectRef::new("PersistentVolumeClaim", namespace, claim);
        let used = quantity::human_bytes(worst.used_bytes as f64);
        let capacity = quantity::human_bytes(worst.capacity_bytes as f64);
        let mut f = Finding::new(
            Reason::PVCNearFull,
            &key,
            format!("{:.0}% full: {used} of {capacity} used", full * 100.0),
        )
        .evidence(format!(
            "kubelet stats on node {}: used {used} of {capacity} ({:.1}%), mounted by pod {}",
            worst.node,
            full * 100.0,
            worst.pod
        ));
        if full >= VolumeUsage::FULL {
            f.severity = Severity::Critical;
        }
        for other in uses.iter().filter(|u| u.pod != worst.pod) {
            f.add_evidence(format!(
                "also mounted by pod {} on node {}",
                other.pod, other.node
            ));
        }
        if let Some(p) = snap.pod(namespace, &worst.pod) {
            f.affect_pod(namespace, &p.pod.name, &p.pod.uid, p.pod.node.as_deref());
        }
        let pvc = snap.pvc(namespace, claim);
        if let Some(p) = pvc {
            f.explains.insert(uid(&p.metadata).to_string());
        }
        let class = pvc
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.storage_class_name.clone());
        let expandable = class.as_deref().and_then(|c| {
            items(&snap.storage_classes)
                .iter()
                .find(|s| name(&s.metadata) == c)
                .map(|s| s.allow_volume_expansion == Some(true))
        });
        match (class.as_deref(), expandable) {
            (Some(c), Some(true)) => {
                let bigger = quantity::human_bytes(worst.capacity_bytes as f64 * 2.0);
                f.add_evidence(format!("StorageClass {c} allows volume expansion"));
                f = f.remedy(format!(
                    "kubectl patch pvc {claim} -n {namespace} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{bigger}\"}}}}}}}}'"
                ));
            }
            (Some(c), Some(false)) => {
                f.add_evidence(format!(
                    "StorageClass {c} does not allow volume expansion: free space or migrate the data"
                ));
            }
            _ => {}
        }
        f = f.remedy(format!("kubectl describe pvc {claim} -n {namespace}"));
        out.push(f);
    }
    out
}
