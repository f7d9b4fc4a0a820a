//! What kube-apiserver creates as it starts, so a fresh sandbox looks like a
//! fresh cluster: the RBAC bootstrap policy (`bootstrap-rbac.yaml`), the
//! `default/kubernetes` Service with its Endpoints and EndpointSlice, the
//! ComponentStatuses, and one APIService per served group-version.
//!
//! Fixtures win: an object a fixture defines is left as it is.

use crate::meta::fill_create_metadata;
use crate::registry::{Registry, split_api_version};
use crate::store::{Txn, res_key};
use serde_json::{Value, json};

const RBAC_POLICY: &str = include_str!("bootstrap-rbac.yaml");
const API_SERVICES: &str = "apiregistration.k8s.io/apiservices";
const AUTOMANAGED: &str = "kube-aggregator.kubernetes.io/automanaged";
/// The `kubernetes` Service's address: the first of the service CIDR.
const KUBERNETES_IP: &str = "10.96.0.1";

/// Loads whatever of the bootstrap objects the fixtures did not define.
/// `address` is the server's `host:port`; `now` its start.
pub fn load(txn: &mut Txn<'_>, registry: &Registry, address: &str, now: jiff::Timestamp) {
    for obj in rbac_policy() {
        load_missing(txn, registry, obj, now);
    }
    aggregate_cluster_roles(txn);
    for obj in kubernetes_service(address) {
        load_missing(txn, registry, obj, now);
    }
    for name in ["scheduler", "controller-manager", "etcd-0"] {
        // Computed by the API server on every read in a real cluster: no uid
        // and no creation time.
        let obj = json!({"kind": "ComponentStatus", "apiVersion": "v1",
            "metadata": {"name": name, "creationTimestamp": null},
            "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]});
        if !txn.contains("/componentstatuses", "", name) {
            txn.load("/componentstatuses", obj);
        }
    }
    for obj in api_services(registry, &rfc3339(now)) {
        load_missing(txn, registry, obj, now);
    }
}

fn rfc3339(ts: jiff::Timestamp) -> String {
    crate::meta::rfc3339(ts)
}

fn load_missing(txn: &mut Txn<'_>, registry: &Registry, mut obj: Value, now: jiff::Timestamp) {
    let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = obj["kind"].as_str().unwrap_or("").to_string();
    let Some(rt) = registry.by_kind(&api_version, &kind) else {
        return;
    };
    let key = res_key(split_api_version(&api_version).0, &rt.plural);
    let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    if txn.contains(&key, ns.as_deref().unwrap_or(""), &name) {
        return;
    }
    fill_create_metadata(&mut obj, ns.as_deref(), now);
    crate::defaults::apply(rt, &mut obj);
    txn.load(&key, obj);
}

/// The bootstrap roles and bindings, labelled and annotated as the RBAC
/// bootstrap controller writes them.
fn rbac_policy() -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(RBAC_POLICY).unwrap_or_else(|e| {
        tracing::error!("bootstrap RBAC policy does not parse: {e}");
        Vec::new()
    });
    docs.into_iter()
        .filter(Value::is_object)
        .map(|mut d| {
            let meta = &mut d["metadata"];
            meta["labels"]["kubernetes.io/bootstrapping"] = json!("rbac-defaults");
            meta["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = json!("true");
            d
        })
        .collect()
}

/// What the ClusterRole aggregation controller does at start-up: every
/// ClusterRole with an aggregation rule gets the rules of those it selects.
fn aggregate_cluster_roles(txn: &mut Txn<'_>) {
    const CLUSTER_ROLES: &str = "rbac.authorization.k8s.io/clusterroles";
    let aggregated: Vec<Value> = txn
        .inner()
        .values(CLUSTER_ROLES)
        .filter(|r| r.get("aggregationRule").is_some())
        .map(|mut r| {
            r["rules"] = json!(crate::rbac::cluster_role_rules(txn.inner(), &r));
            r
        })
        .collect();
    for r in aggregated {
        txn.load(CLUSTER_ROLES, r);
    }
}

/// `default/kubernetes`: the Service through which pods reach the API
/// server, and its endpoints (the sandbox's own address).
fn kubernetes_service(address: &str) -> Vec<Value> {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "443"));
    let port: u16 = port.parse().unwrap_or(443);
    let service = json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": port}],
            "clusterIP": KUBERNETES_IP, "clusterIPs": [KUBERNETES_IP], "type": "ClusterIP",
            "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}});
    let endpoints = json!({"kind": "Endpoints", "apiVersion": "v1",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": host}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]});
    let slice = json!({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [host], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]});
    vec![service, endpoints, slice]
}

/// `(groupPriorityMinimum, versionPriority)` as kube-aggregator registers
/// the built-in groups; custom resource groups get 1000/100.
fn priority(group: &str, version: &str) -> (i64, i64) {
    match (group, version) {
        ("", _) => (18000, 1),
        ("apiregistration.k8s.io", _) => (18000, 15),
        ("apps", _) => (17800, 15),
        ("events.k8s.io", _) => (17750, 15),
        ("authentication.k8s.io", _) => (17700, 15),
        ("authorization.k8s.io", _) => (17600, 15),
        ("autoscaling", "v2") => (17500, 30),
        ("autoscaling", _) => (17500, 15),
        ("batch", _) => (17400, 15),
        ("certificates.k8s.io", _) => (17300, 15),
        ("networking.k8s.io", _) => (17200, 15),
        ("policy", _) => (17100, 15),
        ("rbac.authorization.k8s.io", _) => (17000, 15),
        ("storage.k8s.io", _) => (16800, 15),
        ("apiextensions.k8s.io", _) => (16700, 15),
        ("scheduling.k8s.io", _) => (16600, 15),
        ("coordination.k8s.io", _) => (16500, 15),
        ("discovery.k8s.io", _) => (16200, 15),
        _ => (1000, 100),
    }
}

/// One APIService per served group-version: `Local` (served by this server)
/// except metrics.k8s.io, which a real cluster reaches through the
/// metrics-server Service.
pub fn api_services(registry: &Registry, now: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (group, versions) in registry.groups() {
        let custom = registry.all().iter().any(|t| t.group == group && t.custom);
        for version in versions {
            out.push(api_service(&group, &version, custom, now));
        }
    }
    out
}

fn api_service(group: &str, version: &str, custom: bool, now: &str) -> Value {
    let (group_priority, version_priority) = priority(group, version);
    let mut spec = json!({});
    if !group.is_empty() {
        spec["group"] = json!(group);
    }
    spec["version"] = json!(version);
    let condition = if group == "metrics.k8s.io" {
        spec["service"] =
            json!({"namespace": "kube-system", "name": "metrics-server", "port": 443});
        spec["insecureSkipTLSVerify"] = json!(true);
        json!({"type": "Available", "status": "True", "lastTransitionTime": now,
            "reason": "Passed", "message": "all checks passed"})
    } else {
        json!({"type": "Available", "status": "True", "lastTransitionTime": now,
            "reason": "Local", "message": "Local APIServices are always available"})
    };
    spec["groupPriorityMinimum"] = json!(group_priority);
    spec["versionPriority"] = json!(version_priority);
    let mut metadata = json!({"name": format!("{version}.{group}")});
    if group != "metrics.k8s.io" {
        metadata["labels"] = json!({AUTOMANAGED: if custom { "true" } else { "onstart" }});
    }
    json!({"kind": "APIService", "apiVersion": "apiregistration.k8s.io/v1",
        "metadata": metadata, "spec": spec, "status": {"conditions": [condition]}})
}

/// After a CRD change: an APIService for each newly served group-version,
/// and none for a group-version no longer served (as the CRD registration
/// controller keeps them).
pub fn sync_api_services(txn: &mut Txn<'_>, registry: &Registry, now: jiff::Timestamp) {
    let wanted = api_services(registry, &rfc3339(now));
    let names: Vec<String> = wanted
        .iter()
        .filter_map(|a| a["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let stale: Vec<String> = txn
        .inner()
        .iter_resource(API_SERVICES)
        .filter(|a| {
            a.labels
                .as_ref()
                .and_then(|l| l.get(AUTOMANAGED))
                .is_some_and(|v| v == "true")
        })
        .map(|a| a.name.clone())
        .filter(|n| !names.contains(n))
        .collect();
    for name in stale {
        txn.remove(API_SERVICES, "", &name);
    }
    for mut svc in wanted {
        let name = svc["metadata"]["name"].as_str().unwrap_or("").to_string();
        if !txn.contains(API_SERVICES, "", &name) {
            fill_create_metadata(&mut svc, None, now);
            txn.put(API_SERVICES, svc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_fresh_cluster_has_its_bootstrap_objects() {
        let store = Store::new();
        let registry = Registry::builtin();
        let now = jiff::Timestamp::from_second(1_700_000_000).expect("ts");
        store.write(false, |t| load(t, &registry, "127.0.0.1:6443", now));
        store.read(|inner| {
            let svc = inner
                .get("/services", "default", "kubernetes")
                .expect("svc");
            assert_eq!(svc["spec"]["clusterIP"], KUBERNETES_IP);
            let ep = inner
                .get("/endpoints", "default", "kubernetes")
                .expect("ep");
            assert_eq!(ep["subsets"][0]["ports"][0]["port"], 6443);
            let admin = inner
                .get("rbac.authorization.k8s.io/clusterroles", "", "admin")
                .expect("admin");
            let rules = admin["rules"].as_array().expect("rules");
            // admin aggregates edit, which aggregates view.
            assert!(rules.iter().any(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!("pods/log")))
            }));
            assert!(inner.contains("/componentstatuses", "", "etcd-0"));
            let apps = inner.get(API_SERVICES, "", "v1.apps").expect("v1.apps");
            assert_eq!(apps["status"]["conditions"][0]["reason"], "Local");
            assert!(inner.contains(API_SERVICES, "", "v1."));
        });
    }
}
