//! Fidelity suite, write side: apply, patch, delete, drain and rollout with
//! the real `kubectl`, on a sandbox of its own (the read suite's stays intact).

mod fidelity_support;

use fidelity_support::{Kubectl, kubectl_or_skip, start_sandbox};
use kube_sandbox::Sandbox;
use std::sync::OnceLock;

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(start_sandbox)
}

fn kubectl() -> Option<Kubectl> {
    let bin = kubectl_or_skip()?;
    Some(Kubectl::new(&bin, sandbox()))
}

fn deployment_yaml(name: &str, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: default
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: app
        image: {image}
        ports:
        - containerPort: 8080
        env:
        - name: MODE
          value: fast
"
    )
}

#[test]
fn apply_creates_then_configures() {
    let Some(k) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("deploy.yaml");
    let file_arg = file.display().to_string();
    std::fs::write(&file, deployment_yaml("applied", "nginx:1.27", 1)).expect("write");
    let first = k.run(&["apply", "-f", &file_arg]).ok();
    assert_eq!(
        first.stdout.trim(),
        "deployment.apps/applied created",
        "stderr: {}",
        first.stderr
    );
    let again = k.run(&["apply", "-f", &file_arg]).ok();
    assert_eq!(again.stdout.trim(), "deployment.apps/applied unchanged");
    std::fs::write(&file, deployment_yaml("applied", "nginx:1.28", 3)).expect("write");
    let second = k.run(&["apply", "-f", &file_arg]).ok();
    assert_eq!(
        second.stdout.trim(),
        "deployment.apps/applied configured",
        "stderr: {}",
        second.stderr
    );
    let v = k
        .run(&["get", "deployment", "applied", "-o", "json"])
        .ok()
        .json();
    assert_eq!(v["spec"]["replicas"], 3);
    let c = &v["spec"]["template"]["spec"]["containers"];
    assert_eq!(c.as_array().map(Vec::len), Some(1), "{c}");
    assert_eq!(c[0]["image"], "nginx:1.28");
    assert_eq!(c[0]["env"][0]["value"], "fast");
    assert!(
        v["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|s| s.contains("nginx:1.28")),
        "{}",
        v["metadata"]
    );
}

#[test]
fn apply_server_side_and_dry_run() {
    let Some(k) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("d.yaml");
    let file_arg = file.display().to_string();
    std::fs::write(&file, deployment_yaml("dry", "nginx:1.27", 1)).expect("write");
    let dry = k.run(&["apply", "-f", &file_arg, "--dry-run=server"]).ok();
    assert!(
        dry.stdout
            .contains("deployment.apps/dry created (server dry run)"),
        "{}",
        dry.stdout
    );
    k.run(&["get", "deployment", "dry"]).failed();
    let ssa = k.run(&["apply", "--server-side", "-f", &file_arg]).ok();
    assert!(
        ssa.stdout
            .contains("deployment.apps/dry serverside-applied"),
        "{}{}",
        ssa.stdout,
        ssa.stderr
    );
}

#[test]
fn patch_merge_and_strategic() {
    let Some(k) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.yaml");
    std::fs::write(&file, deployment_yaml("patched", "nginx:1.27", 1)).expect("write");
    k.run(&["apply", "-f", &file.display().to_string()]).ok();

    let merge = k
        .run(&[
            "patch",
            "deployment",
            "patched",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":4}}"#,
        ])
        .ok();
    assert_eq!(merge.stdout.trim(), "deployment.apps/patched patched");
    // Default (strategic): the container list merges by name, keeping ports and env.
    let smp =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.29"}]}}}}"#;
    k.run(&["patch", "deployment", "patched", "-p", smp]).ok();
    let v = k
        .run(&["get", "deployment", "patched", "-o", "json"])
        .ok()
        .json();
    assert_eq!(v["spec"]["replicas"], 4);
    let c = &v["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:1.29");
    assert_eq!(c["ports"][0]["containerPort"], 8080, "{c}");
    assert_eq!(c["env"][0]["name"], "MODE", "{c}");
    let json_patch = r#"[{"op":"replace","path":"/spec/replicas","value":2}]"#;
    k.run(&[
        "patch",
        "deployment",
        "patched",
        "--type",
        "json",
        "-p",
        json_patch,
    ])
    .ok();
    let replicas = k
        .run(&[
            "get",
            "deployment",
            "patched",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .ok();
    assert_eq!(replicas.stdout, "2");
    let set_image = k
        .run(&["set", "image", "deployment/patched", "app=nginx:1.30"])
        .ok();
    assert!(
        set_image.stdout.contains("image updated"),
        "{}",
        set_image.stdout
    );
}

#[test]
fn delete_removes_object() {
    let Some(k) = kubectl() else { return };
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doomed\ndata:\n  a: \"1\"\n";
    k.run_with_stdin(&["apply", "-f", "-"], Some(cm)).ok();
    let out = k.run(&["delete", "configmap", "doomed"]).ok();
    assert_eq!(out.stdout.trim(), "configmap \"doomed\" deleted");
    let gone = k.run(&["get", "configmap", "doomed"]).failed();
    assert!(
        gone.stderr.contains("Error from server (NotFound)"),
        "{}",
        gone.stderr
    );
    assert!(
        gone.stderr.contains("configmaps \"doomed\" not found"),
        "{}",
        gone.stderr
    );
}

/// kubectl >= 1.32 sends `create <kind>` bodies as protobuf.
#[test]
fn create_with_protobuf_body() {
    let Some(k) = kubectl() else { return };
    let out = k
        .run(&["create", "configmap", "created", "--from-literal=a=1"])
        .ok();
    assert_eq!(out.stdout.trim(), "configmap/created created");
    let v = k
        .run(&["get", "configmap", "created", "-o", "json"])
        .ok()
        .json();
    assert_eq!(v["data"]["a"], "1");
}

#[test]
fn scale_and_restart() {
    let Some(k) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("r.yaml");
    std::fs::write(&file, deployment_yaml("scaled", "nginx:1.27", 1)).expect("write");
    k.run(&["apply", "-f", &file.display().to_string()]).ok();
    let scaled = k
        .run(&["scale", "deployment", "scaled", "--replicas=2"])
        .ok();
    assert_eq!(scaled.stdout.trim(), "deployment.apps/scaled scaled");
    let replicas = k
        .run(&[
            "get",
            "deployment",
            "scaled",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .ok();
    assert_eq!(replicas.stdout, "2");
    let restart = k.run(&["rollout", "restart", "deployment", "scaled"]).ok();
    assert_eq!(restart.stdout.trim(), "deployment.apps/scaled restarted");
    let v = k
        .run(&["get", "deployment", "scaled", "-o", "json"])
        .ok()
        .json();
    assert!(
        v["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{}",
        v["spec"]["template"]
    );
}

#[test]
fn rollout_status_completes() {
    let Some(k) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("r.yaml");
    std::fs::write(&file, deployment_yaml("rolled", "nginx:1.27", 2)).expect("write");
    k.run(&["apply", "-f", &file.display().to_string()]).ok();
    let status = k
        .run(&["rollout", "status", "deployment", "rolled", "--timeout=20s"])
        .ok();
    assert!(
        status.stdout.contains("successfully rolled out"),
        "{}",
        status.stdout
    );
    k.run(&["set", "image", "deployment/rolled", "app=nginx:1.28"])
        .ok();
    let status = k
        .run(&["rollout", "status", "deployment", "rolled", "--timeout=20s"])
        .ok();
    assert!(
        status.stdout.contains("successfully rolled out"),
        "{}",
        status.stdout
    );
    let history = k.run(&["rollout", "history", "deployment", "rolled"]).ok();
    assert!(history.stdout.contains("REVISION"), "{}", history.stdout);
    let pods = k
        .run(&["get", "pods", "-l", "app=rolled", "-o", "name"])
        .ok();
    assert_eq!(pods.stdout.lines().count(), 2, "{}", pods.stdout);
}

#[test]
fn cordon_and_drain() {
    let Some(k) = kubectl() else { return };
    let cordon = k.run(&["cordon", "node-1"]).ok();
    assert_eq!(cordon.stdout.trim(), "node/node-1 cordoned");
    let nodes = k.run(&["get", "node", "node-1"]).ok();
    assert_eq!(nodes.row("node-1")[1], "Ready,SchedulingDisabled");
    let drain = k
        .run(&[
            "drain",
            "node-1",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=30s",
        ])
        .ok();
    assert!(
        drain.stdout.contains("node/node-1 drained"),
        "{}\n{}",
        drain.stdout,
        drain.stderr
    );
    assert!(
        drain.stdout.contains("evicting pod default/web-1")
            || drain.stderr.contains("evicting pod default/web-1"),
        "{}\n{}",
        drain.stdout,
        drain.stderr
    );
    k.run(&["uncordon", "node-1"]).ok();
}
