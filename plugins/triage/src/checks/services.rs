//! Services that route nowhere: no ready endpoint in their EndpointSlices, or
//! a selector that matches no pod at all; Ingresses and HTTPRoutes sending
//! traffic to them are named in the Service's finding.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;

use super::Context;
use crate::podstate::PodState;
use crate::report::{Affected, Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, name, ns, uid};
use crate::text::{capped, selector_text};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn route(kind: &str, meta: &ObjectMeta) -> Affected {
    Affected {
        kind: kind.into(),
        namespace: ns(meta).to_string(),
        name: name(meta).to_string(),
        node: None,
        uid: uid(meta).to_string(),
    }
}

/// Ingresses and HTTPRoutes whose backends include this Service.
fn routed_by(snap: &Snapshot, namespace: &str, svc: &str) -> Vec<Affected> {
    let mut out = Vec::new();
    for ing in items(&snap.ingresses)
        .iter()
        .filter(|i| ns(&i.metadata) == namespace)
    {
        let spec = ing.spec.as_ref();
        let default = spec
            .and_then(|s| s.default_backend.as_ref())
            .and_then(|b| b.service.as_ref());
        let paths = spec
            .into_iter()
            .flat_map(|s| s.rules.iter().flatten())
            .flat_map(|r| r.http.iter().flat_map(|h| h.paths.iter()))
            .filter_map(|p| p.backend.service.as_ref());
        if default.into_iter().chain(paths).any(|b| b.name == svc) {
            out.push(route("Ingress", &ing.metadata));
        }
    }
    for route in items(&snap.http_routes)
        .iter()
        .filter(|r| ns(&r.metadata) == namespace)
    {
        let backends = route
            .data
            .pointer("/spec/rules")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("backendRefs").and_then(|b| b.as_array()))
            .flatten();
        let hits = backends.into_iter().any(|b| {
            b.get("name").and_then(|n| n.as_str()) == Some(svc)
                && b.get("kind").and_then(|k| k.as_str()).unwrap_or("Service") == "Service"
                && b.get("namespace")
                    .and_then(|n| n.as_str())
                    .unwrap_or(namespace)
                    == namespace
        });
        if hits {
            out.push(self::route("HTTPRoute", &route.metadata));
        }
    }
    out
}

fn link_routes(f: &mut Finding, routes: Vec<Affected>) {
    for r in routes {
        f.add_evidence(format!(
            "traffic from {} {} goes to this Service",
            r.kind.to_lowercase(),
            r.name
        ));
        f.explains.insert(r.uid.clone());
        f.affected.push(r);
    }
}

fn no_pods(snap: &Snapshot, svc: &Service, selector: &BTreeMap<String, String>) -> Finding {
    let key = ObjectRef::of(svc);
    let namespace = &key.namespace;
    let mut f = Finding::new(
        Reason::SelectorMatchesNoPods,
        &key,
        format!("selector {} matches no pod", selector_text(selector)),
    )
    .evidence(format!("selector: {}", selector_text(selector)));
    // Labels nearby: pods sharing a selector key, else any pod.
    let in_ns = || snap.pods_in(namespace);
    let shares_key = |p: &&PodState| selector.keys().any(|k| p.pod.labels.contains_key(k));
    let mut candidates: Vec<&PodState> = in_ns().filter(shares_key).collect();
    if candidates.is_empty() {
        candidates = in_ns().collect();
    }
    let mut nearby: Vec<String> = Vec::new();
    for p in candidates {
        let mut l = (*p.pod.labels).clone();
        l.remove("pod-template-hash");
        l.remove("controller-revision-hash");
        let line = format!("pods nearby have labels: {}", selector_text(&l));
        if !nearby.contains(&line) {
            nearby.push(line);
        }
    }
    if nearby.is_empty() {
        nearby.push("no pods in the namespace".into());
    }
    f.extend_evidence(capped(nearby, 5));
    f.explains.insert(uid(&svc.metadata).to_string());
    f.remedy(format!("kubectl get pods -n {namespace} --show-labels"))
        .remedy(format!("kubectl edit service {} -n {namespace}", key.name))
}

/// One line on why a selected pod is not ready.
fn why_not_ready(p: &PodState) -> String {
    if p.on_failed_node {
        let node = p.pod.node.as_deref().unwrap_or("");
        return format!("pod {}: its node {node} is NotReady", p.pod.name);
    }
    if p.issues.is_empty() {
        return format!("pod {}: {}, not Ready", p.pod.name, p.pod.phase);
    }
    let d: Vec<String> = p
        .issues
        .iter()
        .map(|i| format!("{} ({})", i.reason, i.detail))
        .collect();
    format!("pod {}: {}", p.pod.name, d.join("; "))
}

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for svc in items(&snap.services) {
        let Some(spec) = &svc.spec else { continue };
        if spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let key = ObjectRef::of(svc);
        let namespace = &key.namespace;
        let matching: Vec<&PodState> = snap.pods_behind(svc).collect();
        if matching.is_empty() {
            // With -l only some pods were listed: "matches no pod" is no claim then.
            if snap.complete {
                let mut f = no_pods(snap, svc, selector);
                link_routes(&mut f, routed_by(snap, namespace, &key.name));
                out.push(f);
            }
            continue;
        }
        // Without EndpointSlices for it, the pods' readiness is the answer.
        let ready = match snap.endpoints_of(namespace, &key.name) {
            Some((ready, _)) => ready > 0,
            None => matching.iter().any(|p| p.pod.ready),
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
        let why: Vec<String> = matching.iter().map(|p| why_not_ready(p)).collect();
        f.extend_evidence(capped(why, 5));
        link_routes(&mut f, routed_by(snap, namespace, &key.name));
        f.explains.insert(uid(&svc.metadata).to_string());
        f = f.remedy(format!(
            "kubectl get endpointslices -n {namespace} -l kubernetes.io/service-name={}",
            key.name
        ));
        if let Some(p) = matching.first() {
            f = f.remedy(format!(
                "kubectl describe pod {} -n {namespace}",
                p.pod.name
            ));
        }
        out.push(f);
    }
    out
}
