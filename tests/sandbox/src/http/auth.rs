//! Authentication (bearer tokens: the admin token plus fixture `User`s) and
//! authorisation (each user's deny rules), with the real server's 403 text.

use crate::error::{ApiError, qualified};
use serde_json::Value;

/// One `deny` entry of a `sandbox.test/v1 User`; an empty list matches everything.
#[derive(Debug, Clone, Default)]
pub struct DenyRule {
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub token: String,
    pub deny: Vec<DenyRule>,
}

/// Who is asking, after token lookup (and impersonation).
#[derive(Debug, Clone)]
pub enum Identity {
    Admin,
    User(User),
}

impl Identity {
    pub fn name(&self) -> &str {
        match self {
            Identity::Admin => "admin",
            Identity::User(u) => &u.name,
        }
    }
}

/// A request as the authoriser sees it (Kubernetes' authorizer.Attributes).
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl User {
    pub fn from_fixture(doc: &Value) -> Result<User, String> {
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or("User needs metadata.name")?
            .to_string();
        let token = doc
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{name}-token"));
        let deny = doc
            .get("deny")
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| DenyRule {
                        verbs: strings(r.get("verbs")),
                        resources: strings(r.get("resources")),
                        namespaces: strings(r.get("namespaces")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(User { name, token, deny })
    }
}

impl DenyRule {
    fn matches(&self, a: &Attributes) -> bool {
        let any = |list: &[String], f: &dyn Fn(&str) -> bool| {
            list.is_empty() || list.iter().any(|x| x == "*" || f(x))
        };
        let full = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        any(&self.verbs, &|v| v == a.verb)
            && any(&self.resources, &|r| {
                // RBAC semantics: `pods` is not `pods/log`; `pods/*` is every subresource;
                // `deployments.apps` pins the group.
                let (r, group) = match r.split_once('.') {
                    Some((res, g)) => (res, Some(g)),
                    None => (r, None),
                };
                let res_ok = r == full
                    || (r.strip_suffix("/*") == Some(a.resource.as_str())
                        && !a.subresource.is_empty());
                res_ok && group.is_none_or(|g| g == a.group)
            })
            && any(&self.namespaces, &|n| n == a.namespace)
    }
}

/// Whether `who` may do `a`.
pub fn allowed(who: &Identity, a: &Attributes) -> bool {
    match who {
        Identity::Admin => true,
        Identity::User(u) => !u.deny.iter().any(|r| r.matches(a)),
    }
}

/// The 403 a real API server's RBAC authoriser returns.
pub fn forbidden(who: &Identity, a: &Attributes) -> ApiError {
    let mut resource = a.resource.clone();
    if !a.subresource.is_empty() {
        resource = format!("{resource}/{}", a.subresource);
    }
    let why = if a.namespace.is_empty() {
        format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" at the cluster scope",
            who.name(),
            a.verb,
            a.group
        )
    } else {
        format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" in the namespace \"{}\"",
            who.name(),
            a.verb,
            a.group,
            a.namespace
        )
    };
    let q = qualified(&a.group, &a.resource);
    let message = if a.name.is_empty() {
        format!("{q} is forbidden: {why}")
    } else {
        format!("{q} \"{}\" is forbidden: {why}", a.name)
    };
    let mut e = ApiError::forbidden(message);
    let mut d = serde_json::json!({"name": a.name});
    if !a.group.is_empty() {
        d["group"] = serde_json::json!(a.group);
    }
    d["kind"] = serde_json::json!(a.resource);
    e.details = Some(Box::new(d));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deny_rules_and_message() {
        let u = User::from_fixture(&json!({"metadata": {"name": "alice"}, "token": "t",
            "deny": [{"verbs": ["list"], "resources": ["pods"], "namespaces": ["x"]}, {"resources": ["secrets"]}]}))
        .expect("valid");
        let who = Identity::User(u);
        let a = Attributes {
            verb: "list".into(),
            resource: "pods".into(),
            namespace: "x".into(),
            ..Default::default()
        };
        assert!(!allowed(&who, &a));
        assert_eq!(
            forbidden(&who, &a).message,
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"x\""
        );
        let other_ns = Attributes {
            namespace: "y".into(),
            ..a.clone()
        };
        assert!(allowed(&who, &other_ns));
        let secret = Attributes {
            verb: "get".into(),
            resource: "secrets".into(),
            ..Default::default()
        };
        assert!(!allowed(&who, &secret));
        assert!(allowed(&Identity::Admin, &secret));
    }
}
