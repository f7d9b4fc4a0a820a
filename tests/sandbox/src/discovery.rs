//! Discovery documents (`/version`, `/api`, `/apis`, per group-version
//! resource lists, aggregated discovery v2) built from the registry.
//! Pure functions: the server decides which one a request asks for.

use crate::registry::{Registry, ResourceType};
use serde_json::{Map, Value, json};

/// Content type of aggregated discovery responses (kubectl >= 1.30 asks for it).
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Content type of the beta aggregated discovery format: kubectl 1.27-1.29
/// (client-go < 0.30) only understand this one. Same document shape as v2,
/// only `apiVersion` differs.
pub const AGGREGATED_V2BETA1_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// Which aggregated discovery format an `Accept` header asks for, if any:
/// returns the response content type (v2 preferred over v2beta1). `None`
/// means serve the plain (unaggregated) `/api` or `/apis` document.
/// A client that gets a content type it did not ask for misreads the body
/// (kubectl 1.27 parses a v2 body as APIVersions and sees no groups).
pub fn negotiate_aggregated(accept: &str) -> Option<&'static str> {
    let mut v2 = false;
    let mut v2beta1 = false;
    for media in accept.split(',') {
        let mut parts = media.split(';').map(str::trim);
        if parts.next() != Some("application/json") {
            continue;
        }
        let (mut g, mut v, mut r#as) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                Some(("as", x)) => r#as = x,
                _ => {}
            }
        }
        if g == "apidiscovery.k8s.io" && r#as == "APIGroupDiscoveryList" {
            v2 |= v == "v2";
            v2beta1 |= v == "v2beta1";
        }
    }
    if v2 {
        Some(AGGREGATED_CONTENT_TYPE)
    } else if v2beta1 {
        Some(AGGREGATED_V2BETA1_CONTENT_TYPE)
    } else {
        None
    }
}

/// `/version`
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T13:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": format!("{}/{}", go_os(), go_arch()),
    })
}

fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// `/api` (APIVersions). `server_address` is `host:port` of the server.
pub fn core_api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    })
}

fn group_versions(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    let mut out = json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
    });
    if let Some(first) = versions.first() {
        out["preferredVersion"] = gv(first);
    }
    out
}

