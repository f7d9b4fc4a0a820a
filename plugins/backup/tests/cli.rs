//! `kubectl backup` end to end: the built binary against kube-sandbox on the demo
//! namespace plus tests/fixtures/backup (a CRD with custom resources, RBAC, a StatefulSet
//! with a claim, a sqlite database behind exec, a VolumeSnapshotClass).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use age::secrecy::ExposeSecret;
use kube_sandbox::Sandbox;
use kubectl_backup::archive::read::{Collect, walk};
use kubectl_backup::crypto::{ArchiveKey, Keys};
use kubectl_backup::restore::plan::{NamespaceMap, comparable};
use serde_json::Value;
use suite_tests::{json, kubectl_available, plugin, run, text};

/// The demo's secret values, base64 as stored and decoded: none may ever be printed or
/// stored in the clear.
const SECRETS: [&str; 6] = [
    "WGs5I21RMnYhcEw3d1I0eg==",
    "Xk9#mQ2v!pL7wR4z",
    "cGctOGZUMnhRN21MdzNO",
    "pg-8fT2xQ7mLw3N",
    "c3ZjLWh5cGVyc2RrQHZzcGhlcmUubG9jYWw=",
    "svc-hypersdk@vsphere.local",
];

/// The sqlite dump the catalog's PodExec fixture prints.
const CATALOG_DUMP: &str = "PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE exports(id INTEGER PRIMARY KEY, vm TEXT, format TEXT, bytes INTEGER);
INSERT INTO exports VALUES(1,'vm-web-01','ova',21474836480);
INSERT INTO exports VALUES(2,'vm-db-02','vmdk',53687091200);
COMMIT;
";

fn sandbox() -> Sandbox {
    suite_tests::sandbox(&["demo", "snapshots", "backup"])
}

struct Work {
    dir: tempfile::TempDir,
    identity: age::x25519::Identity,
}

impl Work {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let identity = age::x25519::Identity::generate();
        std::fs::write(
            dir.path().join("me.key"),
            format!("# test key\n{}\n", identity.to_string().expose_secret()),
        )
        .expect("identity file");
        Work { dir, identity }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    fn key_file(&self) -> String {
        self.s("me.key")
    }
}

fn backup(sb: &Sandbox, work: &Work, args: &[&str]) -> Output {
    let mut cmd = plugin("backup", sb, args);
    cmd.current_dir(work.dir.path());
    run(&mut cmd)
}

/// `restore FILE --identity KEY ARGS` in the work dir.
fn restore(sb: &Sandbox, work: &Work, file: &str, args: &[&str]) -> Output {
    let path = work.s(file);
    let key = work.key_file();
    let mut all = vec!["restore", path.as_str(), "--identity", key.as_str()];
    all.extend_from_slice(args);
    backup(sb, work, &all)
}

