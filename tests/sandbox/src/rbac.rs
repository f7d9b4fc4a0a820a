//! RBAC authorisation over the Roles, ClusterRoles and their bindings in the
//! store, evaluated like kube-apiserver's RBAC authorizer: a request is
//! allowed when a rule of a role bound to the user, one of its groups or its
//! ServiceAccount covers it; nothing else is.
//!
//! Rule matching follows `rbac/v1` helpers: `*` wildcards for verbs, groups
//! and resources, `resource/subresource` and `*/subresource` names,
//! `resourceNames`, `nonResourceURLs` with a trailing `*`; aggregated
//! ClusterRoles include the rules of the ClusterRoles their selectors match.

use crate::controllers::selector_matches;
use crate::store::{Inner, meta_str};
use serde_json::Value;
use std::collections::HashSet;

const CLUSTER_ROLES: &str = "rbac.authorization.k8s.io/clusterroles";
const CLUSTER_ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/clusterrolebindings";
const ROLES: &str = "rbac.authorization.k8s.io/roles";
const ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/rolebindings";

/// Who is asking, as authentication found them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
}

/// A request on a resource, as the authorizer's attributes describe it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceRequest<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// What is asked: a resource request or a plain path (discovery, health).
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    Resource(ResourceRequest<'a>),
    NonResource { verb: &'a str, path: &'a str },
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// `rbacv1helpers.VerbMatches` and friends: a listed value or `*`.
fn listed(rule: &Value, key: &str, want: &str) -> bool {
    strings(rule.get(key)).any(|x| x == "*" || x == want)
}

/// `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`.
fn resource_matches(rule: &Value, resource: &str, subresource: &str) -> bool {
    let combined = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    strings(rule.get("resources")).any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// `NonResourceURLMatches`: exact, `*`, or a prefix ending in `*`.
fn url_matches(rule: &Value, path: &str) -> bool {
    strings(rule.get("nonResourceURLs")).any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

/// Whether one PolicyRule allows the request.
pub fn rule_allows(rule: &Value, req: &Request<'_>) -> bool {
    match *req {
        Request::Resource(ResourceRequest {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        }) => {
            let names: Vec<&str> = strings(rule.get("resourceNames")).collect();
            listed(rule, "verbs", verb)
                && listed(rule, "apiGroups", group)
                && resource_matches(rule, resource, subresource)
                && (names.is_empty() || names.contains(&name))
        }
        Request::NonResource { verb, path } => {
            listed(rule, "verbs", verb) && url_matches(rule, path)
        }
    }
}

/// Whether a binding's subject is this user (`appliesToUser`); a
/// ServiceAccount without a namespace is in the binding's namespace.
fn subject_matches(subject: &Value, user: &UserInfo, binding_ns: &str) -> bool {
    let name = subject.get("name").and_then(Value::as_str).unwrap_or("");
    match subject.get("kind").and_then(Value::as_str) {
        Some("User") => user.username == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = subject
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            user.username == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn binds(binding: &Value, user: &UserInfo) -> bool {
    let ns = meta_str(binding, "namespace");
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| subject_matches(x, user, ns)))
}

/// A ClusterRole's rules, with those of the ClusterRoles its aggregation
/// rule selects (recursively, as the aggregation controller's fixpoint).
pub fn cluster_role_rules(inner: &Inner, role: &Value) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    collect_rules(inner, role, &mut seen, &mut out);
    out
}

fn collect_rules(inner: &Inner, role: &Value, seen: &mut HashSet<String>, out: &mut Vec<Value>) {
    if !seen.insert(meta_str(role, "name").to_string()) {
        return;
    }
    for r in role
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    let selectors: Vec<&Value> = role
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if selectors.is_empty() {
        return;
    }
    for other in inner.iter_resource(CLUSTER_ROLES) {
        let labels = other.labels.as_ref();
        if selectors.iter().any(|s| selector_matches(s, labels)) {
            collect_rules(inner, &other.value(), seen, out);
        }
    }
}

/// The rules of a binding's roleRef (a Role in the binding's namespace, or a
/// ClusterRole); none when the role does not exist.
fn role_rules(inner: &Inner, binding: &Value) -> Vec<Value> {
    let kind = binding.pointer("/roleRef/kind").and_then(Value::as_str);
    let name = binding
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    match kind {
        Some("ClusterRole") => inner
            .get(CLUSTER_ROLES, "", name)
            .map(|r| cluster_role_rules(inner, &r))
            .unwrap_or_default(),
        Some("Role") => inner
            .get(ROLES, meta_str(binding, "namespace"), name)
            .and_then(|mut r| match r.get_mut("rules").map(Value::take) {
                Some(Value::Array(rules)) => Some(rules),
                _ => None,
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Every rule granted to `user` in `namespace` ("" = cluster-wide bindings
/// only), in the order the authorizer visits them.
pub fn rules_for(inner: &Inner, user: &UserInfo, namespace: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for b in inner.values(CLUSTER_ROLE_BINDINGS) {
        if binds(&b, user) {
            out.extend(role_rules(inner, &b));
        }
    }
    if !namespace.is_empty() {
        for b in inner.values_in(ROLE_BINDINGS, namespace) {
            if binds(&b, user) {
                out.extend(role_rules(inner, &b));
            }
        }
    }
    out
}

/// Whether RBAC allows `req` for `user`.
pub fn allows(inner: &Inner, user: &UserInfo, req: &Request<'_>) -> bool {
    let namespace = match req {
        Request::Resource(r) => r.namespace,
        Request::NonResource { .. } => "",
    };
    rules_for(inner, user, namespace)
        .iter()
        .any(|r| rule_allows(r, req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde_json::json;

    fn get(
        resource: &'static str,
        namespace: &'static str,
        name: &'static str,
    ) -> ResourceRequest<'static> {
        ResourceRequest {
            verb: "get",
            resource,
            namespace,
            name,
            ..Default::default()
        }
    }

    fn allowed(rule: &Value, r: ResourceRequest<'_>) -> bool {
        rule_allows(rule, &Request::Resource(r))
    }

    #[test]
    fn rules_match_like_the_rbac_helpers() {
        let rule = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/log"],
            "resourceNames": ["a"]});
        assert!(allowed(&rule, get("pods", "x", "a")));
        assert!(!allowed(&rule, get("pods", "x", "b")));
        let log = ResourceRequest {
            subresource: "log",
            ..get("pods", "x", "a")
        };
        assert!(allowed(&rule, log));
        let exec = ResourceRequest {
            subresource: "exec",
            ..get("pods", "x", "a")
        };
        assert!(!allowed(&rule, exec));
        let star_sub = json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/scale"]});
        let scale = ResourceRequest {
            subresource: "scale",
            group: "apps",
            ..get("deployments", "x", "d")
        };
        assert!(allowed(&star_sub, scale));
        assert!(!allowed(&star_sub, get("deployments", "x", "d")));
        // `pods` alone does not cover subresources, nor `pods/*` (not RBAC syntax).
        let pods_star = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]});
        assert!(!allowed(&pods_star, log));
        let urls = json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]});
        let path = |p| Request::NonResource {
            verb: "get",
            path: p,
        };
        assert!(rule_allows(&urls, &path("/apis/apps/v1")));
        assert!(rule_allows(&urls, &path("/version")));
        assert!(!rule_allows(&urls, &path("/api")));
    }

    #[test]
    fn bindings_grant_roles_to_users_groups_and_service_accounts() {
        let store = Store::new();
        store.write(false, |t| {
            t.put(
                ROLES,
                json!({"metadata": {"namespace": "jobs", "name": "reader"},
                "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]}),
            );
            t.put(
                ROLE_BINDINGS,
                json!({"metadata": {"namespace": "jobs", "name": "rb"},
                "roleRef": {"kind": "Role", "name": "reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "runner"}]}),
            );
            t.put(
                CLUSTER_ROLES,
                json!({"metadata": {"name": "agg-part", "labels": {"agg": "yes"}},
                "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]}),
            );
            t.put(
                CLUSTER_ROLES,
                json!({"metadata": {"name": "agg"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]}}),
            );
            t.put(
                CLUSTER_ROLE_BINDINGS,
                json!({"metadata": {"name": "crb"},
                "roleRef": {"kind": "ClusterRole", "name": "agg"},
                "subjects": [{"kind": "Group", "name": "ops"}]}),
            );
        });
        let sa = UserInfo {
            username: "system:serviceaccount:jobs:runner".into(),
            ..Default::default()
        };
        let op = UserInfo {
            username: "carol".into(),
            groups: vec!["ops".into()],
            ..Default::default()
        };
        let list_nodes = Request::Resource(ResourceRequest {
            verb: "list",
            ..get("nodes", "", "")
        });
        let pod_in = |ns| Request::Resource(get("pods", ns, "p"));
        store.read(|inner| {
            assert!(allows(inner, &sa, &pod_in("jobs")));
            assert!(!allows(inner, &sa, &pod_in("shop")));
            assert!(!allows(inner, &sa, &list_nodes));
            assert!(allows(inner, &op, &list_nodes));
            assert!(!allows(inner, &op, &pod_in("jobs")));
        });
    }
}
