//! Test helpers: settled Snapshots built from YAML text (the same shape as the
//! sandbox fixtures, `now-5m` times included), with no server involved.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Context;
use crate::podstate::{Interner, LogKey, PodState, PodSummary};
use crate::snapshot::{AccountRef, EventRecord, PodMetrics, SliceSummary, Snapshot, VolumeUsage};

pub fn now() -> jiff::Timestamp {
    "2026-01-01T12:00:00Z".parse().expect("valid timestamp")
}

pub fn ctx() -> Context {
    Context::new(now(), jiff::SignedDuration::from_hours(1))
}

fn resolve_times(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix("now-") {
                let (num, unit) = rest.split_at(rest.len().saturating_sub(1));
                if let Ok(n) = num.parse::<i64>() {
                    let secs = match unit {
                        "s" => n,
                        "m" => n * 60,
                        "h" => n * 3600,
                        "d" => n * 86400,
                        _ => return,
                    };
                    let t = now() - jiff::SignedDuration::from_secs(secs);
                    *s = t.to_string();
                }
            } else if s == "now" {
                *s = now().to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(resolve_times),
        Value::Object(o) => o.values_mut().for_each(resolve_times),
        _ => {}
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture object matches its kind")
}

fn push<T>(list: &mut Option<Vec<T>>, item: T) {
    list.get_or_insert_with(Vec::new).push(item);
}

/// Bytes of a kubelet figure: an integer or a quantity ("10Gi").
fn bytes(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| {
            v.as_str()
                .and_then(crate::snapshot::quantity::parse)
                .map(|f| f as u64)
        })
        .unwrap_or(0)
}

