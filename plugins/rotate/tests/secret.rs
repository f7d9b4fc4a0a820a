//! `kubectl rotate secret` against kube-sandbox on tests/fixtures/rotate/vsphere: the
//! issue's scenario (two Deployments, a StatefulSet and a CronJob use vsphere-credentials),
//! refusal of bad data before any change, rollback on failing pods, timeouts and progress
//! deadlines, Ctrl-C, --no-rollback and dry runs.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use serde_json::Value;
use suite_tests::{json, sandbox};
use support::*;

const NS: &str = "vsphere";
const OLD: &str = "vsphere-credentials";

/// (object path, JSON pointer of its reference) for the four consumers.
const REFS: &[(&str, &str)] = &[
    (
        "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
        "/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name",
    ),
    (
        "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
        "/spec/template/spec/containers/0/env/1/valueFrom/secretKeyRef/name",
    ),
    (
        "/apis/apps/v1/namespaces/vsphere/deployments/uploader",
        "/spec/template/spec/volumes/0/secret/secretName",
    ),
    (
        "/apis/apps/v1/namespaces/vsphere/statefulsets/inventory",
        "/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name",
    ),
    (
        "/apis/batch/v1/namespaces/vsphere/cronjobs/nightly-report",
        "/spec/jobTemplate/spec/template/spec/containers/0/envFrom/0/secretRef/name",
    ),
];

fn referenced(c: &Cluster) -> Vec<String> {
    REFS.iter()
        .map(|(path, ptr)| at(&c.get(path), ptr).to_string())
        .collect()
}

fn lists() -> Vec<String> {
    touchable(NS)
}

fn list_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Wait until every workload's pods are Ready and use `secret`.
fn pods_settle_on(c: &Cluster, secret: &str) {
    for app in ["exporter", "uploader", "inventory"] {
        eventually(
            c,
            &format!("/api/v1/namespaces/{NS}/pods?labelSelector=app%3D{app}"),
            |l| {
                let items = l["items"].as_array().cloned().unwrap_or_default();
                !items.is_empty()
                    && items.iter().all(|p| {
                        p.to_string().contains(&format!("\"{secret}\""))
                            && p["status"]["conditions"].as_array().is_some_and(|cs| {
                                cs.iter()
                                    .any(|x| x["type"] == "Ready" && x["status"] == "True")
                            })
                    })
            },
        );
    }
}

