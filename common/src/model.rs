//! The suite's shared vocabulary for objects: one [`ObjectRef`], the "could not look" record
//! [`Skipped`] with a typed cause, pod → ReplicaSet → Deployment owner resolution, readiness.

use std::fmt;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Serialize};

/// One object, by kind, namespace (empty for cluster-scoped) and name.
///
/// The one reference type of the suite: findings, plans, journals and `-o name` all use it.
/// Ordered by kind, then namespace, then name, so reports sort stably.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `Deployment`, `Pod`, `Secret`, ... (the API kind, not the resource plural).
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects.
    #[serde(default)]
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectRef {
    /// A reference from its three parts.
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The reference to a typed object (`ObjectRef::of(&deployment)`).
    pub fn of<K>(obj: &K) -> Self
    where
        K: kube::Resource<DynamicType = ()>,
    {
        let meta = obj.meta();
        ObjectRef::new(
            &K::kind(&()),
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or(""),
        )
    }

    /// `deployment/api`, as kubectl takes it on the command line (in the object's namespace).
    pub fn kubectl_ref(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }

    /// `-o name` line: `kind/namespace/name` (`kind/name` for cluster-scoped objects).
    pub fn name_line(&self) -> String {
        crate::output::name_line(&self.kind, Some(&self.namespace), &self.name)
    }

    /// ` -n NAMESPACE` for a kubectl command line, empty for cluster-scoped objects.
    pub fn namespace_flag(&self) -> String {
        if self.namespace.is_empty() {
            String::new()
        } else {
            format!(" -n {}", self.namespace)
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `deployment/shop/api`, or `node/worker-1` for cluster-scoped objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind.to_lowercase(), self.name)
        } else {
            write!(
                f,
                "{}/{}/{}",
                self.kind.to_lowercase(),
                self.namespace,
                self.name
            )
        }
    }
}

/// Why something was not looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipCause {
    /// RBAC forbade the call (403): the answer is incomplete, exit 4.
    Forbidden,
    /// The API is not served on this cluster (404, e.g. metrics-server absent): nothing to
    /// look at, so the answer is still complete.
    NotServed,
    /// The API group failed (discovery error, 503 from an aggregated API): incomplete, exit 4.
    Unavailable,
    /// The call failed for another reason after retries: incomplete, exit 4.
    Failed,
}

impl SkipCause {
    /// True when the skip makes the run partial (exit 4).
    pub fn is_partial(self) -> bool {
        !matches!(self, SkipCause::NotServed)
    }

    /// The cause a kube error stands for, or `None` when it should be an error instead.
    pub fn of(err: &kube::Error) -> Option<Self> {
        match crate::error::status_code(err) {
            Some(403) => Some(SkipCause::Forbidden),
            Some(404) => Some(SkipCause::NotServed),
            Some(503) => Some(SkipCause::Unavailable),
            _ => None,
        }
    }
}

/// Something a plugin could not look at or do, with a typed cause: "could not look" is
/// never confused with "there is none".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// What was skipped: a check, a resource (`secrets`), an object.
    pub what: String,
    /// Why, as a stable code.
    pub cause: SkipCause,
    /// The server's message or our explanation (already redacted).
    pub message: String,
}

impl Skipped {
    /// A skip with its cause and message (the message is redacted here, once).
    pub fn new(what: impl Into<String>, cause: SkipCause, message: impl AsRef<str>) -> Self {
        Skipped {
            what: what.into(),
            cause,
            message: crate::redact::redact_text(message.as_ref()).into_owned(),
        }
    }

    /// `forbidden: pods is forbidden: ...` — the cause and message on one line.
    pub fn reason(&self) -> String {
        let cause = match self.cause {
            SkipCause::Forbidden => "forbidden",
            SkipCause::NotServed => "not available on this cluster",
            SkipCause::Unavailable => "API unavailable",
            SkipCause::Failed => "failed",
        };
        format!("{cause}: {}", self.message)
    }
}

