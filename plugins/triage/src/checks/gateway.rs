//! Gateway API (gateway.networking.k8s.io/v1, only when served): HTTPRoutes
//! whose parent Gateway or backend Service does not exist (MissingReference)
//! or that are not Accepted / ResolvedRefs (RouteNotAccepted), and Gateways or
//! GatewayClasses that are not Accepted / Programmed (GatewayNotReady).

use std::collections::BTreeSet;

use kube::api::DynamicObject;
use serde_json::Value;

use super::Context;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, name, ns, uid};
use crate::text::plural;

const GROUP: &str = "gateway.networking.k8s.io";
/// A condition still Unknown after this long means no controller acted on it.
const PENDING_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

/// A condition of the object that is False (or Unknown for too long), among `types`.
fn bad_conditions(ctx: &Context, conditions: Option<&Value>, types: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for c in conditions.and_then(Value::as_array).into_iter().flatten() {
        let t = str_at(c, "/type").unwrap_or("");
        if !types.contains(&t) {
            continue;
        }
        let status = str_at(c, "/status").unwrap_or("");
        let since =
            str_at(c, "/lastTransitionTime").and_then(|s| s.parse::<jiff::Timestamp>().ok());
        let stale = since.is_some_and(|s| ctx.now.duration_since(s) > PENDING_GRACE);
        if status == "False" || (status == "Unknown" && stale) {
            out.push(format!(
                "condition {t}={status} {}: {}",
                str_at(c, "/reason").unwrap_or(""),
                str_at(c, "/message").unwrap_or("")
            ));
        }
    }
    out
}

fn key(kind: &str, o: &DynamicObject) -> ObjectRef {
    ObjectRef::new(kind, ns(&o.metadata), name(&o.metadata))
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut reported_gateways: BTreeSet<ObjectRef> = BTreeSet::new();
    let routes: Vec<&DynamicObject> = items(&snap.http_routes)
        .iter()
        .filter(|r| snap.in_scope(ns(&r.metadata)))
        .collect();
    // Gateways in scope and those the routes in scope attach to.
    let mut wanted: BTreeSet<ObjectRef> = items(&snap.gateways)
        .iter()
        .filter(|g| snap.in_scope(ns(&g.metadata)))
        .map(|g| key("Gateway", g))
        .collect();
    for r in &routes {
        wanted.extend(parents(r).into_iter().map(|(k, _)| k));
    }
    let gateways: Vec<&DynamicObject> = items(&snap.gateways)
        .iter()
        .filter(|g| wanted.contains(&key("Gateway", g)))
        .collect();

    // GatewayClasses of those Gateways that are not Accepted: one finding for all their Gateways.
    for class in items(&snap.gateway_classes) {
        let class_name = name(&class.metadata);
        let users: Vec<&&DynamicObject> = gateways
            .iter()
            .filter(|g| str_at(&g.data, "/spec/gatewayClassName") == Some(class_name))
            .collect();
        if users.is_empty() {
            continue;
        }
        let bad = bad_conditions(ctx, class.data.pointer("/status/conditions"), &["Accepted"]);
        if bad.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            Reason::GatewayNotReady,
            &ObjectRef::new("GatewayClass", "", class_name),
            format!(
                "GatewayClass not accepted; used by {}",
                plural(users.len(), "Gateway")
            ),
        );
        f.add_evidence(format!(
            "controllerName: {}",
            str_at(&class.data, "/spec/controllerName").unwrap_or("")
        ));
        f.extend_evidence(bad);
        for g in users {
            f.add_evidence(format!(
                "gateway {}/{} uses it",
                ns(&g.metadata),
                name(&g.metadata)
            ));
            reported_gateways.insert(key("Gateway", g));
            f.explains.insert(uid(&g.metadata).to_string());
        }
        f.explains.insert(uid(&class.metadata).to_string());
        f = f.remedy(format!("kubectl describe gatewayclass {class_name}"));
        out.push(f);
    }

    for g in &gateways {
        let k = key("Gateway", g);
        if reported_gateways.contains(&k) {
            continue;
        }
        let class_name = str_at(&g.data, "/spec/gatewayClassName").unwrap_or("");
        let class_missing = snap
            .gateway_classes
            .as_ref()
            .is_some_and(|l| !l.iter().any(|c| name(&c.metadata) == class_name));
        let mut f = if class_missing {
            Finding::new(
                Reason::MissingReference,
                &k,
                format!("GatewayClass {class_name} does not exist"),
            )
            .evidence(format!(
                "spec.gatewayClassName: {class_name} does not exist"
            ))
            .remedy("kubectl get gatewayclasses".to_string())
        } else {
            let bad = bad_conditions(
                ctx,
                g.data.pointer("/status/conditions"),
                &["Accepted", "Programmed"],
            );
            if bad.is_empty() {
                continue;
            }
            let mut f = Finding::new(
                Reason::GatewayNotReady,
                &k,
                format!("Gateway not ready (class {class_name})"),
            );
            f.extend_evidence(bad);
            f
        };
        reported_gateways.insert(k.clone());
        f.explains.insert(uid(&g.metadata).to_string());
        f = f.remedy(format!(
            "kubectl describe gateway {} -n {}",
            k.name, k.namespace
        ));
        out.push(f);
    }

    for r in routes {
        out.extend(route(snap, ctx, r, &reported_gateways));
    }
    out
}

