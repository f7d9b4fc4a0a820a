//! `sandbox.test/v1 NodeStats` fixtures and the kubelet's stats summary
//! (`/api/v1/nodes/NODE/proxy/stats/summary`, stats/v1alpha1 `Summary`)
//! built from them, the node's pods and any metrics.k8s.io fixtures.

use crate::controllers::quantity;
use crate::store::meta_str;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Filesystem figures in bytes (and inodes when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FsStats {
    capacity: Option<i64>,
    used: Option<i64>,
    available: Option<i64>,
    inodes: Option<i64>,
    inodes_used: Option<i64>,
    inodes_free: Option<i64>,
}

fn number(v: &Value, what: &str) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{what} must be a whole number")),
        Value::String(s) => quantity::units(s)
            .map(Some)
            .ok_or_else(|| format!("{what}: {s:?} is not a quantity")),
        other => Err(format!(
            "{what} must be a number or a quantity, not {other}"
        )),
    }
}

impl FsStats {
    fn parse(v: &Value, at: &str) -> Result<FsStats, String> {
        let get = |k: &str| number(v.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}"));
        let mut fs = FsStats {
            capacity: get("capacityBytes")?,
            used: get("usedBytes")?,
            available: get("availableBytes")?,
            inodes: get("inodes")?,
            inodes_used: get("inodesUsed")?,
            inodes_free: get("inodesFree")?,
        };
        // What is not given follows from the rest, as df would show it.
        if fs.available.is_none()
            && let (Some(c), Some(u)) = (fs.capacity, fs.used)
        {
            fs.available = Some((c - u).max(0));
        }
        if fs.inodes_free.is_none()
            && let (Some(c), Some(u)) = (fs.inodes, fs.inodes_used)
        {
            fs.inodes_free = Some((c - u).max(0));
        }
        Ok(fs)
    }

    fn to_json(&self, time: &str) -> Value {
        let mut m = Map::new();
        m.insert("time".into(), json!(time));
        for (k, v) in [
            ("availableBytes", self.available),
            ("capacityBytes", self.capacity),
            ("usedBytes", self.used),
            ("inodesFree", self.inodes_free),
            ("inodes", self.inodes),
            ("inodesUsed", self.inodes_used),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }
}

/// One volume of a pod in a `NodeStats` fixture.
#[derive(Debug, Clone)]
struct VolumeStats {
    name: String,
    pvc: Option<(String, String)>,
    fs: FsStats,
}

/// One `NodeStats` fixture.
#[derive(Debug, Clone, Default)]
pub struct NodeStats {
    fs: Option<FsStats>,
    image_fs: Option<FsStats>,
    /// (namespace, pod) → its volumes.
    pods: Vec<((String, String), Vec<VolumeStats>)>,
}

impl NodeStats {
    pub fn from_fixture(doc: &Value) -> Result<(String, NodeStats), String> {
        let node = meta_str(doc, "name");
        if node.is_empty() {
            return Err("NodeStats needs metadata.name (the node)".into());
        }
        let fs = doc
            .pointer("/node/fs")
            .map(|v| FsStats::parse(v, "node.fs"))
            .transpose()?;
        let image_fs = doc
            .pointer("/node/runtime/imageFs")
            .map(|v| FsStats::parse(v, "node.runtime.imageFs"))
            .transpose()?;
        let mut pods = Vec::new();
        for (i, p) in doc
            .get("pods")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (ns, name) = (s("namespace"), s("name"));
            if name.is_empty() {
                return Err(format!("NodeStats pods[{i}] needs a name"));
            }
            let ns = if ns.is_empty() { "default".into() } else { ns };
            let mut volumes = Vec::new();
            for (j, v) in p
                .get("volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let at = format!("pods[{i}].volumes[{j}]");
                let vname = v.get("name").and_then(Value::as_str).unwrap_or("");
                if vname.is_empty() {
                    return Err(format!("NodeStats {at} needs a name"));
                }
                let pvc = v.get("pvcRef").map(|r| {
                    let claim = r.get("name").and_then(Value::as_str).unwrap_or("");
                    let cns = r
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(&ns)
                        .to_string();
                    (cns, claim.to_string())
                });
                volumes.push(VolumeStats {
                    name: vname.to_string(),
                    pvc,
                    fs: FsStats::parse(v, &at)?,
                });
            }
            pods.push(((ns, name), volumes));
        }
        Ok((node.to_string(), NodeStats { fs, image_fs, pods }))
    }

