//! The scope of a backup, pure: which resource types to list (from discovery and the
//! include/exclude flags), which objects the default rules leave out and why, and which
//! cluster objects the namespaced objects reference.

use std::collections::{BTreeSet, HashSet};

use common::discovery::{Discovered, ServedResource};
use serde_json::Value;

/// Resource types left out unless named in `--include-resources`: never restorable as
/// they are (events, leases renewed by their holders, metrics computed live).
const EXCLUDED_TYPES: [(&str, &str, &str); 5] = [
    ("", "events", "events"),
    // Bindings are a write-only way to schedule a pod; component statuses are computed.
    ("", "bindings", "bindings"),
    ("", "componentstatuses", "componentstatuses"),
    ("events.k8s.io", "events", "events"),
    ("coordination.k8s.io", "leases", "leases"),
];
/// Groups left out unless a resource of theirs is named.
const EXCLUDED_GROUPS: [(&str, &str); 1] = [("metrics.k8s.io", "metrics")];

/// Why an object is left out by default (stable names, counted in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A Pod, ReplicaSet, Job or ControllerRevision with a controller owner: the owner's
    /// restore recreates it.
    ControllerOwned,
    /// Endpoints of a Service with a selector (and the API server's `kubernetes`), or an
    /// EndpointSlice with a `managed-by` label: the control plane rebuilds them.
    ControlPlaneEndpoints,
    /// A `kubernetes.io/service-account-token` Secret: the token controller issues new ones.
    ServiceAccountToken,
    /// The `kube-root-ca.crt` ConfigMap every namespace gets from the control plane
    /// (restoring it would plant another cluster's CA).
    RootCaConfigMap,
    /// A VolumeSnapshot this tool took (recorded under `snapshots/` instead).
    BackupSnapshot,
}

impl Rule {
    /// The name used in the manifest's `counts.excluded`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ControllerOwned => "controllerOwned",
            Rule::ControlPlaneEndpoints => "controlPlaneEndpoints",
            Rule::ServiceAccountToken => "serviceAccountToken",
            Rule::RootCaConfigMap => "rootCAConfigMap",
            Rule::BackupSnapshot => "backupSnapshot",
        }
    }
}

/// The label put on VolumeSnapshots this tool creates.
pub const SNAPSHOT_LABEL: &str = "backup.kubectl-plugins.dev/created-by";

/// The resource types to list and which of them had their default exclusions lifted.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Namespaced resource types to list, sorted by group then plural.
    pub resources: Vec<ServedResource>,
    /// `plural.group` names given explicitly in --include-resources (their object rules
    /// are lifted).
    pub lifted: BTreeSet<String>,
    /// True when Secrets will be listed.
    pub secrets: bool,
}

/// Resolve `--include-resources`/`--exclude-resources` against discovery.
///
/// Empty include (or `*`) means every listable namespaced resource except the default
/// exclusions; a named resource is included even when excluded by default. Exclude wins.
pub fn plan(
    discovered: &Discovered,
    include: &[String],
    exclude: &[String],
) -> Result<Plan, String> {
    let resolve = |names: &[String]| -> Result<BTreeSet<String>, String> {
        names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty() && *n != "*")
            .map(|n| {
                discovered
                    .by_name(n)
                    .map(ServedResource::qualified_plural)
                    .ok_or_else(|| format!("unknown resource {n:?}: the cluster does not serve it"))
            })
            .collect()
    };
    let named = resolve(include)?;
    let excluded = resolve(exclude)?;
    let everything = include.is_empty() || include.iter().any(|n| n.trim() == "*");
    let mut out = Plan::default();
    for r in &discovered.resources {
        let q = r.qualified_plural();
        if !r.namespaced || !r.listable() || excluded.contains(&q) {
            continue;
        }
        let wanted = if named.contains(&q) {
            true
        } else {
            everything && default_type_exclusion(r).is_none()
        };
        if wanted {
            out.resources.push(r.clone());
        }
    }
    out.lifted = named;
    out.secrets = out
        .resources
        .iter()
        .any(|r| r.api.group.is_empty() && r.api.plural == "secrets");
    Ok(out)
}

/// The default exclusion of a whole resource type, if any (`events`, `leases`, `metrics`).
pub fn default_type_exclusion(r: &ServedResource) -> Option<&'static str> {
    EXCLUDED_TYPES
        .iter()
        .find(|(g, p, _)| r.api.group == *g && r.api.plural == *p)
        .map(|(_, _, why)| *why)
        .or_else(|| {
            EXCLUDED_GROUPS
                .iter()
                .find(|(g, _)| r.api.group == *g)
                .map(|(_, why)| *why)
        })
}

/// What the object rules need to know beyond the object: Services with a selector (their
/// Endpoints are the endpoints controller's).
#[derive(Debug, Clone, Default)]
pub struct RuleContext {
    /// (namespace, name) of every Service with a selector.
    pub selector_services: HashSet<(String, String)>,
}

