//! The CSI snapshot controller for `snapshot.storage.k8s.io/v1` (active
//! whenever its CRDs are registered and VolumeSnapshots are written): a
//! snapshot of a bound PVC gets a VolumeSnapshotContent and becomes
//! readyToUse after its class's `sandbox.test/ready-after` delay; a missing
//! PVC, unbound PVC or missing class is reported in `status.error`. A
//! pre-provisioned content (`source.snapshotHandle`, static provisioning) is
//! bound to the VolumeSnapshot that names it, as external-snapshotter does.

use super::{object_event, quantity};
use crate::meta::fill_create_metadata;
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};
use std::time::Duration;

pub const SNAPSHOT_GROUP: &str = "snapshot.storage.k8s.io";
pub const SNAPSHOTS: &str = "snapshot.storage.k8s.io/volumesnapshots";
pub const CONTENTS: &str = "snapshot.storage.k8s.io/volumesnapshotcontents";
pub const SNAPSHOT_CLASSES: &str = "snapshot.storage.k8s.io/volumesnapshotclasses";
/// On a VolumeSnapshotClass: how long its snapshots take to become ready.
pub const READY_AFTER: &str = "sandbox.test/ready-after";
const DEFAULT_CLASS: &str = "snapshot.storage.kubernetes.io/is-default-class";
const COMPONENT: &str = "snapshot-controller";