#[test]
fn rotation_repoints_all_four_consumers_and_keeps_the_old_secret() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let old_secret = c.get(&format!("/api/v1/namespaces/{NS}/secrets/{OLD}"));
    let web_before = c.get(&format!("/apis/apps/v1/namespaces/{NS}/deployments/web"));
    let out = kubectl_rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=New-Passw0rd-2025",
            "--keep",
            "username",
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["apiVersion"], "rotate.kubectl-plugins.dev/v1");
    assert_eq!(doc["kind"], "RotationReport");
    assert_eq!(doc["outcome"], "succeeded");
    let new = doc["plan"]["secret"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        new.starts_with("vsphere-credentials-") && new.len() == OLD.len() + 11,
        "{new}"
    );
    let steps: Vec<&str> = doc["plan"]["steps"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["consumer"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        steps,
        ["exporter", "uploader", "inventory", "nightly-report"]
    );

    // Every reference now names the new version; the unrelated Deployment is untouched.
    assert_eq!(referenced(&c), vec![new.clone(); REFS.len()]);
    let web_after = c.get(&format!("/apis/apps/v1/namespaces/{NS}/deployments/web"));
    assert_eq!(
        web_before["metadata"]["resourceVersion"],
        web_after["metadata"]["resourceVersion"]
    );

    // The old Secret is left exactly as it was; the new one is an immutable, labelled version
    // with the rotation recorded.
    let old_after = c.get(&format!("/api/v1/namespaces/{NS}/secrets/{OLD}"));
    assert_eq!(
        old_secret["metadata"]["resourceVersion"],
        old_after["metadata"]["resourceVersion"]
    );
    let s = c.get(&format!("/api/v1/namespaces/{NS}/secrets/{new}"));
    assert_eq!(s["immutable"], true);
    assert_eq!(
        s["metadata"]["labels"]["rotate.kubectl-plugins.dev/base-name"],
        OLD
    );
    assert_eq!(
        s["metadata"]["labels"]["rotate.kubectl-plugins.dev/version"],
        "2"
    );
    assert_eq!(s["metadata"]["labels"]["app"], "vsphere-export");
    assert_eq!(
        s["data"]["username"], old_secret["data"]["username"],
        "--keep copies the value"
    );
    let record: Value = serde_json::from_str(at(
        &s,
        "/metadata/annotations/rotate.kubectl-plugins.dev~1rotation",
    ))
    .unwrap_or_default();
    assert_eq!(record["result"], "succeeded");
    assert_eq!(record["from"], serde_json::json!([OLD]));
    assert_eq!(record["to"], new);
    assert_eq!(record["consumers"].as_array().map(Vec::len), Some(4));
    assert!(record["startedAt"].is_string() && record["finishedAt"].is_string());

    // Each rollout was waited for and healthy; the pods run on the new version.
    let health: Vec<(String, String)> = doc["health"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    (
                        h["consumer"]["name"].as_str().unwrap_or("").to_string(),
                        h["state"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        health,
        [
            ("exporter".into(), "healthy".into()),
            ("uploader".into(), "healthy".into()),
            ("inventory".into(), "healthy".into())
        ]
    );
    pods_settle_on(&c, &new);
    let changes = doc["changes"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(changes, 6, "create, four patches, the record");
}

#[test]
fn new_data_lacking_a_needed_key_is_refused_before_any_change() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let paths = lists();
    let before = c.resource_versions(&list_refs(&paths));
    // Without --keep username: the exporter reads key "username".
    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=New-Passw0rd-2025",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 2);
    let doc = json(&out);
    assert_eq!(doc["outcome"], "invalid");
    assert_eq!(doc["validation"]["problems"][0]["check"], "missingKey");
    assert_eq!(doc["validation"]["problems"][0]["key"], "username");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "error: the new data has no key \"username\", which deployment/vsphere/exporter needs"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: nothing was changed"));
    assert_eq!(
        before,
        c.resource_versions(&list_refs(&paths)),
        "nothing changed"
    );
    assert!(doc["changes"].as_array().is_some_and(Vec::is_empty));
    assert!(!all_text(&out).contains("New-Passw0rd-2025"));
}

#[test]
fn failing_new_pods_roll_everything_back() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    // The vCenter rejects this password: the StatefulSet's new pod crash-loops.
    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=Wrong-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 1);
    let doc = json(&out);
    assert_eq!(doc["outcome"], "rolledBack");
    let cause = doc["cause"].as_str().unwrap_or("");
    assert!(cause.starts_with("statefulset/vsphere/inventory: pod inventory-0 container app: CrashLoopBackOff, last exit code 3"), "{cause}");
    // Every consumer references the old Secret again, and the rolled-back ones are healthy.
    assert_eq!(referenced(&c), vec![OLD.to_string(); REFS.len()]);
    let rollback: Vec<(&str, &str)> = doc["health"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|h| h["phase"] == "rollback")
                .map(|h| {
                    (
                        h["consumer"]["name"].as_str().unwrap_or(""),
                        h["state"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rollback,
        [
            ("exporter", "healthy"),
            ("uploader", "healthy"),
            ("inventory", "healthy")
        ]
    );
    pods_settle_on(&c, OLD);
    // The failed version stays (never reused, never modified) with the outcome recorded.
    let new = doc["plan"]["secret"]["name"].as_str().unwrap_or_default();
    let s = c.get(&format!("/api/v1/namespaces/{NS}/secrets/{new}"));
    assert!(
        at(
            &s,
            "/metadata/annotations/rotate.kubectl-plugins.dev~1rotation"
        )
        .contains("\"result\":\"rolledBack\"")
    );
    // The table says what happened, and never the password.
    assert!(!all_text(&out).contains("Wrong-Passw0rd"));
}

#[test]
fn a_progress_deadline_fails_the_rollout_and_it_is_rolled_back() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    c.merge_patch(
        &format!("/apis/apps/v1/namespaces/{NS}/deployments/exporter"),
        &serde_json::json!({"spec": {"progressDeadlineSeconds": 2}}),
    );
    // Pods never become Ready with this password; the deadline ends the wait, not --timeout.
    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=Slow-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "2m",
        ],
    );
    assert_exit(&out, 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("deployment \"exporter\" exceeded its progress deadline"),
        "{text}"
    );
    assert!(text.contains("rotation FAILED and was rolled back"));
    assert_eq!(referenced(&c), vec![OLD.to_string(); REFS.len()]);
}