fn kubectl(sb: &Sandbox, args: &[&str]) -> Output {
    let mut cmd = suite_tests::kubectl();
    cmd.arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(args)
        .env_remove("KUBECONFIG");
    run(&mut cmd)
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn explain(out: &Output) -> String {
    let (o, e) = text(out);
    format!("exit {:?}\nstdout:\n{o}\nstderr:\n{e}", out.status.code())
}

/// `create -n hypersdk` encrypted to the work's key, with extra flags, into `file`.
fn create(sb: &Sandbox, work: &Work, file: &str, extra: &[&str]) -> Value {
    let recipient = work.recipient();
    let path = work.s(file);
    let mut args = vec![
        "create",
        "-n",
        "hypersdk",
        "--recipient",
        &recipient,
        "-f",
        &path,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = backup(sb, work, &args);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    json(&out)
}

/// Every entry of an archive, decompressed.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).expect("archive");
    let mut c = Collect::default();
    walk(bytes.as_slice(), &mut c)
        .expect("an archive")
        .expect("readable");
    c.entries
}

/// The archived objects, decrypted with the work's key, by (kind, namespace, name).
fn archived_objects(work: &Work, path: &Path) -> BTreeMap<(String, String, String), Value> {
    let all = entries(path);
    let keys = Keys {
        identities: vec![work.identity.clone()],
        passphrase: None,
    };
    let key = all
        .iter()
        .find(|(p, _)| p == "keys/archive-key.recipients.age")
        .and_then(|(_, k)| ArchiveKey::unwrap(k, &keys));
    let mut out = BTreeMap::new();
    for (p, data) in all.iter().filter(|(p, _)| p.starts_with("objects/")) {
        let plain = if p.ends_with(".age") {
            key.as_ref()
                .expect("archive key")
                .decrypt(data)
                .expect("decrypts")
        } else {
            data.clone()
        };
        let v: Value = serde_saphyr::from_slice(&plain).expect("YAML object");
        let k = (
            v["kind"].as_str().unwrap_or("").to_string(),
            v["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            v["metadata"]["name"].as_str().unwrap_or("").to_string(),
        );
        out.insert(k, v);
    }
    out
}

fn assert_no_secrets(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains the secret value {s:?}");
    }
}

/// resourceVersion of every object of the kinds a restore touches.
fn versions(sb: &Sandbox) -> BTreeMap<String, String> {
    let out = kubectl(
        sb,
        &[
            "get",
            "namespaces,configmaps,secrets,services,serviceaccounts,persistentvolumeclaims,deployments,statefulsets,roles,rolebindings,widgets.example.com,poddisruptionbudgets,horizontalpodautoscalers,pods",
            "-A",
            "-o",
            "json",
        ],
    );
    let doc = json(&out);
    doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                format!(
                    "{}/{}/{}",
                    i["kind"].as_str().unwrap_or(""),
                    i["metadata"]["namespace"].as_str().unwrap_or(""),
                    i["metadata"]["name"].as_str().unwrap_or("")
                ),
                i["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn plural(kind: &str, api_version: &str) -> String {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let p = match kind {
        "Endpoints" => "endpoints".to_string(),
        "PodDisruptionBudget" => "poddisruptionbudgets".into(),
        "StorageClass" => "storageclasses".into(),
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers".into(),
        k => format!("{}s", k.to_lowercase()),
    };
    if group.is_empty() {
        p
    } else {
        format!("{p}.{group}")
    }
}

/// `kubectl get -o json` of every archived object in its (mapped) namespace equals the
/// archived object, both normalised the same way. A claim the backup snapshotted
/// (`snapshots`: the manifest's records) is restored from its snapshot: its only
/// difference is the `dataSource` naming that VolumeSnapshot.
fn assert_restored_equal(
    sb: &Sandbox,
    archived: &BTreeMap<(String, String, String), Value>,
    map: &NamespaceMap,
    snapshots: &Value,
) {
    // Owner references to restored objects are kept (with new uids, which `comparable`
    // leaves out).
    let uids: std::collections::HashSet<String> = archived
        .values()
        .filter_map(|v| v["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    for ((kind, ns, name), v) in archived {
        if !ns.is_empty() && !map.0.is_empty() && !map.0.contains_key(ns) {
            continue;
        }
        let api_version = v["apiVersion"].as_str().unwrap_or("");
        let target_ns = map.map(ns).to_string();
        let target_name = if kind == "Namespace" {
            map.map(name).to_string()
        } else {
            name.clone()
        };
        let mut args = vec![
            "get".to_string(),
            plural(kind, api_version),
            target_name.clone(),
            "-o".into(),
            "json".into(),
        ];
        if !target_ns.is_empty() {
            args.push("-n".into());
            args.push(target_ns.clone());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = kubectl(sb, &argv);
        assert_eq!(
            code(&out),
            Some(0),
            "{kind} {target_ns}/{target_name} restored: {}",
            explain(&out)
        );
        let live = json(&out);
        let (mut prepared, _) = kubectl_backup::restore::plan::prepare(v.clone(), map, &uids);
        let snapshot = snapshots.as_array().into_iter().flatten().find(|r| {
            kind == "PersistentVolumeClaim"
                && r["namespace"] == ns.as_str()
                && r["claim"] == name.as_str()
        });
        if let Some(record) = snapshot {
            prepared["spec"]["dataSource"] = serde_json::json!({"apiGroup": "snapshot.storage.k8s.io",
                "kind": "VolumeSnapshot", "name": record["volumeSnapshot"]});
        }
        let want = comparable(&prepared, &[], map);
        let got = comparable(&live, &[], map);
        assert_eq!(
            got, want,
            "{kind} {target_ns}/{target_name} differs from the archive"
        );
    }
}

#[test]
fn create_refuses_plaintext_secrets_by_accident() {
    let sb = sandbox();
    let work = Work::new();
    let out = backup(&sb, &work, &["create", "-n", "hypersdk"]);
    assert_eq!(code(&out), Some(2), "{}", explain(&out));
    let (stdout, stderr) = text(&out);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: Secrets are in scope"),
        "{stderr}"
    );
    for choice in [
        "--recipient",
        "--passphrase-env",
        "--plaintext-secrets",
        "--exclude-resources secrets",
    ] {
        assert!(stderr.contains(choice), "hint names {choice}: {stderr}");
    }
    let files: Vec<_> = std::fs::read_dir(work.dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files.len(), 1, "nothing but the key file: {files:?}");
    // Excluding Secrets is a choice too.
    let out = backup(
        &sb,
        &work,
        &[
            "create",
            "-n",
            "hypersdk",
            "--exclude-resources",
            "secrets",
            "-f",
            "x.tar.zst",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
}

#[test]
fn archive_is_private_readable_by_tar_and_holds_no_secret_bytes() {
    let sb = sandbox();
    let work = Work::new();
    let recipient = work.recipient();
    let out = backup(
        &sb,
        &work,
        &["create", "-n", "hypersdk", "--recipient", &recipient],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let names: Vec<String> = std::fs::read_dir(work.dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.zst"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    // sandbox-hypersdk-20261125T101500Z.tar.zst
    assert!(
        name.starts_with("sandbox-hypersdk-")
            && name.len() == "sandbox-hypersdk-20261125T101500Z.tar.zst".len(),
        "{name}"
    );
    let path = work.path(name);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let all = entries(&path);
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths.first(), Some(&"backup.json"));
    assert_eq!(paths.last(), Some(&"manifest.json"));
    for want in [
        "keys/archive-key.recipients.age",
        "objects/_cluster/core/Namespace/hypersdk.yaml",
        "objects/hypersdk/apps/StatefulSet/postgres.yaml",
        "objects/hypersdk/core/Secret/vsphere-credentials.yaml.age",
        "objects/hypersdk/example.com/Widget/exports-default.yaml",
        "objects/hypersdk/rbac.authorization.k8s.io/RoleBinding/hypersdk-reader.yaml",
        "objects/_cluster/apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com.yaml",
    ] {
        assert!(paths.contains(&want), "{want} in {paths:?}");
    }
    // Left out by default: controller-owned pods and ReplicaSets, managed endpoints, events.
    for gone in [
        "/Pod/",
        "/ReplicaSet/",
        "/EndpointSlice/",
        "/Endpoints/",
        "/Event/",
        "kube-root-ca.crt",
    ] {
        assert!(
            !paths.iter().any(|p| p.contains(gone)),
            "{gone} left out: {paths:?}"
        );
    }
    // The raw file, decompressed: no secret byte anywhere.
    let raw = zstd::decode_all(std::fs::read(&path).expect("read").as_slice()).expect("zstd");
    assert_no_secrets("the decompressed archive", &raw);
    // Standard tar reads it.
    let zstd_present = std::process::Command::new("zstd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if zstd_present {
        let out = run(std::process::Command::new("tar")
            .args(["--zstd", "-tf"])
            .arg(&path));
        assert_eq!(code(&out), Some(0), "{}", explain(&out));
        let listed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(listed.lines().count(), paths.len());
        assert!(listed.starts_with("backup.json\n"));
    } else {
        eprintln!("SKIP (tar --zstd part): zstd not on PATH");
    }
}

#[test]
fn inspect_shows_counts_source_and_encryption() {
    let sb = sandbox();
    let work = Work::new();
    create(&sb, &work, "b.tar.zst", &["--include-cluster-resources"]);
    let out = backup(&sb, &work, &["inspect", &work.s("b.tar.zst"), "-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let m = json(&out);
    assert_eq!(m["apiVersion"], "backup.kubectl-plugins.dev/v1");
    assert_eq!(m["kind"], "BackupManifest");
    assert_eq!(m["schemaVersion"], 1);
    assert_eq!(m["source"]["context"], "sandbox");
    assert_eq!(m["scope"]["namespaces"], serde_json::json!(["hypersdk"]));
    assert_eq!(m["encryption"]["secrets"], "encrypted");
    assert_eq!(
        m["encryption"]["recipients"],
        serde_json::json!([work.recipient()])
    );
    assert_eq!(m["counts"]["byKind"]["Secret"], 2);
    assert_eq!(m["counts"]["byKind"]["Widget.example.com"], 2);
    assert_eq!(
        m["counts"]["byNamespace"]["hypersdk"]
            .as_u64()
            .map(|n| n > 10),
        Some(true)
    );
    assert_eq!(
        m["counts"]["excluded"]["controllerOwned"]
            .as_u64()
            .map(|n| n >= 5),
        Some(true)
    );
    assert_eq!(m["counts"]["encrypted"], 2);
    assert!(
        m["archive"]["sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    // Cluster objects the namespace references.
    let names: Vec<String> = m["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["path"].as_str().map(str::to_string))
        .collect();
    for want in [
        "objects/_cluster/storage.k8s.io/StorageClass/gp3.yaml",
        "objects/_cluster/rbac.authorization.k8s.io/ClusterRole/hypersdk-exporter.yaml",
        "objects/_cluster/rbac.authorization.k8s.io/ClusterRoleBinding/hypersdk-exporter.yaml",
    ] {
        assert!(names.iter().any(|n| n == want), "{want}");
    }
    let out = backup(&sb, &work, &["inspect", &work.s("b.tar.zst")]);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("NAMESPACE") && stdout.contains("Widget.example.com"),
        "{stdout}"
    );
    let out = backup(&sb, &work, &["inspect", &work.s("b.tar.zst"), "-o", "name"]);
    assert!(
        text(&out)
            .0
            .lines()
            .any(|l| l == "secret/hypersdk/vsphere-credentials")
    );
}

fn verify(sb: &Sandbox, work: &Work, file: &str) -> (Option<i32>, Value) {
    let out = backup(sb, work, &["verify", &work.s(file), "-o", "json"]);
    (code(&out), json(&out))
}

fn problems(v: &Value) -> Vec<(String, String)> {
    v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["entry"].as_str().unwrap_or("").to_string(),
                p["problem"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_names_a_flipped_byte_a_truncation_and_a_removed_entry() {
    let sb = sandbox();
    let work = Work::new();
    create(&sb, &work, "good.tar.zst", &[]);
    let (exit, v) = verify(&sb, &work, "good.tar.zst");
    assert_eq!((exit, v["valid"].as_bool()), (Some(0), Some(true)), "{v:#}");
    let good = std::fs::read(work.path("good.tar.zst")).expect("read");
    let frames: Vec<usize> = good
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == [0x28, 0xb5, 0x2f, 0xfd])
        .map(|(i, _)| i)
        .collect();
    assert!(
        frames.len() >= 3,
        "header, objects and manifest frames: {frames:?}"
    );

    // A flipped byte in the objects frame: every entry in it is named.
    let mut flipped = good.clone();
    let at = (frames[1] + frames[2]) / 2;
    flipped[at] ^= 0x01;
    std::fs::write(work.path("flipped.tar.zst"), &flipped).expect("write");
    let (exit, v) = verify(&sb, &work, "flipped.tar.zst");
    assert_eq!(exit, Some(1), "{v:#}");
    let found = problems(&v);
    assert!(
        found
            .iter()
            .any(|(e, p)| e == "objects/hypersdk/apps/StatefulSet/postgres.yaml" && p == "damaged"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .all(|(e, _)| e.starts_with("objects/") || e.starts_with("keys/")),
        "{found:?}"
    );

    // Truncated: the manifest is gone; the cut point is named.
    std::fs::write(work.path("short.tar.zst"), &good[..good.len() * 2 / 3]).expect("write");
    let (exit, v) = verify(&sb, &work, "short.tar.zst");
    assert_eq!(exit, Some(1), "{v:#}");
    let p = &v["problems"][v["problems"].as_array().map_or(0, |a| a.len() - 1)];
    assert_eq!(p["problem"], "truncated", "{v:#}");
    assert!(
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("truncated after ")),
        "{v:#}"
    );

    // An entry removed by re-packing with plain tar tools: named missing.
    let removed = "objects/hypersdk/core/ConfigMap/hypersdk-config.yaml";
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries(&work.path("good.tar.zst")) {
        if path == removed {
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, &path, data.as_slice())
            .expect("append");
    }
    let plain = b.into_inner().expect("tar");
    std::fs::write(
        work.path("removed.tar.zst"),
        zstd::encode_all(plain.as_slice(), 3).expect("zstd"),
    )
    .expect("write");
    let (exit, v) = verify(&sb, &work, "removed.tar.zst");
    assert_eq!(exit, Some(1));
    assert_eq!(problems(&v), [(removed.to_string(), "missing".to_string())]);

    // Table output names them too.
    let out = backup(&sb, &work, &["verify", &work.s("removed.tar.zst")]);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains(removed) && stdout.contains("FAILED"),
        "{stdout}"
    );
}

#[test]
fn round_trip_of_the_demo_namespace() {
    let sb = sandbox();
    let work = Work::new();
    let m = create(
        &sb,
        &work,
        "b.tar.zst",
        &[
            "--snapshot-volumes",
            "--dump",
            "sqlite:catalog-0/catalog:/data/catalog.db",
        ],
    );
    assert!(
        m["snapshots"].as_array().is_some_and(|s| !s.is_empty()),
        "{m:#}"
    );
    assert_eq!(m["dumps"][0]["outcome"], "ok", "{m:#}");
    assert_eq!(m["dumps"][0]["size"], CATALOG_DUMP.len());
    let archived = archived_objects(&work, &work.path("b.tar.zst"));
    let out = kubectl(&sb, &["delete", "namespace", "hypersdk"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let key = work.key_file();
    let out = restore(&sb, &work, "b.tar.zst", &["--dumps", "-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["kind"], "RestoreReport");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    // Cluster objects that stayed (the CRD) are skipped, everything else created.
    assert!(
        report["summary"]["restored"]
            .as_u64()
            .is_some_and(|n| n >= 20),
        "{report:#}"
    );
    let tiers: Vec<u64> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["tier"].as_u64())
        .collect();
    assert!(
        tiers.windows(2).all(|w| w[0] <= w[1]),
        "restore order follows the tiers: {tiers:?}"
    );
    assert_eq!(report["dumps"][0]["outcome"], "restored", "{report:#}");
    let map = NamespaceMap::default();
    let namespaced: BTreeMap<_, _> = archived
        .iter()
        .filter(|((k, _, _), _)| k != "CustomResourceDefinition")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kubectl_available() {
        assert_restored_equal(&sb, &namespaced, &map, &m["snapshots"]);
    }
    // The owner reference points at the new Widget.
    let widget = json(&kubectl(
        &sb,
        &[
            "get",
            "widgets.example.com",
            "exports-default",
            "-n",
            "hypersdk",
            "-o",
            "json",
        ],
    ));
    let cm = json(&kubectl(
        &sb,
        &[
            "get",
            "configmap",
            "exports-default-settings",
            "-n",
            "hypersdk",
            "-o",
            "json",
        ],
    ));
    assert_eq!(
        cm["metadata"]["ownerReferences"][0]["uid"],
        widget["metadata"]["uid"]
    );
    assert_ne!(
        widget["metadata"]["uid"],
        "6b1d0c55-3f0e-4a53-9c55-0d6f0ce4a101"
    );
    // The dump reached the catalog's stdin byte for byte.
    let stdin = sb.exec_stdin("hypersdk", "catalog-0", "catalog");
    assert_eq!(
        stdin.last().map(Vec::as_slice),
        Some(CATALOG_DUMP.as_bytes())
    );
    // And diff finds nothing.
    let out = backup(
        &sb,
        &work,
        &[
            "diff",
            &work.s("b.tar.zst"),
            "--identity",
            &key,
            "-o",
            "json",
        ],
    );
    let d = json(&out);
    assert_eq!(code(&out), Some(0), "{d:#}");
    assert_eq!(d["identical"], true);
}

#[test]
fn round_trip_into_another_namespace() {
    let sb = sandbox();
    let work = Work::new();
    create(
        &sb,
        &work,
        "b.tar.zst",
        &["--dump", "sqlite:catalog-0/catalog:/data/catalog.db"],
    );
    let archived = archived_objects(&work, &work.path("b.tar.zst"));
    let key = work.key_file();
    let out = restore(
        &sb,
        &work,
        "b.tar.zst",
        &[
            "--namespace-map",
            "hypersdk=hypersdk-restore",
            "--dumps",
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["namespaceMap"]["hypersdk"], "hypersdk-restore");
    let rb = json(&kubectl(
        &sb,
        &[
            "get",
            "rolebinding",
            "hypersdk-reader",
            "-n",
            "hypersdk-restore",
            "-o",
            "json",
        ],
    ));
    assert_eq!(rb["subjects"][0]["namespace"], "hypersdk-restore");
    let ns = json(&kubectl(
        &sb,
        &["get", "namespace", "hypersdk-restore", "-o", "json"],
    ));
    assert_eq!(ns["metadata"]["labels"]["team"], "platform-migrations");
    let map = NamespaceMap::new(&[("hypersdk".into(), "hypersdk-restore".into())]);
    let namespaced: BTreeMap<_, _> = archived
        .iter()
        .filter(|((k, ns, _), _)| ns == "hypersdk" || k == "Namespace")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kubectl_available() {
        assert_restored_equal(&sb, &namespaced, &map, &Value::Null);
    }
    assert_eq!(report["dumps"][0]["namespace"], "hypersdk-restore");
    assert_eq!(report["dumps"][0]["outcome"], "restored", "{report:#}");
    let stdin = sb.exec_stdin("hypersdk-restore", "catalog-0", "catalog");
    assert_eq!(
        stdin.last().map(Vec::as_slice),
        Some(CATALOG_DUMP.as_bytes())
    );
    let out = backup(
        &sb,
        &work,
        &[
            "diff",
            &work.s("b.tar.zst"),
            "--identity",
            &key,
            "--namespace-map",
            "hypersdk=hypersdk-restore",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    // The original is untouched by the mapped restore.
    let out = backup(
        &sb,
        &work,
        &["diff", &work.s("b.tar.zst"), "--identity", &key],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
}

#[test]
fn claims_are_restored_from_their_snapshots() {
    let sb = sandbox();
    let work = Work::new();
    let m = create(&sb, &work, "b.tar.zst", &["--snapshot-volumes"]);
    let snaps = m["snapshots"].as_array().expect("snapshots");
    assert_eq!(snaps.len(), 4, "{m:#}");
    let catalog = snaps
        .iter()
        .find(|s| s["claim"] == "data-catalog-0")
        .expect("catalog snapshot");
    let vs = catalog["volumeSnapshot"]
        .as_str()
        .expect("name")
        .to_string();
    assert_eq!(catalog["readyToUse"], true);
    assert!(
        catalog["snapshotHandle"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let content = json(&kubectl(
        &sb,
        &[
            "get",
            "volumesnapshotcontents.snapshot.storage.k8s.io",
            catalog["content"].as_str().unwrap_or(""),
            "-o",
            "json",
        ],
    ));
    assert_eq!(
        content["spec"]["deletionPolicy"], "Retain",
        "kept when the namespace goes"
    );
    assert!(
        m["changes"].as_array().is_some_and(|c| c.len() >= 8),
        "snapshots and retains journaled: {m:#}"
    );
    // Lose the claim and its workload, restore.
    kubectl(&sb, &["delete", "statefulset", "catalog", "-n", "hypersdk"]);
    let out = kubectl(&sb, &["delete", "pvc", "data-catalog-0", "-n", "hypersdk"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let key = work.key_file();
    let out = restore(&sb, &work, "b.tar.zst", &["-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let claim = json(&kubectl(
        &sb,
        &[
            "get",
            "pvc",
            "data-catalog-0",
            "-n",
            "hypersdk",
            "-o",
            "json",
        ],
    ));
    assert_eq!(claim["spec"]["dataSource"]["kind"], "VolumeSnapshot");
    assert_eq!(claim["spec"]["dataSource"]["name"], vs.as_str());
    let out = backup(
        &sb,
        &work,
        &["diff", &work.s("b.tar.zst"), "--identity", &key],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
}

#[test]
fn snapshots_survive_deleting_the_namespace() {
    let sb = sandbox();
    let work = Work::new();
    create(&sb, &work, "b.tar.zst", &["--snapshot-volumes"]);
    kubectl(&sb, &["delete", "namespace", "hypersdk"]);
    let key = work.key_file();
    let out = restore(&sb, &work, "b.tar.zst", &["--timeout", "20s", "-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let claim = json(&kubectl(
        &sb,
        &[
            "get",
            "pvc",
            "data-catalog-0",
            "-n",
            "hypersdk",
            "-o",
            "json",
        ],
    ));
    assert_eq!(claim["status"]["phase"], "Bound");
    let out = backup(
        &sb,
        &work,
        &["diff", &work.s("b.tar.zst"), "--identity", &key],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
}

#[test]
fn server_dry_run_lists_exactly_the_conflicts_and_changes_nothing() {
    let sb = sandbox();
    let work = Work::new();
    create(&sb, &work, "b.tar.zst", &[]);
    // A half-restored copy: the namespace and two objects already there.
    kubectl(&sb, &["create", "namespace", "hypersdk-restore"]);
    kubectl(
        &sb,
        &[
            "create",
            "configmap",
            "hypersdk-config",
            "-n",
            "hypersdk-restore",
            "--from-literal=x=1",
        ],
    );
    kubectl(
        &sb,
        &[
            "create",
            "serviceaccount",
            "hypersdk",
            "-n",
            "hypersdk-restore",
        ],
    );
    let before = versions(&sb);
    let out = restore(
        &sb,
        &work,
        "b.tar.zst",
        &[
            "--namespace-map",
            "hypersdk=hypersdk-restore",
            "--dry-run=server",
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let report = json(&out);
    let conflicts: Vec<String> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["reason"] == "exists")
        .map(|o| {
            format!(
                "{}/{}",
                o["object"]["kind"].as_str().unwrap_or(""),
                o["object"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut expected = vec![
        "ConfigMap/hypersdk-config".to_string(),
        "Namespace/hypersdk-restore".to_string(),
        "ServiceAccount/hypersdk".to_string(),
        "CustomResourceDefinition/widgets.example.com".to_string(),
    ];
    expected.sort();
    let mut got = conflicts.clone();
    got.sort();
    // `default` ServiceAccounts are created by a real control plane in every namespace,
    // not by the sandbox: only the three objects made above and the CRD exist.
    assert_eq!(got, expected, "{report:#}");
    let others: Vec<&Value> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["reason"] != "exists")
        .collect();
    assert!(
        others.iter().all(|o| o["outcome"] == "wouldCreate"),
        "{report:#}"
    );
    assert!(
        report["changes"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["outcome"] == "validated"))
    );
    assert_eq!(versions(&sb), before, "a server dry run changes nothing");
    // --existing fail turns the same conflicts into failures (exit 4), still changing nothing.
    let out = restore(
        &sb,
        &work,
        "b.tar.zst",
        &[
            "--namespace-map",
            "hypersdk=hypersdk-restore",
            "--dry-run=server",
            "--existing",
            "fail",
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&out), Some(4), "{}", explain(&out));
    assert_eq!(json(&out)["summary"]["failed"], 4);
    assert_eq!(versions(&sb), before);
}

#[test]
fn a_wrong_key_or_a_bad_archive_changes_nothing() {
    let sb = sandbox();
    let work = Work::new();
    create(&sb, &work, "b.tar.zst", &[]);
    kubectl(&sb, &["delete", "namespace", "hypersdk"]);
    let before = versions(&sb);
    let other = Work::new();
    let wrong = other.key_file();
    let out = backup(
        &sb,
        &work,
        &["restore", &work.s("b.tar.zst"), "--identity", &wrong],
    );
    assert_eq!(code(&out), Some(2), "{}", explain(&out));
    let (stdout, stderr) = text(&out);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: cannot open the archive's key"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1
    );
    // No key at all.
    let out = backup(&sb, &work, &["restore", &work.s("b.tar.zst")]);
    assert_eq!(code(&out), Some(2), "{}", explain(&out));
    assert!(text(&out).1.contains("--identity"));
    // Not an archive; truncated; newer schema.
    std::fs::write(work.path("notes.txt"), "just some notes\n").expect("write");
    let good = std::fs::read(work.path("b.tar.zst")).expect("read");
    std::fs::write(work.path("short.tar.zst"), &good[..good.len() / 2]).expect("write");
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries(&work.path("b.tar.zst")) {
        let data = if path == "backup.json" {
            String::from_utf8_lossy(&data)
                .replace("\"schemaVersion\": 1", "\"schemaVersion\": 99")
                .into_bytes()
        } else {
            data
        };
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, &path, data.as_slice())
            .expect("append");
    }
    std::fs::write(
        work.path("newer.tar.zst"),
        zstd::encode_all(b.into_inner().expect("tar").as_slice(), 3).expect("zstd"),
    )
    .expect("write");
    let key = work.key_file();
    for (file, says) in [
        ("notes.txt", "is not a kubectl backup archive"),
        ("short.tar.zst", "is damaged"),
        ("newer.tar.zst", "schema version 99"),
    ] {
        for cmd in ["restore", "inspect", "diff"] {
            let path = work.s(file);
            let mut args = vec![cmd, path.as_str()];
            if cmd != "inspect" {
                args.extend(["--identity", key.as_str()]);
            }
            let out = backup(&sb, &work, &args);
            assert_eq!(code(&out), Some(2), "{cmd} {file}: {}", explain(&out));
            let (_, stderr) = text(&out);
            assert!(
                stderr.starts_with("error: ") && stderr.contains(says),
                "{cmd} {file}: {stderr}"
            );
        }
    }
    assert_eq!(versions(&sb), before, "nothing was written");
}

#[test]
fn no_secret_value_in_any_output_at_vv() {
    let sb = sandbox();
    let work = Work::new();
    let recipient = work.recipient();
    let key = work.key_file();
    let b = work.s("b.tar.zst");
    let mut outputs: Vec<(String, Output)> = Vec::new();
    for o in ["table", "json", "yaml"] {
        let f = work.s(&format!("b-{o}.tar.zst"));
        outputs.push((
            format!("create -o {o}"),
            backup(
                &sb,
                &work,
                &[
                    "create",
                    "-n",
                    "hypersdk",
                    "--recipient",
                    &recipient,
                    "-f",
                    &f,
                    "-o",
                    o,
                    "-v",
                    "-v",
                ],
            ),
        ));
    }
    std::fs::copy(work.path("b-table.tar.zst"), work.path("b.tar.zst")).expect("copy");
    // Change a secret in the cluster so diff has a secret difference to (not) show.
    let out = kubectl(
        &sb,
        &[
            "patch",
            "secret",
            "vsphere-credentials",
            "-n",
            "hypersdk",
            "-p",
            r#"{"data":{"password":"bmV3LXBhc3N3b3Jk"}}"#,
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    for o in ["table", "json", "yaml"] {
        outputs.push((
            format!("inspect -o {o}"),
            backup(&sb, &work, &["inspect", &b, "-o", o, "-v", "-v"]),
        ));
        outputs.push((
            format!("verify -o {o}"),
            backup(&sb, &work, &["verify", &b, "-o", o, "-v", "-v"]),
        ));
        let d = backup(
            &sb,
            &work,
            &["diff", &b, "--identity", &key, "-o", o, "-v", "-v"],
        );
        assert_eq!(code(&d), Some(1), "{}", explain(&d));
        outputs.push((format!("diff -o {o}"), d));
        outputs.push((
            format!("restore --dry-run=server -o {o}"),
            backup(
                &sb,
                &work,
                &[
                    "restore",
                    &b,
                    "--identity",
                    &key,
                    "--dry-run=server",
                    "--namespace-map",
                    "hypersdk=elsewhere",
                    "-o",
                    o,
                    "-v",
                    "-v",
                ],
            ),
        ));
    }
    outputs.push((
        "restore --existing update".into(),
        backup(
            &sb,
            &work,
            &[
                "restore",
                &b,
                "--identity",
                &key,
                "--existing",
                "update",
                "--yes",
                "-v",
                "-v",
            ],
        ),
    ));
    outputs.push(("restore with a wrong passphrase".into(), {
        let mut cmd = plugin(
            "backup",
            &sb,
            &["restore", &b, "--passphrase-env", "BK_PASS", "-v", "-v"],
        );
        cmd.env("BK_PASS", "Xk9#mQ2v!pL7wR4z");
        run(&mut cmd)
    }));
    for (what, out) in &outputs {
        assert_no_secrets(&format!("{what} stdout"), &out.stdout);
        assert_no_secrets(&format!("{what} stderr"), &out.stderr);
    }
    let diff_table = outputs
        .iter()
        .find(|(w, _)| w == "diff -o table")
        .map(|(_, o)| text(o).0)
        .unwrap_or_default();
    assert!(
        diff_table.contains("data.password: changed"),
        "{diff_table}"
    );
    let update = outputs
        .iter()
        .find(|(w, _)| w == "restore --existing update")
        .map(|(_, o)| o)
        .expect("update");
    assert_eq!(code(update), Some(0), "{}", explain(update));
    // The update put the archived password back.
    let s = json(&kubectl(
        &sb,
        &[
            "get",
            "secret",
            "vsphere-credentials",
            "-n",
            "hypersdk",
            "-o",
            "json",
        ],
    ));
    assert_eq!(s["data"]["password"], "WGs5I21RMnYhcEw3d1I0eg==");
}

#[test]
fn forbidden_lists_are_skipped_and_listed_exit_4() {
    let sb = sandbox();
    let work = Work::new();
    let recipient = work.recipient();
    let f = work.s("b.tar.zst");
    let out = backup(
        &sb,
        &work,
        &[
            "create",
            "--context",
            "backup-auditor",
            "-n",
            "hypersdk",
            "--recipient",
            &recipient,
            "-f",
            &f,
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&out), Some(4), "{}", explain(&out));
    let m = json(&out);
    let skipped = m["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{m:#}");
    assert_eq!(skipped[0]["what"], "configmaps in hypersdk");
    assert_eq!(skipped[0]["cause"], "forbidden");
    assert!(m["counts"]["byKind"].get("ConfigMap").is_none());
    assert!(
        m["counts"]["byKind"]["Deployment"] == 1,
        "the rest is backed up: {m:#}"
    );
}

#[test]
fn runs_through_kubectl_plugin_lookup() {
    if !kubectl_available() {
        return;
    }
    let sb = sandbox();
    let work = Work::new();
    let f = work.s("b.tar.zst");
    let mut cmd = suite_tests::kubectl_plugin(
        "backup",
        &sb,
        &[
            "create",
            "-n",
            "hypersdk",
            "--exclude-resources",
            "secrets",
            "-f",
            &f,
        ],
    );
    let out = run(&mut cmd);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    assert!(text(&out).0.starts_with("backup written to "));
    let mut cmd = suite_tests::kubectl_plugin("backup", &sb, &["verify", &f]);
    let out = run(&mut cmd);
    assert_eq!(code(&out), Some(0), "{}", explain(&out));
    let mut cmd = suite_tests::kubectl_plugin("backup", &sb, &["inspect", &f, "-o", "json"]);
    let m = json(&run(&mut cmd));
    assert_eq!(m["encryption"]["secrets"], "excluded");
}
