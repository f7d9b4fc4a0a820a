//! Fidelity suite, read side: the real `kubectl` against kube-sandbox on the
//! fidelity fixtures, asserting on what kubectl prints.

mod fidelity_support;

use fidelity_support::{Kubectl, Run, kubectl_or_skip, start_sandbox};
use kube_sandbox::Sandbox;
use std::sync::OnceLock;

/// One sandbox for every read-only test of this file.
fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(start_sandbox)
}

/// A kubectl on the shared sandbox, or None (after printing SKIP).
fn kubectl() -> Option<Kubectl> {
    let bin = kubectl_or_skip()?;
    Some(Kubectl::new(&bin, sandbox()))
}

fn names(run: &Run) -> Vec<String> {
    let mut n: Vec<String> = run
        .table_rows()
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    n.sort();
    n
}

#[test]
fn get_pods_table_shows_kubelet_statuses() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "pods"]).ok();
    assert_eq!(out.header(), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(
        out.row("crasher"),
        ["crasher", "0/1", "CrashLoopBackOff", "7 (10m ago)", "4h"]
    );
    assert_eq!(out.row("puller")[2], "ImagePullBackOff");
    assert_eq!(out.row("batch-done")[2], "Completed");
    assert_eq!(out.row("web-1"), ["web-1", "1/1", "Running", "0", "3h"]);
}

#[test]
fn get_pods_wide_adds_priority_columns() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "pods", "-o", "wide"]).ok();
    assert_eq!(
        out.header(),
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    let row = out.row("web-1");
    assert_eq!(row[5..], ["10.244.0.10", "node-1", "<none>", "<none>"]);
}

#[test]
fn get_pods_json_parses() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "pods", "-o", "json"]).ok();
    let v = out.json();
    assert_eq!(v["kind"], "List");
    let items = v["items"].as_array().expect("items");
    let crasher = items
        .iter()
        .find(|p| p["metadata"]["name"] == "crasher")
        .expect("crasher");
    assert_eq!(crasher["kind"], "Pod");
    assert_eq!(crasher["status"]["containerStatuses"][0]["restartCount"], 7);
    assert!(items.len() >= 5, "{} pods", items.len());
}

#[test]
fn label_selector_filters() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "pods", "-l", "app=web"]).ok();
    assert_eq!(names(&out), ["web-1", "web-2"]);
    let out = k
        .run(&["get", "pods", "-l", "app in (crasher,puller)", "-o", "name"])
        .ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines, ["pod/crasher", "pod/puller"]);
}

#[test]
fn field_selector_filters() {
    let Some(k) = kubectl() else { return };
    let out = k
        .run(&["get", "pods", "--field-selector", "status.phase=Running"])
        .ok();
    assert_eq!(names(&out), ["crasher", "web-1", "web-2"]);
    let out = k
        .run(&[
            "get",
            "pods",
            "--field-selector",
            "status.phase!=Running,spec.nodeName=node-1",
        ])
        .ok();
    assert_eq!(names(&out), ["batch-done", "puller"]);
}

#[test]
fn chunked_list_pages_through_everything() {
    let Some(k) = kubectl() else { return };
    let all = k.run(&["get", "pods", "-o", "name"]).ok();
    let chunked = k.run(&["get", "pods", "--chunk-size=2", "-v=6"]).ok();
    assert_eq!(
        chunked.table_rows().len(),
        all.stdout.lines().count(),
        "{}",
        chunked.stdout
    );
    let list_requests = chunked
        .stderr
        .lines()
        .filter(|l| l.contains("/api/v1/namespaces/default/pods?") && l.contains("limit=2"))
        .count();
    assert!(
        list_requests > 1,
        "expected several list requests:\n{}",
        chunked.stderr
    );
    assert!(
        chunked.stderr.contains("continue="),
        "no continue token used:\n{}",
        chunked.stderr
    );
}

#[test]
fn get_nodes_shows_roles_and_cordon() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "nodes"]).ok();
    assert_eq!(out.header(), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(
        out.row("node-1"),
        ["node-1", "Ready", "control-plane", "30d", "v1.33.0"]
    );
    assert_eq!(
        out.row("node-2"),
        [
            "node-2",
            "Ready,SchedulingDisabled",
            "worker",
            "2d",
            "v1.33.0"
        ]
    );
    let wide = k.run(&["get", "nodes", "-o", "wide"]).ok();
    assert_eq!(wide.row("node-1")[5], "10.0.0.11");
}