fn group_of(obj: &Value) -> &str {
    obj.get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The default rule that leaves `obj` out, if any.
pub fn exclusion(obj: &Value, ctx: &RuleContext) -> Option<Rule> {
    let kind = str_at(obj, "/kind");
    let group = group_of(obj);
    let ns = str_at(obj, "/metadata/namespace");
    let name = str_at(obj, "/metadata/name");
    let controlled = obj
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        });
    match (group, kind) {
        ("", "Pod")
        | ("apps", "ReplicaSet")
        | ("batch", "Job")
        | ("apps", "ControllerRevision")
            if controlled =>
        {
            Some(Rule::ControllerOwned)
        }
        ("", "Endpoints")
            if (ns == "default" && name == "kubernetes")
                || ctx
                    .selector_services
                    .contains(&(ns.to_string(), name.to_string())) =>
        {
            Some(Rule::ControlPlaneEndpoints)
        }
        ("discovery.k8s.io", "EndpointSlice")
            if obj
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .is_some_and(|l| l.contains_key("endpointslice.kubernetes.io/managed-by")) =>
        {
            Some(Rule::ControlPlaneEndpoints)
        }
        ("", "Secret") if str_at(obj, "/type") == "kubernetes.io/service-account-token" => {
            Some(Rule::ServiceAccountToken)
        }
        ("", "ConfigMap") if name == "kube-root-ca.crt" => Some(Rule::RootCaConfigMap),
        ("snapshot.storage.k8s.io", "VolumeSnapshot")
            if obj
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .is_some_and(|l| l.contains_key(SNAPSHOT_LABEL)) =>
        {
            Some(Rule::BackupSnapshot)
        }
        _ => None,
    }
}

/// True for a Service whose Endpoints the control plane manages (it has a selector).
pub fn has_selector(service: &Value) -> bool {
    service
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|s| !s.is_empty())
}

/// A cluster-scoped object a namespaced one refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterRef {
    pub group: String,
    pub kind: String,
    pub name: String,
}

