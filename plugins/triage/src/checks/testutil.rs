//! Test helpers: Snapshots built from YAML text (the same shape as the
//! sandbox fixtures, `now-5m` times included), with no server involved.

use serde_json::Value;

use super::Context;
use crate::snapshot::{AccountRef, KeyedObject, LogKey, PodMetrics, Snapshot};

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

fn push<T: serde::de::DeserializeOwned>(list: &mut Option<Vec<T>>, v: Value) {
    let item: T = serde_json::from_value(v).expect("fixture object matches its kind");
    list.get_or_insert_with(Vec::new).push(item);
}

/// Build a Snapshot from multi-document YAML. Every list is "listed"
/// (Some, maybe empty) so nothing counts as skipped.
pub fn snapshot(yaml: &str) -> Snapshot {
    let mut s = Snapshot {
        now: now(),
        events: Some(vec![]),
        deployments: Some(vec![]),
        replicasets: Some(vec![]),
        statefulsets: Some(vec![]),
        daemonsets: Some(vec![]),
        controller_revisions: Some(vec![]),
        services: Some(vec![]),
        endpoints: Some(vec![]),
        pvcs: Some(vec![]),
        hpas: Some(vec![]),
        pdbs: Some(vec![]),
        jobs: Some(vec![]),
        cronjobs: Some(vec![]),
        configmaps: Some(vec![]),
        secrets: Some(vec![]),
        service_accounts: Some(vec![]),
        nodes: Some(vec![]),
        pod_metrics: Some(vec![]),
        ..Snapshot::default()
    };
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
        let keys = |v: &Value| -> std::collections::BTreeSet<String> {
            ["data", "stringData", "binaryData"]
                .iter()
                .filter_map(|f| v[*f].as_object())
                .flat_map(|o| o.keys().cloned())
                .collect()
        };
        match kind.as_str() {
            "Pod" => s.pods.push(serde_json::from_value(v).expect("pod")),
            "Event" => push(&mut s.events, v),
            "Deployment" => push(&mut s.deployments, v),
            "ReplicaSet" => push(&mut s.replicasets, v),
            "StatefulSet" => push(&mut s.statefulsets, v),
            "DaemonSet" => push(&mut s.daemonsets, v),
            "ControllerRevision" => push(&mut s.controller_revisions, v),
            "Service" => push(&mut s.services, v),
            "Endpoints" => push(&mut s.endpoints, v),
            "PersistentVolumeClaim" => push(&mut s.pvcs, v),
            "HorizontalPodAutoscaler" => push(&mut s.hpas, v),
            "PodDisruptionBudget" => push(&mut s.pdbs, v),
            "Job" => push(&mut s.jobs, v),
            "CronJob" => push(&mut s.cronjobs, v),
            "Node" => push(&mut s.nodes, v),
            "PodMetrics" => push::<PodMetrics>(&mut s.pod_metrics, v),
            "ConfigMap" | "Secret" => {
                let k = KeyedObject {
                    namespace: ns,
                    name,
                    keys: keys(&v),
                };
                let list = if kind == "Secret" {
                    &mut s.secrets
                } else {
                    &mut s.configmaps
                };
                list.get_or_insert_with(Vec::new).push(k);
            }
            "ServiceAccount" => s
                .service_accounts
                .get_or_insert_with(Vec::new)
                .push(AccountRef {
                    namespace: ns,
                    name,
                }),
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
            _ => {}
        }
    }
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