#[test]
fn get_other_kinds() {
    let Some(k) = kubectl() else { return };
    let deploy = k.run(&["get", "deployments"]).ok();
    assert_eq!(
        deploy.header(),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert_eq!(deploy.row("web")[1], "2/2");
    let svc = k.run(&["get", "svc", "web"]).ok();
    assert_eq!(
        svc.row("web")[1..5],
        ["ClusterIP", "10.96.0.20", "<none>", "80/TCP"]
    );
    let cm = k.run(&["get", "cm", "settings"]).ok();
    assert_eq!(cm.row("settings")[1], "2");
    let crd = k.run(&["get", "crd"]).ok();
    assert_eq!(crd.header(), ["NAME", "CREATED AT"]);
    assert!(crd.stdout.contains("widgets.example.com"));
    let w = k.run(&["get", "widgets"]).ok();
    assert_eq!(w.header(), ["NAME", "READY", "SIZE", "AGE"]);
    assert_eq!(w.row("gizmo"), ["gizmo", "True", "3", "60m"]);
    let ev = k
        .run(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=crasher",
        ])
        .ok();
    assert_eq!(
        ev.header(),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(ev.stdout.contains("pod/crasher"), "{}", ev.stdout);
}

#[test]
fn describe_pod_shows_state_and_events() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["describe", "pod", "crasher"]).ok();
    for want in [
        "Name:",
        "crasher",
        "CrashLoopBackOff",
        "Restart Count:  7",
        "Events:",
        "BackOff",
        "Back-off restarting failed container",
    ] {
        assert!(
            out.stdout.contains(want),
            "missing {want:?} in:\n{}",
            out.stdout
        );
    }
}

#[test]
fn logs_current_and_previous() {
    let Some(k) = kubectl() else { return };
    let prev = k.run(&["logs", "crasher", "--previous"]).ok();
    assert!(
        prev.stdout
            .contains("panic: config file /etc/app.yaml not found"),
        "{}",
        prev.stdout
    );
    let cur = k.run(&["logs", "crasher"]).ok();
    assert_eq!(cur.stdout, "starting\n");
}

#[test]
fn auth_can_i() {
    let Some(k) = kubectl() else { return };
    let admin = k.run(&["auth", "can-i", "list", "pods"]).ok();
    assert_eq!(admin.stdout.trim(), "yes");
    let alice = k.run(&["--context", "alice", "auth", "can-i", "list", "pods"]);
    assert_eq!(alice.stdout.trim(), "no", "stderr: {}", alice.stderr);
    assert_eq!(alice.code, 1);
    let alice_cm = k
        .run(&["--context", "alice", "auth", "can-i", "list", "configmaps"])
        .ok();
    assert_eq!(alice_cm.stdout.trim(), "yes");
}

#[test]
fn denied_user_gets_forbidden() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["--context", "alice", "get", "pods"]).failed();
    assert!(
        out.stderr.contains("Error from server (Forbidden)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("alice"), "{}", out.stderr);
    // Allowed for everything it is not denied.
    k.run(&["--context", "alice", "get", "configmaps"]).ok();
}

#[test]
fn wrong_token_is_unauthorized() {
    let Some(k) = kubectl() else { return };
    let out = k
        .run(&["--token", "not-a-valid-token", "get", "pods"])
        .failed();
    assert!(
        out.stderr.contains("Unauthorized") || out.stderr.contains("You must be logged in"),
        "{}",
        out.stderr
    );
}

#[test]
fn api_resources_from_discovery() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["api-resources"]).ok();
    let pods = out.row("pods");
    assert_eq!(pods, ["pods", "po", "v1", "true", "Pod"]);
    assert_eq!(
        out.row("deployments"),
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    assert_eq!(
        out.row("widgets"),
        ["widgets", "wd", "example.com/v1", "true", "Widget"]
    );
    let v = k.run(&["version", "-o", "json"]).ok().json();
    assert_eq!(v["serverVersion"]["minor"], "33");
}

/// The triage plugin binary's directory, building it if needed.
fn plugin_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("debug");
    if !dir.join("kubectl-triage").is_file() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "kubectl-triage"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p kubectl-triage failed");
    }
    dir
}

#[test]
fn plugin_is_found_on_path() {
    let Some(bin) = kubectl_or_skip() else { return };
    let mut k = Kubectl::new(&bin, sandbox());
    k.extra_path = Some(plugin_dir());
    let kubeconfig = k.kubeconfig.display().to_string();
    let listed = k.raw(&["plugin".into(), "list".into()], None);
    assert!(
        listed.stdout.contains("kubectl-triage"),
        "plugin list:\n{}\n{}",
        listed.stdout,
        listed.stderr
    );
    // kubectl only dispatches to a plugin when the plugin name is the first
    // argument ("flags cannot be placed before plugin name"), so the
    // kubeconfig goes after it, as the plugin parses its own flags.
    let out = k
        .raw(
            &[
                "triage".into(),
                "--kubeconfig".into(),
                kubeconfig,
                "--help".into(),
            ],
            None,
        )
        .ok();
    assert!(out.stdout.contains("kubectl triage"), "{}", out.stdout);
}
