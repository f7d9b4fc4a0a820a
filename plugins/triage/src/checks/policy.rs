//! Storage, autoscaling and disruption policy: PVCs that are not bound,
//! HPAs pinned at their maximum, PDBs that allow no disruption.

use super::Context;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, name, ns, uid};
use crate::text::intstr;

pub fn pvcs(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for pvc in items(&snap.pvcs) {
        let phase = pvc
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending");
        if phase != "Pending" && phase != "Lost" {
            continue;
        }
        let namespace = ns(&pvc.metadata);
        let key = ObjectRef::new("PersistentVolumeClaim", namespace, name(&pvc.metadata));
        let events: Vec<_> = snap
            .events_for("PersistentVolumeClaim", namespace, &key.name)
            .collect();
        let spec = pvc.spec.as_ref();
        let named = spec.and_then(|s| s.storage_class_name.as_deref());
        let class = snap.storage_class(named);
        // WaitForFirstConsumer claims are Pending by design until a pod uses them
        // (a pod that cannot be scheduled is its own finding). Without the
        // StorageClasses, only a Warning event makes a Pending claim a finding.
        let warned = events.iter().any(|e| e.warning);
        let by_design = match &snap.storage_classes {
            Some(_) => class
                .and_then(|c| c.volume_binding_mode.as_deref())
                .is_some_and(|m| m == "WaitForFirstConsumer"),
            None => true,
        };
        if phase == "Pending" && by_design && !warned {
            continue;
        }
        let class = named.map(str::to_string).unwrap_or_else(|| {
            class
                .map(|c| format!("{} (cluster default)", name(&c.metadata)))
                .unwrap_or_else(|| "(cluster default)".into())
        });
        let mut f = Finding::new(
            Reason::PVCPending,
            &key,
            format!("PVC is {phase} (storageClass {class})"),
        )
        .evidence(format!("storageClassName: {class}"));
        if snap.storage_classes.is_some() && named.is_some() && snap.storage_class(named).is_none()
        {
            f.add_evidence(format!("StorageClass {class} does not exist"));
        }
        if let Some(size) = spec
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
        {
            f = f.evidence(format!("requests storage {}", size.0));
        }
        if let Some(v) = spec.and_then(|s| s.volume_name.as_deref()) {
            f = f.evidence(format!("volumeName: {v}"));
        }
        for e in events {
            f.add_evidence(format!(
                "event {} (x{}, {}): {}",
                e.reason,
                e.count,
                e.time.map(|t| ctx.ago(t)).unwrap_or_default(),
                e.message.trim()
            ));
        }
        f.explains.insert(uid(&pvc.metadata).to_string());
        f = f
            .remedy(format!("kubectl describe pvc {} -n {namespace}", key.name))
            .remedy("kubectl get storageclass".to_string());
        out.push(f);
    }
    out
}

pub fn hpas(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for hpa in items(&snap.hpas) {
        let Some(spec) = &hpa.spec else { continue };
        let Some(st) = &hpa.status else { continue };
        let current = st.current_replicas.unwrap_or(0);
        let desired = st.desired_replicas;
        let max = spec.max_replicas;
        let limited = st.conditions.iter().flatten().find(|c| {
            c.type_ == "ScalingLimited"
                && c.status == "True"
                && c.reason.as_deref() == Some("TooManyReplicas")
        });
        let mut metrics: Vec<String> = Vec::new();
        let mut over_target = false;
        for (i, m) in spec.metrics.iter().flatten().enumerate() {
            let Some(r) = &m.resource else { continue };
            let target = r.target.average_utilization;
            let now = st
                .current_metrics
                .iter()
                .flatten()
                .filter_map(|c| c.resource.as_ref())
                .find(|c| c.name == r.name)
                .and_then(|c| c.current.average_utilization);
            if let (Some(t), Some(n)) = (target, now) {
                over_target |= n > t;
                metrics.push(format!("metric {}: {n}% of requests, target {t}%", r.name));
            } else {
                metrics.push(format!("metric {} #{i}: target {:?}", r.name, target));
            }
        }
        if current < max || (limited.is_none() && !over_target) {
            continue;
        }
        let namespace = ns(&hpa.metadata);
        let key = ObjectRef::new("HorizontalPodAutoscaler", namespace, name(&hpa.metadata));
        let mut f = Finding::new(
            Reason::HPAAtMax,
            &key,
            format!(
                "at maxReplicas {max} and wants more ({} {})",
                spec.scale_target_ref.kind, spec.scale_target_ref.name
            ),
        )
        .evidence(format!(
            "replicas: current {current}, desired {desired}, max {max}"
        ));
        f.extend_evidence(metrics);
        if let Some(c) = limited {
            f = f.evidence(format!(
                "condition ScalingLimited: {}",
                c.message.as_deref().unwrap_or("")
            ));
        }
        f.explains.insert(uid(&hpa.metadata).to_string());
        f = f.remedy(format!(
            "kubectl patch hpa {} -n {namespace} -p '{{\"spec\":{{\"maxReplicas\":{}}}}}'",
            key.name,
            max * 2
        ));
        out.push(f);
    }
    out
}

pub fn pdbs(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for pdb in items(&snap.pdbs) {
        let Some(st) = &pdb.status else { continue };
        if st.disruptions_allowed > 0 || st.expected_pods == 0 {
            continue;
        }
        let namespace = ns(&pdb.metadata);
        let key = ObjectRef::new("PodDisruptionBudget", namespace, name(&pdb.metadata));
        let spec = pdb.spec.as_ref();
        let rule = spec
            .and_then(|s| {
                s.min_available
                    .as_ref()
                    .map(|v| format!("minAvailable {}", intstr(v)))
                    .or_else(|| {
                        s.max_unavailable
                            .as_ref()
                            .map(|v| format!("maxUnavailable {}", intstr(v)))
                    })
            })
            .unwrap_or_else(|| "no rule".into());
        let mut f = Finding::new(
            Reason::PDBBlocksDisruption,
            &key,
            format!(
                "0 disruptions allowed: needs {} healthy, has {} ({rule})",
                st.desired_healthy, st.current_healthy
            ),
        )
        .evidence(format!(
            "healthy {} / desired healthy {} / expected pods {}; {rule}",
            st.current_healthy, st.desired_healthy, st.expected_pods
        ));
        f.explains.insert(uid(&pdb.metadata).to_string());
        f = f.remedy(format!("kubectl describe pdb {} -n {namespace}", key.name));
        out.push(f);
    }
    out
}
