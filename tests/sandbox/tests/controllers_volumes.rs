//! Dynamic provisioning and CSI snapshots through the API, on
//! `tests/fixtures/volumes` + `tests/fixtures/snapshots`: claims bind to new
//! PVs (default class, WaitForFirstConsumer at scheduling, a missing class
//! left Pending), snapshots get contents and become ready after the class's
//! delay or report errors, restores wait for readiness, deletes reclaim.

mod controllers_support;
mod fidelity_support;

use controllers_support::*;
use fidelity_support::{Kubectl, kubectl_or_skip};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};

const CLAIMS: &str = "/api/v1/namespaces/app/persistentvolumeclaims";
const SNAPS: &str = "/apis/snapshot.storage.k8s.io/v1/namespaces/app/volumesnapshots";
const CONTENTS: &str = "/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents";

fn start_volumes() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("snapshots"), fixture_dir("volumes")],
        ..Default::default()
    })
    .expect("sandbox starts on the volume fixtures")
}

fn claim(name: &str, class: Option<&str>, size: &str) -> Value {
    let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}});
    if let Some(class) = class {
        c["spec"]["storageClassName"] = json!(class);
    }
    c
}

fn snapshot(name: &str, pvc: &str, class: Option<&str>) -> Value {
    let mut s = json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": name}, "spec": {"source": {"persistentVolumeClaimName": pvc}}});
    if let Some(class) = class {
        s["spec"]["volumeSnapshotClassName"] = json!(class);
    }
    s
}

async fn create(c: &kube::Client, path: &str, body: Value) {
    let r = post(c, path, body).await;
    assert_eq!(r.code, 201, "POST {path}: {}", r.text);
}

