//! GitOps ownership from an object's labels and annotations (Helm, Argo CD, Flux): a direct
//! edit of such an object is reverted by the next sync, so the report says where to change it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// The tool that owns an object's desired state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Tool {
    /// A Helm release (`app.kubernetes.io/managed-by: Helm`, `meta.helm.sh/*`).
    Helm,
    /// An Argo CD Application (`argocd.argoproj.io/*`, or label tracking).
    ArgoCd,
    /// A Flux Kustomization (`kustomize.toolkit.fluxcd.io/*`).
    FluxKustomization,
    /// A Flux HelmRelease (`helm.toolkit.fluxcd.io/*`).
    FluxHelmRelease,
}

/// Who manages an object: the tool and the name of what it deploys from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitOps {
    /// The tool.
    pub tool: Tool,
    /// The release / Application / Kustomization / HelmRelease name (may be empty when
    /// only the tool is known).
    pub name: String,
    /// Its namespace, when the markers name one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The label or annotation that gave it away.
    pub evidence: String,
}

fn get<'a>(
    map: Option<&'a std::collections::BTreeMap<String, String>>,
    key: &str,
) -> Option<&'a str> {
    map.and_then(|m| m.get(key)).map(String::as_str)
}

/// The GitOps tool managing an object, if its markers say so. Flux wins over Helm (a Flux
/// HelmRelease also leaves Helm's markers), Helm over Argo CD's label tracking (Helm
/// charts set `app.kubernetes.io/instance` too).
pub fn detect(meta: &ObjectMeta) -> Option<GitOps> {
    let labels = meta.labels.as_ref();
    let annotations = meta.annotations.as_ref();
    let any = |key: &str| get(labels, key).or_else(|| get(annotations, key));
    if let Some(name) = any("helm.toolkit.fluxcd.io/name") {
        return Some(GitOps {
            tool: Tool::FluxHelmRelease,
            name: name.to_string(),
            namespace: any("helm.toolkit.fluxcd.io/namespace")
                .unwrap_or("")
                .to_string(),
            evidence: "helm.toolkit.fluxcd.io/name".into(),
        });
    }
    if let Some(name) = any("kustomize.toolkit.fluxcd.io/name") {
        return Some(GitOps {
            tool: Tool::FluxKustomization,
            name: name.to_string(),
            namespace: any("kustomize.toolkit.fluxcd.io/namespace")
                .unwrap_or("")
                .to_string(),
            evidence: "kustomize.toolkit.fluxcd.io/name".into(),
        });
    }
    let helm_release = get(annotations, "meta.helm.sh/release-name");
    if helm_release.is_some() || get(labels, "app.kubernetes.io/managed-by") == Some("Helm") {
        return Some(GitOps {
            tool: Tool::Helm,
            name: helm_release
                .or_else(|| get(labels, "app.kubernetes.io/instance"))
                .unwrap_or("")
                .to_string(),
            namespace: get(annotations, "meta.helm.sh/release-namespace")
                .unwrap_or("")
                .to_string(),
            evidence: if helm_release.is_some() {
                "meta.helm.sh/release-name".into()
            } else {
                "app.kubernetes.io/managed-by=Helm".into()
            },
        });
    }
    if let Some(id) = get(annotations, "argocd.argoproj.io/tracking-id") {
        // `<app>:<group>/<kind>:<namespace>/<name>`; the app may be `<namespace>_<name>`.
        let app = id.split(':').next().unwrap_or(id);
        let (namespace, name) = app.split_once('_').unwrap_or(("", app));
        return Some(GitOps {
            tool: Tool::ArgoCd,
            name: name.to_string(),
            namespace: namespace.to_string(),
            evidence: "argocd.argoproj.io/tracking-id".into(),
        });
    }
    let argo_marker = labels
        .into_iter()
        .chain(annotations)
        .flat_map(|m| m.keys())
        .find(|k| k.starts_with("argocd.argoproj.io/"));
    if let Some(key) = argo_marker {
        return Some(GitOps {
            tool: Tool::ArgoCd,
            name: any("app.kubernetes.io/instance").unwrap_or("").to_string(),
            namespace: String::new(),
            evidence: key.clone(),
        });
    }
    // Argo CD's label tracking: the instance label on an object applied with
    // last-applied-configuration (Argo CD applies like `kubectl apply`).
    if let Some(app) = get(labels, "app.kubernetes.io/instance")
        && get(
            annotations,
            "kubectl.kubernetes.io/last-applied-configuration",
        )
        .is_some()
    {
        return Some(GitOps {
            tool: Tool::ArgoCd,
            name: app.to_string(),
            namespace: String::new(),
            evidence: "app.kubernetes.io/instance (label tracking)".into(),
        });
    }
    None
}

impl GitOps {
    /// `Helm release hypersdk (namespace hypersdk)`.
    pub fn describe(&self) -> String {
        let what = match self.tool {
            Tool::Helm => "Helm release",
            Tool::ArgoCd => "Argo CD Application",
            Tool::FluxKustomization => "Flux Kustomization",
            Tool::FluxHelmRelease => "Flux HelmRelease",
        };
        let name = if self.name.is_empty() {
            "(unnamed)"
        } else {
            &self.name
        };
        if self.namespace.is_empty() {
            format!("{what} {name}")
        } else {
            format!("{what} {name} (namespace {})", self.namespace)
        }
    }

