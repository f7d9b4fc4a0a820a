//! Access reviews (`kubectl auth can-i [--list]`) answered by the same
//! authorisers that guard requests (deny rules or RBAC), and
//! `kubectl auth whoami`.

use super::auth::{self, Attributes, Authorizer, Identity};
use super::handlers::{Ctx, for_version, parse_json};
use super::{Body, json_response};
use crate::error::ApiError;
use crate::meta::metadata_mut;
use hyper::Response;
use serde_json::{Value, json};

/// `kubectl auth whoami`.
pub(super) fn whoami(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    Ok(json_response(
        201,
        &json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": ctx.who.user_info()}}),
    ))
}

/// The identity a SubjectAccessReview asks about: a fixture user or the
/// admin by name, anyone else as RBAC sees them with the groups given.
fn subject_of(ctx: &Ctx, doc: &Value) -> Identity {
    let user = doc
        .pointer("/spec/user")
        .and_then(Value::as_str)
        .unwrap_or("");
    let groups = crate::meta::string_list(doc.pointer("/spec/groups"));
    match ctx.state.users.iter().find(|u| u.name == user) {
        Some(u) => Identity::from_user(u),
        None if user == "admin" => Identity::admin(),
        None => Identity::other(user, groups),
    }
}

/// SelfSubjectRulesReview status: RBAC identities get the rules their
/// bindings grant; deny-rule users the verbs each type allows (incomplete,
/// as a deny list cannot be listed as grants); the admin everything.
fn rules_review(ctx: &Ctx, subject: &Identity, ns: &str) -> Value {
    match &subject.authorizer {
        Authorizer::Unrestricted => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false}),
        Authorizer::Rbac => {
            let rules = ctx
                .state
                .store
                .read(|inner| crate::rbac::rules_for(inner, &subject.user, ns));
            let pick = |r: &Value, keys: &[&str]| {
                let mut out = serde_json::Map::new();
                for k in keys {
                    if let Some(v) = r.get(*k) {
                        out.insert(k.to_string(), v.clone());
                    }
                }
                Value::Object(out)
            };
            let resource: Vec<Value> = rules
                .iter()
                .filter(|r| r.get("resources").is_some())
                .map(|r| pick(r, &["verbs", "apiGroups", "resources", "resourceNames"]))
                .collect();
            let non_resource: Vec<Value> = rules
                .iter()
                .filter(|r| r.get("nonResourceURLs").is_some())
                .map(|r| pick(r, &["verbs", "nonResourceURLs"]))
                .collect();
            json!({"resourceRules": resource, "nonResourceRules": non_resource, "incomplete": false})
        }
        Authorizer::Deny(_) => {
            let mut rules = Vec::new();
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
                                ns.to_string()
                            } else {
                                String::new()
                            },
                            ..Default::default()
                        };
                        ctx.state
                            .store
                            .read(|inner| auth::allowed(inner, subject, &a))
                    })
                    .collect();
                if !verbs.is_empty() {
                    rules.push(
                        json!({"verbs": verbs, "apiGroups": [rt.group], "resources": [rt.plural]}),
                    );
                }
            }
            json!({"resourceRules": rules,
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": true})
        }
    }
}

/// SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview.
pub(super) fn review(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let mut doc = for_version(&ctx.rt, parse_json(body)?);
    let subject = if ctx.rt.kind == "SubjectAccessReview" {
        subject_of(ctx, &doc)
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
            doc["status"] = rules_review(ctx, &subject, &s("/spec/namespace"));
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
                ctx.state
                    .store
                    .read(|inner| auth::allowed(inner, &subject, &a))
            } else {
                let verb = s("/spec/nonResourceAttributes/verb");
                let path = s("/spec/nonResourceAttributes/path");
                ctx.state
                    .store
                    .read(|inner| auth::allowed_path(inner, &subject, &verb, &path))
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
