//! Access reviews answered from the fixture users' deny rules (`kubectl auth
//! can-i [--list]`) and `kubectl auth whoami`.

use super::auth::{self, Attributes, Identity};
use super::handlers::{Ctx, for_version, parse_json};
use super::{Body, json_response};
use crate::error::ApiError;
use crate::meta::metadata_mut;
use hyper::Response;
use serde_json::{Value, json};

/// `kubectl auth whoami`.
pub(super) fn whoami(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let mut groups = vec!["system:authenticated"];
    if matches!(ctx.who, Identity::Admin) {
        groups.insert(0, "system:masters");
    }
    Ok(json_response(
        201,
        &json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": ctx.who.name(), "groups": groups}}}),
    ))
}

/// SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview,
/// answered from the users' deny rules (so `kubectl auth can-i` works).
pub(super) fn review(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let mut doc = for_version(&ctx.rt, parse_json(body)?);
    let subject = if ctx.rt.kind == "SubjectAccessReview" {
        let user = doc
            .pointer("/spec/user")
            .and_then(Value::as_str)
            .unwrap_or("");
        match ctx.state.users.iter().find(|u| u.name == user) {
            Some(u) => Identity::User(u.clone()),
            None => Identity::Admin,
        }
    } else {
        ctx.who.clone()
    };
    let s = |p: &str| {
        doc.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match ctx.rt.kind.as_str() {
        "SelfSubjectRulesReview" => {
            let ns = s("/spec/namespace");
            let mut rules = Vec::new();
            let incomplete = matches!(subject, Identity::User(_));
            if let Identity::User(_) = subject {
                for rt in ctx.state.registry().all() {
                    let verbs: Vec<&String> = rt
                        .verbs
                        .iter()
                        .filter(|v| {
                            let a = Attributes {
                                verb: v.to_string(),
                                group: rt.group.clone(),
                                resource: rt.plural.clone(),
                                namespace: if rt.namespaced {
                                    ns.clone()
                                } else {
                                    String::new()
                                },
                                ..Default::default()
                            };
                            auth::allowed(&subject, &a)
                        })
                        .collect();
                    if !verbs.is_empty() {
                        rules.push(json!({"verbs": verbs, "apiGroups": [rt.group], "resources": [rt.plural]}));
                    }
                }
            } else {
                rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
            }
            doc["status"] = json!({"resourceRules": rules,
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": incomplete});
        }
        _ => {
            let allowed = if doc.pointer("/spec/resourceAttributes").is_some() {
                let a = Attributes {
                    verb: s("/spec/resourceAttributes/verb"),
                    group: s("/spec/resourceAttributes/group"),
                    resource: s("/spec/resourceAttributes/resource"),
                    subresource: s("/spec/resourceAttributes/subresource"),
                    namespace: s("/spec/resourceAttributes/namespace"),
                    name: s("/spec/resourceAttributes/name"),
                };
                auth::allowed(&subject, &a)
            } else {
                true
            };
            doc["status"] = if allowed {
                json!({"allowed": true, "reason": "allowed by kube-sandbox"})
            } else {
                json!({"allowed": false})
            };
        }
    }
    if let Some(m) = metadata_mut(&mut doc) {
        m.insert("creationTimestamp".into(), Value::Null);
    }
    Ok(json_response(201, &doc))
}
