//! Who is asking and what they may do: identities (the admin, fixture
//! `User`s, ServiceAccounts with tokens) and their authorisers (everything
//! for the admin, deny rules for classic fixture users, RBAC otherwise),
//! with the real server's 403 text.

use crate::error::{ApiError, qualified};
use crate::meta::string_list;
use crate::rbac::{self, UserInfo};
use crate::store::Inner;
use serde_json::{Value, json};

/// One `deny` entry of a `sandbox.test/v1 User`; an empty list matches everything.
#[derive(Debug, Clone, Default)]
pub struct DenyRule {
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
}

/// A `sandbox.test/v1 User` fixture.
#[derive(Debug, Clone, Default)]
pub struct User {
    pub name: String,
    pub token: String,
    pub deny: Vec<DenyRule>,
    /// `rbac: true`: authorised by RBAC bindings naming the user or its
    /// groups, instead of by deny rules.
    pub rbac: bool,
    /// Extra groups (besides `system:authenticated`).
    pub groups: Vec<String>,
}

/// How an identity's requests are authorised.
#[derive(Debug, Clone)]
pub enum Authorizer {
    /// `system:masters`: the RBAC authorizer is never consulted.
    Unrestricted,
    /// A classic fixture user: everything but what a deny rule matches.
    Deny(Vec<DenyRule>),
    /// Only what RBAC bindings grant.
    Rbac,
}

/// Who is asking, after token lookup (and impersonation).
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: UserInfo,
    /// `user.extra` of a real UserInfo (a token's credential id).
    pub extra: Value,
    pub authorizer: Authorizer,
}

/// A ServiceAccount's user name.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

impl Identity {
    /// The kubeconfig's admin user: a member of system:masters.
    pub fn admin() -> Identity {
        Identity {
            user: UserInfo {
                username: "admin".into(),
                uid: String::new(),
                groups: vec!["system:masters".into(), "system:authenticated".into()],
            },
            extra: json!({}),
            authorizer: Authorizer::Unrestricted,
        }
    }

    pub fn from_user(u: &User) -> Identity {
        let mut groups = u.groups.clone();
        groups.push("system:authenticated".into());
        Identity {
            user: UserInfo {
                username: u.name.clone(),
                uid: String::new(),
                groups,
            },
            extra: json!({}),
            authorizer: if u.rbac {
                Authorizer::Rbac
            } else {
                Authorizer::Deny(u.deny.clone())
            },
        }
    }