/// The Gateways an HTTPRoute attaches to, with the section it names.
fn parents(r: &DynamicObject) -> Vec<(ObjectRef, String)> {
    let namespace = ns(&r.metadata);
    r.data
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| str_at(p, "/group").unwrap_or(GROUP) == GROUP)
        .filter(|p| str_at(p, "/kind").unwrap_or("Gateway") == "Gateway")
        .filter_map(|p| {
            let n = str_at(p, "/name")?;
            let pns = str_at(p, "/namespace").unwrap_or(namespace);
            Some((
                ObjectRef::new("Gateway", pns, n),
                str_at(p, "/sectionName").unwrap_or("").to_string(),
            ))
        })
        .collect()
}

fn route(
    snap: &Snapshot,
    ctx: &Context,
    r: &DynamicObject,
    reported_gateways: &BTreeSet<ObjectRef>,
) -> Option<Finding> {
    let k = key("HTTPRoute", r);
    let namespace = k.namespace.as_str();
    let mut missing: Vec<String> = Vec::new();
    if let Some(list) = &snap.gateways {
        for (g, _) in parents(r) {
            if !list.iter().any(|x| key("Gateway", x) == g) {
                missing.push(format!(
                    "parent Gateway {}/{} does not exist",
                    g.namespace, g.name
                ));
            }
        }
    }
    let backends = r
        .data
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.get("backendRefs").and_then(Value::as_array))
        .flatten();
    for b in backends {
        if !str_at(b, "/group").unwrap_or("").is_empty()
            || str_at(b, "/kind").unwrap_or("Service") != "Service"
        {
            continue;
        }
        let Some(svc) = str_at(b, "/name") else {
            continue;
        };
        let bns = str_at(b, "/namespace").unwrap_or(namespace);
        // A Service in a namespace that was not listed is not claimed missing.
        if snap.knows_services_of(bns) && snap.service(bns, svc).is_none() {
            missing.push(format!("backend Service {bns}/{svc} does not exist"));
        }
    }
    let mut f = if !missing.is_empty() {
        missing.dedup();
        let mut f = Finding::new(
            Reason::MissingReference,
            &k,
            format!("route references missing objects: {}", missing.join("; ")),
        );
        f.extend_evidence(&missing);
        f
    } else {
        // Conditions per parent, skipping parents already reported as not ready.
        let mut bad = Vec::new();
        for p in r
            .data
            .pointer("/status/parents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let pname = str_at(p, "/parentRef/name").unwrap_or("");
            let pns = str_at(p, "/parentRef/namespace").unwrap_or(namespace);
            if reported_gateways.contains(&ObjectRef::new("Gateway", pns, pname)) {
                continue;
            }
            for c in bad_conditions(ctx, p.get("conditions"), &["Accepted", "ResolvedRefs"]) {
                bad.push(format!("parent {pns}/{pname}: {c}"));
            }
        }
        if bad.is_empty() {
            return None;
        }
        let mut f = Finding::new(
            Reason::RouteNotAccepted,
            &k,
            "route not accepted by its Gateway",
        );
        f.extend_evidence(bad);
        f
    };
    f.explains.insert(uid(&r.metadata).to_string());
    Some(f.remedy(format!(
        "kubectl describe httproute {} -n {namespace}",
        k.name
    )))
}
