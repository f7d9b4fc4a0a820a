//! Fidelity suite across kubectl versions: every `kubectl.1.27` ... `1.33`
//! present must read discovery (aggregated or not), server-side tables and
//! OpenAPI from the sandbox.

mod fidelity_support;

use fidelity_support::{Kubectl, kubectl_or_skip, start_sandbox, versioned_kubectls};

#[test]
fn every_kubectl_version_reads_the_sandbox() {
    if kubectl_or_skip().is_none() {
        return;
    }
    let versions = versioned_kubectls();
    if versions.is_empty() {
        assert!(
            !fidelity_support::kubectl_required(),
            "no versioned kubectl in {} and REQUIRE_KUBECTL is set",
            fidelity_support::VERSIONED_DIR
        );
        eprintln!(
            "SKIP: no versioned kubectl in {}",
            fidelity_support::VERSIONED_DIR
        );
        return;
    }
    let sandbox = start_sandbox();
    // Versions run in parallel threads (each kubectl call is ~100 ms of CPU).
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = versions
            .iter()
            .map(|(v, bin)| {
                let sandbox = &sandbox;
                s.spawn(move || {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_version(v, &Kubectl::new(bin, sandbox))
                    }))
                    .err()
                    .map(|e| {
                        let msg = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        format!("kubectl {v}: {msg}")
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check_version(version: &str, k: &Kubectl) {
    let v = k.run(&["version", "-o", "json"]).ok().json();
    let client_minor = v["clientVersion"]["minor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        format!("1.{client_minor}"),
        version,
        "dispatcher picked another version"
    );
    assert_eq!(
        v["serverVersion"]["gitVersion"]
            .as_str()
            .map(|s| s.starts_with("v1.33")),
        Some(true)
    );

    let pods = k.run(&["get", "pods"]).ok();
    assert_eq!(
        pods.header(),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(pods.row("crasher")[2], "CrashLoopBackOff");
    assert_eq!(pods.row("puller")[2], "ImagePullBackOff");

    let nodes = k.run(&["get", "nodes"]).ok();
    assert_eq!(nodes.row("node-2")[1], "Ready,SchedulingDisabled");

    let widgets = k.run(&["get", "wd"]).ok();
    assert_eq!(widgets.row("gizmo"), ["gizmo", "True", "3", "60m"]);

    let res = k.run(&["api-resources", "--api-group=apps"]).ok();
    assert_eq!(
        res.row("deployments")[1..],
        ["deploy", "apps/v1", "true", "Deployment"]
    );

    let deploy = k.run(&["get", "deploy", "web", "-o", "json"]).ok().json();
    assert_eq!(deploy["kind"], "Deployment");

    // OpenAPI: from 1.29 kubectl detects server-side field validation in
    // /openapi/v3, so a default (`--validate=strict`) apply works. kubectl
    // 1.27/1.28 always download protobuf /openapi/v2 for validation and
    // explain, which the sandbox does not serve (JSON only): they need
    // `--validate=false` and cannot `explain`.
    let minor: u32 = version.trim_start_matches("1.").parse().unwrap_or(0);
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: v-check\nspec:\n  selector:\n    matchLabels: {app: v}\n  template:\n    metadata:\n      labels: {app: v}\n    spec:\n      containers:\n      - {name: a, image: nginx}\n";
    let mut args = vec!["apply", "--dry-run=server", "-f", "-"];
    if minor < 29 {
        args.push("--validate=false");
    }
    let applied = k.run_with_stdin(&args, Some(dep)).ok();
    assert!(
        applied
            .stdout
            .contains("deployment.apps/v-check created (server dry run)"),
        "{}",
        applied.stdout
    );
    if minor >= 29 {
        let explain = k.run(&["explain", "pods.spec.containers"]).ok();
        assert!(
            explain.stdout.contains("FIELD: containers"),
            "{}",
            explain.stdout
        );
    }
}