    /// Why a direct edit does not last.
    pub fn warning(&self, object: &str) -> String {
        let when = match self.tool {
            Tool::Helm => "the next `helm upgrade`",
            Tool::ArgoCd => "the next Argo CD sync",
            Tool::FluxKustomization | Tool::FluxHelmRelease => "the next Flux reconciliation",
        };
        format!(
            "{object} is managed by {}: {when} reverts a direct edit",
            self.describe()
        )
    }

    /// The change to make at the source so the next sync keeps the new name.
    pub fn source_change(&self, old: &str, new: &str) -> String {
        let ns = |flag: bool| {
            if flag && !self.namespace.is_empty() {
                format!(" -n {}", self.namespace)
            } else {
                String::new()
            }
        };
        match self.tool {
            Tool::Helm => format!(
                "set the chart value that names Secret {old} to {new} and run `helm upgrade {}{} ...` (see `helm get values {}{}`)",
                self.name,
                ns(true),
                self.name,
                ns(true)
            ),
            Tool::ArgoCd => format!(
                "change {old} to {new} in the manifests of Argo CD Application {} in Git, then sync (`argocd app sync {}`)",
                self.name, self.name
            ),
            Tool::FluxKustomization => format!(
                "change {old} to {new} in the source of Kustomization {}, then `flux reconcile kustomization {}{} --with-source`",
                self.name,
                self.name,
                ns(true)
            ),
            Tool::FluxHelmRelease => format!(
                "set the value naming Secret {old} to {new} in HelmRelease {} (spec.values or valuesFrom), then `flux reconcile helmrelease {}{}`",
                self.name,
                self.name,
                ns(true)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: serde_json::Value) -> ObjectMeta {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn helm() {
        let m = meta(
            json!({"labels": {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "shop"},
            "annotations": {"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "prod"}}),
        );
        let g = detect(&m).unwrap_or_else(|| panic!("helm"));
        assert_eq!(g.tool, Tool::Helm);
        assert_eq!(g.describe(), "Helm release shop (namespace prod)");
        assert!(
            g.warning("deployment/api")
                .contains("the next `helm upgrade` reverts")
        );
        assert!(
            g.source_change("db", "db-2")
                .contains("helm upgrade shop -n prod")
        );
        // The managed-by label alone still names Helm, with the instance as release.
        let g = detect(&meta(
            json!({"labels": {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "x"}}),
        ));
        assert_eq!(
            g.map(|g| (g.tool, g.name)),
            Some((Tool::Helm, "x".to_string()))
        );
    }

    #[test]
    fn argo_cd() {
        let g = detect(&meta(
            json!({"annotations": {"argocd.argoproj.io/tracking-id": "guestbook:apps/Deployment:default/web"}}),
        ));
        assert_eq!(
            g.as_ref().map(|g| (g.tool, g.name.as_str())),
            Some((Tool::ArgoCd, "guestbook"))
        );
        let g = detect(&meta(
            json!({"annotations": {"argocd.argoproj.io/tracking-id": "argocd_guestbook:apps/Deployment:default/web"}}),
        ));
        assert_eq!(g.as_ref().map(|g| g.namespace.as_str()), Some("argocd"));
        let g = detect(&meta(
            json!({"labels": {"app.kubernetes.io/instance": "guestbook"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}),
        ));
        assert_eq!(g.as_ref().map(|g| g.tool), Some(Tool::ArgoCd));
        assert!(g.is_some_and(|g| {
            g.source_change("a", "b")
                .contains("argocd app sync guestbook")
        }));
        let g = detect(&meta(
            json!({"annotations": {"argocd.argoproj.io/sync-options": "Prune=false"}}),
        ));
        assert_eq!(g.map(|g| g.tool), Some(Tool::ArgoCd));
        // The instance label alone is not enough (Helm and others set it).
        assert_eq!(
            detect(&meta(
                json!({"labels": {"app.kubernetes.io/instance": "x"}})
            )),
            None
        );
    }

    #[test]
    fn flux() {
        let g = detect(&meta(
            json!({"labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}),
        ));
        assert_eq!(g.as_ref().map(|g| g.tool), Some(Tool::FluxKustomization));
        assert!(g.is_some_and(|g| {
            g.source_change("a", "b")
                .contains("flux reconcile kustomization apps -n flux-system")
        }));
        let g = detect(&meta(
            json!({"labels": {"helm.toolkit.fluxcd.io/name": "redis", "helm.toolkit.fluxcd.io/namespace": "cache", "app.kubernetes.io/managed-by": "Helm"}}),
        ));
        assert_eq!(g.as_ref().map(|g| g.tool), Some(Tool::FluxHelmRelease));
        assert_eq!(detect(&ObjectMeta::default()), None);
    }
}