    fn volumes_of(&self, ns: &str, name: &str) -> Option<&[VolumeStats]> {
        self.pods
            .iter()
            .find(|((pns, pname), _)| pns == ns && pname == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// `usage` (metrics.k8s.io) as the summary's cpu and memory blocks.
fn usage_blocks(usage: Option<&Value>, time: &str) -> (Option<Value>, Option<Value>) {
    let Some(u) = usage else {
        return (None, None);
    };
    let cpu = u
        .get("cpu")
        .and_then(Value::as_str)
        .and_then(quantity::millis)
        .map(|m| json!({"time": time, "usageNanoCores": m * 1_000_000}));
    let memory = u
        .get("memory")
        .and_then(Value::as_str)
        .and_then(quantity::units)
        .map(|b| json!({"time": time, "usageBytes": b, "workingSetBytes": b}));
    (cpu, memory)
}

/// What the summary needs from the store, gathered by the caller.
pub struct SummaryInput<'a> {
    pub node: &'a Value,
    /// Non-terminal pods bound to the node.
    pub pods: &'a [Value],
    pub node_metrics: Option<&'a Value>,
    /// PodMetrics by (namespace, name).
    pub pod_metrics: &'a HashMap<(String, String), Value>,
    pub now: &'a str,
}

/// The kubelet's `Summary`: the node (fs, cpu/memory from NodeMetrics),
/// then every pod on it with its containers, and the volume stats the
/// fixture gives (none without a fixture).
pub fn summary(stats: Option<&NodeStats>, input: &SummaryInput<'_>) -> Value {
    let now = input.now;
    let node_name = meta_str(input.node, "name");
    let mut node = json!({"nodeName": node_name,
        "startTime": meta_str(input.node, "creationTimestamp")});
    let (cpu, memory) = usage_blocks(input.node_metrics.and_then(|m| m.get("usage")), now);
    if let Some(c) = cpu {
        node["cpu"] = c;
    }
    if let Some(m) = memory {
        node["memory"] = m;
    }
    if let Some(fs) = stats.and_then(|s| s.fs.as_ref()) {
        node["fs"] = fs.to_json(now);
    }
    if let Some(fs) = stats.and_then(|s| s.image_fs.as_ref()) {
        node["runtime"] = json!({"imageFs": fs.to_json(now)});
    }
    let mut pods = Vec::new();
    let mut listed: Vec<(String, String)> = Vec::new();
    for pod in input.pods {
        let ns = meta_str(pod, "namespace").to_string();
        let name = meta_str(pod, "name").to_string();
        let start = pod
            .pointer("/status/startTime")
            .and_then(Value::as_str)
            .unwrap_or_else(|| meta_str(pod, "creationTimestamp"));
        let metrics = input.pod_metrics.get(&(ns.clone(), name.clone()));
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
                let mut out = json!({"name": cname, "startTime": start});
                let usage = metrics
                    .and_then(|m| m.get("containers"))
                    .and_then(Value::as_array)
                    .and_then(|cs| {
                        cs.iter()
                            .find(|x| x.get("name").and_then(Value::as_str) == Some(cname))
                    })
                    .and_then(|x| x.get("usage"));
                let (cpu, memory) = usage_blocks(usage, now);
                if let Some(c) = cpu {
                    out["cpu"] = c;
                }
                if let Some(m) = memory {
                    out["memory"] = m;
                }
                out
            })
            .collect();
        let mut entry = json!({"podRef": {"name": name, "namespace": ns,
            "uid": meta_str(pod, "uid")}, "startTime": start, "containers": containers});
        if let Some(volumes) = stats.and_then(|s| s.volumes_of(&ns, &name)) {
            entry["volume"] = volume_list(volumes, now);
        }
        listed.push((ns, name));
        pods.push(entry);
    }
    // Pods the fixture describes that the store does not hold (fixtures
    // that only care about volume stats).
    for ((ns, name), volumes) in stats.map(|s| s.pods.as_slice()).unwrap_or_default() {
        if listed.iter().any(|(a, b)| a == ns && b == name) {
            continue;
        }
        pods.push(json!({"podRef": {"name": name, "namespace": ns, "uid": ""},
            "startTime": now, "containers": [], "volume": volume_list(volumes, now)}));
    }
    json!({"node": node, "pods": pods})
}

