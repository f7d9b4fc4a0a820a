//! The resource types the sandbox serves: built-in Kubernetes kinds plus any
//! CustomResourceDefinition loaded from fixtures. Routing, discovery, OpenAPI
//! and table printing all read this one table.

use serde_json::Value;

/// One servable resource (a group/version/plural), as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; "" for the core (legacy `/api/v1`) group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Lower-case plural used in URLs, e.g. `pods`.
    pub plural: String,
    /// Lower-case singular, e.g. `pod`.
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Verbs advertised in discovery (`get`, `list`, `watch`, `create`, ...).
    pub verbs: Vec<String>,
    /// Subresources served, e.g. `status`, `log`, `eviction`, `scale`.
    pub subresources: Vec<String>,
    /// For custom resources: the CRD's `additionalPrinterColumns` for this version.
    pub printer_columns: Vec<Value>,
    /// True for kinds loaded from a CRD fixture.
    pub custom: bool,
}

impl ResourceType {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` / `deployments.apps`: the name kubectl shows for the type.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s == name)
    }
}

const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const READ_ONLY: &[&str] = &["get", "list"];
const CREATE_ONLY: &[&str] = &["create"];

struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    verbs: &'static [&'static str],
    subresources: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)] // a table row constructor: one argument per column
const fn b(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        version,
        kind,
        plural,
        namespaced,
        short_names,
        categories,
        verbs: CRUD,
        subresources,
    }
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];
const STATUS: &[&str] = &["status"];
const STATUS_SCALE: &[&str] = &["status", "scale"];

/// Built-in kinds, in the order discovery lists them. Only what the plugins,
/// the fidelity suite and typical runbooks touch; anything else can come in
/// as a CRD fixture.
const BUILTINS: &[Builtin] = &[
    // core/v1
    b("", "v1", "Binding", "bindings", true, NONE, NONE, NONE),
    b(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        true,
        &["cm"],
        NONE,
        NONE,
    ),
    b(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        true,
        &["ep"],
        NONE,
        NONE,
    ),
    b("", "v1", "Event", "events", true, &["ev"], NONE, NONE),
    b(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        true,
        &["limits"],
        NONE,
        NONE,
    ),
    b(
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        NONE,
        STATUS,
    ),
    b(
        "",
        "v1",
        "Node",
        "nodes",
        false,
        &["no"],
        NONE,
        &["status", "proxy"],
    ),
    b(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        &["pvc"],
        NONE,
        STATUS,
    ),
    b(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        false,
        &["pv"],
        NONE,
        STATUS,
    ),
    b(
        "",
        "v1",
        "Pod",
        "pods",
        true,
        &["po"],
        ALL,
        &[
            "status",
            "log",
            "eviction",
            "exec",
            "proxy",
            "binding",
            "ephemeralcontainers",
        ],
    ),
    b(
        "",
        "v1",
        "PodTemplate",
        "podtemplates",
        true,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        true,
        &["rc"],
        ALL,
        STATUS_SCALE,
    ),
    b(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        true,
        &["quota"],
        NONE,
        STATUS,
    ),
    b("", "v1", "Secret", "secrets", true, NONE, NONE, NONE),
    b(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        NONE,
        &["token"],
    ),
    b(
        "",
        "v1",
        "Service",
        "services",
        true,
        &["svc"],
        ALL,
        &["status", "proxy"],
    ),
    // apps/v1
    b(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        true,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        true,
        &["ds"],
        ALL,
        STATUS,
    ),
    b(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        ALL,
        STATUS_SCALE,
    ),
    b(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        ALL,
        STATUS_SCALE,
    ),
    b(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        ALL,
        STATUS_SCALE,
    ),
    // autoscaling
    b(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        &["hpa"],
        ALL,
        STATUS,
    ),
    b(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        &["hpa"],
        ALL,
        STATUS,
    ),
    // batch/v1
    b(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        true,
        &["cj"],
        ALL,
        STATUS,
    ),
    b("batch", "v1", "Job", "jobs", true, NONE, ALL, STATUS),
    // policy/v1
    b(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        NONE,
        STATUS,
    ),
    // networking
    b(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        &["ing"],
        NONE,
        STATUS,
    ),
    b(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        false,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        &["netpol"],
        NONE,
        NONE,
    ),
    // discovery
    b(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
        NONE,
        NONE,
        NONE,
    ),
    // events
    b(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        NONE,
        NONE,
    ),
    // storage
    b(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
        &["sc"],
        NONE,
        NONE,
    ),
    b(
        "storage.k8s.io",
        "v1",
        "CSIDriver",
        "csidrivers",
        false,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "storage.k8s.io",
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        false,
        NONE,
        NONE,
        STATUS,
    ),
    // rbac
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
        NONE,
        NONE,
        NONE,
    ),
    // coordination, scheduling
    b(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        NONE,
        NONE,
        NONE,
    ),
    b(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
        &["pc"],
        NONE,
        NONE,
    ),
    // admission webhooks: stored and served, never called
    b(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        NONE,
        &["api-extensions"],
        NONE,
    ),
    b(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        NONE,
        &["api-extensions"],
        NONE,
    ),
    // CRDs themselves
    b(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        &["api-extensions"],
        STATUS,
    ),
    // authorization: create-only reviews (kubectl auth can-i)
    Builtin {
        verbs: CREATE_ONLY,
        ..b(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            false,
            NONE,
            NONE,
            NONE,
        )
    },
    Builtin {
        verbs: CREATE_ONLY,
        ..b(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectRulesReview",
            "selfsubjectrulesreviews",
            false,
            NONE,
            NONE,
            NONE,
        )
    },
    Builtin {
        verbs: CREATE_ONLY,
        ..b(
            "authorization.k8s.io",
            "v1",
            "SubjectAccessReview",
            "subjectaccessreviews",
            false,
            NONE,
            NONE,
            NONE,
        )
    },
    // authentication: `kubectl auth whoami`
    Builtin {
        verbs: CREATE_ONLY,
        ..b(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            false,
            NONE,
            NONE,
            NONE,
        )
    },
    // metrics-server's aggregated API (read-only)
    Builtin {
        verbs: READ_ONLY,
        ..b(
            "metrics.k8s.io",
            "v1beta1",
            "NodeMetrics",
            "nodes",
            false,
            NONE,
            NONE,
            NONE,
        )
    },
    Builtin {
        verbs: READ_ONLY,
        ..b(
            "metrics.k8s.io",
            "v1beta1",
            "PodMetrics",
            "pods",
            true,
            NONE,
            NONE,
            NONE,
        )
    },
];

/// The table of servable types.
#[derive(Debug, Clone)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// The built-in kinds only.
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(|b| ResourceType {
                group: b.group.to_string(),
                version: b.version.to_string(),
                kind: b.kind.to_string(),
                plural: b.plural.to_string(),
                singular: b.kind.to_lowercase(),
                namespaced: b.namespaced,
                short_names: b.short_names.iter().map(|s| s.to_string()).collect(),
                categories: b.categories.iter().map(|s| s.to_string()).collect(),
                verbs: b.verbs.iter().map(|s| s.to_string()).collect(),
                subresources: b.subresources.iter().map(|s| s.to_string()).collect(),
                printer_columns: Vec::new(),
                custom: false,
            })
            .collect();
        Registry { types }
    }

    /// Adds the served versions of a CustomResourceDefinition (apiextensions.k8s.io/v1).
    pub fn add_crd(&mut self, crd: &Value) -> Result<(), String> {
        let spec = crd
            .get("spec")
            .ok_or("CustomResourceDefinition has no spec")?;
        let group = str_at(spec, &["group"]).ok_or("CRD spec.group is missing")?;
        let names = spec.get("names").ok_or("CRD spec.names is missing")?;
        let kind = str_at(names, &["kind"]).ok_or("CRD spec.names.kind is missing")?;
        let plural = str_at(names, &["plural"]).ok_or("CRD spec.names.plural is missing")?;
        let singular = str_at(names, &["singular"])
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase());
        let namespaced = match str_at(spec, &["scope"]) {
            Some("Namespaced") => true,
            Some("Cluster") => false,
            other => {
                return Err(format!(
                    "CRD spec.scope must be Namespaced or Cluster, got {other:?}"
                ));
            }
        };
        let strings = |key: &str| -> Vec<String> {
            names
                .get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("CRD spec.versions is missing")?;
        for v in versions {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let version = str_at(v, &["name"]).ok_or("CRD version has no name")?;
            let mut subresources = Vec::new();
            if let Some(sub) = v.get("subresources") {
                if sub.get("status").is_some() {
                    subresources.push("status".to_string());
                }
                if sub.get("scale").is_some() {
                    subresources.push("scale".to_string());
                }
            }
            let rt = ResourceType {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: singular.clone(),
                namespaced,
                short_names: strings("shortNames"),
                categories: strings("categories"),
                verbs: CRUD.iter().map(|s| s.to_string()).collect(),
                subresources,
                printer_columns: v
                    .get("additionalPrinterColumns")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                custom: true,
            };
            self.types.retain(|t| {
                !(t.group == rt.group && t.version == rt.version && t.plural == rt.plural)
            });
            self.types.push(rt);
        }
        Ok(())
    }

    /// Stops serving a deleted CustomResourceDefinition's kinds.
    pub fn remove_crd(&mut self, crd: &Value) {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.types
            .retain(|t| !(t.custom && t.group == group && t.plural == plural));
    }

    pub fn all(&self) -> &[ResourceType] {
        &self.types
    }

    /// Looks a type up by URL parts (`group` is "" for the core group).
    pub fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Looks a type up by an object's `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        let (group, version) = split_api_version(api_version);
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
    }

    /// Distinct API groups in discovery order, each with its versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    /// Types served under one group/version.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types
            .iter()
            .filter(move |t| t.group == group && t.version == version)
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_lookup_by_plural_and_kind() {
        let r = Registry::builtin();
        let pods = r.by_plural("", "v1", "pods").expect("pods");
        assert_eq!(pods.kind, "Pod");
        assert!(pods.namespaced && pods.has_subresource("log"));
        assert_eq!(
            r.by_kind("apps/v1", "Deployment")
                .map(|t| t.plural.as_str()),
            Some("deployments")
        );
        assert_eq!(r.by_kind("v1", "Node").map(|t| t.namespaced), Some(false));
        assert_eq!(r.groups()[0], ("".to_string(), vec!["v1".to_string()]));
        let autoscaling = r.groups().into_iter().find(|(g, _)| g == "autoscaling");
        assert_eq!(
            autoscaling.map(|(_, v)| v),
            Some(vec!["v2".to_string(), "v1".to_string()])
        );
    }

    #[test]
    fn crd_adds_served_versions() {
        let mut r = Registry::builtin();
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "certificates.cert-manager.io"},
            "spec": {"group": "cert-manager.io", "scope": "Namespaced",
                "names": {"kind": "Certificate", "plural": "certificates", "shortNames": ["cert"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                     "additionalPrinterColumns": [{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}]},
                    {"name": "v1alpha1", "served": false, "storage": false}
                ]}
        });
        r.add_crd(&crd).expect("valid CRD");
        let t = r
            .by_plural("cert-manager.io", "v1", "certificates")
            .expect("served");
        assert!(t.custom && t.has_subresource("status"));
        assert_eq!(t.short_names, vec!["cert"]);
        assert_eq!(t.printer_columns.len(), 1);
        assert!(
            r.by_plural("cert-manager.io", "v1alpha1", "certificates")
                .is_none()
        );
        assert!(r.add_crd(&json!({"spec": {"group": "x"}})).is_err());
    }
}
