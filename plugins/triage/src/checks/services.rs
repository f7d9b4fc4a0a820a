//! Services that route nowhere: no ready endpoint address, or a selector
//! that matches no pod at all.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::{Context, capped, pods, selector_text};
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, name, ns, uid};

fn matches(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for svc in items(&snap.services) {
        let Some(spec) = &svc.spec else { continue };
        if spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let namespace = ns(&svc.metadata);
        let key = ObjectRef::new("Service", namespace, name(&svc.metadata));
        let matching: Vec<&Pod> = snap
            .pods
            .iter()
            .filter(|p| ns(&p.metadata) == namespace && matches(selector, p))
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        if matching.is_empty() {
            let mut f = Finding::new(
                Reason::SelectorMatchesNoPods,
                &key,
                format!("selector {} matches no pod", selector_text(selector)),
            )
            .evidence(format!("selector: {}", selector_text(selector)));
            // Labels nearby: pods sharing a selector key, else any pod.
            let mut nearby: Vec<String> = Vec::new();
            let shares_key = |p: &&Pod| {
                p.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| selector.keys().any(|k| l.contains_key(k)))
            };
            let mut candidates: Vec<&Pod> = snap
                .pods
                .iter()
                .filter(|p| ns(&p.metadata) == namespace)
                .filter(shares_key)
                .collect();
            if candidates.is_empty() {
                candidates = snap
                    .pods
                    .iter()
                    .filter(|p| ns(&p.metadata) == namespace)
                    .collect();
            }
            for p in candidates {
                let text = p
                    .metadata
                    .labels
                    .as_ref()
                    .map(|l| {
                        let mut l = l.clone();
                        l.remove("pod-template-hash");
                        l.remove("controller-revision-hash");
                        selector_text(&l)
                    })
                    .unwrap_or_default();
                let line = format!("pods nearby have labels: {text}");
                if !nearby.contains(&line) {
                    nearby.push(line);
                }
            }
            if nearby.is_empty() {
                nearby.push("no pods in the namespace".into());
            }
            f.evidence.extend(capped(nearby, 5));
            f.explains.insert(uid(&svc.metadata).to_string());
            f = f
                .remedy(format!("kubectl get pods -n {namespace} --show-labels"))
                .remedy(format!("kubectl edit service {} -n {namespace}", key.name));
            out.push(f);
            continue;
        }
        let ready_addresses = items(&snap.endpoints)
            .iter()
            .find(|e| ns(&e.metadata) == namespace && name(&e.metadata) == key.name)
            .map(|e| {
                e.subsets
                    .iter()
                    .flatten()
                    .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
                    .sum::<usize>()
            });
        // Without an Endpoints object, the pods' readiness is the answer.
        let ready = match ready_addresses {
            Some(n) => n > 0,
            None => matching.iter().any(|p| pods::is_ready(p)),
        };
        if ready {
            continue;
        }
        let mut f = Finding::new(
            Reason::NoReadyEndpoints,
            &key,
            format!(
                "no ready endpoints: 0/{} selected pods ready",
                matching.len()
            ),
        )
        .evidence(format!("selector: {}", selector_text(selector)));
        let mut why: Vec<String> = Vec::new();
        for p in &matching {
            let issues = pods::classify(snap, ctx, p);
            let text = if issues.is_empty() {
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default();
                format!("pod {}: {phase}, not Ready", name(&p.metadata))
            } else {
                let d: Vec<String> = issues
                    .iter()
                    .map(|i| format!("{} ({})", i.reason, i.detail))
                    .collect();
                format!("pod {}: {}", name(&p.metadata), d.join("; "))
            };
            why.push(text);
        }
        f.evidence.extend(capped(why, 5));
        f.explains.insert(uid(&svc.metadata).to_string());
        f = f.remedy(format!("kubectl get endpoints {} -n {namespace}", key.name));
        if let Some(p) = matching.first() {
            f = f.remedy(format!(
                "kubectl describe pod {} -n {namespace}",
                name(&p.metadata)
            ));
        }
        out.push(f);
    }
    out
}
