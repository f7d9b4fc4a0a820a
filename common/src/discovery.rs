//! Which resources the cluster serves: every resource with its preferred version, from
//! aggregated discovery (2 requests) where served, else the legacy per-group walk. A group
//! that fails (an aggregated API whose backend is down, e.g. metrics.k8s.io) is skipped with
//! a warning instead of failing the whole run.

use futures::StreamExt;
use kube::Client;
use kube::api::ApiResource;
use kube::core::discovery::v2::{APIGroupDiscovery, APIGroupDiscoveryList};

use crate::error::{Result, status_code};
use crate::model::{SkipCause, Skipped};

/// One served resource (not a subresource) at its group's preferred version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedResource {
    /// Group, version, kind and plural, ready for `Api::all_with` / `Api::namespaced_with`.
    pub api: ApiResource,
    /// True for namespaced resources.
    pub namespaced: bool,
    /// The verbs the server allows (`get`, `list`, `watch`, `create`, ...).
    pub verbs: Vec<String>,
}

impl ServedResource {
    /// True when the resource can be listed.
    pub fn listable(&self) -> bool {
        self.verbs.iter().any(|v| v == "list")
    }

    /// `deployments.apps`, or `pods` for the core group: the name RBAC and kubectl use.
    pub fn qualified_plural(&self) -> String {
        if self.api.group.is_empty() {
            self.api.plural.clone()
        } else {
            format!("{}.{}", self.api.plural, self.api.group)
        }
    }
}

/// What discovery found, and the groups it had to skip.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// Every served resource at its preferred version, sorted by group then plural.
    pub resources: Vec<ServedResource>,
    /// Groups (or group-versions) that could not be discovered, with why.
    pub skipped: Vec<Skipped>,
}

impl Discovered {
    /// The resource for a kind in a group (`("apps", "Deployment")`), if served.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&ServedResource> {
        self.resources
            .iter()
            .find(|r| r.api.group == group && r.api.kind == kind)
    }

    /// The resource by plural or `plural.group` (`secrets`, `deployments.apps`), or by kind
    /// name (case-insensitive), as kubectl resolves `--include-resources` style names.
    pub fn by_name(&self, name: &str) -> Option<&ServedResource> {
        let lower = name.to_lowercase();
        self.resources
            .iter()
            .find(|r| r.qualified_plural() == lower)
            .or_else(|| self.resources.iter().find(|r| r.api.plural == lower))
            .or_else(|| {
                self.resources
                    .iter()
                    .find(|r| r.api.kind.to_lowercase() == lower)
            })
    }
}

/// Discover every served resource. Two requests where aggregated discovery is served
/// (Kubernetes ≥ 1.26); otherwise one per group. Fails only when the core discovery
/// endpoints themselves fail (unreachable, unauthorised).
pub async fn discover(client: &Client) -> Result<Discovered> {
    match aggregated(client).await {
        Ok(found) => Ok(found),
        Err(e) if matches!(status_code(&e), Some(404 | 406 | 415)) || is_decode_error(&e) => {
            tracing::debug!("aggregated discovery not served ({e}); walking groups");
            legacy(client).await
        }
        Err(e) => Err(e.into()),
    }
}

fn is_decode_error(e: &kube::Error) -> bool {
    matches!(e, kube::Error::SerdeError(_))
}

async fn aggregated(client: &Client) -> std::result::Result<Discovered, kube::Error> {
    let (core, groups) = tokio::try_join!(
        client.list_core_api_versions_aggregated(),
        client.list_api_groups_aggregated()
    )?;
    Ok(from_aggregated(core, groups))
}

/// Turn aggregated discovery documents into resources; pure, so it is unit-tested.
pub fn from_aggregated(core: APIGroupDiscoveryList, groups: APIGroupDiscoveryList) -> Discovered {
    let mut found = Discovered::default();
    for group in core.items.into_iter().chain(groups.items) {
        add_group(&mut found, group);
    }
    sort(&mut found);
    found
}

fn add_group(found: &mut Discovered, group: APIGroupDiscovery) {
    let group_name = group
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_default();
    // Versions come in preference order; the first is the preferred one.
    let Some(version) = group.versions.into_iter().next() else {
        return;
    };
    let version_name = version.version.clone().unwrap_or_default();
    let gv = if group_name.is_empty() {
        version_name.clone()
    } else {
        format!("{group_name}/{version_name}")
    };
    if version.freshness.as_deref() == Some("Stale") {
        found.skipped.push(Skipped::new(
            gv,
            SkipCause::Unavailable,
            "the API group's discovery information is stale (its server is not answering)",
        ));
        return;
    }
    for r in version.resources {
        let Some(plural) = r.resource.clone() else {
            continue;
        };
        let kind = r
            .response_kind
            .as_ref()
            .and_then(|k| k.kind.clone())
            .unwrap_or_default();
        if kind.is_empty() {
            continue;
        }
        found.resources.push(ServedResource {
            api: ApiResource {
                group: group_name.clone(),
                version: version_name.clone(),
                api_version: gv.clone(),
                kind,
                plural,
            },
            namespaced: r.scope.as_deref() == Some("Namespaced"),
            verbs: r.verbs,
        });
    }
}

