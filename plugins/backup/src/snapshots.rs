//! Volume snapshots: one `snapshot.storage.k8s.io/v1` VolumeSnapshot per claim at backup
//! (its content kept with deletionPolicy Retain), and at restore a VolumeSnapshot to put in
//! the new claim's `dataSource` — the original, or one imported from the recorded handle.

use std::collections::BTreeMap;
use std::time::Duration;

use common::discovery::Discovered;
use common::model::{SkipCause, Skipped};
use common::progress::Progress;
use common::run::Session;
use common::wait::{Waited, snapshot_ready, until};
use common::write::{Guard, PatchBody, Target, Writer};
use common::{Error, Result};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::archive::snapshot_path;
use crate::collect::ClaimInfo;
use crate::plan::SNAPSHOT_LABEL;
use crate::report::SnapshotRecord;

const GROUP: &str = "snapshot.storage.k8s.io";
const DEFAULT_CLASS: &str = "snapshot.storage.kubernetes.io/is-default-class";

/// The three snapshot resources, when served.
pub struct SnapshotApi {
    pub snapshots: ApiResource,
    pub contents: ApiResource,
    pub classes: ApiResource,
}

impl SnapshotApi {
    pub fn find(d: &Discovered) -> Option<Self> {
        Some(SnapshotApi {
            snapshots: d.by_kind(GROUP, "VolumeSnapshot")?.api.clone(),
            contents: d.by_kind(GROUP, "VolumeSnapshotContent")?.api.clone(),
            classes: d.by_kind(GROUP, "VolumeSnapshotClass")?.api.clone(),
        })
    }
}

/// What `take_all` produced.
#[derive(Debug, Default)]
pub struct Taken {
    /// Each record with its entry bytes (JSON).
    pub records: Vec<(SnapshotRecord, Vec<u8>)>,
    pub skipped: Vec<Skipped>,
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// The VolumeSnapshotClass for a driver: the flag's, else the driver's default.
pub fn pick_class<'a>(
    classes: &'a [Value],
    driver: &str,
    flag: Option<&str>,
) -> std::result::Result<&'a Value, String> {
    if let Some(name) = flag {
        return classes
            .iter()
            .find(|c| str_at(c, "/metadata/name") == name)
            .ok_or_else(|| format!("VolumeSnapshotClass {name:?} not found"));
    }
    classes
        .iter()
        .find(|c| {
            str_at(c, "/driver") == driver
                && c.pointer("/metadata/annotations")
                    .and_then(|a| a.get(DEFAULT_CLASS))
                    .and_then(Value::as_str)
                    == Some("true")
        })
        .ok_or_else(|| {
            format!("no default VolumeSnapshotClass for the CSI driver {driver:?} (pass --snapshot-class)")
        })
}

/// `<claim>-<yyyymmddhhmmss>`, within the 253-character name limit.
pub fn snapshot_name(claim: &str, at: jiff::Timestamp) -> String {
    let stamp = at.strftime("%Y%m%d%H%M%S").to_string();
    let keep = 253 - stamp.len() - 1;
    let claim: String = claim.chars().take(keep).collect();
    format!("{}-{stamp}", claim.trim_end_matches('-'))
}