    /// A ServiceAccount, with the groups the token authenticator adds.
    pub fn service_account(namespace: &str, name: &str, uid: &str, credential: &str) -> Identity {
        let mut extra = json!({});
        if !credential.is_empty() {
            extra["authentication.kubernetes.io/credential-id"] = json!([credential]);
        }
        Identity {
            user: UserInfo {
                username: service_account_user(namespace, name),
                uid: uid.to_string(),
                groups: vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated".into(),
                ],
            },
            extra,
            authorizer: Authorizer::Rbac,
        }
    }

    /// Anyone else (an impersonated user or a SubjectAccessReview subject):
    /// RBAC decides, with the groups given.
    pub fn other(username: &str, groups: Vec<String>) -> Identity {
        let sa = username
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'));
        if let Some((ns, name)) = sa {
            let mut id = Identity::service_account(ns, name, "", "");
            for g in groups {
                if !id.user.groups.contains(&g) {
                    id.user.groups.push(g);
                }
            }
            return id;
        }
        Identity {
            user: UserInfo {
                username: username.to_string(),
                uid: String::new(),
                groups,
            },
            extra: json!({}),
            authorizer: Authorizer::Rbac,
        }
    }

    pub fn name(&self) -> &str {
        &self.user.username
    }

    pub fn is_unrestricted(&self) -> bool {
        matches!(self.authorizer, Authorizer::Unrestricted)
    }

    /// `status.userInfo` of a SelfSubjectReview / TokenReview.
    pub fn user_info(&self) -> Value {
        let mut info = json!({"username": self.user.username});
        if !self.user.uid.is_empty() {
            info["uid"] = json!(self.user.uid);
        }
        info["groups"] = json!(self.user.groups);
        if self.extra.as_object().is_some_and(|m| !m.is_empty()) {
            info["extra"] = self.extra.clone();
        }
        info
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

impl Attributes {
    fn request(&self) -> rbac::Request<'_> {
        rbac::Request::Resource(rbac::ResourceRequest {
            verb: &self.verb,
            group: &self.group,
            resource: &self.resource,
            subresource: &self.subresource,
            namespace: &self.namespace,
            name: &self.name,
        })
    }
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
        let deny: Vec<DenyRule> = doc
            .get("deny")
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| DenyRule {
                        verbs: string_list(r.get("verbs")),
                        resources: string_list(r.get("resources")),
                        namespaces: string_list(r.get("namespaces")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rbac = match doc.get("rbac") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("User rbac must be true or false, got {other}")),
        };
        if rbac && !deny.is_empty() {
            return Err(format!(
                "User {name}: deny rules and rbac: true do not mix (RBAC grants, it does not deny)"
            ));
        }
        Ok(User {
            name,
            token,
            deny,
            rbac,
            groups: string_list(doc.get("groups")),
        })
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
pub fn allowed(inner: &Inner, who: &Identity, a: &Attributes) -> bool {
    match &who.authorizer {
        Authorizer::Unrestricted => true,
        Authorizer::Deny(rules) => !rules.iter().any(|r| r.matches(a)),
        Authorizer::Rbac => rbac::allows(inner, &who.user, &a.request()),
    }
}

/// Whether `who` may send `verb` (the lower-case HTTP method) to a
/// non-resource path such as `/apis` or `/version`.
pub fn allowed_path(inner: &Inner, who: &Identity, verb: &str, path: &str) -> bool {
    match &who.authorizer {
        Authorizer::Rbac => {
            rbac::allows(inner, &who.user, &rbac::Request::NonResource { verb, path })
        }
        _ => true,
    }
}

/// The 403 for a non-resource path.
pub fn forbidden_path(who: &Identity, verb: &str, path: &str) -> ApiError {
    let mut e = ApiError::forbidden(format!(
        "forbidden: User \"{}\" cannot {verb} path \"{path}\"",
        who.name()
    ));
    e.details = Some(Box::new(json!({})));
    e
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
        let who = Identity::from_user(&u);
        let inner = crate::store::Store::new();
        let allowed = |who: &Identity, a: &Attributes| inner.read(|i| allowed(i, who, a));
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
        assert!(allowed(&Identity::admin(), &secret));
        // An RBAC user with no bindings may do nothing.
        let rbac_user = User::from_fixture(&json!({"metadata": {"name": "bob"}, "rbac": true,
            "groups": ["team-a"]}))
        .expect("valid");
        let bob = Identity::from_user(&rbac_user);
        assert_eq!(bob.user.groups, ["team-a", "system:authenticated"]);
        assert!(!allowed(&bob, &secret));
        assert!(
            User::from_fixture(&json!({"metadata": {"name": "x"}, "rbac": true,
                "deny": [{"resources": ["pods"]}]}))
            .is_err()
        );
    }

    #[test]
    fn service_account_identities() {
        let sa = Identity::service_account("jobs", "runner", "u-1", "JTI=abc");
        assert_eq!(sa.name(), "system:serviceaccount:jobs:runner");
        assert_eq!(
            sa.user_info()["groups"],
            json!([
                "system:serviceaccounts",
                "system:serviceaccounts:jobs",
                "system:authenticated"
            ])
        );
        assert_eq!(
            sa.user_info()["extra"]["authentication.kubernetes.io/credential-id"],
            json!(["JTI=abc"])
        );
        let impersonated = Identity::other("system:serviceaccount:a:b", vec![]);
        assert_eq!(impersonated.user.groups[1], "system:serviceaccounts:a");
    }
}