#[test]
fn a_timeout_rolls_back_and_no_rollback_leaves_things_as_they_are() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=Slow-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "2s",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 1);
    let doc = json(&out);
    assert_eq!(doc["outcome"], "rolledBack");
    assert_eq!(doc["health"][0]["state"], "timedOut");
    assert!(
        doc["health"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not healthy after 2s"))
    );
    assert_eq!(referenced(&c), vec![OLD.to_string(); REFS.len()]);

    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=Wrong-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "60s",
            "--no-rollback",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 1);
    let doc = json(&out);
    assert_eq!(doc["outcome"], "failedNoRollback");
    let new = doc["plan"]["secret"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let left: Vec<&str> = doc["leftOnNewVersion"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(left, ["exporter", "uploader", "inventory"]);
    let refs = referenced(&c);
    assert_eq!(
        refs[..4],
        vec![new.clone(); 4][..],
        "left on the new version"
    );
    assert_eq!(refs[4], OLD, "the CronJob was never reached");
}

#[test]
fn ctrl_c_during_the_wait_rolls_back_and_exits_130() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let mut child = suite_tests::plugin(
        "rotate",
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=Slow-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "5m",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).ok();
        s
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("stderr")));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "ended before waiting: {seen}");
        seen.push_str(&line);
        if line.starts_with("waiting for deployment/vsphere/exporter") {
            break;
        }
    }
    // The exporter is repointed and its new pods never become Ready: interrupt the wait.
    assert_eq!(referenced(&c)[0], at(&c.get(REFS[0].0), REFS[0].1));
    assert_ne!(referenced(&c)[0], OLD);
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -INT");
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).ok();
    let stdout = reader.join().unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(130),
        "stdout:\n{stdout}\nstderr:\n{seen}{rest}"
    );
    assert!(
        stdout.contains("interrupted: every repointed consumer was pointed back"),
        "{stdout}"
    );
    assert!(
        stdout.contains("changes (") && stdout.contains("roll back"),
        "the journal is printed: {stdout}"
    );
    assert_eq!(referenced(&c), vec![OLD.to_string(); REFS.len()]);
    pods_settle_on(&c, OLD);
}

#[test]
fn dry_runs_print_the_full_plan_and_change_nothing() {
    let sb = sandbox(&["rotate/vsphere"]);
    let c = Cluster::new(&sb);
    let paths = lists();
    let before = c.resource_versions(&list_refs(&paths));
    let out = kubectl_rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=New-Passw0rd-2025",
            "--keep",
            "username",
            "--dry-run",
        ],
    );
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "deployment/exporter",
        "env VSPHERE_PASSWORD (key password)",
        "deployment/uploader",
        "volume vsphere at app:/etc/vsphere",
        "statefulset/inventory",
        "cronjob/nightly-report",
        "envFrom",
        "would repoint",
        "patches (JSON patch, sent as they are):",
        "\"path\":\"/spec/jobTemplate/spec/template/spec/containers/0/envFrom/0/secretRef/name\"",
        "dry run: would create vsphere-credentials-",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert_eq!(
        before,
        c.resource_versions(&list_refs(&paths)),
        "client dry run changed nothing"
    );

    let out = rotate(
        &sb,
        &[
            "secret",
            OLD,
            "-n",
            NS,
            "--from-literal",
            "password=New-Passw0rd-2025",
            "--keep",
            "username",
            "--dry-run=server",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["outcome"], "validated");
    assert_eq!(doc["dryRun"], "server");
    let outcomes: Vec<&str> = doc["changes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        outcomes, ["validated"; 5],
        "create and four patches validated by the server"
    );
    // The JSON plan carries the exact patches with their guards.
    let first = &doc["plan"]["steps"][0]["patch"];
    assert_eq!(first[0]["path"], "/metadata/uid");
    assert_eq!(
        first[1],
        serde_json::json!({"op": "test", "path": REFS[0].1, "value": OLD})
    );
    assert_eq!(
        before,
        c.resource_versions(&list_refs(&paths)),
        "server dry run changed nothing"
    );
}

#[test]
fn an_unknown_secret_or_no_data_is_a_usage_error() {
    let sb = sandbox(&["rotate/vsphere"]);
    let out = rotate(&sb, &["secret", "nope", "-n", NS, "--generate", "password"]);
    assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("error: secret \"nope\" not found in namespace \"vsphere\"")
    );
    let out = rotate(&sb, &["secret", OLD, "-n", NS]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: no data for the new version"));
    let out = rotate(&sb, &["secret", OLD, "-n", NS, "--keep", "nope"]);
    assert_exit(&out, 2);
}

#[test]
fn gitops_managed_consumers_get_the_change_to_make_at_the_source() {
    let sb = sandbox(&["rotate/versions"]);
    let out = rotate(
        &sb,
        &[
            "secret",
            "db",
            "-n",
            "billing",
            "--generate",
            "password",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let doc = json(&out);
    let w = doc["plan"]["warnings"]
        .as_array()
        .and_then(|a| a.iter().find(|w| w["object"]["name"] == "worker"))
        .cloned()
        .unwrap_or_default();
    assert!(
        w["message"]
            .as_str()
            .is_some_and(|m| m.contains("managed by Helm release billing")),
        "{w}"
    );
    assert!(
        w["sourceChange"]
            .as_str()
            .is_some_and(|m| m.contains("helm upgrade billing -n billing")),
        "{w}"
    );
    // The current version is the newest one a consumer uses; both consumers move to the new one.
    assert_eq!(doc["plan"]["current"], "db-3333333333");
    assert_eq!(doc["plan"]["secret"]["version"], 5);
    assert_eq!(
        doc["plan"]["replaces"],
        serde_json::json!(["db", "db-3333333333"])
    );
}