/// `2s`, `500ms`, `1m`, `1h` (the forms a fixture writes).
pub fn parse_delay(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn set_error(txn: &mut Txn<'_>, snap: &Value, reason: &str, message: &str, ts: &str) {
    if snap
        .pointer("/status/error/message")
        .and_then(Value::as_str)
        == Some(message)
    {
        return;
    }
    let mut new = snap.clone();
    let mut status = snap.get("status").cloned().unwrap_or(json!({}));
    status["error"] = json!({"message": message, "time": ts});
    status["readyToUse"] = json!(false);
    new["status"] = status;
    let stored = txn.put(SNAPSHOTS, new);
    object_event(
        txn,
        &stored,
        ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
        ("Warning", reason, message),
        (COMPONENT, None),
        ts,
    );
}

/// The snapshot class to use: the named one, or the single default class
/// for the volume's driver (written back into the spec, as the real
/// controller does).
fn class_for(txn: &Txn<'_>, snap: &Value, driver: &str) -> Result<Value, (&'static str, String)> {
    match snap
        .pointer("/spec/volumeSnapshotClassName")
        .and_then(Value::as_str)
    {
        Some(name) if !name.is_empty() => txn
            .get(SNAPSHOT_CLASSES, "", name)
            .ok_or_else(|| {
                (
                    "SnapshotContentCreationFailed",
                    format!(
                        "Failed to create snapshot content with error failed to retrieve snapshot class {name} from the informer: {:?}",
                        format!("volumesnapshotclass.snapshot.storage.k8s.io \"{name}\" not found")
                    ),
                )
            }),
        _ => {
            let defaults: Vec<Value> = txn
                .inner()
                .values(SNAPSHOT_CLASSES)
                .filter(|c| {
                    annotation(c, DEFAULT_CLASS) == Some("true")
                        && c.get("driver").and_then(Value::as_str) == Some(driver)
                })
                .collect();
            match defaults.len() {
                1 => Ok(defaults[0].clone()),
                0 => Err((
                    "SetDefaultSnapshotClassFailed",
                    "Failed to set default snapshot class with error cannot find default snapshot class".into(),
                )),
                n => Err((
                    "SetDefaultSnapshotClassFailed",
                    format!(
                        "Failed to set default snapshot class with error {n} default snapshot classes were found"
                    ),
                )),
            }
        }
    }
}

/// Reconciles one VolumeSnapshot; returns when to look again while a
/// content waits for its readiness delay.
pub fn reconcile(txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) -> Option<Duration> {
    let snap = txn.get(SNAPSHOTS, ns, name)?;
    if snap.pointer("/metadata/deletionTimestamp").is_some() {
        return None;
    }
    if let Some(bound) = snap
        .pointer("/status/boundVolumeSnapshotContentName")
        .and_then(Value::as_str)
    {
        return advance_ready(txn, &snap, bound, ts);
    }
    let Some(claim) = snap
        .pointer("/spec/source/persistentVolumeClaimName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return snap
            .pointer("/spec/source/volumeSnapshotContentName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .and_then(|content| bind_preprovisioned(txn, &snap, &content, ts));
    };
    let Some(pvc) = txn.get("/persistentvolumeclaims", ns, &claim) else {
        set_error(
            txn,
            &snap,
            "SnapshotContentCreationFailed",
            &format!(
                "Failed to create snapshot content with error failed to retrieve PVC {claim} from the lister: {:?}",
                format!("persistentvolumeclaim \"{claim}\" not found")
            ),
            ts,
        );
        return None;
    };
    if pvc.pointer("/status/phase").and_then(Value::as_str) != Some("Bound") {
        set_error(
            txn,
            &snap,
            "SnapshotContentCreationFailed",
            &format!(
                "Failed to create snapshot content with error the PVC {claim} is not yet bound to a PV, will not attempt to take a snapshot"
            ),
            ts,
        );
        return None;
    }
    let pv = pvc
        .pointer("/spec/volumeName")
        .and_then(Value::as_str)
        .and_then(|v| txn.get("/persistentvolumes", "", v));
    let driver = pv
        .as_ref()
        .and_then(|p| p.pointer("/spec/csi/driver"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(driver) = driver else {
        set_error(
            txn,
            &snap,
            "SnapshotContentCreationFailed",
            &format!(
                "Failed to create snapshot content with error the PV bound to PVC {claim} is not a CSI volume, cannot take a snapshot"
            ),
            ts,
        );
        return None;
    };
    let class = match class_for(txn, &snap, &driver) {
        Ok(c) => c,
        Err((reason, message)) => {
            set_error(txn, &snap, reason, &message, ts);
            return None;
        }
    };
    let class_name = meta_str(&class, "name").to_string();
    let delay = annotation(&class, READY_AFTER)
        .and_then(parse_delay)
        .unwrap_or(Duration::ZERO);
    let size = pvc
        .pointer("/status/capacity/storage")
        .or_else(|| pvc.pointer("/spec/resources/requests/storage"))
        .and_then(Value::as_str)
        .and_then(quantity::units)
        .unwrap_or(0);
    let now = jiff::Timestamp::now();
    let content_name = format!("snapcontent-{}", meta_str(&snap, "uid"));
    let handle: [u8; 8] = rand::random();
    let handle: String = handle.iter().map(|b| format!("{b:02x}")).collect();
    let ready = delay.is_zero();
    let mut content = json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
        "metadata": {"name": content_name},
        "spec": {"deletionPolicy": class.get("deletionPolicy").and_then(Value::as_str).unwrap_or("Delete"),
            "driver": driver,
            "source": {"volumeHandle": pv.as_ref().and_then(|p| p.pointer("/spec/csi/volumeHandle")).cloned().unwrap_or(json!(""))},
            "sourceVolumeMode": pv.as_ref().and_then(|p| p.pointer("/spec/volumeMode")).cloned().unwrap_or(json!("Filesystem")),
            "volumeSnapshotClassName": class_name,
            "volumeSnapshotRef": {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                "name": name, "namespace": ns, "uid": meta_str(&snap, "uid"),
                "resourceVersion": meta_str(&snap, "resourceVersion")}},
        "status": {"creationTime": now.as_nanosecond() as i64, "readyToUse": ready,
            "restoreSize": size, "snapshotHandle": format!("snap-{handle}")}});
    fill_create_metadata(&mut content, None, now);
    txn.put(CONTENTS, content);
    let mut new = snap.clone();
    new["spec"]["volumeSnapshotClassName"] = json!(class_name);
    new["status"] = json!({"boundVolumeSnapshotContentName": content_name,
        "creationTime": ts, "readyToUse": ready, "restoreSize": quantity::format_binary(size)});
    let stored = txn.put(SNAPSHOTS, new);
    object_event(
        txn,
        &stored,
        ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
        (
            "Normal",
            "SnapshotCreated",
            &format!("Snapshot {ns}/{name} was successfully created by the CSI driver."),
        ),
        (COMPONENT, None),
        ts,
    );
    if ready {
        snapshot_ready_event(txn, &stored, ts);
        None
    } else {
        Some(delay)
    }
}

/// Static provisioning: a VolumeSnapshot whose `source.volumeSnapshotContentName`
/// names a content created by hand (`source.snapshotHandle`). As external-snapshotter's
/// common controller: the content must exist and its `volumeSnapshotRef` must name this
/// snapshot (else `SnapshotContentMissing` / `SnapshotContentMisbound`); the CSI sidecar
/// then fills the content's status from the storage snapshot. The sandbox's storage
/// backend is the set of snapshot handles its own contents were cut with: a handle no
/// content carries any more is a snapshot the driver does not have.
fn bind_preprovisioned(
    txn: &mut Txn<'_>,
    snap: &Value,
    content_name: &str,
    ts: &str,
) -> Option<Duration> {
    let (ns, name, uid) = (
        meta_str(snap, "namespace"),
        meta_str(snap, "name"),
        meta_str(snap, "uid"),
    );
    let Some(content) = txn.get(CONTENTS, "", content_name) else {
        set_error(
            txn,
            snap,
            "SnapshotContentMissing",
            "VolumeSnapshotContent is missing",
            ts,
        );
        return None;
    };
    let reference = content.pointer("/spec/volumeSnapshotRef");
    let field = |f: &str| {
        reference
            .and_then(|r| r.get(f))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let ref_uid = field("uid");
    let names_this_snapshot =
        field("name") == name && field("namespace") == ns && (ref_uid.is_empty() || ref_uid == uid);
    // Without a snapshotHandle it is a dynamically provisioned content of another snapshot.
    let handle = content
        .pointer("/spec/source/snapshotHandle")
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(handle) = handle.filter(|_| names_this_snapshot) else {
        set_error(
            txn,
            snap,
            "SnapshotContentMisbound",
            "VolumeSnapshotContent is not bound to the VolumeSnapshot correctly",
            ts,
        );
        return None;
    };
    // The storage snapshot behind the handle: another content cut with it.
    let origin = txn
        .inner()
        .iter_resource(CONTENTS)
        .filter(|c| c.name != content_name)
        .map(|c| c.value())
        .find(|c| {
            c.pointer("/status/snapshotHandle").and_then(Value::as_str) == Some(handle.as_str())
        });
    let mut bound = content.clone();
    bound["spec"]["volumeSnapshotRef"]["uid"] = json!(uid);
    bound["spec"]["volumeSnapshotRef"]["resourceVersion"] =
        json!(meta_str(snap, "resourceVersion"));
    let Some(origin) = origin else {
        let message = format!(
            "Failed to check and update snapshot content: failed to list snapshot for content {content_name}: \"rpc error: code = NotFound desc = snapshot {handle} not found\""
        );
        // Written once per message: the content's own write re-queues the waiting
        // snapshots, and a fresh `time` on every pass would never settle.
        if content
            .pointer("/status/error/message")
            .and_then(Value::as_str)
            != Some(&message)
        {
            bound["status"] =
                json!({"readyToUse": false, "error": {"message": message, "time": ts}});
            txn.put(CONTENTS, bound);
        }
        set_error(
            txn,
            snap,
            "SnapshotContentCheckandUpdateFailed",
            &message,
            ts,
        );
        return None;
    };
    let restore_size = origin
        .pointer("/status/restoreSize")
        .cloned()
        .unwrap_or(json!(0));
    let created = origin
        .pointer("/status/creationTime")
        .cloned()
        .unwrap_or(json!(0));
    bound["status"] = json!({"creationTime": created, "readyToUse": true,
        "restoreSize": restore_size, "snapshotHandle": handle});
    super::put_if_changed(txn, CONTENTS, &content, bound);
    let size = restore_size.as_i64().unwrap_or(0);
    // The snapshot was taken when the storage snapshot was cut, not now.
    let taken = created
        .as_i64()
        .and_then(|n| jiff::Timestamp::from_nanosecond(i128::from(n)).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ts.to_string());
    let mut new = snap.clone();
    new["status"] = json!({"boundVolumeSnapshotContentName": content_name,
        "creationTime": taken, "readyToUse": true, "restoreSize": quantity::format_binary(size)});
    let stored = txn.put(SNAPSHOTS, new);
    snapshot_ready_event(txn, &stored, ts);
    None
}

fn snapshot_ready_event(txn: &mut Txn<'_>, snap: &Value, ts: &str) {
    let msg = format!(
        "Snapshot {}/{} is ready to use.",
        meta_str(snap, "namespace"),
        meta_str(snap, "name")
    );
    object_event(
        txn,
        snap,
        ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
        ("Normal", "SnapshotReady", &msg),
        (COMPONENT, None),
        ts,
    );
}

/// A bound snapshot whose content is not ready yet: ready once the class's
/// delay has passed since the content was cut.
fn advance_ready(txn: &mut Txn<'_>, snap: &Value, content: &str, ts: &str) -> Option<Duration> {
    if snap.pointer("/status/readyToUse").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let c = txn.get(CONTENTS, "", content)?;
    let delay = c
        .pointer("/spec/volumeSnapshotClassName")
        .and_then(Value::as_str)
        .and_then(|n| txn.get(SNAPSHOT_CLASSES, "", n))
        .and_then(|class| annotation(&class, READY_AFTER).and_then(parse_delay))
        .unwrap_or(Duration::ZERO);
    let created = c
        .pointer("/status/creationTime")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    let due = created.saturating_add(delay.as_nanos() as i64);
    if now < due {
        return Some(Duration::from_nanos((due - now) as u64));
    }
    let mut ready_content = c.clone();
    ready_content["status"]["readyToUse"] = json!(true);
    super::put_if_changed(txn, CONTENTS, &c, ready_content);
    let mut new = snap.clone();
    new["status"]["readyToUse"] = json!(true);
    if let Some(m) = new["status"].as_object_mut() {
        m.remove("error");
    }
    let stored = txn.put(SNAPSHOTS, new);
    snapshot_ready_event(txn, &stored, ts);
    None
}

/// After a snapshot is deleted: its content goes too when the policy says
/// Delete (and nothing re-bound it).
pub fn release_content(txn: &mut Txn<'_>, content: &str, snapshot_uid: &str) {
    let Some(c) = txn.get(CONTENTS, "", content) else {
        return;
    };
    if c.pointer("/spec/volumeSnapshotRef/uid")
        .and_then(Value::as_str)
        == Some(snapshot_uid)
        && c.pointer("/spec/deletionPolicy").and_then(Value::as_str) == Some("Delete")
    {
        txn.remove(CONTENTS, "", content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays() {
        assert_eq!(parse_delay("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_delay("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_delay("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_delay("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_delay("soon"), None);
        assert_eq!(parse_delay("3d"), None);
    }
}