/// Snapshot every claim: create all VolumeSnapshots, then wait for each (deadline,
/// progress), keep its content (Retain) and record it. Failures are skipped entries.
#[allow(clippy::too_many_arguments)]
pub async fn take_all(
    client: &Client,
    discovered: &Discovered,
    writer: &Writer,
    claims: &[ClaimInfo],
    class_flag: Option<&str>,
    timeout: Duration,
    session: &Session,
    at: jiff::Timestamp,
) -> Result<Taken> {
    let mut out = Taken::default();
    if claims.is_empty() {
        return Ok(out);
    }
    let Some(apis) = SnapshotApi::find(discovered) else {
        out.skipped.push(Skipped::new(
            "volume snapshots",
            SkipCause::Unavailable,
            "the snapshot.storage.k8s.io API is not served by this cluster (install the CSI snapshot CRDs and controller); no claim was snapshotted",
        ));
        return Ok(out);
    };
    let classes: Vec<Value> = list_values(client, &apis.classes).await?;
    let mut drivers: BTreeMap<String, String> = BTreeMap::new();
    let mut pending = Vec::new();
    for claim in claims {
        session.checkpoint()?;
        let what = format!(
            "snapshot of persistentvolumeclaim/{}/{}",
            claim.namespace, claim.name
        );
        let driver = match drivers.get(&claim.storage_class) {
            Some(d) => d.clone(),
            None => {
                let d = driver_of(client, discovered, claim).await?;
                drivers.insert(claim.storage_class.clone(), d.clone());
                d
            }
        };
        let class = match pick_class(&classes, &driver, class_flag) {
            Ok(c) => str_at(c, "/metadata/name").to_string(),
            Err(message) => {
                out.skipped
                    .push(Skipped::new(what, SkipCause::Failed, message));
                continue;
            }
        };
        let name = snapshot_name(&claim.name, at);
        let body: DynamicObject = serde_json::from_value(json!({
            "apiVersion": format!("{GROUP}/v1"),
            "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": claim.namespace, "labels": {SNAPSHOT_LABEL: "kubectl-backup"}},
            "spec": {"volumeSnapshotClassName": class, "source": {"persistentVolumeClaimName": claim.name}},
        }))?;
        let target = Target::dynamic(client, &apis.snapshots, Some(&claim.namespace));
        match writer.create(&target, &body, "snapshot for backup").await {
            Ok(_) => pending.push((claim, name, class, driver)),
            Err(e) => out
                .skipped
                .push(Skipped::new(what, SkipCause::Failed, e.to_string())),
        }
    }
    for (claim, name, class, driver) in pending {
        let what = format!(
            "snapshot of persistentvolumeclaim/{}/{}",
            claim.namespace, claim.name
        );
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &claim.namespace, &apis.snapshots);
        let progress = Progress::spinner(format!(
            "waiting for VolumeSnapshot {}/{name}",
            claim.namespace
        ));
        let waited = until(
            &api,
            &name,
            timeout,
            &session.cancel,
            &progress,
            snapshot_ready,
        )
        .await?;
        progress.finish_and_clear();
        let snap = match waited {
            Waited::Done(Some(s)) => s,
            Waited::Cancelled { .. } => return Err(Error::Interrupted),
            Waited::Done(None) => {
                out.skipped.push(Skipped::new(
                    what,
                    SkipCause::Failed,
                    "the VolumeSnapshot disappeared",
                ));
                continue;
            }
            Waited::Failed { message, .. } => {
                out.skipped
                    .push(Skipped::new(what, SkipCause::Failed, message));
                continue;
            }
            Waited::TimedOut { message, .. } => {
                out.skipped.push(Skipped::new(
                    what,
                    SkipCause::Failed,
                    format!("not ready to use within {}s ({message})", timeout.as_secs()),
                ));
                continue;
            }
        };
        let snap = serde_json::to_value(&snap)?;
        let content_name = str_at(&snap, "/status/boundVolumeSnapshotContentName").to_string();
        let contents: Api<DynamicObject> = Api::all_with(client.clone(), &apis.contents);
        let content = match contents.get_opt(&content_name).await? {
            Some(c) => serde_json::to_value(&c)?,
            None => Value::Null,
        };
        let handle = str_at(&content, "/status/snapshotHandle").to_string();
        if !content_name.is_empty() && str_at(&content, "/spec/deletionPolicy") != "Retain" {
            // Deleting the namespace (the reason to restore) would delete the storage
            // snapshot with it under deletionPolicy Delete.
            let target = Target::dynamic(client, &apis.contents, None);
            writer
                .patch(
                    &target,
                    &content_name,
                    PatchBody::Merge(json!({"spec": {"deletionPolicy": "Retain"}})),
                    Guard::none(),
                    "keep the storage snapshot when its namespace is deleted",
                )
                .await?;
        }
        let record = SnapshotRecord {
            namespace: claim.namespace.clone(),
            claim: claim.name.clone(),
            volume_snapshot: name,
            class,
            driver: if str_at(&content, "/spec/driver").is_empty() {
                driver
            } else {
                str_at(&content, "/spec/driver").to_string()
            },
            content: content_name,
            snapshot_handle: handle,
            restore_size: snap
                .pointer("/status/restoreSize")
                .and_then(Value::as_str)
                .map(str::to_string),
            ready_to_use: true,
            entry: snapshot_path(&claim.namespace, &claim.name),
        };
        let data = serde_json::to_vec_pretty(&record)?;
        out.records.push((record, data));
    }
    Ok(out)
}