/// The controlling owner reference (`controller: true`), if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The workload a pod belongs to: Pod → ReplicaSet → Deployment, Pod → StatefulSet / DaemonSet /
/// Job, or the pod itself when it has no controller.
///
/// `replicaset_owner(namespace, name)` answers the ReplicaSet's own controller, when the
/// ReplicaSet is known. When it is not (not listed, or already gone), the
/// `pod-template-hash` label names the Deployment (`<deployment>-<hash>`), which is how the
/// deployment controller names ReplicaSets.
pub fn workload_of<'a, F>(pod: &'a ObjectMeta, replicaset_owner: F) -> ObjectRef
where
    F: Fn(&str, &str) -> Option<Option<&'a OwnerReference>>,
{
    let namespace = pod.namespace.as_deref().unwrap_or("");
    let name = pod.name.as_deref().unwrap_or("");
    let Some(owner) = controller_of(pod) else {
        return ObjectRef::new("Pod", namespace, name);
    };
    if owner.kind == "ReplicaSet" {
        match replicaset_owner(namespace, &owner.name) {
            Some(Some(dep)) if dep.kind == "Deployment" => {
                return ObjectRef::new("Deployment", namespace, &dep.name);
            }
            Some(_) => {}
            None => {
                if let Some(dep) = pod
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("pod-template-hash"))
                    .and_then(|hash| owner.name.strip_suffix(&format!("-{hash}")))
                {
                    return ObjectRef::new("Deployment", namespace, dep);
                }
            }
        }
    }
    ObjectRef::new(&owner.kind, namespace, &owner.name)
}

/// True when the pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod's phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`), `Pending` if unset.
pub fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// True for a pod that finished (Succeeded or Failed): it will never run again.
pub fn pod_terminal(pod: &Pod) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

/// True for a static (mirror) pod: the kubelet owns it, the API cannot move it.
pub fn is_mirror_pod(meta: &ObjectMeta) -> bool {
    meta.annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn owner(kind: &str, name: &str, controller: bool) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            controller: Some(controller),
            block_owner_deletion: None,
        }
    }

    fn pod_meta(owners: Vec<OwnerReference>, hash: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("shop".into()),
            name: Some("api-5d9f-abcde".into()),
            owner_references: Some(owners),
            labels: hash.map(|h| BTreeMap::from([("pod-template-hash".into(), h.into())])),
            ..Default::default()
        }
    }

    #[test]
    fn object_ref_formats() {
        let r = ObjectRef::new("Deployment", "shop", "api");
        assert_eq!(r.kubectl_ref(), "deployment/api");
        assert_eq!(r.to_string(), "deployment/shop/api");
        assert_eq!(r.name_line(), "deployment/shop/api");
        assert_eq!(r.namespace_flag(), " -n shop");
        let n = ObjectRef::new("Node", "", "worker-1");
        assert_eq!(n.to_string(), "node/worker-1");
        assert_eq!(n.namespace_flag(), "");
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"kind":"Deployment","namespace":"shop","name":"api"}"#
        );
    }

    #[test]
    fn owner_resolution_follows_replicasets() {
        let dep = owner("Deployment", "api", true);
        let meta = pod_meta(vec![owner("ReplicaSet", "api-5d9f", true)], Some("5d9f"));
        // ReplicaSet known and owned by a Deployment.
        let known = |_: &str, _: &str| Some(Some(&dep));
        assert_eq!(
            workload_of(&meta, known),
            ObjectRef::new("Deployment", "shop", "api")
        );
        // ReplicaSet not known: the template hash names the Deployment.
        assert_eq!(
            workload_of(&meta, |_, _| None),
            ObjectRef::new("Deployment", "shop", "api")
        );
        // A bare ReplicaSet (known, no controller) stands for itself.
        assert_eq!(
            workload_of(&meta, |_, _| Some(None)),
            ObjectRef::new("ReplicaSet", "shop", "api-5d9f")
        );
        // No controller at all: the pod itself; a non-controller owner does not count.
        let bare = pod_meta(vec![owner("ReplicaSet", "x", false)], None);
        assert_eq!(
            workload_of(&bare, |_, _| None),
            ObjectRef::new("Pod", "shop", "api-5d9f-abcde")
        );
        let sts = pod_meta(vec![owner("StatefulSet", "db", true)], None);
        assert_eq!(
            workload_of(&sts, |_, _| None),
            ObjectRef::new("StatefulSet", "shop", "db")
        );
    }

    #[test]
    fn skip_causes() {
        assert!(SkipCause::Forbidden.is_partial());
        assert!(!SkipCause::NotServed.is_partial());
        let s = Skipped::new("secrets", SkipCause::Forbidden, "token=abcdef denied");
        assert_eq!(s.reason(), "forbidden: token=*** denied");
    }

    #[test]
    fn readiness() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap_or_default();
        assert!(pod_ready(&pod));
        assert_eq!(pod_phase(&pod), "Running");
        assert!(!pod_terminal(&pod));
        assert!(!pod_ready(&Pod::default()));
        assert_eq!(pod_phase(&Pod::default()), "Pending");
    }
}