/// Polls until `path` answers 404 (the controllers delete asynchronously).
async fn wait_gone(c: &kube::Client, path: &str) {
    let start = std::time::Instant::now();
    while send(c, "GET", path, None, None).await.code != 404 {
        assert!(start.elapsed().as_secs() < 10, "{path} stayed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn bound(p: &Value) -> bool {
    p["status"]["phase"] == "Bound"
}

async fn events_about(c: &kube::Client, name: &str) -> Vec<Value> {
    items(&get_json(c, "/api/v1/namespaces/app/events").await)
        .into_iter()
        .filter(|e| e["involvedObject"]["name"] == name)
        .collect()
}

#[tokio::test]
async fn claims_are_provisioned_from_their_class() {
    let sb = start_volumes();
    let c = client(&sb).await;
    create(&c, CLAIMS, claim("data", None, "10Gi")).await;
    let pvc = wait_for(&c, &format!("{CLAIMS}/data"), bound).await;
    // The default class was chosen, as admission would have.
    assert_eq!(pvc["spec"]["storageClassName"], "standard");
    let pv_name = pvc["spec"]["volumeName"].as_str().expect("volumeName");
    assert_eq!(
        pv_name,
        format!("pvc-{}", pvc["metadata"]["uid"].as_str().unwrap_or(""))
    );
    let ann = &pvc["metadata"]["annotations"];
    assert_eq!(ann["pv.kubernetes.io/bind-completed"], "yes");
    assert_eq!(ann["pv.kubernetes.io/bound-by-controller"], "yes");
    assert_eq!(
        ann["volume.kubernetes.io/storage-provisioner"],
        "disk.csi.example.com"
    );
    assert_eq!(pvc["status"]["capacity"]["storage"], "10Gi");
    assert_eq!(pvc["status"]["accessModes"], json!(["ReadWriteOnce"]));
    let pv = get_json(&c, &format!("/api/v1/persistentvolumes/{pv_name}")).await;
    assert_eq!(pv["status"]["phase"], "Bound");
    assert_eq!(pv["spec"]["claimRef"]["name"], "data");
    assert_eq!(pv["spec"]["claimRef"]["namespace"], "app");
    assert_eq!(pv["spec"]["claimRef"]["uid"], pvc["metadata"]["uid"]);
    assert_eq!(pv["spec"]["capacity"]["storage"], "10Gi");
    assert_eq!(pv["spec"]["csi"]["driver"], "disk.csi.example.com");
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
    assert_eq!(
        pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
        "disk.csi.example.com"
    );
    assert!(
        events_about(&c, "data")
            .await
            .iter()
            .any(|e| e["reason"] == "ProvisioningSucceeded")
    );

    // A class that does not exist: Pending with the controller's complaint.
    create(&c, CLAIMS, claim("orphan", Some("fast-ssd"), "1Gi")).await;
    let evs = wait_for(&c, "/api/v1/namespaces/app/events", |l| {
        items(l)
            .iter()
            .any(|e| e["involvedObject"]["name"] == "orphan")
    })
    .await;
    let e = items(&evs)
        .into_iter()
        .find(|e| e["involvedObject"]["name"] == "orphan")
        .expect("event");
    assert_eq!(
        (e["type"].as_str(), e["reason"].as_str()),
        (Some("Warning"), Some("ProvisioningFailed"))
    );
    assert_eq!(
        e["message"],
        "storageclass.storage.k8s.io \"fast-ssd\" not found"
    );
    let pvc = get_json(&c, &format!("{CLAIMS}/orphan")).await;
    assert!(!bound(&pvc));
    // The class appears: the claim binds.
    let r = post(
        &c,
        "/apis/storage.k8s.io/v1/storageclasses",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast-ssd"},
            "provisioner": "disk.csi.example.com"}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    wait_for(&c, &format!("{CLAIMS}/orphan"), bound).await;

    // Deleting a claim deletes its volume (reclaim policy Delete).
    let r = send(&c, "DELETE", &format!("{CLAIMS}/data"), None, None).await;
    assert_eq!(r.code, 200, "{}", r.text);
    wait_gone(&c, &format!("/api/v1/persistentvolumes/{pv_name}")).await;
}

#[tokio::test]
async fn wait_for_first_consumer_binds_when_the_pod_is_scheduled() {
    let sb = start_volumes();
    let c = client(&sb).await;
    create(&c, CLAIMS, claim("scratch", Some("local-wffc"), "5Gi")).await;
    wait_for(&c, "/api/v1/namespaces/app/events", |l| {
        items(l).iter().any(|e| {
            e["involvedObject"]["name"] == "scratch" && e["reason"] == "WaitForFirstConsumer"
        })
    })
    .await;
    assert!(!bound(&get_json(&c, &format!("{CLAIMS}/scratch")).await));
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worker"},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": "node-b"},
            "containers": [{"name": "w", "image": "registry.example.com/w:1"}],
            "volumes": [{"name": "scratch", "persistentVolumeClaim": {"claimName": "scratch"}}]}});
    create(&c, "/api/v1/namespaces/app/pods", pod).await;
    let p = wait_for(&c, "/api/v1/namespaces/app/pods/worker", ready).await;
    assert_eq!(p["spec"]["nodeName"], "node-b");
    let pvc = get_json(&c, &format!("{CLAIMS}/scratch")).await;
    assert!(bound(&pvc));
    assert_eq!(
        pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"],
        "node-b"
    );
    let pv = get_json(
        &c,
        &format!(
            "/api/v1/persistentvolumes/{}",
            pvc["spec"]["volumeName"].as_str().unwrap_or("")
        ),
    )
    .await;
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
        json!(["node-b"])
    );
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");

    // An Immediate claim that cannot bind keeps its pods off the nodes.
    create(&c, CLAIMS, claim("nowhere", Some(""), "1Gi")).await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck"},
        "spec": {"containers": [{"name": "w", "image": "registry.example.com/w:1"}],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "nowhere"}}]}});
    create(&c, "/api/v1/namespaces/app/pods", pod).await;
    let p = wait_for(&c, "/api/v1/namespaces/app/pods/stuck", |p| {
        p["status"]["conditions"]
            .as_array()
            .is_some_and(|cs| !cs.is_empty())
    })
    .await;
    assert_eq!(
        p["status"]["conditions"][0]["message"],
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
}