async fn list_values(client: &Client, ar: &ApiResource) -> Result<Vec<Value>> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), ar);
    common::list::list_all(&api, &ListParams::default())
        .await?
        .into_iter()
        .map(|o| serde_json::to_value(o).map_err(Error::from))
        .collect()
}

/// The CSI driver of a claim: its StorageClass's provisioner, else its volume's driver.
async fn driver_of(client: &Client, discovered: &Discovered, claim: &ClaimInfo) -> Result<String> {
    if !claim.storage_class.is_empty()
        && let Some(sc) = discovered.by_kind("storage.k8s.io", "StorageClass")
    {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &sc.api);
        if let Some(o) = api.get_opt(&claim.storage_class).await? {
            let v = serde_json::to_value(o)?;
            let p = str_at(&v, "/provisioner");
            if !p.is_empty() {
                return Ok(p.to_string());
            }
        }
    }
    if !claim.volume_name.is_empty()
        && let Some(pv) = discovered.by_kind("", "PersistentVolume")
    {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &pv.api);
        if let Some(o) = api.get_opt(&claim.volume_name).await? {
            let v = serde_json::to_value(o)?;
            return Ok(str_at(&v, "/spec/csi/driver").to_string());
        }
    }
    Ok(String::new())
}

/// The VolumeSnapshotContent and VolumeSnapshot that import a recorded snapshot into
/// `namespace` (static provisioning, how CSI moves snapshots between namespaces).
pub fn import_objects(record: &SnapshotRecord, namespace: &str) -> (Value, Value) {
    let content_name = import_content_name(record, namespace);
    let content = json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": content_name, "labels": {SNAPSHOT_LABEL: "kubectl-backup"}},
        "spec": {
            "deletionPolicy": "Retain",
            "driver": record.driver,
            "source": {"snapshotHandle": record.snapshot_handle},
            "volumeSnapshotClassName": record.class,
            "volumeSnapshotRef": {"namespace": namespace, "name": record.volume_snapshot},
        },
    });
    let snapshot = json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": "VolumeSnapshot",
        "metadata": {"name": record.volume_snapshot, "namespace": namespace, "labels": {SNAPSHOT_LABEL: "kubectl-backup"}},
        "spec": {
            "source": {"volumeSnapshotContentName": content_name},
            "volumeSnapshotClassName": record.class,
        },
    });
    (content, snapshot)
}

