//! The restore plan, pure: each archived object normalised and mapped to its target
//! namespace, its dependency tier, and waves that keep owners ahead of their dependents.
//! Also the comparable form `diff` uses, so both sides are normalised the same way.

use std::collections::{BTreeMap, HashMap, HashSet};

use common::ObjectRef;
use serde_json::{Value, json};

use crate::report::{ResourceType, SnapshotRecord};

/// Dependency tiers, created in this order; objects within a tier go concurrently.
pub const TIERS: [&str; 9] = [
    "CustomResourceDefinitions",
    "Namespaces",
    "cluster objects",
    "ServiceAccounts, RBAC, quotas",
    "Secrets, ConfigMaps",
    "PersistentVolumeClaims",
    "Services",
    "workloads",
    "the rest",
];

/// The tier of a kind.
pub fn tier(group: &str, kind: &str, namespaced: bool) -> u8 {
    match (group, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 0,
        ("", "Namespace") => 1,
        _ if !namespaced => 2,
        ("", "ServiceAccount" | "LimitRange" | "ResourceQuota")
        | ("rbac.authorization.k8s.io", "Role" | "RoleBinding") => 3,
        ("", "Secret" | "ConfigMap") => 4,
        ("", "PersistentVolumeClaim") => 5,
        ("", "Service") => 6,
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob")
        | ("", "Pod" | "ReplicationController") => 7,
        _ => 8,
    }
}

/// `--namespace-map` as a lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceMap(pub BTreeMap<String, String>);

impl NamespaceMap {
    pub fn new(pairs: &[(String, String)]) -> Self {
        NamespaceMap(pairs.iter().cloned().collect())
    }

    /// The target of `ns` (itself when not mapped).
    pub fn map<'a>(&'a self, ns: &'a str) -> &'a str {
        self.0.get(ns).map_or(ns, String::as_str)
    }
}

/// One object to restore.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub resource: ResourceType,
    pub api_version: String,
    /// Where it is going (namespace after the map).
    pub target: ObjectRef,
    /// Its namespace in the archive.
    pub source_namespace: String,
    /// Its uid in the source cluster (owner references point at it).
    pub old_uid: String,
    /// The object to send.
    pub body: Value,
    /// Old uids of its owners that are restored too (rewritten to their new uids).
    pub owners: Vec<String>,
    pub tier: u8,
    /// Owner depth on top of the tier: dependents wait for their owners.
    pub depth: u32,
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// Normalise an archived object for creating it again: common's normalisation, the
/// namespace map (metadata, Namespace names, RoleBinding subjects, dataSourceRef), and
/// owner references only to objects restored with it (`restored` = their old uids).
pub fn prepare(
    mut obj: Value,
    map: &NamespaceMap,
    restored: &HashSet<String>,
) -> (Value, Vec<String>) {
    common::normalize::normalize(&mut obj);
    let mut owners = Vec::new();
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        if let Some(Value::Array(refs)) = meta.get_mut("ownerReferences") {
            refs.retain(|r| {
                r.get("uid")
                    .and_then(Value::as_str)
                    .is_some_and(|u| restored.contains(u))
            });
            owners = refs
                .iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                .collect();
        }
        if meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            meta.remove("ownerReferences");
        }
        if let Some(Value::String(ns)) = meta.get_mut("namespace") {
            *ns = map.map(ns).to_string();
        }
    }
    map_references(&mut obj, map);
    (obj, owners)
}