impl ClusterRef {
    fn new(group: &str, kind: &str, name: &str) -> Self {
        ClusterRef {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }
}

/// The cluster objects `obj` needs: StorageClasses of claims (and claim templates),
/// PriorityClasses and RuntimeClasses of pod specs, IngressClasses, ClusterRoles bound by
/// RoleBindings.
pub fn cluster_references(obj: &Value) -> Vec<ClusterRef> {
    let mut out = Vec::new();
    let kind = str_at(obj, "/kind");
    let group = group_of(obj);
    let mut pod_specs: Vec<&Value> = Vec::new();
    match (group, kind) {
        ("", "PersistentVolumeClaim") => {
            storage_class(obj.get("spec"), &mut out);
        }
        ("", "Pod") => pod_specs.extend(obj.get("spec")),
        ("apps", "StatefulSet") => {
            if let Some(templates) = obj
                .pointer("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
            {
                for t in templates {
                    storage_class(t.get("spec"), &mut out);
                }
            }
            pod_specs.extend(obj.pointer("/spec/template/spec"));
        }
        ("apps", "Deployment" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => {
            pod_specs.extend(obj.pointer("/spec/template/spec"));
        }
        ("batch", "CronJob") => {
            pod_specs.extend(obj.pointer("/spec/jobTemplate/spec/template/spec"));
        }
        ("networking.k8s.io", "Ingress") => {
            let c = str_at(obj, "/spec/ingressClassName");
            if !c.is_empty() {
                out.push(ClusterRef::new("networking.k8s.io", "IngressClass", c));
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding")
            if str_at(obj, "/roleRef/kind") == "ClusterRole" =>
        {
            out.push(ClusterRef::new(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                str_at(obj, "/roleRef/name"),
            ));
        }
        _ => {}
    }
    for spec in pod_specs {
        let p = str_at(spec, "/priorityClassName");
        if !p.is_empty() {
            out.push(ClusterRef::new("scheduling.k8s.io", "PriorityClass", p));
        }
        let r = str_at(spec, "/runtimeClassName");
        if !r.is_empty() {
            out.push(ClusterRef::new("node.k8s.io", "RuntimeClass", r));
        }
    }
    out
}

fn storage_class(spec: Option<&Value>, out: &mut Vec<ClusterRef>) {
    let c = spec
        .and_then(|s| s.get("storageClassName"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !c.is_empty() {
        out.push(ClusterRef::new("storage.k8s.io", "StorageClass", c));
    }
}

/// True when a ClusterRoleBinding binds a service account of one of `namespaces` (or any,
/// with `all`): it is part of what those namespaces need.
pub fn binds_namespace(crb: &Value, namespaces: &BTreeSet<String>, all: bool) -> bool {
    crb.get("subjects")
        .and_then(Value::as_array)
        .is_some_and(|subjects| {
            subjects.iter().any(|s| {
                s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                    && s.get("namespace")
                        .and_then(Value::as_str)
                        .is_some_and(|n| all || namespaces.contains(n))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ApiResource;
    use serde_json::json;

    fn served(group: &str, plural: &str, kind: &str, namespaced: bool) -> ServedResource {
        let version = "v1";
        ServedResource {
            api: ApiResource {
                group: group.into(),
                version: version.into(),
                api_version: if group.is_empty() {
                    version.into()
                } else {
                    format!("{group}/{version}")
                },
                kind: kind.into(),
                plural: plural.into(),
            },
            namespaced,
            verbs: vec!["list".into(), "get".into(), "create".into()],
        }
    }

    fn discovered() -> Discovered {
        Discovered {
            resources: vec![
                served("", "configmaps", "ConfigMap", true),
                served("", "events", "Event", true),
                served("", "namespaces", "Namespace", false),
                served("", "pods", "Pod", true),
                served("", "secrets", "Secret", true),
                served("apps", "deployments", "Deployment", true),
                served("coordination.k8s.io", "leases", "Lease", true),
                served("example.com", "widgets", "Widget", true),
                served("metrics.k8s.io", "pods", "PodMetrics", true),
            ],
            skipped: vec![],
        }
    }

    fn names(p: &Plan) -> Vec<String> {
        p.resources
            .iter()
            .map(ServedResource::qualified_plural)
            .collect()
    }

    #[test]
    fn default_scope_leaves_out_events_leases_and_metrics() {
        let p = plan(&discovered(), &[], &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            names(&p),
            [
                "configmaps",
                "pods",
                "secrets",
                "deployments.apps",
                "widgets.example.com"
            ]
        );
        assert!(p.secrets);
        assert!(p.lifted.is_empty());
    }

    #[test]
    fn include_names_lift_defaults_and_exclude_wins() {
        let p = plan(
            &discovered(),
            &["*".into(), "events".into()],
            &["secrets".into()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(names(&p).contains(&"events".to_string()));
        assert!(!p.secrets);
        let only = plan(&discovered(), &["Deployment".into(), "pods".into()], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&only), ["pods", "deployments.apps"]);
        assert!(
            only.lifted.contains("pods"),
            "pods named: owned pods come along"
        );
        assert!(plan(&discovered(), &["gizmos".into()], &[]).is_err());
    }

    #[test]
    fn object_rules() {
        let ctx = RuleContext {
            selector_services: [("shop".to_string(), "api".to_string())].into(),
        };
        let owned = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": true}]}});
        assert_eq!(exclusion(&owned, &ctx), Some(Rule::ControllerOwned));
        let bare = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}});
        assert_eq!(exclusion(&bare, &ctx), None);
        let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "api", "namespace": "shop"}});
        assert_eq!(exclusion(&ep, &ctx), Some(Rule::ControlPlaneEndpoints));
        let manual = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext", "namespace": "shop"}});
        assert_eq!(
            exclusion(&manual, &ctx),
            None,
            "Endpoints of a selector-less Service are user data"
        );
        let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "api-x", "namespace": "shop", "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}}});
        assert_eq!(exclusion(&slice, &ctx), Some(Rule::ControlPlaneEndpoints));
        let token = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {"name": "t"}});
        assert_eq!(exclusion(&token, &ctx), Some(Rule::ServiceAccountToken));
        let opaque = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "t"}});
        assert_eq!(exclusion(&opaque, &ctx), None);
        let ca = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}});
        assert_eq!(exclusion(&ca, &ctx), Some(Rule::RootCaConfigMap));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j",
            "ownerReferences": [{"kind": "CronJob", "name": "c", "controller": true}]}});
        assert_eq!(exclusion(&job, &ctx), Some(Rule::ControllerOwned));
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d",
            "ownerReferences": [{"kind": "Widget", "name": "w", "controller": true}]}});
        assert_eq!(exclusion(&dep, &ctx), None, "owned Deployments are kept");
    }

    #[test]
    fn references_to_cluster_objects() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"volumeClaimTemplates": [{"spec": {"storageClassName": "gp3"}}],
                     "template": {"spec": {"priorityClassName": "high", "runtimeClassName": "gvisor"}}}});
        let refs = cluster_references(&sts);
        assert_eq!(
            refs,
            [
                ClusterRef::new("storage.k8s.io", "StorageClass", "gp3"),
                ClusterRef::new("scheduling.k8s.io", "PriorityClass", "high"),
                ClusterRef::new("node.k8s.io", "RuntimeClass", "gvisor"),
            ]
        );
        let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "roleRef": {"kind": "ClusterRole", "name": "view"}});
        assert_eq!(
            cluster_references(&rb),
            [ClusterRef::new(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "view"
            )]
        );
        let crb =
            json!({"subjects": [{"kind": "ServiceAccount", "name": "a", "namespace": "shop"}]});
        let shop: BTreeSet<String> = ["shop".to_string()].into();
        assert!(binds_namespace(&crb, &shop, false));
        assert!(!binds_namespace(&crb, &BTreeSet::new(), false));
        assert!(binds_namespace(&crb, &BTreeSet::new(), true));
    }
}
