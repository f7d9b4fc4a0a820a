//! PersistentVolumeClaims created after startup: dynamic provisioning by
//! their StorageClass (named, or the default class) into a new bound
//! PersistentVolume, WaitForFirstConsumer (bound when a pod using the claim
//! is scheduled), restores from a VolumeSnapshot only once it is ready, and
//! the reclaim policy when a claim goes away.

use super::snapshot::{SNAPSHOT_GROUP, SNAPSHOTS};
use super::{Controllers, object_event, quantity};
use crate::meta::fill_create_metadata;
use crate::store::{Inner, Txn, meta_str};
use serde_json::{Value, json};

pub const CLAIMS: &str = "/persistentvolumeclaims";
pub const VOLUMES: &str = "/persistentvolumes";
pub const CLASSES: &str = "storage.k8s.io/storageclasses";
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const PV_CONTROLLER: &str = "persistentvolume-controller";
/// Provisioners that never create volumes (local volumes are made by hand).
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

pub fn is_bound(pvc: &Value) -> bool {
    pvc.pointer("/status/phase").and_then(Value::as_str) == Some("Bound")
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// The StorageClass a claim asks for: its `storageClassName`, or — when the
/// field is absent, as the DefaultStorageClass admission plugin decides —
/// the default class. `Ok(None)`: the claim wants no class (`""`).
pub fn class_of(inner: &Inner, pvc: &Value) -> Result<Option<Value>, String> {
    match pvc.pointer("/spec/storageClassName") {
        Some(Value::String(name)) if name.is_empty() => Ok(None),
        Some(Value::String(name)) => inner
            .get(CLASSES, "", name)
            .map(Some)
            .ok_or_else(|| format!("storageclass.storage.k8s.io \"{name}\" not found")),
        _ => Ok(inner
            .values(CLASSES)
            .filter(|c| annotation(c, DEFAULT_CLASS) == Some("true"))
            .max_by_key(|c| meta_str(c, "creationTimestamp").to_string())),
    }
}

pub fn waits_for_consumer(class: &Value) -> bool {
    class.get("volumeBindingMode").and_then(Value::as_str) == Some("WaitForFirstConsumer")
}

fn requested_bytes(pvc: &Value) -> Option<i64> {
    pvc.pointer("/spec/resources/requests/storage")
        .and_then(Value::as_str)
        .and_then(quantity::units)
}

/// The VolumeSnapshot a claim restores from, if any (`dataSourceRef`, else
/// `dataSource`).
fn snapshot_source(pvc: &Value) -> Option<(String, String)> {
    let ns = meta_str(pvc, "namespace");
    ["dataSourceRef", "dataSource"].iter().find_map(|f| {
        let src = pvc.pointer(&format!("/spec/{f}"))?;
        let kind = src.get("kind").and_then(Value::as_str)?;
        let group = src.get("apiGroup").and_then(Value::as_str).unwrap_or("");
        (kind == "VolumeSnapshot" && group == SNAPSHOT_GROUP).then(|| {
            (
                src.get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(ns)
                    .to_string(),
                src.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
    })
}

/// Why a claim is not bound yet, as the controllers report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// A Warning event (reason, message, component).
    Failed(&'static str, String, String),
    /// A Normal event (reason, message).
    Normal(&'static str, String),
}

/// Provisions a volume for the claim now, if its class and data source
/// allow it: creates the PV (pinned to the selected node of a
/// WaitForFirstConsumer claim) and binds both.
fn provision(txn: &mut Txn<'_>, pvc: &Value, class: &Value, ts: &str) -> Result<(), Waiting> {
    let provisioner = class
        .get("provisioner")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let component = format!("{provisioner}_csi-provisioner");
    if provisioner == NO_PROVISIONER || provisioner.is_empty() {
        return Err(Waiting::Failed(
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set".into(),
            PV_CONTROLLER.into(),
        ));
    }
    let request = pvc
        .pointer("/spec/resources/requests/storage")
        .and_then(Value::as_str)
        .unwrap_or("1Gi")
        .to_string();
    if let Some((sns, sname)) = snapshot_source(pvc) {
        let failed = |why: String| {
            Waiting::Failed(
                "ProvisioningFailed",
                format!(
                    "failed to provision volume with StorageClass \"{}\": error getting handle for DataSource Type VolumeSnapshot by Name {sname}: {why}",
                    meta_str(class, "name")
                ),
                component.clone(),
            )
        };
        let Some(snap) = txn.get(SNAPSHOTS, &sns, &sname) else {
            return Err(failed(format!(
                "error getting snapshot {sname} from api server: volumesnapshots.snapshot.storage.k8s.io \"{sname}\" not found"
            )));
        };
        if snap.pointer("/status/readyToUse").and_then(Value::as_bool) != Some(true) {
            return Err(failed(format!("snapshot {sname} is not Ready")));
        }
        let size = snap
            .pointer("/status/restoreSize")
            .and_then(Value::as_str)
            .and_then(quantity::units)
            .unwrap_or(0);
        if requested_bytes(pvc).is_some_and(|r| r < size) {
            return Err(Waiting::Failed(
                "ProvisioningFailed",
                format!(
                    "failed to provision volume with StorageClass \"{}\": requested volume size {} is less than the size {size} for the source snapshot {sname}",
                    meta_str(class, "name"),
                    requested_bytes(pvc).unwrap_or(0)
                ),
                component,
            ));
        }
    }
    let ns = meta_str(pvc, "namespace").to_string();
    let name = meta_str(pvc, "name").to_string();
    let pv_name = format!("pvc-{}", meta_str(pvc, "uid"));
    let access = pvc
        .pointer("/spec/accessModes")
        .cloned()
        .unwrap_or(json!(["ReadWriteOnce"]));
    let handle: [u8; 8] = rand::random();
    let handle: String = handle.iter().map(|b| format!("{b:02x}")).collect();
    let mut pv = json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
        "spec": {"accessModes": access, "capacity": {"storage": request},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name,
                "namespace": ns, "uid": meta_str(pvc, "uid"),
                "resourceVersion": meta_str(pvc, "resourceVersion")},
            "csi": {"driver": provisioner, "fsType": "ext4", "volumeHandle": format!("vol-{handle}")},
            "persistentVolumeReclaimPolicy": class.get("reclaimPolicy").and_then(Value::as_str).unwrap_or("Delete"),
            "storageClassName": meta_str(class, "name"),
            "volumeMode": pvc.pointer("/spec/volumeMode").and_then(Value::as_str).unwrap_or("Filesystem")},
        "status": {"phase": "Bound"}});
    if let Some(node) = annotation(pvc, SELECTED_NODE) {
        pv["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}});
    }
    fill_create_metadata(&mut pv, None, jiff::Timestamp::now());
    txn.put(VOLUMES, pv);
    let mut bound = pvc.clone();
    bound["spec"]["volumeName"] = json!(pv_name);
    bound["spec"]["storageClassName"] = json!(meta_str(class, "name"));
    for (k, v) in [
        ("pv.kubernetes.io/bind-completed", "yes"),
        ("pv.kubernetes.io/bound-by-controller", "yes"),
        (
            "volume.beta.kubernetes.io/storage-provisioner",
            provisioner.as_str(),
        ),
        (
            "volume.kubernetes.io/storage-provisioner",
            provisioner.as_str(),
        ),
    ] {
        bound["metadata"]["annotations"][k] = json!(v);
    }
    bound["status"] = json!({"phase": "Bound", "accessModes": access,
        "capacity": {"storage": request}});
    let stored = txn.put(CLAIMS, bound);
    object_event(
        txn,
        &stored,
        ("v1", "PersistentVolumeClaim"),
        (
            "Normal",
            "ProvisioningSucceeded",
            &format!("Successfully provisioned volume {pv_name}"),
        ),
        (&component, None),
        ts,
    );
    Ok(())
}

/// Binds a claim if it can be bound now. Returns why not otherwise.
fn try_bind(txn: &mut Txn<'_>, pvc: &Value, ts: &str) -> Result<(), Waiting> {
    let class = match class_of(txn.inner(), pvc) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(Waiting::Failed(
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
                PV_CONTROLLER.into(),
            ));
        }
        Err(e) => {
            return Err(Waiting::Failed(
                "ProvisioningFailed",
                e,
                PV_CONTROLLER.into(),
            ));
        }
    };
    if waits_for_consumer(&class) && annotation(pvc, SELECTED_NODE).is_none() {
        return Err(Waiting::Normal(
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding".into(),
        ));
    }
    provision(txn, pvc, &class, ts)
}

/// Reconciles one claim created after startup; remembers it while it waits
/// so class and snapshot changes retry it.
pub fn reconcile(ctl: &mut Controllers, txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let key = (ns.to_string(), name.to_string());
    let Some(pvc) = txn.get(CLAIMS, ns, name) else {
        ctl.claims.remove(&key);
        return;
    };
    if is_bound(&pvc) || pvc.pointer("/metadata/deletionTimestamp").is_some() {
        ctl.claims.remove(&key);
        return;
    }
    match try_bind(txn, &pvc, ts) {
        Ok(()) => {
            ctl.claims.remove(&key);
        }
        Err(why) => {
            if ctl.claims.get(&key) != Some(&why) {
                let (event_type, reason, message, component) = match &why {
                    Waiting::Failed(r, m, c) => ("Warning", *r, m.clone(), c.clone()),
                    Waiting::Normal(r, m) => ("Normal", *r, m.clone(), PV_CONTROLLER.to_string()),
                };
                object_event(
                    txn,
                    &pvc,
                    ("v1", "PersistentVolumeClaim"),
                    (event_type, reason, &message),
                    (&component, None),
                    ts,
                );
            }
            ctl.claims.insert(key, why);
        }
    }
}

/// The first claim of `pod` that blocks scheduling before any node is
/// looked at (the VolumeBinding pre-filter): a missing claim, or an unbound
/// one that does not wait for its first consumer.
pub fn prefilter(inner: &Inner, pod: &Value) -> Option<String> {
    let ns = meta_str(pod, "namespace");
    let mut unbound_immediate = false;
    for claim in pod_claims(pod) {
        let Some(pvc) = inner.get(CLAIMS, ns, &claim) else {
            return Some(format!("persistentvolumeclaim \"{claim}\" not found"));
        };
        if !is_bound(&pvc) {
            let waits = matches!(class_of(inner, &pvc), Ok(Some(c)) if waits_for_consumer(&c));
            unbound_immediate |= !waits;
        }
    }
    unbound_immediate.then(|| "pod has unbound immediate PersistentVolumeClaims".to_string())
}

fn pod_claims(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// The VolumeBinding PreBind step for a pod just placed on `node`: its
/// WaitForFirstConsumer claims get the node and are provisioned. Err: a
/// claim that cannot be bound yet (the pod must wait).
pub fn bind_for_pod(
    ctl: &mut Controllers,
    txn: &mut Txn<'_>,
    pod: &Value,
    node: &str,
    ts: &str,
) -> Result<(), String> {
    let ns = meta_str(pod, "namespace").to_string();
    for claim in pod_claims(pod) {
        let Some(pvc) = txn.get(CLAIMS, &ns, &claim) else {
            continue;
        };
        if is_bound(&pvc) {
            continue;
        }
        if annotation(&pvc, SELECTED_NODE).is_none() {
            let mut chosen = pvc.clone();
            chosen["metadata"]["annotations"][SELECTED_NODE] = json!(node);
            txn.put(CLAIMS, chosen);
        }
        reconcile(ctl, txn, &ns, &claim, ts);
        let bound = txn.get(CLAIMS, &ns, &claim).is_some_and(|c| is_bound(&c));
        if !bound {
            let why = match ctl.claims.get(&(ns.clone(), claim.clone())) {
                Some(Waiting::Failed(_, m, _) | Waiting::Normal(_, m)) => m.clone(),
                None => String::new(),
            };
            return Err(format!(
                "running PreBind plugin \"VolumeBinding\": binding volumes: provisioning failed for PVC \"{claim}\": {why}"
            ));
        }
    }
    Ok(())
}

/// A deleted claim's dynamically provisioned volume follows its reclaim
/// policy: Delete removes it, Retain leaves it Released.
pub fn reclaim(txn: &mut Txn<'_>, pv_name: &str, claim_uid: &str) {
    let Some(pv) = txn.get(VOLUMES, "", pv_name) else {
        return;
    };
    if pv.pointer("/spec/claimRef/uid").and_then(Value::as_str) != Some(claim_uid) {
        return;
    }
    match pv
        .pointer("/spec/persistentVolumeReclaimPolicy")
        .and_then(Value::as_str)
    {
        Some("Delete") => {
            txn.remove(VOLUMES, "", pv_name);
        }
        _ => {
            let mut released = pv.clone();
            released["status"] = json!({"phase": "Released"});
            super::put_if_changed(txn, VOLUMES, &pv, released);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn class_resolution_follows_admission() {
        let s = Store::new();
        s.write(false, |t| {
            t.put(
                CLASSES,
                json!({"metadata": {"name": "gp3", "annotations": {DEFAULT_CLASS: "true"}}, "provisioner": "ebs.csi.aws.com"}),
            );
            t.put(CLASSES, json!({"metadata": {"name": "slow"}, "provisioner": "x"}));
        });
        let pvc = |class: Value| {
            let mut p = json!({"metadata": {"namespace": "a", "name": "c"}, "spec": {}});
            if !class.is_null() {
                p["spec"]["storageClassName"] = class;
            }
            p
        };
        let name = |r: Result<Option<Value>, String>| {
            r.map(|c| c.map(|c| meta_str(&c, "name").to_string()))
        };
        assert_eq!(
            s.read(|i| name(class_of(i, &pvc(Value::Null)))),
            Ok(Some("gp3".into()))
        );
        assert_eq!(
            s.read(|i| name(class_of(i, &pvc(json!("slow"))))),
            Ok(Some("slow".into()))
        );
        assert_eq!(s.read(|i| name(class_of(i, &pvc(json!(""))))), Ok(None));
        assert_eq!(
            s.read(|i| name(class_of(i, &pvc(json!("fast"))))),
            Err("storageclass.storage.k8s.io \"fast\" not found".into())
        );
    }

    #[test]
    fn snapshot_sources() {
        let p = json!({"metadata": {"namespace": "a"}, "spec": {"dataSource": {
            "apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s1"}}});
        assert_eq!(snapshot_source(&p), Some(("a".into(), "s1".into())));
        let p = json!({"metadata": {"namespace": "a"}, "spec": {"dataSource": {"kind": "PersistentVolumeClaim", "name": "x"}}});
        assert_eq!(snapshot_source(&p), None);
    }
}
