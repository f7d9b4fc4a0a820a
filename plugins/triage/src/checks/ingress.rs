//! Ingress references (a MissingReference on the Ingress): a backend Service
//! or port that does not exist, a missing TLS Secret, an unknown IngressClass.
//! A backend Service without ready endpoints is the Service's own finding.

use k8s_openapi::api::networking::v1::{Ingress, IngressServiceBackend};

use super::Context;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, uid};

/// Where in the Ingress a backend is used: "default backend", "rule shop.example.com/api".
fn backends(ing: &Ingress) -> Vec<(String, &IngressServiceBackend)> {
    let mut out = Vec::new();
    let Some(spec) = &ing.spec else { return out };
    if let Some(b) = spec
        .default_backend
        .as_ref()
        .and_then(|b| b.service.as_ref())
    {
        out.push(("default backend".to_string(), b));
    }
    for rule in spec.rules.iter().flatten() {
        let host = rule.host.as_deref().unwrap_or("*");
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            if let Some(b) = &p.backend.service {
                out.push((
                    format!("rule {host}{}", p.path.as_deref().unwrap_or("/")),
                    b,
                ));
            }
        }
    }
    out
}

/// Why a backend does not resolve, if it does not; `None` when it does or cannot be told.
fn backend_problem(snap: &Snapshot, namespace: &str, b: &IngressServiceBackend) -> Option<String> {
    if !snap.knows_services_of(namespace) {
        return None;
    }
    let Some(svc) = snap.service(namespace, &b.name) else {
        return Some(format!("Service {} does not exist", b.name));
    };
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    let port = b.port.as_ref()?;
    if let Some(n) = port.number {
        if !ports.iter().any(|p| p.port == n) {
            return Some(format!("Service {} has no port {n}", b.name));
        }
    } else if let Some(n) = port.name.as_deref()
        && !ports.iter().any(|p| p.name.as_deref() == Some(n))
    {
        return Some(format!("Service {} has no port named {n}", b.name));
    }
    None
}

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for ing in items(&snap.ingresses) {
        let key = ObjectRef::of(ing);
        let namespace = &key.namespace;
        let mut problems: Vec<String> = Vec::new();
        let mut remedies: Vec<String> = Vec::new();
        for (used_by, b) in backends(ing) {
            if let Some(p) = backend_problem(snap, namespace, b) {
                problems.push(format!("{p} (used by {used_by})"));
                remedies.push(format!("kubectl get services -n {namespace}"));
            }
        }
        let spec = ing.spec.as_ref();
        for secret in spec
            .into_iter()
            .flat_map(|s| s.tls.iter().flatten())
            .filter_map(|t| t.secret_name.as_deref())
        {
            let missing = snap.secrets.as_ref().is_some_and(|l| {
                !l.iter()
                    .any(|k| &k.namespace == namespace && k.name == secret)
            });
            if missing {
                problems.push(format!("TLS Secret {secret} does not exist"));
                remedies.push(format!(
                    "kubectl create secret tls {secret} -n {namespace} --cert=<cert.pem> --key=<key.pem>"
                ));
            }
        }
        if let Some(class) = spec.and_then(|s| s.ingress_class_name.as_deref())
            && snap
                .ingress_classes
                .as_ref()
                .is_some_and(|l| !l.iter().any(|c| c == class))
        {
            problems.push(format!("IngressClass {class} does not exist"));
            remedies.push("kubectl get ingressclasses".to_string());
        }
        if problems.is_empty() {
            continue;
        }
        let short: Vec<&str> = problems
            .iter()
            .map(|p| p.split(" (used by").next().unwrap_or(p))
            .collect();
        let mut f = Finding::new(
            Reason::MissingReference,
            &key,
            format!("ingress references missing objects: {}", short.join("; ")),
        );
        f.extend_evidence(&problems);
        f.explains.insert(uid(&ing.metadata).to_string());
        f = f.remedy(format!(
            "kubectl describe ingress {} -n {namespace}",
            key.name
        ));
        for r in remedies {
            f = f.remedy(r);
        }
        out.push(f);
    }
    out
}
