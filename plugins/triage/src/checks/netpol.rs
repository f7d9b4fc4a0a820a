//! NetworkPolicies (only when served): a podSelector that matches no pod of
//! its namespace (info), and policies that together deny all ingress to the
//! pods behind a Service (warning; policies add up, so one allowing rule anywhere clears it).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Context;
use crate::podstate::PodState;
use crate::report::{Finding, Reason};
use crate::selectors;
use crate::snapshot::{ObjectRef, Snapshot, items, ns, uid};
use crate::text::plural;

/// Whether the policy restricts ingress (`policyTypes` absent means Ingress).
fn governs_ingress(p: &NetworkPolicy) -> bool {
    p.spec.as_ref().is_some_and(|s| {
        s.policy_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|x| x == "Ingress"))
    })
}

fn allows_some_ingress(p: &NetworkPolicy) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.ingress.as_ref())
        .is_some_and(|rules| !rules.is_empty())
}

/// The policy's podSelector; absent or empty selects every pod of the namespace.
fn pod_selector(p: &NetworkPolicy) -> LabelSelector {
    p.spec
        .as_ref()
        .and_then(|s| s.pod_selector.clone())
        .unwrap_or_default()
}

fn selects(p: &NetworkPolicy, pod: &PodState) -> bool {
    ns(&p.metadata) == pod.pod.namespace
        && p.spec.is_some()
        && selectors::matches(&pod_selector(p), &pod.pod.labels)
}

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let Some(policies) = &snap.network_policies else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Pods denied all ingress: selected by an ingress policy, allowed by none.
    let denied = |pod: &PodState| {
        let selecting: Vec<&NetworkPolicy> = policies
            .iter()
            .filter(|p| governs_ingress(p) && selects(p, pod))
            .collect();
        !selecting.is_empty() && !selecting.iter().any(|p| allows_some_ingress(p))
    };
    // Policy → the Services whose every pod it (with the others) cuts off.
    let mut blocked: BTreeMap<ObjectRef, Vec<String>> = BTreeMap::new();
    for svc in items(&snap.services) {
        let pods: Vec<&PodState> = snap.pods_behind(svc).collect();
        if pods.is_empty() || !pods.iter().all(|p| denied(p)) {
            continue;
        }
        let svc_name = svc.metadata.name.clone().unwrap_or_default();
        for p in policies
            .iter()
            .filter(|p| governs_ingress(p) && pods.iter().any(|pod| selects(p, pod)))
        {
            blocked
                .entry(ObjectRef::of(p))
                .or_default()
                .push(format!("{svc_name} ({})", plural(pods.len(), "pod")));
        }
    }
    for p in policies {
        let key = ObjectRef::of(p);
        let namespace = &key.namespace;
        let Some(spec) = &p.spec else { continue };
        if let Some(services) = blocked.get(&key) {
            let mut f = Finding::new(
                Reason::NetworkPolicyBlocksService,
                &key,
                format!(
                    "denies all ingress to the pods of Service {}",
                    services.join(", ")
                ),
            )
            .evidence(format!(
                "podSelector {}; policyTypes {}; no ingress rules",
                selectors::text(&pod_selector(p)),
                spec.policy_types
                    .as_ref()
                    .map(|t| t.join(","))
                    .unwrap_or_else(|| "Ingress (default)".into())
            ))
            .evidence("no other NetworkPolicy allows ingress to those pods");
            f.explains.insert(uid(&p.metadata).to_string());
            f = f.remedy(format!(
                "kubectl describe networkpolicy {} -n {namespace}",
                key.name
            ));
            out.push(f);
            continue;
        }
        // With -l only some pods were listed: "matches no pod" is no claim then.
        if !snap.complete {
            continue;
        }
        let matched = snap
            .pods_in(namespace)
            .any(|pod| selects(p, pod) && !pod.pod.deleting);
        if !matched {
            let mut f = Finding::new(
                Reason::NetworkPolicyMatchesNoPods,
                &key,
                format!(
                    "podSelector {} matches no pod",
                    selectors::text(&pod_selector(p))
                ),
            )
            .evidence(format!(
                "podSelector {} selects no pod in namespace {namespace}",
                selectors::text(&pod_selector(p))
            ));
            f.explains.insert(uid(&p.metadata).to_string());
            f = f.remedy(format!("kubectl get pods -n {namespace} --show-labels"));
            out.push(f);
        }
    }
    out
}