/// Rewrite the namespace references an object carries besides its own namespace.
fn map_references(obj: &mut Value, map: &NamespaceMap) {
    let group = str_at(obj, "/apiVersion")
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    let kind = str_at(obj, "/kind").to_string();
    match (group.as_str(), kind.as_str()) {
        ("", "Namespace") => {
            let name = str_at(obj, "/metadata/name").to_string();
            let mapped = map.map(&name).to_string();
            obj["metadata"]["name"] = json!(mapped);
            if let Some(Value::Object(labels)) = obj.pointer_mut("/metadata/labels")
                && labels.contains_key("kubernetes.io/metadata.name")
            {
                labels.insert("kubernetes.io/metadata.name".into(), json!(mapped));
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            if let Some(Value::Array(subjects)) = obj.get_mut("subjects") {
                for s in subjects {
                    if let Some(Value::String(ns)) = s.get_mut("namespace") {
                        *ns = map.map(ns).to_string();
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(Value::String(ns)) = obj.pointer_mut("/spec/dataSourceRef/namespace") {
                *ns = map.map(ns).to_string();
            }
        }
        _ => {}
    }
}

/// Put the recorded snapshot in a claim's `dataSource` (the API server mirrors it into
/// `dataSourceRef`).
pub fn with_snapshot(claim: &mut Value, volume_snapshot: &str) {
    if let Some(Value::Object(spec)) = claim.get_mut("spec") {
        spec.remove("dataSourceRef");
        spec.insert(
            "dataSource".into(),
            json!({"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": volume_snapshot}),
        );
    }
}

/// Compute each item's owner depth and sort: by (tier, depth), then kind, namespace, name.
/// An owner in a later tier pulls its dependent into that tier, after it.
pub fn order(items: &mut [Item]) {
    let by_uid: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.old_uid.is_empty())
        .map(|(n, i)| (i.old_uid.clone(), n))
        .collect();
    let mut keys: Vec<Option<(u8, u32)>> = vec![None; items.len()];
    for n in 0..items.len() {
        key_of(n, items, &by_uid, &mut keys, &mut HashSet::new());
    }
    for (n, item) in items.iter_mut().enumerate() {
        let (t, d) = keys[n].unwrap_or((item.tier, 0));
        item.tier = t;
        item.depth = d;
    }
    items.sort_by(|a, b| {
        (
            a.tier,
            a.depth,
            &a.target.kind,
            &a.target.namespace,
            &a.target.name,
        )
            .cmp(&(
                b.tier,
                b.depth,
                &b.target.kind,
                &b.target.namespace,
                &b.target.name,
            ))
    });
}

fn key_of(
    n: usize,
    items: &[Item],
    by_uid: &HashMap<String, usize>,
    keys: &mut Vec<Option<(u8, u32)>>,
    visiting: &mut HashSet<usize>,
) -> (u8, u32) {
    if let Some(k) = keys[n] {
        return k;
    }
    let mut key = (items[n].tier, 0);
    // A cycle of owner references cannot be ordered: break it where it closes.
    if visiting.insert(n) {
        for owner in &items[n].owners {
            if let Some(&o) = by_uid.get(owner)
                && o != n
            {
                let (t, d) = key_of(o, items, by_uid, keys, visiting);
                key = key.max((t, d + 1));
            }
        }
        visiting.remove(&n);
    }
    keys[n] = Some(key);
    key
}

/// Group ordered items into waves of equal (tier, depth).
pub fn waves(items: &[Item]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=items.len() {
        if i == items.len()
            || (items[i].tier, items[i].depth) != (items[start].tier, items[start].depth)
        {
            if start < i {
                out.push(start..i);
            }
            start = i;
        }
    }
    out
}

/// Set owner references to the owners' new uids; references whose owner did not get one
/// (failed) are dropped, so the garbage collector does not take the dependent.
pub fn rewrite_owners(body: &mut Value, new_uids: &HashMap<String, String>) {
    if let Some(Value::Object(meta)) = body.get_mut("metadata") {
        if let Some(Value::Array(refs)) = meta.get_mut("ownerReferences") {
            refs.retain_mut(|r| {
                let old = r
                    .get("uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                match new_uids.get(&old) {
                    Some(new) => {
                        r["uid"] = json!(new);
                        true
                    }
                    None => false,
                }
            });
        }
        if meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            meta.remove("ownerReferences");
        }
    }
}

/// The archived object laid over the live one for `--existing update`: the archive's
/// content with the live object's identity (uid, resourceVersion) and the fields the
/// cluster assigned that a PUT may not drop (Service IPs and node ports, a claim's volume,
/// a Job's selector, a pod's node).
pub fn overlay(archived: &Value, live: &Value) -> Value {
    let mut out = archived.clone();
    for f in ["uid", "resourceVersion"] {
        if let Some(v) = live.pointer(&format!("/metadata/{f}")) {
            out["metadata"][f] = v.clone();
        }
    }
    let kind = str_at(live, "/kind");
    let keep = |out: &mut Value, pointer: &str| {
        if out.pointer(pointer).is_none()
            && let Some(v) = live.pointer(pointer)
            && let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(Value::Object(o)) = out.pointer_mut(parent)
        {
            o.insert(key.to_string(), v.clone());
        }
    };
    match kind {
        "Service" => {
            for p in [
                "/spec/clusterIP",
                "/spec/clusterIPs",
                "/spec/healthCheckNodePort",
            ] {
                keep(&mut out, p);
            }
            let live_ports = live
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(Value::Array(ports)) = out.pointer_mut("/spec/ports") {
                for p in ports.iter_mut() {
                    if p.get("nodePort").is_none()
                        && let Some(lp) = live_ports.iter().find(|lp| {
                            lp.get("port") == p.get("port")
                                && lp.get("protocol") == p.get("protocol")
                        })
                        && let Some(np) = lp.get("nodePort")
                    {
                        p["nodePort"] = np.clone();
                    }
                }
            }
        }
        "PersistentVolumeClaim" => keep(&mut out, "/spec/volumeName"),
        "Job" => {
            keep(&mut out, "/spec/selector");
            if let Some(Value::Object(l)) = live.pointer("/spec/template/metadata/labels")
                && let Some(Value::Object(ol)) = out.pointer_mut("/spec/template/metadata/labels")
            {
                for (k, v) in l {
                    ol.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        "Pod" => keep(&mut out, "/spec/nodeName"),
        _ => {}
    }
    out
}

/// An object as `diff` compares it: normalised, owner references without uids (the
/// cluster assigns them), and a claim's dataSource dropped when it is the snapshot this
/// archive recorded for it (the restore put it there).
pub fn comparable(obj: &Value, snapshots: &[SnapshotRecord], map: &NamespaceMap) -> Value {
    let mut v = obj.clone();
    common::normalize::normalize(&mut v);
    if let Some(Value::Array(refs)) = v.pointer_mut("/metadata/ownerReferences") {
        for r in refs.iter_mut().filter_map(Value::as_object_mut) {
            r.remove("uid");
        }
    }
    if str_at(&v, "/kind") == "PersistentVolumeClaim" && str_at(&v, "/apiVersion") == "v1" {
        let ns = str_at(&v, "/metadata/namespace").to_string();
        let name = str_at(&v, "/metadata/name").to_string();
        let source = str_at(&v, "/spec/dataSource/name").to_string();
        let ours = snapshots
            .iter()
            .any(|s| map.map(&s.namespace) == ns && s.claim == name && s.volume_snapshot == source);
        if ours
            && str_at(&v, "/spec/dataSource/kind") == "VolumeSnapshot"
            && let Some(Value::Object(spec)) = v.get_mut("spec")
        {
            spec.remove("dataSource");
            spec.remove("dataSourceRef");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: &str, group: &str, name: &str, uid: &str, owners: &[&str]) -> Item {
        let namespaced = kind != "CustomResourceDefinition" && kind != "Namespace";
        Item {
            resource: ResourceType {
                group: group.into(),
                version: "v1".into(),
                kind: kind.into(),
                plural: format!("{}s", kind.to_lowercase()),
                namespaced,
            },
            api_version: "v1".into(),
            target: ObjectRef::new(kind, if namespaced { "ns" } else { "" }, name),
            source_namespace: "ns".into(),
            old_uid: uid.into(),
            body: Value::Null,
            owners: owners.iter().map(|s| s.to_string()).collect(),
            tier: tier(group, kind, namespaced),
            depth: 0,
        }
    }

    #[test]
    fn tiers_follow_dependencies() {
        assert_eq!(
            tier("apiextensions.k8s.io", "CustomResourceDefinition", false),
            0
        );
        assert_eq!(tier("", "Namespace", false), 1);
        assert_eq!(tier("storage.k8s.io", "StorageClass", false), 2);
        assert_eq!(tier("rbac.authorization.k8s.io", "RoleBinding", true), 3);
        assert_eq!(tier("", "Secret", true), 4);
        assert_eq!(tier("", "PersistentVolumeClaim", true), 5);
        assert_eq!(tier("", "Service", true), 6);
        assert_eq!(tier("apps", "StatefulSet", true), 7);
        assert_eq!(tier("example.com", "Widget", true), 8);
        assert_eq!(tier("policy", "PodDisruptionBudget", true), 8);
    }

    #[test]
    fn owners_come_first_even_across_tiers() {
        let mut items = vec![
            item("Secret", "", "cert", "s1", &["w1"]),
            item("Widget", "example.com", "w", "w1", &[]),
            item("ConfigMap", "", "cfg", "c1", &[]),
            item("Namespace", "", "ns", "n1", &[]),
            item(
                "CustomResourceDefinition",
                "apiextensions.k8s.io",
                "widgets.example.com",
                "d1",
                &[],
            ),
        ];
        order(&mut items);
        let names: Vec<(&str, u8, u32)> = items
            .iter()
            .map(|i| (i.target.name.as_str(), i.tier, i.depth))
            .collect();
        assert_eq!(
            names,
            [
                ("widgets.example.com", 0, 0),
                ("ns", 1, 0),
                ("cfg", 4, 0),
                ("w", 8, 0),
                ("cert", 8, 1),
            ]
        );
        assert_eq!(waves(&items), [0..1, 1..2, 2..3, 3..4, 4..5]);
        // A cycle does not hang.
        let mut cyc = vec![
            item("Widget", "example.com", "a", "a", &["b"]),
            item("Widget", "example.com", "b", "b", &["a"]),
        ];
        order(&mut cyc);
        assert_eq!(cyc.len(), 2);
    }

    #[test]
    fn prepare_normalises_and_maps_namespaces() {
        let map = NamespaceMap::new(&[("shop".into(), "shop-restore".into())]);
        let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "rb", "namespace": "shop", "uid": "u", "resourceVersion": "9",
                "ownerReferences": [{"uid": "gone", "kind": "X", "name": "x"}, {"uid": "kept", "kind": "Y", "name": "y"}]},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "shop"},
                         {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}]});
        let restored: HashSet<String> = ["kept".to_string()].into();
        let (v, owners) = prepare(rb, &map, &restored);
        assert_eq!(v["metadata"]["namespace"], "shop-restore");
        assert_eq!(v["subjects"][0]["namespace"], "shop-restore");
        assert_eq!(v["subjects"][1]["namespace"], "tools");
        assert!(
            v["metadata"].get("uid").is_none() && v["metadata"].get("resourceVersion").is_none()
        );
        assert_eq!(owners, ["kept"]);
        assert_eq!(
            v["metadata"]["ownerReferences"].as_array().map(Vec::len),
            Some(1)
        );
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop", "team": "a"}}, "status": {"phase": "Active"}});
        let (v, _) = prepare(ns, &map, &HashSet::new());
        assert_eq!(v["metadata"]["name"], "shop-restore");
        assert_eq!(
            v["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop-restore"
        );
        assert!(v.get("status").is_none());
        let mut body = json!({"metadata": {"ownerReferences": [{"uid": "old", "name": "o"}, {"uid": "failed", "name": "f"}]}});
        rewrite_owners(&mut body, &[("old".to_string(), "new".to_string())].into());
        assert_eq!(
            body["metadata"]["ownerReferences"],
            json!([{"uid": "new", "name": "o"}])
        );
    }

    #[test]
    fn overlay_keeps_live_identity_and_allocations() {
        let archived = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}], "selector": {"app": "a"}}});
        let live = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "uid": "u", "resourceVersion": "7"},
            "spec": {"type": "NodePort", "clusterIP": "10.0.0.9", "clusterIPs": ["10.0.0.9"],
                     "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}], "selector": {"app": "old"}}});
        let o = overlay(&archived, &live);
        assert_eq!(o["metadata"]["resourceVersion"], "7");
        assert_eq!(o["spec"]["clusterIP"], "10.0.0.9");
        assert_eq!(o["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(
            o["spec"]["selector"]["app"], "a",
            "the archive's content wins"
        );
    }

    #[test]
    fn comparable_forms() {
        let rec = SnapshotRecord {
            namespace: "shop".into(),
            claim: "data".into(),
            volume_snapshot: "data-1".into(),
            class: "c".into(),
            driver: "d".into(),
            content: "x".into(),
            snapshot_handle: "h".into(),
            restore_size: None,
            ready_to_use: true,
            entry: "e".into(),
        };
        let map = NamespaceMap::new(&[("shop".into(), "shop2".into())]);
        let live = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop2", "uid": "x", "ownerReferences": [{"uid": "1", "name": "o", "kind": "K"}]},
            "spec": {"volumeName": "pv-1", "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "data-1"},
                     "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "data-1"}}});
        let c = comparable(&live, &[rec], &map);
        assert_eq!(c["spec"], json!({}));
        assert_eq!(
            c["metadata"]["ownerReferences"],
            json!([{"name": "o", "kind": "K"}])
        );
        let other = comparable(&live, &[], &map);
        assert!(
            other["spec"].get("dataSource").is_some(),
            "not our snapshot: a real difference"
        );
    }
}