fn volume_list(volumes: &[VolumeStats], now: &str) -> Value {
    Value::Array(
        volumes
            .iter()
            .map(|v| {
                let mut out = v.fs.to_json(now);
                out["name"] = json!(v.name);
                if let Some((ns, claim)) = &v.pvc {
                    out["pvcRef"] = json!({"name": claim, "namespace": ns});
                }
                out
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_quantities_and_derived_available() {
        let (node, stats) = NodeStats::from_fixture(&json!({"metadata": {"name": "node-a"},
            "node": {"fs": {"capacityBytes": "100Gi", "usedBytes": "40Gi"}},
            "pods": [{"namespace": "shop", "name": "db-0", "volumes": [
                {"name": "data", "pvcRef": {"name": "data-db-0"},
                 "capacityBytes": 10737418240u64, "usedBytes": "9.5Gi", "inodes": 1000, "inodesUsed": 10}]}]}))
        .expect("valid");
        assert_eq!(node, "node-a");
        let pod = json!({"metadata": {"namespace": "shop", "name": "db-0", "uid": "u1"},
            "spec": {"containers": [{"name": "db"}]}, "status": {"startTime": "2025-01-01T00:00:00Z"}});
        let metrics = HashMap::from([(
            ("shop".to_string(), "db-0".to_string()),
            json!({"containers": [{"name": "db", "usage": {"cpu": "250m", "memory": "64Mi"}}]}),
        )]);
        let node_obj =
            json!({"metadata": {"name": "node-a", "creationTimestamp": "2024-01-01T00:00:00Z"}});
        let s = summary(
            Some(&stats),
            &SummaryInput {
                node: &node_obj,
                pods: &[pod],
                node_metrics: None,
                pod_metrics: &metrics,
                now: "2025-06-01T00:00:00Z",
            },
        );
        assert_eq!(s["node"]["fs"]["availableBytes"], 60i64 << 30);
        let v = &s["pods"][0]["volume"][0];
        assert_eq!(
            v["pvcRef"],
            json!({"name": "data-db-0", "namespace": "shop"})
        );
        assert_eq!(v["usedBytes"], (19i64 << 30) / 2);
        assert_eq!(v["availableBytes"], (1i64 << 30) / 2);
        assert_eq!(v["inodesFree"], 990);
        assert_eq!(s["pods"][0]["podRef"]["uid"], "u1");
        assert_eq!(
            s["pods"][0]["containers"][0]["cpu"]["usageNanoCores"],
            250_000_000
        );
        assert!(s["node"].get("cpu").is_none(), "no NodeMetrics, no figure");
    }

    #[test]
    fn bad_fixtures_are_refused() {
        let err = NodeStats::from_fixture(&json!({"metadata": {"name": "n"},
            "pods": [{"name": "p", "volumes": [{"name": "v", "usedBytes": "lots"}]}]}))
        .expect_err("not a quantity");
        assert!(err.contains("pods[0].volumes[0].usedBytes"), "{err}");
        assert!(NodeStats::from_fixture(&json!({"metadata": {}})).is_err());
    }
}