#[tokio::test]
async fn snapshots_become_ready_after_the_class_delay_and_restore() {
    let sb = start_volumes();
    let c = client(&sb).await;
    create(&c, CLAIMS, claim("db-data", None, "10Gi")).await;
    wait_for(&c, &format!("{CLAIMS}/db-data"), bound).await;
    create(&c, SNAPS, snapshot("nightly", "db-data", None)).await;
    let s = wait_for(&c, &format!("{SNAPS}/nightly"), |s| {
        s["status"]["boundVolumeSnapshotContentName"].is_string()
    })
    .await;
    // The default class for the volume's driver was filled in.
    assert_eq!(s["spec"]["volumeSnapshotClassName"], "csi-snap");
    assert_eq!(
        s["status"]["readyToUse"], false,
        "ready only after 1s: {s:#}"
    );
    assert_eq!(s["status"]["restoreSize"], "10Gi");
    assert!(s["status"]["creationTime"].is_string());
    let content_name = s["status"]["boundVolumeSnapshotContentName"]
        .as_str()
        .unwrap_or("");
    assert_eq!(
        content_name,
        format!(
            "snapcontent-{}",
            s["metadata"]["uid"].as_str().unwrap_or("")
        )
    );

    // A restore asked for before the snapshot is ready waits for it.
    let mut restore = claim("db-restore", None, "10Gi");
    restore["spec"]["dataSource"] =
        json!({"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "nightly"});
    create(&c, CLAIMS, restore).await;
    let evs = wait_for(&c, "/api/v1/namespaces/app/events", |l| {
        items(l)
            .iter()
            .any(|e| e["involvedObject"]["name"] == "db-restore")
    })
    .await;
    let e = items(&evs)
        .into_iter()
        .find(|e| e["involvedObject"]["name"] == "db-restore")
        .expect("event");
    assert_eq!(e["reason"], "ProvisioningFailed");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("snapshot nightly is not Ready")),
        "{e:#}"
    );

    let s = wait_for(&c, &format!("{SNAPS}/nightly"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    assert!(s["status"].get("error").is_none());
    let content = get_json(&c, &format!("{CONTENTS}/{content_name}")).await;
    assert_eq!(content["status"]["readyToUse"], true);
    assert_eq!(content["status"]["restoreSize"], 10i64 << 30);
    assert_eq!(content["spec"]["driver"], "disk.csi.example.com");
    assert_eq!(content["spec"]["deletionPolicy"], "Delete");
    assert_eq!(content["spec"]["volumeSnapshotRef"]["name"], "nightly");
    assert_eq!(
        content["spec"]["volumeSnapshotRef"]["uid"],
        s["metadata"]["uid"]
    );
    assert!(
        content["spec"]["source"]["volumeHandle"]
            .as_str()
            .is_some_and(|h| h.starts_with("vol-"))
    );
    let evs = events_about(&c, "nightly").await;
    assert!(evs.iter().any(|e| e["reason"] == "SnapshotReady"));
    wait_for(&c, &format!("{CLAIMS}/db-restore"), bound).await;

    // Deleting the snapshot deletes its content (deletionPolicy Delete).
    let r = send(&c, "DELETE", &format!("{SNAPS}/nightly"), None, None).await;
    assert_eq!(r.code, 200, "{}", r.text);
    wait_gone(&c, &format!("{CONTENTS}/{content_name}")).await;

    // An instant class: ready at once.
    create(&c, SNAPS, snapshot("now", "db-data", Some("instant"))).await;
    let s = wait_for(&c, &format!("{SNAPS}/now"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    assert_eq!(s["spec"]["volumeSnapshotClassName"], "instant");
}

#[tokio::test]
async fn snapshot_errors_are_reported() {
    let sb = start_volumes();
    let c = client(&sb).await;
    let error_of = |s: &Value| {
        s["status"]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    create(&c, SNAPS, snapshot("of-nothing", "missing", None)).await;
    let s = wait_for(&c, &format!("{SNAPS}/of-nothing"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(
        error_of(&s),
        "Failed to create snapshot content with error failed to retrieve PVC missing from the lister: \"persistentvolumeclaim \\\"missing\\\" not found\""
    );
    assert_eq!(s["status"]["readyToUse"], false);

    create(&c, CLAIMS, claim("waiting", Some("local-wffc"), "1Gi")).await;
    create(&c, SNAPS, snapshot("too-early", "waiting", None)).await;
    let s = wait_for(&c, &format!("{SNAPS}/too-early"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(
        error_of(&s),
        "Failed to create snapshot content with error the PVC waiting is not yet bound to a PV, will not attempt to take a snapshot"
    );

    create(&c, CLAIMS, claim("vol", None, "1Gi")).await;
    wait_for(&c, &format!("{CLAIMS}/vol"), bound).await;
    create(&c, SNAPS, snapshot("bad-class", "vol", Some("gold"))).await;
    let s = wait_for(&c, &format!("{SNAPS}/bad-class"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert!(
        error_of(&s).contains("volumesnapshotclass.snapshot.storage.k8s.io \\\"gold\\\" not found"),
        "{}",
        error_of(&s)
    );
    let evs = events_about(&c, "bad-class").await;
    assert!(
        evs.iter()
            .any(|e| e["type"] == "Warning" && e["reason"] == "SnapshotContentCreationFailed")
    );

    // No default class for the driver of this volume.
    let r = post(
        &c,
        "/apis/storage.k8s.io/v1/storageclasses",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "nfs"},
            "provisioner": "nfs.csi.k8s.io"}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    create(&c, CLAIMS, claim("shared", Some("nfs"), "1Gi")).await;
    wait_for(&c, &format!("{CLAIMS}/shared"), bound).await;
    create(&c, SNAPS, snapshot("no-default", "shared", None)).await;
    let s = wait_for(&c, &format!("{SNAPS}/no-default"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(
        error_of(&s),
        "Failed to set default snapshot class with error cannot find default snapshot class"
    );
    // A class for that driver appears: the snapshot is retried and cut.
    let r = post(
        &c,
        "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses",
        json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
            "metadata": {"name": "nfs-snap", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
            "driver": "nfs.csi.k8s.io", "deletionPolicy": "Delete"}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    let s = wait_for(&c, &format!("{SNAPS}/no-default"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    assert!(s["status"].get("error").is_none(), "{s:#}");
}

#[tokio::test]
async fn statefulset_claims_are_provisioned_and_snapshottable() {
    let sb = start_volumes();
    let c = client(&sb).await;
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "docker.io/library/postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}]}});
    create(&c, "/apis/apps/v1/namespaces/app/statefulsets", sts).await;
    // OrderedReady: db-1 appears once db-0 runs.
    wait_for(
        &c,
        "/api/v1/namespaces/app/pods?labelSelector=app%3Ddb",
        |l| items(l).len() == 2 && items(l).iter().all(ready),
    )
    .await;
    for i in 0..2 {
        let pvc = get_json(&c, &format!("{CLAIMS}/data-db-{i}")).await;
        assert!(bound(&pvc));
        let pv = get_json(
            &c,
            &format!(
                "/api/v1/persistentvolumes/{}",
                pvc["spec"]["volumeName"].as_str().unwrap_or("")
            ),
        )
        .await;
        assert_eq!(pv["spec"]["claimRef"]["name"], format!("data-db-{i}"));
    }
    create(
        &c,
        SNAPS,
        snapshot("db-0-snap", "data-db-0", Some("instant")),
    )
    .await;
    let s = wait_for(&c, &format!("{SNAPS}/db-0-snap"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    assert_eq!(s["status"]["restoreSize"], "2Gi");
}

#[tokio::test]
async fn kubectl_shows_snapshots_with_their_columns() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start_volumes();
    let c = client(&sb).await;
    create(&c, CLAIMS, claim("data", None, "3Gi")).await;
    wait_for(&c, &format!("{CLAIMS}/data"), bound).await;
    create(&c, SNAPS, snapshot("snap-1", "data", Some("instant"))).await;
    wait_for(&c, &format!("{SNAPS}/snap-1"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    let k = Kubectl::new(&bin, &sb);
    let (vs, vsclass) = tokio::task::spawn_blocking(move || {
        (
            k.run(&["-n", "app", "get", "vs"]),
            k.run(&["get", "vsclass"]),
        )
    })
    .await
    .expect("kubectl ran");
    let vs = vs.ok();
    assert_eq!(
        vs.header(),
        [
            "NAME",
            "READYTOUSE",
            "SOURCEPVC",
            "SOURCESNAPSHOTCONTENT",
            "RESTORESIZE",
            "SNAPSHOTCLASS",
            "SNAPSHOTCONTENT",
            "CREATIONTIME",
            "AGE"
        ]
    );
    let row = vs.row("snap-1");
    assert_eq!(&row[1..3], ["true", "data"]);
    assert_eq!(row[3], "3Gi");
    assert_eq!(row[4], "instant");
    let classes = vsclass.ok();
    assert_eq!(
        classes.row("csi-snap")[1..3],
        ["disk.csi.example.com", "Delete"]
    );
}

/// Static provisioning (external-snapshotter's pre-provisioned snapshots): a
/// content written by hand with `source.snapshotHandle` is bound to the
/// VolumeSnapshot that names it and becomes ready when the storage snapshot
/// exists; it is how a retained snapshot is brought back after its namespace
/// (and VolumeSnapshot) was deleted, and how snapshots move between namespaces.
#[tokio::test]
async fn pre_provisioned_contents_are_bound_to_the_snapshot_naming_them() {
    let sb = start_volumes();
    let c = client(&sb).await;
    create(&c, CLAIMS, claim("db-data", None, "10Gi")).await;
    wait_for(&c, &format!("{CLAIMS}/db-data"), bound).await;
    create(&c, SNAPS, snapshot("nightly", "db-data", Some("instant"))).await;
    let s = wait_for(&c, &format!("{SNAPS}/nightly"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    let dynamic = s["status"]["boundVolumeSnapshotContentName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let original = get_json(&c, &format!("{CONTENTS}/{dynamic}")).await;
    let handle = original["status"]["snapshotHandle"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(handle.starts_with("snap-"), "{original:#}");
    // Keep the storage snapshot, then lose the VolumeSnapshot.
    merge_patch(
        &c,
        &format!("{CONTENTS}/{dynamic}"),
        json!({"spec": {"deletionPolicy": "Retain"}}),
    )
    .await;
    let r = send(&c, "DELETE", &format!("{SNAPS}/nightly"), None, None).await;
    assert_eq!(r.code, 200, "{}", r.text);

    let content = |name: &str, handle: &str, snapshot: &str| {
        json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
            "metadata": {"name": name},
            "spec": {"deletionPolicy": "Retain", "driver": "disk.csi.example.com",
                "source": {"snapshotHandle": handle}, "volumeSnapshotClassName": "instant",
                "volumeSnapshotRef": {"namespace": "app", "name": snapshot}}})
    };
    let imported = |name: &str, content: &str| {
        json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name},
            "spec": {"source": {"volumeSnapshotContentName": content}}})
    };

    // The snapshot may come first: it waits for its content.
    create(&c, SNAPS, imported("restored", "imported-nightly")).await;
    let s = wait_for(&c, &format!("{SNAPS}/restored"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(
        s["status"]["error"]["message"],
        "VolumeSnapshotContent is missing"
    );
    create(
        &c,
        CONTENTS,
        content("imported-nightly", &handle, "restored"),
    )
    .await;
    let s = wait_for(&c, &format!("{SNAPS}/restored"), |s| {
        s["status"]["readyToUse"] == true
    })
    .await;
    assert_eq!(
        s["status"]["boundVolumeSnapshotContentName"],
        "imported-nightly"
    );
    assert_eq!(s["status"]["restoreSize"], "10Gi");
    assert!(s["status"].get("error").is_none(), "{s:#}");
    let bound_content = get_json(&c, &format!("{CONTENTS}/imported-nightly")).await;
    assert_eq!(bound_content["status"]["readyToUse"], true);
    assert_eq!(bound_content["status"]["snapshotHandle"], handle.as_str());
    assert_eq!(bound_content["status"]["restoreSize"], 10i64 << 30);
    assert_eq!(
        bound_content["spec"]["volumeSnapshotRef"]["uid"],
        s["metadata"]["uid"]
    );
    // A claim restores from it.
    let mut restore = claim("db-restore", None, "10Gi");
    restore["spec"]["dataSource"] = json!({"apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot", "name": "restored"});
    create(&c, CLAIMS, restore).await;
    wait_for(&c, &format!("{CLAIMS}/db-restore"), bound).await;

    // A content that names another snapshot is not bound to this one.
    create(&c, CONTENTS, content("someone-elses", &handle, "other")).await;
    create(&c, SNAPS, imported("thief", "someone-elses")).await;
    let s = wait_for(&c, &format!("{SNAPS}/thief"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(
        s["status"]["error"]["message"],
        "VolumeSnapshotContent is not bound to the VolumeSnapshot correctly"
    );
    assert_eq!(s["status"]["readyToUse"], false);

    // A handle the storage does not have never becomes ready.
    create(
        &c,
        CONTENTS,
        content("ghost", "snap-0000000000000000", "ghost"),
    )
    .await;
    create(&c, SNAPS, imported("ghost", "ghost")).await;
    let s = wait_for(&c, &format!("{SNAPS}/ghost"), |s| {
        s["status"]["error"].is_object()
    })
    .await;
    assert_eq!(s["status"]["readyToUse"], false);
    assert!(
        s["status"]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("snapshot snap-0000000000000000 not found")),
        "{s:#}"
    );
    // The failure is recorded once: the content is not rewritten over and over.
    let rv = |c: &Value| {
        c["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string)
    };
    let first = get_json(&c, &format!("{CONTENTS}/ghost")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let later = get_json(&c, &format!("{CONTENTS}/ghost")).await;
    assert_eq!(rv(&first), rv(&later), "{later:#}");
}
