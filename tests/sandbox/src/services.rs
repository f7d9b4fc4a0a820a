//! What the Service REST storage adds after defaulting: a cluster IP from the
//! service CIDR, the IP family fields, node ports, and on update the values
//! allocated before (`patchAllocatedValues`), so `kubectl apply` of a
//! manifest without `clusterIP` keeps the Service's address.

use crate::controllers::fnv32a;
use crate::store::{Inner, meta_str};
use serde_json::{Value, json};
use std::collections::HashSet;

const SERVICES: &str = "/services";
/// kubeadm's default `--service-cluster-ip-range`: 10.96.0.0/12.
const CIDR_BASE: u32 = 10 << 24 | 96 << 16;
const CIDR_SIZE: u32 = 1 << 20;
/// Addresses below this are left for static use (10.96.0.1 is the
/// `kubernetes` Service, 10.96.0.10 usually DNS).
const FIRST_DYNAMIC: u32 = 16;
const NODE_PORTS: std::ops::RangeInclusive<u32> = 30000..=32767;

fn ip_string(n: u32) -> String {
    std::net::Ipv4Addr::from(n).to_string()
}

fn used_ips(inner: &Inner) -> HashSet<String> {
    inner
        .values(SERVICES)
        .flat_map(|s| {
            s.pointer("/spec/clusterIPs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .chain(s.pointer("/spec/clusterIP").and_then(Value::as_str))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn used_node_ports(inner: &Inner) -> HashSet<u32> {
    inner
        .values(SERVICES)
        .flat_map(|s| {
            let ports = s
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_u64));
            ports
                .chain(
                    s.pointer("/spec/healthCheckNodePort")
                        .and_then(Value::as_u64),
                )
                .filter_map(|p| u32::try_from(p).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The Service's `spec.ports` entries.
fn ports_mut(
    spec: &mut serde_json::Map<String, Value>,
) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    spec.get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// A free address, picked by hashing the Service's name (stable across runs,
/// so fixture Services keep their IPs) and probing upwards.
fn free_ip(key: &str, used: &HashSet<String>) -> Option<String> {
    let span = CIDR_SIZE - FIRST_DYNAMIC - 1;
    let start = fnv32a(key.as_bytes()) % span;
    (0..span)
        .map(|i| CIDR_BASE + FIRST_DYNAMIC + (start + i) % span)
        .map(ip_string)
        .find(|ip| !used.contains(ip))
}

fn free_node_port(key: &str, used: &HashSet<u32>) -> Option<u32> {
    let span = NODE_PORTS.end() - NODE_PORTS.start() + 1;
    let start = fnv32a(key.as_bytes()) % span;
    (0..span)
        .map(|i| NODE_PORTS.start() + (start + i) % span)
        .find(|p| !used.contains(p))
}

/// Fills the allocated fields of a (defaulted) Service that lacks them.
pub fn allocate(inner: &Inner, svc: &mut Value) {
    let key = format!("{}/{}", meta_str(svc, "namespace"), meta_str(svc, "name"));
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let text = |k: &str| {
        spec.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let kind = text("type");
    if kind == "ExternalName" {
        return;
    }
    let cluster_ip = text("clusterIP");
    let has_selector = spec
        .get("selector")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if cluster_ip == "None" {
        spec.entry("clusterIPs").or_insert(json!(["None"]));
        // Headless without a selector takes both families, even on a
        // single-stack cluster (service storage initIPFamilyFields).
        let (policy, families) = if has_selector {
            ("SingleStack", json!(["IPv4"]))
        } else {
            ("RequireDualStack", json!(["IPv4", "IPv6"]))
        };
        spec.entry("ipFamilyPolicy").or_insert(json!(policy));
        spec.entry("ipFamilies").or_insert(families);
    } else {
        let ip = if cluster_ip.is_empty() {
            free_ip(&key, &used_ips(inner))
        } else {
            Some(cluster_ip)
        };
        if let Some(ip) = ip {
            spec.insert("clusterIP".into(), json!(ip));
            spec.entry("clusterIPs").or_insert(json!([ip]));
        }
        spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
        spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
    }
    let wants_node_ports = kind == "NodePort"
        || (kind == "LoadBalancer"
            && spec
                .get("allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                != Some(false));
    if wants_node_ports {
        let mut used = used_node_ports(inner);
        for (i, p) in ports_mut(spec).enumerate() {
            if p.get("nodePort").and_then(Value::as_u64).is_some() {
                continue;
            }
            if let Some(n) = free_node_port(&format!("{key}/{i}"), &used) {
                used.insert(n);
                p.insert("nodePort".into(), json!(n));
            }
        }
    }
    let local = spec.get("externalTrafficPolicy").and_then(Value::as_str) == Some("Local");
    if kind == "LoadBalancer" && local && spec.get("healthCheckNodePort").is_none() {
        let used = used_node_ports(inner);
        if let Some(n) = free_node_port(&format!("{key}/health"), &used) {
            spec.insert("healthCheckNodePort".into(), json!(n));
        }
    }
}

/// On update: the cluster IPs, IP families and node ports the old Service
/// had, where the new spec does not set them (`patchAllocatedValues`).
pub fn keep_allocated(old: &Value, new: &mut Value) {
    let same_type = old.pointer("/spec/type") == new.pointer("/spec/type");
    let Some(old_spec) = old.get("spec").and_then(Value::as_object) else {
        return;
    };
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        let unset = match spec.get(k) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if unset && let Some(v) = old_spec.get(k) {
            spec.insert(k.into(), v.clone());
        }
    }
    if !same_type {
        return;
    }
    let old_ports: Vec<&Value> = old_spec
        .get("ports")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for p in ports_mut(spec) {
        if p.get("nodePort").is_some() {
            continue;
        }
        let same = old_ports.iter().find(|o| {
            o.get("port") == p.get("port")
                && o.get("protocol").unwrap_or(&json!("TCP"))
                    == p.get("protocol").unwrap_or(&json!("TCP"))
        });
        if let Some(n) = same.and_then(|o| o.get("nodePort")) {
            p.insert("nodePort".into(), n.clone());
        }
    }
    if spec.get("healthCheckNodePort").is_none()
        && let Some(h) = old_spec.get("healthCheckNodePort")
    {
        spec.insert("healthCheckNodePort".into(), h.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn svc(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "ns", "name": name}, "spec": spec})
    }

    #[test]
    fn cluster_ips_are_stable_and_unique() {
        let store = Store::new();
        let mut a = svc("a", json!({"type": "ClusterIP", "selector": {"x": "y"}}));
        store.read(|inner| allocate(inner, &mut a));
        let ip = a["spec"]["clusterIP"].as_str().expect("ip").to_string();
        assert!(ip.starts_with("10.") && ip != "10.96.0.1", "{ip}");
        assert_eq!(a["spec"]["clusterIPs"], json!([ip]));
        assert_eq!(a["spec"]["ipFamilies"], json!(["IPv4"]));
        assert_eq!(a["spec"]["ipFamilyPolicy"], "SingleStack");
        store.write(false, |t| t.put(SERVICES, a.clone()));
        // The same name elsewhere would hash to the same address: probed on.
        let mut again = a.clone();
        again["spec"]
            .as_object_mut()
            .expect("spec")
            .retain(|k, _| k == "type");
        store.read(|inner| allocate(inner, &mut again));
        assert_ne!(again["spec"]["clusterIP"], a["spec"]["clusterIP"]);
    }

    #[test]
    fn headless_and_node_ports() {
        let store = Store::new();
        let mut h = svc("h", json!({"clusterIP": "None"}));
        store.read(|inner| allocate(inner, &mut h));
        assert_eq!(h["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
        let mut n = svc(
            "n",
            json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 30001}]}),
        );
        store.read(|inner| allocate(inner, &mut n));
        let p = n["spec"]["ports"][0]["nodePort"]
            .as_u64()
            .expect("nodePort");
        assert!((30000..=32767).contains(&p));
        assert_eq!(n["spec"]["ports"][1]["nodePort"], 30001);
        let mut updated = svc("n", json!({"type": "NodePort", "ports": [{"port": 80}]}));
        keep_allocated(&n, &mut updated);
        assert_eq!(updated["spec"]["clusterIP"], n["spec"]["clusterIP"]);
        assert_eq!(updated["spec"]["ports"][0]["nodePort"], p);
    }
}