/// An unsettled Snapshot with every list "listed" (Some, maybe empty), so
/// nothing counts as skipped; every namespace is in scope.
pub fn unsettled(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    s.now = now();
    s.complete = true;
    s.events = Some(vec![]);
    s.deployments = Some(vec![]);
    s.replicasets = Some(vec![]);
    s.statefulsets = Some(vec![]);
    s.daemonsets = Some(vec![]);
    s.controller_revisions = Some(vec![]);
    s.services = Some(vec![]);
    s.endpoint_slices = Some(vec![]);
    s.pvcs = Some(vec![]);
    s.hpas = Some(vec![]);
    s.pdbs = Some(vec![]);
    s.jobs = Some(vec![]);
    s.cronjobs = Some(vec![]);
    s.configmaps = Some(vec![]);
    s.secrets = Some(vec![]);
    s.service_accounts = Some(vec![]);
    s.nodes = Some(vec![]);
    s.pod_metrics = Some(vec![]);
    s.ingresses = Some(vec![]);
    s.ingress_classes = Some(vec![]);
    s.network_policies = Some(vec![]);
    s.webhooks = Some(vec![]);
    s.gateway_classes = Some(vec![]);
    s.gateways = Some(vec![]);
    s.http_routes = Some(vec![]);
    s.storage_classes = Some(vec![]);
    s.volume_usage = Some(vec![]);
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in yaml.lines() {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut cur));
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    docs.push(cur);
    let mut namespaces: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut shared = Interner::default();
    for doc in docs
        .iter()
        .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
    {
        let mut v: Value = serde_saphyr::from_str(doc).expect("valid YAML");
        resolve_times(&mut v);
        let kind = v["kind"].as_str().unwrap_or_default().to_string();
        let ns = v["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = v["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !ns.is_empty() {
            namespaces.entry(ns.clone()).or_default();
        }
        match kind.as_str() {
            "Pod" => s
                .pods
                .push(PodState::new(PodSummary::from_pod(typed(v), &mut shared))),
            "Event" => push(&mut s.events, EventRecord::from_event(typed(v))),
            "Deployment" => push(&mut s.deployments, typed(v)),
            "ReplicaSet" => push(&mut s.replicasets, typed(v)),
            "StatefulSet" => push(&mut s.statefulsets, typed(v)),
            "DaemonSet" => push(&mut s.daemonsets, typed(v)),
            "ControllerRevision" => push(&mut s.controller_revisions, typed(v)),
            "Service" => push(&mut s.services, typed(v)),
            "EndpointSlice" => push(&mut s.endpoint_slices, SliceSummary::from_slice(typed(v))),
            "PersistentVolumeClaim" => push(&mut s.pvcs, typed(v)),
            "HorizontalPodAutoscaler" => push(&mut s.hpas, typed(v)),
            "PodDisruptionBudget" => push(&mut s.pdbs, typed(v)),
            "Job" => push(&mut s.jobs, typed(v)),
            "CronJob" => push(&mut s.cronjobs, typed(v)),
            "Node" => push(&mut s.nodes, typed(v)),
            "PodMetrics" => push::<PodMetrics>(&mut s.pod_metrics, typed(v)),
            "Ingress" => push(&mut s.ingresses, typed(v)),
            "IngressClass" => push(&mut s.ingress_classes, name),
            "NetworkPolicy" => push(&mut s.network_policies, typed(v)),
            "StorageClass" => push(&mut s.storage_classes, typed(v)),
            "ValidatingWebhookConfiguration" => {
                push(&mut s.webhooks, crate::collect::validating(typed(v)))
            }
            "MutatingWebhookConfiguration" => {
                push(&mut s.webhooks, crate::collect::mutating(typed(v)))
            }
            "GatewayClass" => push(&mut s.gateway_classes, typed(v)),
            "Gateway" => push(&mut s.gateways, typed(v)),
            "HTTPRoute" => push(&mut s.http_routes, typed(v)),
            "Namespace" => {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(v["metadata"]["labels"].clone()).unwrap_or_default();
                namespaces.entry(name).or_default().extend(labels);
            }
            "ConfigMap" => push(&mut s.configmaps, crate::collect::configmap_keys(typed(v))),
            "Secret" => push(&mut s.secrets, crate::collect::secret_keys(typed(v))),
            "ServiceAccount" => push(
                &mut s.service_accounts,
                AccountRef {
                    namespace: ns,
                    name,
                },
            ),
            "PodLogs" => {
                for (c, l) in v["containers"].as_object().into_iter().flatten() {
                    if let Some(prev) = l["previous"].as_str() {
                        s.logs.insert(
                            LogKey {
                                namespace: ns.clone(),
                                pod: name.clone(),
                                container: c.clone(),
                            },
                            prev.to_string(),
                        );
                    }
                }
            }
            // The kubelet's stats summary, as kube-sandbox serves it.
            "NodeStats" => {
                for pod in v["pods"].as_array().into_iter().flatten() {
                    let pns = pod["namespace"].as_str().unwrap_or("default");
                    for vol in pod["volumes"].as_array().into_iter().flatten() {
                        let Some(claim) = vol["pvcRef"]["name"].as_str() else {
                            continue;
                        };
                        push(
                            &mut s.volume_usage,
                            VolumeUsage {
                                namespace: vol["pvcRef"]["namespace"]
                                    .as_str()
                                    .unwrap_or(pns)
                                    .to_string(),
                                claim: claim.to_string(),
                                node: name.clone(),
                                pod: pod["name"].as_str().unwrap_or_default().to_string(),
                                used_bytes: bytes(&vol["usedBytes"]),
                                capacity_bytes: bytes(&vol["capacityBytes"]),
                            },
                        );
                    }
                }
            }
            _ => {}
        }
    }
    for (n, labels) in &mut namespaces {
        labels.insert("kubernetes.io/metadata.name".into(), n.clone());
    }
    s.namespace_labels = namespaces;
    s
}

/// A settled Snapshot (pods classified) from multi-document YAML.
pub fn snapshot(yaml: &str) -> Snapshot {
    let mut s = unsettled(yaml);
    s.settle(&ctx());
    s
}

/// Every YAML file of a fixture folder under tests/fixtures, concatenated.
pub fn fixture(folder: &str) -> Snapshot {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(folder);
    let mut text = String::new();
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    for f in files {
        text.push_str(&std::fs::read_to_string(&f).expect("readable fixture"));
        text.push_str("\n---\n");
    }
    snapshot(&text)
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out
}