/// `/apis` (APIGroupList).
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| group_versions(g, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}` (APIGroup), None if the group is unknown.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let (g, versions) = registry.groups().into_iter().find(|(g, _)| g == group)?;
    let mut doc = group_versions(&g, &versions);
    let obj = doc.as_object_mut()?;
    let mut out = Map::new();
    out.insert("kind".into(), json!("APIGroup"));
    out.insert("apiVersion".into(), json!("v1"));
    out.append(obj);
    Some(Value::Object(out))
}

/// What a subresource responds with: (group, version, kind, verbs).
/// Group/version are `None` when they are the parent's.
struct Sub {
    gv: Option<(&'static str, &'static str)>,
    kind: String,
    verbs: &'static [&'static str],
}

fn subresource(rt: &ResourceType, name: &str) -> Sub {
    let same = |verbs| Sub {
        gv: None,
        kind: rt.kind.clone(),
        verbs,
    };
    let other = |g, v, kind: &str, verbs| Sub {
        gv: Some((g, v)),
        kind: kind.to_string(),
        verbs,
    };
    let local = |kind: &str, verbs| Sub {
        gv: None,
        kind: kind.to_string(),
        verbs,
    };
    match name {
        "status" => same(&["get", "patch", "update"]),
        "log" => same(&["get"]),
        "ephemeralcontainers" | "resize" | "approval" => same(&["get", "patch", "update"]),
        "eviction" => other("policy", "v1", "Eviction", &["create"]),
        "scale" => other("autoscaling", "v1", "Scale", &["get", "patch", "update"]),
        "token" => other("authentication.k8s.io", "v1", "TokenRequest", &["create"]),
        "binding" => local("Binding", &["create"]),
        "exec" => local("PodExecOptions", &["create", "get"]),
        "attach" => local("PodAttachOptions", &["create", "get"]),
        "portforward" => local("PodPortForwardOptions", &["create", "get"]),
        "proxy" => local(
            &format!("{}ProxyOptions", rt.kind),
            &["create", "delete", "get", "patch", "update"],
        ),
        _ => same(&["get"]),
    }
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| json!(s)).collect())
}

/// `/api/v1` or `/apis/{group}/{version}` (APIResourceList), None if unknown.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for rt in registry.in_group_version(group, version) {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": strings(&rt.verbs),
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = strings(&rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = strings(&rt.categories);
        }
        resources.push(r);
        for name in &rt.subresources {
            let sub = subresource(rt, name);
            let mut s = json!({
                "name": format!("{}/{}", rt.plural, name),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if let Some((g, v)) = sub.gv {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

fn discovery_resource(rt: &ResourceType) -> Value {
    let mut r = json!({
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular,
        "verbs": strings(&rt.verbs),
    });
    if !rt.short_names.is_empty() {
        r["shortNames"] = strings(&rt.short_names);
    }
    if !rt.categories.is_empty() {
        r["categories"] = strings(&rt.categories);
    }
    let subs: Vec<Value> = rt
        .subresources
        .iter()
        .map(|name| {
            let sub = subresource(rt, name);
            let (g, v) = sub.gv.unwrap_or((rt.group.as_str(), rt.version.as_str()));
            json!({
                "subresource": name,
                "responseKind": {"group": g, "version": v, "kind": sub.kind},
                "verbs": sub.verbs,
            })
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = Value::Array(subs);
    }
    r
}

/// Aggregated discovery (APIGroupDiscoveryList) for `/api` (`legacy`) or `/apis`.
pub fn aggregated_discovery(registry: &Registry, legacy: bool) -> Value {
    aggregated_discovery_as(registry, legacy, AGGREGATED_CONTENT_TYPE)
}

/// Aggregated discovery in the format of `content_type` (one of
/// [`AGGREGATED_CONTENT_TYPE`], [`AGGREGATED_V2BETA1_CONTENT_TYPE`], as
/// returned by [`negotiate_aggregated`]).
pub fn aggregated_discovery_as(registry: &Registry, legacy: bool, content_type: &str) -> Value {
    let api_version = if content_type == AGGREGATED_V2BETA1_CONTENT_TYPE {
        "apidiscovery.k8s.io/v2beta1"
    } else {
        "apidiscovery.k8s.io/v2"
    };
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == legacy)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = registry
                        .in_group_version(g, v)
                        .map(discovery_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if g.is_empty() {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": g, "creationTimestamp": null})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn version_is_1_33() {
        let v = version();
        assert_eq!(v["major"], "1");
        assert_eq!(v["minor"], "33");
        assert!(v["gitVersion"].as_str().unwrap().starts_with("v1.33."));
        assert!(v["platform"].as_str().unwrap().contains('/'));
    }

    #[test]
    fn core_versions_carry_address() {
        let v = core_api_versions("127.0.0.1:6443");
        assert_eq!(v["versions"][0], "v1");
        assert_eq!(
            v["serverAddressByClientCIDRs"][0]["serverAddress"],
            "127.0.0.1:6443"
        );
    }

    #[test]
    fn group_list_in_registry_order_without_core() {
        let r = Registry::builtin();
        let l = api_group_list(&r);
        let groups = l["groups"].as_array().unwrap();
        // As on a real server, the aggregator's own group comes first.
        assert_eq!(groups[0]["name"], "apiregistration.k8s.io");
        assert_eq!(groups[1]["name"], "apps");
        assert!(groups.iter().all(|g| g["name"] != ""));
        let auto = groups.iter().find(|g| g["name"] == "autoscaling").unwrap();
        assert_eq!(auto["preferredVersion"]["groupVersion"], "autoscaling/v2");
        assert_eq!(auto["versions"][1]["version"], "v1");
        let g = api_group(&r, "apps").unwrap();
        assert_eq!(g["kind"], "APIGroup");
        assert_eq!(g["preferredVersion"]["version"], "v1");
        assert!(api_group(&r, "nope.io").is_none());
    }

    #[test]
    fn resource_list_has_subresources() {
        let r = Registry::builtin();
        let core = api_resource_list(&r, "", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let pods = find(&core, "pods");
        assert_eq!(pods["shortNames"][0], "po");
        assert_eq!(pods["categories"][0], "all");
        assert_eq!(pods["namespaced"], true);
        let ev = find(&core, "pods/eviction");
        assert_eq!(
            (&ev["kind"], &ev["group"], &ev["version"]),
            (&json!("Eviction"), &json!("policy"), &json!("v1"))
        );
        assert_eq!(ev["verbs"], json!(["create"]));
        assert_eq!(find(&core, "pods/log")["kind"], "Pod");
        assert_eq!(
            find(&core, "pods/status")["verbs"],
            json!(["get", "patch", "update"])
        );
        assert_eq!(find(&core, "nodes")["namespaced"], false);
        let apps = api_resource_list(&r, "apps", "v1").unwrap();
        let scale = find(&apps, "deployments/scale");
        assert_eq!(
            (&scale["kind"], &scale["group"]),
            (&json!("Scale"), &json!("autoscaling"))
        );
        assert!(api_resource_list(&r, "apps", "v9").is_none());
    }

    #[test]
    fn aggregated_discovery_shape() {
        let r = Registry::builtin();
        let legacy = aggregated_discovery(&r, true);
        assert_eq!(legacy["apiVersion"], "apidiscovery.k8s.io/v2");
        let items = legacy["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let v1 = &items[0]["versions"][0];
        assert_eq!(v1["freshness"], "Current");
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        let ev = pods["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == "eviction")
            .unwrap();
        assert_eq!(
            ev["responseKind"],
            json!({"group": "policy", "version": "v1", "kind": "Eviction"})
        );
        let apis = aggregated_discovery(&r, false);
        let items = apis["items"].as_array().unwrap();
        assert_eq!(items[0]["metadata"]["name"], "apiregistration.k8s.io");
        assert_eq!(items[1]["metadata"]["name"], "apps");
        assert!(items.iter().all(|i| i["metadata"]["name"] != ""));
        let beta = aggregated_discovery_as(&r, false, AGGREGATED_V2BETA1_CONTENT_TYPE);
        assert_eq!(beta["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    }

    #[test]
    fn negotiation_prefers_v2() {
        let k130 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate_aggregated(k130), Some(AGGREGATED_CONTENT_TYPE));
        let k127 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            negotiate_aggregated(k127),
            Some(AGGREGATED_V2BETA1_CONTENT_TYPE)
        );
        assert_eq!(negotiate_aggregated("application/json, */*"), None);
        assert_eq!(negotiate_aggregated(""), None);
    }
}
