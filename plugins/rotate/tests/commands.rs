//! `status`, `cleanup`, `restart` and `certs` against kube-sandbox: the pod-to-version map
//! and stale pods (tests/fixtures/rotate/versions), deleting only unreferenced versions,
//! restarts with health (rotate/vsphere), and certificates generated here with rcgen.

mod support;

use std::path::Path;

use base64::Engine;
use kube_sandbox::{Sandbox, SandboxOptions};
use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};
use suite_tests::{json, sandbox};
use support::*;

fn names(v: &Value, pointer: &str, field: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.pointer(field)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn status_maps_pods_to_versions_and_finds_stale_pods() {
    let sb = sandbox(&["rotate/versions"]);
    let out = kubectl_rotate(&sb, &["status", "db", "-n", "billing", "-o", "json"]);
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["kind"], "RotationStatus");
    assert_eq!(doc["current"], "db-3333333333");
    let states: Vec<(String, String)> = doc["versions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap_or("").into(),
                        v["state"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        states,
        [
            ("db".to_string(), "inUse".to_string()),
            ("db-1111111111".into(), "unused".into()),
            ("db-2222222222".into(), "unused".into()),
            ("db-3333333333".into(), "current".into()),
        ]
    );
    let pods: Vec<(String, Value, bool)> = doc["pods"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["pod"]["name"].as_str().unwrap_or("").into(),
                        p["versions"].clone(),
                        p["stale"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        pods,
        [
            (
                "api-7d9c8b6f5-q7w2e".to_string(),
                json!(["db-3333333333"]),
                false
            ),
            ("worker-6c5b4d7f8-z9x8c".to_string(), json!(["db"]), true),
        ]
    );
    assert_eq!(
        doc["pods"][1]["workload"],
        json!({"kind": "Deployment", "namespace": "billing", "name": "worker"})
    );
    let table = rotate(&sb, &["status", "db", "-n", "billing"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("STALE: started before the data of db changed"),
        "{text}"
    );
    assert!(text.contains("kubectl rotate restart --secret db -n billing"));
    let missing = rotate(&sb, &["status", "nope", "-n", "billing"]);
    assert_exit(&missing, 2);
}

#[test]
fn cleanup_deletes_a_version_only_when_nothing_references_it() {
    let sb = sandbox(&["rotate/versions"]);
    let c = Cluster::new(&sb);
    let secret = |name: &str| c.try_get(&format!("/api/v1/namespaces/billing/secrets/{name}"));
    // No terminal and no --yes: refused, nothing deleted.
    let out = rotate(&sb, &["cleanup", "db", "-n", "billing"]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    assert!(secret("db-2222222222").is_some());
    // The dry run names what would go.
    let out = rotate(
        &sb,
        &["cleanup", "db", "-n", "billing", "--dry-run", "-o", "name"],
    );
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "secret/billing/db-2222222222\n"
    );
    // Superseded only 10 days ago: --older-than 30d keeps it.
    let out = rotate(
        &sb,
        &[
            "cleanup",
            "db",
            "-n",
            "billing",
            "--older-than",
            "30d",
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    assert!(
        json(&out)["versions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|v| v["action"] == "keep"))
    );
    assert!(secret("db-2222222222").is_some());

    let out = kubectl_rotate(
        &sb,
        &["cleanup", "db", "-n", "billing", "--yes", "-o", "json"],
    );
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["kind"], "CleanupReport");
    let decided: Vec<(String, String)> = doc["versions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap_or("").into(),
                        v["action"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        decided,
        [
            ("db".to_string(), "keep".to_string()),
            ("db-1111111111".into(), "keep".into()),
            ("db-2222222222".into(), "delete".into()),
            ("db-3333333333".into(), "keep".into()),
        ]
    );
    assert!(
        doc["versions"][0]["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("deployment/billing/worker"))
    );
    assert_eq!(
        doc["versions"][1]["reasons"][0],
        "referenced by replicaset/billing/api-5f6d7c8b9 (kept for rollback, revision 1)"
    );
    assert!(doc["versions"][3]["reasons"][0] == "the current version");
    assert_eq!(names(&doc, "/changes", "/outcome"), ["applied"]);
    assert!(
        secret("db-2222222222").is_none(),
        "the unreferenced version is gone"
    );
    for kept in ["db", "db-1111111111", "db-3333333333"] {
        assert!(secret(kept).is_some(), "{kept} is kept");
    }
}

#[test]
fn restart_sets_restarted_at_and_waits_for_health() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let out = kubectl_rotate(
        &sb,
        &[
            "restart",
            "--secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["kind"], "RestartReport");
    let stamp = doc["restartedAt"].as_str().unwrap_or_default().to_string();
    let actions: Vec<(String, String)> = doc["consumers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["object"]["name"].as_str().unwrap_or("").into(),
                        e["action"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            ("nightly-report".to_string(), "notRestarted".to_string()),
            ("exporter".into(), "restarted".into()),
            ("uploader".into(), "restarted".into()),
            ("inventory".into(), "restarted".into()),
        ]
    );
    for path in [
        "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
        "/apis/apps/v1/namespaces/vsphere/statefulsets/inventory",
    ] {
        assert_eq!(
            at(
                &c.get(path),
                "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"
            ),
            stamp
        );
    }
    assert!(doc["unhealthy"].as_array().is_some_and(Vec::is_empty));
    let web = c.get("/apis/apps/v1/namespaces/vsphere/deployments/web");
    assert_eq!(
        at(
            &web,
            "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"
        ),
        ""
    );
}

#[test]
fn restart_exits_1_naming_consumers_that_do_not_become_healthy() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    // Someone edits the Secret in place to a password vCenter rejects; the restart shows it.
    let wrong = base64::engine::general_purpose::STANDARD.encode("Wrong-Passw0rd");
    c.merge_patch(
        "/api/v1/namespaces/vsphere/secrets/vsphere-credentials",
        &json!({"data": {"password": wrong}}),
    );
    let out = rotate(
        &sb,
        &[
            "restart",
            "--secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--timeout",
            "60s",
        ],
    );
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: not healthy after the restart: statefulset/vsphere/inventory"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CrashLoopBackOff"), "{stdout}");
    assert!(!all_text(&out).contains("Wrong-Passw0rd"));
    let out = rotate(&sb, &["restart", "--configmap", "nope", "-n", "vsphere"]);
    assert_exit(&out, 2);
}

// ---------------------------------------------------------------- certificates

struct Pki {
    ca_key: KeyPair,
    ca: CertificateParams,
    ca_pem: String,
}

fn days(n: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::days(n)
}

impl Pki {
    fn new() -> Self {
        let ca_key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
        ca.distinguished_name
            .push(DnType::CommonName, "Test Root CA");
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.not_before = days(-365);
        ca.not_after = days(3650);
        let ca_pem = ca
            .self_signed(&ca_key)
            .unwrap_or_else(|e| panic!("{e}"))
            .pem();
        Pki { ca_key, ca, ca_pem }
    }

    /// A leaf for `host` valid from `from` to `to` days from now, and its key.
    fn leaf(&self, host: &str, from: i64, to: i64) -> (String, KeyPair) {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mut p =
            CertificateParams::new(vec![host.to_string()]).unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, host);
        p.not_before = days(from);
        p.not_after = days(to);
        let issuer = Issuer::from_params(&self.ca, &self.ca_key);
        (
            p.signed_by(&key, &issuer)
                .unwrap_or_else(|e| panic!("{e}"))
                .pem(),
            key,
        )
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn tls_secret(ns: &str, name: &str, crt: &str, key: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n---\n",
        b64(crt),
        b64(key)
    )
}

/// Fixtures with an expired, an expiring, a warning-range and a valid certificate, a key
/// that does not match, a CA bundle and an Ingress using one of them. Returns the private
/// key PEMs, which must never be printed.
fn write_cert_fixtures(dir: &Path) -> Vec<String> {
    let pki = Pki::new();
    let (valid, valid_key) = pki.leaf("www.example.test", -30, 200);
    let (expiring, expiring_key) = pki.leaf("api.example.test", -60, 3);
    let (soon, soon_key) = pki.leaf("soon.example.test", -60, 20);
    let (expired, expired_key) = pki.leaf("old.example.test", -400, -10);
    let (mismatch, _) = pki.leaf("mix.example.test", -1, 300);
    let (ok_only, ok_key) = pki.leaf("fine.example.test", -1, 300);
    let mut y = String::from(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: certs}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: certs-ok}\n---\n",
    );
    y += &tls_secret(
        "certs",
        "web-tls",
        &format!("{valid}{}", pki.ca_pem),
        &valid_key.serialize_pem(),
    );
    y += &tls_secret("certs", "api-tls", &expiring, &expiring_key.serialize_pem());
    y += &tls_secret("certs", "soon-tls", &soon, &soon_key.serialize_pem());
    y += &tls_secret("certs", "old-tls", &expired, &expired_key.serialize_pem());
    y += &tls_secret("certs", "mix-tls", &mismatch, &valid_key.serialize_pem());
    y += &format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: trust, namespace: certs}}\ntype: Opaque\ndata:\n  ca.crt: {}\n  password: {}\n---\n",
        b64(&pki.ca_pem),
        b64("Plain-Secret-Value")
    );
    y += "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: certs}\nspec:\n  tls:\n  - hosts: [www.example.test]\n    secretName: web-tls\n  rules:\n  - host: www.example.test\n---\n";
    y += &tls_secret("certs-ok", "fine-tls", &ok_only, &ok_key.serialize_pem());
    std::fs::write(dir.join("certs.yaml"), y).unwrap_or_else(|e| panic!("{e}"));
    [valid_key, expiring_key, soon_key, expired_key, ok_key]
        .iter()
        .map(|k| k.serialize_pem())
        .collect()
}