fn import_content_name(record: &SnapshotRecord, namespace: &str) -> String {
    let name = format!("kubectl-backup-{namespace}-{}", record.volume_snapshot);
    name.chars()
        .take(253)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Make the recorded snapshot available in `namespace` and wait until it is ready; its
/// VolumeSnapshot name. Under --dry-run the objects are only planned/validated.
pub async fn prepare(
    client: &Client,
    apis: &SnapshotApi,
    writer: &Writer,
    record: &SnapshotRecord,
    namespace: &str,
    timeout: Duration,
    session: &Session,
) -> std::result::Result<String, String> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &apis.snapshots);
    let existing = api
        .get_opt(&record.volume_snapshot)
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_none() {
        if record.snapshot_handle.is_empty() {
            return Err(format!(
                "VolumeSnapshot {namespace}/{} is gone and the archive has no snapshot handle to import",
                record.volume_snapshot
            ));
        }
        let (content, snapshot) = import_objects(record, namespace);
        let contents: Api<DynamicObject> = Api::all_with(client.clone(), &apis.contents);
        let content_name = str_at(&content, "/metadata/name").to_string();
        if contents
            .get_opt(&content_name)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            let body: DynamicObject = serde_json::from_value(content).map_err(|e| e.to_string())?;
            writer
                .create(
                    &Target::dynamic(client, &apis.contents, None),
                    &body,
                    "import the recorded snapshot",
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        let body: DynamicObject = serde_json::from_value(snapshot).map_err(|e| e.to_string())?;
        writer
            .create(
                &Target::dynamic(client, &apis.snapshots, Some(namespace)),
                &body,
                "import the recorded snapshot",
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    if writer.dry_run().is_dry() {
        return Ok(record.volume_snapshot.clone());
    }
    let progress = Progress::spinner(format!(
        "waiting for VolumeSnapshot {namespace}/{}",
        record.volume_snapshot
    ));
    let waited = until(
        &api,
        &record.volume_snapshot,
        timeout,
        &session.cancel,
        &progress,
        snapshot_ready,
    )
    .await
    .map_err(|e| e.to_string())?;
    progress.finish_and_clear();
    match waited {
        Waited::Done(_) => Ok(record.volume_snapshot.clone()),
        Waited::Failed { message, .. } => Err(message),
        Waited::TimedOut { message, .. } => Err(format!(
            "not ready to use within {}s ({message})",
            timeout.as_secs()
        )),
        Waited::Cancelled { .. } => Err("interrupted".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_flag_or_driver_default() {
        let classes = vec![
            json!({"metadata": {"name": "ebs", "annotations": {DEFAULT_CLASS: "true"}}, "driver": "ebs.csi.aws.com"}),
            json!({"metadata": {"name": "ebs-slow"}, "driver": "ebs.csi.aws.com"}),
            json!({"metadata": {"name": "other", "annotations": {DEFAULT_CLASS: "true"}}, "driver": "x.csi"}),
        ];
        let name = |r: std::result::Result<&Value, String>| {
            r.map(|c| str_at(c, "/metadata/name").to_string())
        };
        assert_eq!(
            name(pick_class(&classes, "ebs.csi.aws.com", None))
                .ok()
                .as_deref(),
            Some("ebs")
        );
        assert_eq!(
            name(pick_class(&classes, "ebs.csi.aws.com", Some("ebs-slow")))
                .ok()
                .as_deref(),
            Some("ebs-slow")
        );
        assert!(
            pick_class(&classes, "nfs.csi", None).is_err_and(|e| e.contains("--snapshot-class"))
        );
        assert!(pick_class(&classes, "x", Some("nope")).is_err());
    }

    #[test]
    fn names_and_imports() {
        let at: jiff::Timestamp = "2026-11-25T10:15:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            snapshot_name("data-postgres-0", at),
            "data-postgres-0-20261125101500"
        );
        assert!(snapshot_name(&"x".repeat(300), at).len() <= 253);
        let record = SnapshotRecord {
            namespace: "hypersdk".into(),
            claim: "data-postgres-0".into(),
            volume_snapshot: "data-postgres-0-20261125101500".into(),
            class: "ebs".into(),
            driver: "ebs.csi.aws.com".into(),
            content: "snapcontent-1".into(),
            snapshot_handle: "snap-0abc".into(),
            restore_size: Some("100Gi".into()),
            ready_to_use: true,
            entry: "snapshots/hypersdk/data-postgres-0.json".into(),
        };
        let (content, snap) = import_objects(&record, "hypersdk-restore");
        assert_eq!(content["spec"]["source"]["snapshotHandle"], "snap-0abc");
        assert_eq!(
            content["spec"]["volumeSnapshotRef"]["namespace"],
            "hypersdk-restore"
        );
        assert_eq!(content["spec"]["deletionPolicy"], "Retain");
        assert_eq!(
            snap["spec"]["source"]["volumeSnapshotContentName"],
            content["metadata"]["name"]
        );
        assert_eq!(snap["metadata"]["namespace"], "hypersdk-restore");
    }
}