fn sort(found: &mut Discovered) {
    found
        .resources
        .sort_by(|a, b| (&a.api.group, &a.api.plural).cmp(&(&b.api.group, &b.api.plural)));
}

/// The pre-1.26 walk: `/api/v1`, then `/apis` and each group's preferred version, groups
/// in parallel; a failing group is skipped.
async fn legacy(client: &Client) -> Result<Discovered> {
    let mut found = Discovered::default();
    let core = client.list_core_api_resources("v1").await?;
    add_resource_list(&mut found, "", "v1", core);
    let groups = client.list_api_groups().await?;
    let versions: Vec<(String, String)> = groups
        .groups
        .into_iter()
        .filter_map(|g| {
            let v = g
                .preferred_version
                .map(|p| p.version)
                .or_else(|| g.versions.first().map(|v| v.version.clone()))?;
            Some((g.name, v))
        })
        .collect();
    let lists = futures::stream::iter(versions)
        .map(|(group, version)| async move {
            let gv = format!("{group}/{version}");
            let result = client.list_api_group_resources(&gv).await;
            (group, version, result)
        })
        .buffer_unordered(crate::list::MAX_CONCURRENT_LISTS)
        .collect::<Vec<_>>()
        .await;
    for (group, version, result) in lists {
        match result {
            Ok(list) => add_resource_list(&mut found, &group, &version, list),
            Err(e) if matches!(status_code(&e), Some(401)) => return Err(e.into()),
            Err(e) => {
                let cause = SkipCause::of(&e).unwrap_or(SkipCause::Unavailable);
                tracing::warn!("skipping API group {group}/{version}: {e}");
                found.skipped.push(Skipped::new(
                    format!("{group}/{version}"),
                    cause,
                    e.to_string(),
                ));
            }
        }
    }
    sort(&mut found);
    Ok(found)
}

fn add_resource_list(
    found: &mut Discovered,
    group: &str,
    version: &str,
    list: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList,
) {
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    for r in list.resources {
        if r.name.contains('/') {
            continue; // a subresource
        }
        found.resources.push(ServedResource {
            api: ApiResource {
                group: group.to_string(),
                version: version.to_string(),
                api_version: api_version.clone(),
                kind: r.kind,
                plural: r.name,
            },
            namespaced: r.namespaced,
            verbs: r.verbs,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(v: serde_json::Value) -> APIGroupDiscoveryList {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn aggregated_documents_become_resources() {
        let core = list(
            json!({"items": [{"metadata": {"name": ""}, "versions": [{"version": "v1", "resources": [
                {"resource": "pods", "responseKind": {"group": "", "version": "v1", "kind": "Pod"}, "scope": "Namespaced", "verbs": ["get", "list"]},
                {"resource": "nodes", "responseKind": {"group": "", "version": "v1", "kind": "Node"}, "scope": "Cluster", "verbs": ["get", "list"]}
            ]}]}]}),
        );
        let groups = list(json!({"items": [
            {"metadata": {"name": "apps"}, "versions": [
                {"version": "v1", "resources": [{"resource": "deployments", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "scope": "Namespaced", "verbs": ["list"]}]},
                {"version": "v1beta1", "resources": [{"resource": "deployments", "responseKind": {"kind": "Deployment"}, "scope": "Namespaced", "verbs": ["list"]}]}
            ]},
            {"metadata": {"name": "metrics.k8s.io"}, "versions": [{"version": "v1beta1", "freshness": "Stale", "resources": []}]}
        ]}));
        let found = from_aggregated(core, groups);
        let names: Vec<String> = found
            .resources
            .iter()
            .map(ServedResource::qualified_plural)
            .collect();
        assert_eq!(names, ["nodes", "pods", "deployments.apps"]);
        let dep = found
            .by_kind("apps", "Deployment")
            .unwrap_or_else(|| panic!("found"));
        assert_eq!(dep.api.api_version, "apps/v1", "preferred version only");
        assert!(dep.namespaced && dep.listable());
        assert!(!found.by_kind("", "Node").is_some_and(|n| n.namespaced));
        assert_eq!(found.skipped.len(), 1);
        assert_eq!(found.skipped[0].what, "metrics.k8s.io/v1beta1");
        assert_eq!(found.skipped[0].cause, SkipCause::Unavailable);
        assert_eq!(
            found.by_name("Deployment").map(|r| r.api.plural.as_str()),
            Some("deployments")
        );
        assert_eq!(
            found
                .by_name("deployments.apps")
                .map(|r| r.api.kind.as_str()),
            Some("Deployment")
        );
        assert_eq!(
            found.by_name("pods").map(|r| r.api.kind.as_str()),
            Some("Pod")
        );
        assert!(found.by_name("widgets").is_none());
    }
}