fn cert_sandbox(dir: &Path) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![dir.to_path_buf()],
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e:#}"))
}

#[test]
fn certs_reports_expired_expiring_valid_and_mismatched_keys() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let keys = write_cert_fixtures(dir.path());
    let sb = cert_sandbox(dir.path());
    let out = kubectl_rotate(&sb, &["certs", "-n", "certs", "-o", "json"]);
    assert_exit(&out, 1);
    let doc = json(&out);
    assert_eq!(doc["kind"], "CertificateReport");
    let rows: Vec<(String, String, u64, String, Value)> = doc["certificates"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["secret"]["name"].as_str().unwrap_or("").to_string(),
                        c["key"].as_str().unwrap_or("").to_string(),
                        c["index"].as_u64().unwrap_or(9),
                        c["status"].as_str().unwrap_or("").to_string(),
                        c["keyMatch"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let row = |s: &str, k: &str, i: u64, st: &str, m: Value| {
        (s.to_string(), k.to_string(), i, st.to_string(), m)
    };
    assert_eq!(
        rows,
        [
            row("api-tls", "tls.crt", 0, "critical", json!(true)),
            row("mix-tls", "tls.crt", 0, "ok", json!(false)),
            row("old-tls", "tls.crt", 0, "expired", json!(true)),
            row("soon-tls", "tls.crt", 0, "warning", json!(true)),
            row("trust", "ca.crt", 0, "ok", Value::Null),
            row("web-tls", "tls.crt", 0, "ok", json!(true)),
            row("web-tls", "tls.crt", 1, "ok", Value::Null),
        ]
    );
    let web = &doc["certificates"][5];
    assert_eq!(web["subject"], "CN=www.example.test");
    assert_eq!(web["issuer"], "CN=Test Root CA");
    assert_eq!(web["sans"], json!(["www.example.test"]));
    assert_eq!(web["chainOrder"], "ok");
    assert_eq!(
        web["consumers"],
        json!([{"kind": "Ingress", "namespace": "certs", "name": "web"}])
    );
    assert!(
        doc["certificates"][0]["daysLeft"]
            .as_i64()
            .is_some_and(|d| d == 2 || d == 3)
    );
    assert!(
        doc["certificates"][2]["daysLeft"]
            .as_i64()
            .is_some_and(|d| d < -9)
    );
    assert_eq!(doc["summary"]["expired"], 1);
    assert_eq!(doc["summary"]["critical"], 1);
    assert_eq!(doc["summary"]["warning"], 1);
    assert_eq!(doc["summary"]["keyMismatches"], 1);
    assert_eq!(doc["summary"]["secretsScanned"], 6);

    // Thresholds move certificates between states; a clean namespace exits 0.
    let wide = rotate(
        &sb,
        &[
            "certs",
            "-n",
            "certs",
            "--warn",
            "1d",
            "--critical",
            "1d",
            "-o",
            "json",
        ],
    );
    assert_eq!(json(&wide)["summary"]["critical"], 0);
    assert_exit(&wide, 1); // still the expired certificate and the mismatch
    let fine = rotate(&sb, &["certs", "-n", "certs-ok"]);
    assert_exit(&fine, 0);
    assert!(
        String::from_utf8_lossy(&fine.stdout)
            .contains("1 certificate(s) in 1 of 1 Secret(s) in namespace certs-ok: 1 ok")
    );
    let all = rotate(&sb, &["certs", "-A", "-o", "name"]);
    assert_exit(&all, 1);
    let lines = String::from_utf8_lossy(&all.stdout).to_string();
    assert!(
        lines.contains("secret/certs/old-tls\n") && lines.contains("secret/certs-ok/fine-tls\n"),
        "{lines}"
    );
    let table = rotate(&sb, &["certs", "-n", "certs"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("MISMATCH") && text.contains("EXPIRED") && text.contains("ingress/web"),
        "{text}"
    );
    assert!(rotate(&sb, &["certs", "-n", "nope"]).status.code() == Some(2));
    assert!(
        rotate(&sb, &["certs", "--warn", "1d", "--critical", "2d"])
            .status
            .code()
            == Some(2)
    );
    for out in [&out, &wide, &fine, &all, &table] {
        let text = all_text(out);
        assert!(!text.contains("Plain-Secret-Value"));
        for k in &keys {
            let body = k.lines().nth(1).unwrap_or("");
            assert!(!text.contains(body), "a private key line was printed");
        }
    }
}
