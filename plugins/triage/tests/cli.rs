//! End-to-end: the real binary against kube-sandbox, one scenario per
//! fixture folder under tests/fixtures/triage/.

use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use kube_sandbox::{Sandbox, fixture_dir};
use serde_json::Value;
use suite_tests::{json, sandbox as start};

fn sandbox(folder: &str) -> Sandbox {
    start(&[folder])
}

fn triage(sb: &Sandbox, args: &[&str]) -> Output {
    suite_tests::run(&mut suite_tests::plugin("triage", sb, args))
}

/// (reason, kind/name) of every finding.
fn findings(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["reason"].as_str().unwrap_or_default().to_string(),
                format!(
                    "{}/{}",
                    f["object"]["kind"].as_str().unwrap_or_default(),
                    f["object"]["name"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect()
}

fn finding<'a>(doc: &'a Value, reason: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["reason"] == reason))
        .unwrap_or_else(|| panic!("no {reason} finding in {doc:#}"))
}

/// `kubectl triage ARGS` the way a user runs it (the suite harness: the real kubectl
/// finding the built plugin on PATH).
fn kubectl_triage(sb: &Sandbox, args: &[&str]) -> Output {
    suite_tests::run(&mut suite_tests::kubectl_plugin("triage", sb, args))
}

/// Run one scenario and assert exactly the expected findings and exit code.
fn scenario(folder: &str, namespace: &str, expected: &[(&str, &str)], exit: i32) -> Value {
    let sb = sandbox(&format!("triage/{folder}"));
    let out = kubectl_triage(&sb, &["-n", namespace, "-o", "json"]);
    let doc = json(&out);
    let got = findings(&doc);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(r, o)| (r.to_string(), o.to_string()))
        .collect();
    assert_eq!(got, want, "findings of {folder}: {doc:#}");
    assert_eq!(
        out.status.code(),
        Some(exit),
        "exit of {folder}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["apiVersion"], "triage.kubectl-plugins.dev/v1");
    assert_eq!(doc["kind"], "TriageReport");
    doc
}

fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn healthy_namespace_has_no_findings() {
    let doc = scenario("healthy", "triage-healthy", &[], 0);
    assert_eq!(doc["skipped"].as_array().map(Vec::len), Some(0), "{doc:#}");
    // 24 lists and discoveries + the namespace + the kubelet stats of the one node
    // running a pod with a PVC (see request_count_is_bounded).
    assert!(
        doc["stats"]["requests"].as_u64().unwrap_or(0) <= 26,
        "{doc:#}"
    );
}

#[test]
fn crash_loop_is_grouped_under_its_deployment_with_redacted_logs() {
    let doc = scenario(
        "crash-loop-back-off",
        "triage-crashloop",
        &[("CrashLoopBackOff", "Deployment/api")],
        1,
    );
    let f = finding(&doc, "CrashLoopBackOff");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["affected"].as_array().map(Vec::len), Some(2));
    let ev = evidence(f);
    assert!(ev.contains("exit code 1"), "{ev}");
    assert!(ev.contains("9 restarts"), "{ev}");
    assert!(ev.contains("config error: missing DATABASE_URL"), "{ev}");
    assert!(
        !ev.contains("hunter2") && !ev.contains("s3cr3t-pw"),
        "secret leaked: {ev}"
    );
    let rem = f["remediation"].to_string();
    assert!(
        rem.contains("kubectl logs api-5f7b9c8d4-k8x2m -c api -n triage-crashloop --previous"),
        "{rem}"
    );
}

#[test]
fn oom_wins_over_crash_loop_and_names_the_limit() {
    let doc = scenario(
        "oom-killed",
        "triage-oom",
        &[("OOMKilled", "Deployment/worker")],
        1,
    );
    let f = finding(&doc, "OOMKilled");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("limit 256Mi"),
        "{f:#}"
    );
    let ev = evidence(f);
    assert!(ev.contains("137 (SIGKILL)"), "{ev}");
    assert!(ev.contains("memory usage now 250Mi"), "{ev}");
    assert!(
        f["remediation"]
            .to_string()
            .contains("kubectl set resources deployment/worker")
    );
}

#[test]
fn image_pull_shows_image_message_and_missing_pull_secret() {
    let doc = scenario(
        "image-pull-back-off",
        "triage-imagepull",
        &[("ImagePullBackOff", "Deployment/web")],
        1,
    );
    let ev = evidence(finding(&doc, "ImagePullBackOff"));
    assert!(ev.contains("registry.example.com/web:1.4.3-typo"), "{ev}");
    assert!(ev.contains("pull secret regcred: does not exist"), "{ev}");
}

#[test]
fn missing_reference_names_object_and_key() {
    let doc = scenario(
        "missing-reference",
        "triage-missingref",
        &[("MissingReference", "Deployment/app")],
        1,
    );
    let ev = evidence(finding(&doc, "MissingReference"));
    assert!(ev.contains("Secret db-creds has no key password"), "{ev}");
    assert!(ev.contains("ConfigMap app-settings does not exist"), "{ev}");
}

#[test]
fn unschedulable_shows_scheduler_message_and_cause() {
    let doc = scenario(
        "unschedulable",
        "triage-unschedulable",
        &[("Unschedulable", "Deployment/batch")],
        1,
    );
    let ev = evidence(finding(&doc, "Unschedulable"));
    assert!(
        ev.contains("0/3 nodes are available: 3 Insufficient memory"),
        "{ev}"
    );
    assert!(ev.contains("memory=48Gi"), "{ev}");
}

#[test]
fn rbac_limited_user_gets_skipped_checks_and_exit_4() {
    let sb = sandbox("triage/rbac");
    let out = triage(
        &sb,
        &["--context", "viewer", "-n", "triage-rbac", "-o", "json"],
    );
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(4), "{doc:#}");
    assert_eq!(
        findings(&doc),
        vec![],
        "forbidden lists must not become findings"
    );
    let skipped = doc["skipped"].to_string();
    for what in ["secrets", "nodes", "events"] {
        assert!(
            skipped.contains(&format!("cannot list {what}")),
            "{skipped}"
        );
    }
    assert!(
        skipped.contains("MissingReference") && skipped.contains("NodeProblem"),
        "{skipped}"
    );
    // A finding at/above --fail-on still wins over "partial".
    let out = triage(
        &sb,
        &[
            "--context",
            "viewer",
            "-n",
            "triage-rbac",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn unreachable_server_is_exit_3_with_one_error_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("kubeconfig");
    // Port 1 on loopback: nothing listens there.
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\ncontexts:\n- name: dead\n  context: {cluster: dead, user: u}\nusers:\n- name: u\n  user: {token: abc}\n",
    )
    .expect("write kubeconfig");
    let started = Instant::now();
    let out = Command::cargo_bin("kubectl-triage")
        .expect("binary")
        .args([
            "--kubeconfig",
            &kc.to_string_lossy(),
            "-n",
            "x",
            "--request-timeout",
            "2s",
        ])
        .env_remove("KUBECONFIG")
        .timeout(Duration::from_secs(30))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flags_are_exit_2() {
    for args in [
        &["--ignore", "NoSuchReason"][..],
        &["--since", "banana"][..],
        &["--fail-on", "sometimes"][..],
    ] {
        let out = Command::cargo_bin("kubectl-triage")
            .expect("binary")
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error:"), "{stderr}");
    }
    let out = Command::cargo_bin("kubectl-triage")
        .expect("binary")
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: kubectl triage"), "{help}");
}

#[test]
fn unknown_namespace_is_bad_input_not_a_clean_bill() {
    let sb = sandbox("triage/healthy");
    let out = triage(&sb, &["-n", "no-such-namespace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: namespace \"no-such-namespace\" not found\nhint: "),
        "{stderr}"
    );
}

#[test]
fn ignore_flag_and_table_and_name_output() {
    let sb = sandbox("triage/crash-loop-back-off");
    let out = triage(
        &sb,
        &["-n", "triage-crashloop", "--ignore", "CrashLoopBackOff"],
    );
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(
            "no problems found in namespace triage-crashloop (2 pods, 1 workloads checked)"
        ),
        "{table}"
    );

    let out = triage(&sb, &["-n", "triage-crashloop"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("CRITICAL  CrashLoopBackOff  deployment/api"),
        "{table}"
    );
    assert!(
        table.contains("→ kubectl logs api-5f7b9c8d4-k8x2m -c api"),
        "{table}"
    );
    assert!(
        table.trim_end().ends_with(
            "1 finding: 1 critical in namespace triage-crashloop (2 pods, 1 workloads checked)"
        ),
        "{table}"
    );

    let out = triage(&sb, &["-n", "triage-crashloop", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "deployment/triage-crashloop/api\n"
    );

    let out = triage(&sb, &["-n", "triage-crashloop", "-o", "wide"]);
    let wide = String::from_utf8_lossy(&out.stdout);
    assert!(
        wide.contains("affected: api-5f7b9c8d4-k8x2m (node node-1)"),
        "{wide}"
    );

    let out = triage(&sb, &["-n", "triage-crashloop", "-o", "yaml"]);
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("apiVersion: triage.kubectl-plugins.dev/v1"),
        "{yaml}"
    );
}

#[test]
fn request_count_is_bounded() {
    let sb = sandbox("triage/crash-loop-back-off");
    let before = sb.request_count();
    let out = triage(&sb, &["-n", "triage-crashloop", "-o", "json"]);
    let used = sb.request_count() - before;
    let doc = json(&out);
    // One list per type: pods, events, deployments, replicasets, statefulsets,
    // daemonsets, services, endpointslices, pvcs, hpas, pdbs, jobs, cronjobs,
    // configmaps, secrets, serviceaccounts, nodes, pod metrics, ingresses,
    // networkpolicies, storageclasses, validating and mutating webhook
    // configurations (23), the Gateway API discovery (1), the namespace (1), one
    // previous log (one per workload and container).
    assert!(used <= 26, "used {used} requests");
    assert_eq!(doc["stats"]["requests"].as_u64(), Some(used));
}

#[test]
fn demo_crash_loop_is_grouped_with_connection_refused_evidence() {
    let demo = fixture_dir("demo");
    if !demo.exists() {
        println!("SKIP: tests/fixtures/demo not present");
        return;
    }
    let sb = sandbox("demo");
    let out = triage(&sb, &["-n", "hypersdk", "-o", "json"]);
    let doc = json(&out);
    let f = finding(&doc, "CrashLoopBackOff");
    assert_eq!(f["object"]["kind"], "Deployment", "{f:#}");
    assert_eq!(f["object"]["name"], "hypersdk");
    assert!(evidence(f).contains("connection refused"), "{f:#}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn runs_as_a_kubectl_plugin() {
    // Every scenario goes through `kubectl triage` (see `scenario`); this one
    // also checks the table output arrives unchanged through kubectl.
    let sb = sandbox("triage/crash-loop-back-off");
    let out = kubectl_triage(&sb, &["-n", "triage-crashloop"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("CRITICAL  CrashLoopBackOff  deployment/api"),
        "{table}"
    );
}

/// (folder, namespace, expected (reason, Kind/name) findings, exit code).
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    i32,
);

/// Every per-reason fixture folder through the real binary and sandbox:
/// exactly the expected findings, on the right objects, and the exit code.
#[test]
fn every_reason_scenario_through_the_sandbox() {
    const CASES: &[Case] = &[
        (
            "probe-failing",
            "triage-probe",
            &[("ProbeFailing", "Deployment/api")],
            0,
        ),
        (
            "high-restarts",
            "triage-restarts",
            &[("HighRestarts", "Deployment/cache")],
            0,
        ),
        (
            "container-error",
            "triage-containererror",
            &[("ContainerError", "Pod/db-migrate")],
            0,
        ),
        (
            "deployment-unavailable",
            "triage-rollout",
            &[("DeploymentUnavailable", "Deployment/api")],
            1,
        ),
        (
            "statefulset-unavailable",
            "triage-sts",
            &[("StatefulSetUnavailable", "StatefulSet/db")],
            1,
        ),
        (
            "daemonset-unavailable",
            "triage-ds",
            &[("DaemonSetUnavailable", "DaemonSet/agent")],
            1,
        ),
        (
            "no-ready-endpoints",
            "triage-endpoints",
            &[
                ("NoReadyEndpoints", "Service/web"),
                ("ProbeFailing", "Deployment/web"),
            ],
            1,
        ),
        (
            "selector-matches-no-pods",
            "triage-selector",
            &[("SelectorMatchesNoPods", "Service/frontend")],
            1,
        ),
        (
            "pvc-pending",
            "triage-pvc",
            &[("PVCPending", "PersistentVolumeClaim/reports")],
            0,
        ),
        (
            "hpa-at-max",
            "triage-hpa",
            &[("HPAAtMax", "HorizontalPodAutoscaler/checkout")],
            0,
        ),
        (
            "pdb-blocks-disruption",
            "triage-pdb",
            &[("PDBBlocksDisruption", "PodDisruptionBudget/ledger")],
            0,
        ),
        (
            "node-problem",
            "triage-node",
            &[("NodeProblem", "Node/node-2")],
            0,
        ),
        (
            "job-failed",
            "triage-jobs",
            &[
                ("JobFailed", "CronJob/nightly-report"),
                ("JobFailed", "Job/export-orders"),
            ],
            0,
        ),
        (
            "high-resource-usage",
            "triage-usage",
            &[("HighResourceUsage", "Deployment/indexer")],
            0,
        ),
        (
            "warning-events",
            "triage-events",
            &[("WarningEvents", "Pod/docs-6f5e4d3c2-x7k2p")],
            0,
        ),
        (
            "ingress-references",
            "triage-ingress",
            &[
                ("MissingReference", "Ingress/docs"),
                ("MissingReference", "Ingress/shop"),
                ("NoReadyEndpoints", "Service/web"),
                ("ProbeFailing", "Deployment/web"),
            ],
            1,
        ),
        (
            "gateway-api",
            "triage-gateway",
            &[
                ("GatewayNotReady", "Gateway/public"),
                ("GatewayNotReady", "GatewayClass/internal"),
                ("MissingReference", "HTTPRoute/cart"),
                ("RouteNotAccepted", "HTTPRoute/checkout"),
                ("MissingReference", "HTTPRoute/search"),
            ],
            1,
        ),
        (
            "network-policy",
            "triage-netpol",
            &[
                ("NetworkPolicyBlocksService", "NetworkPolicy/default-deny"),
                ("NetworkPolicyMatchesNoPods", "NetworkPolicy/allow-legacy"),
            ],
            0,
        ),
        (
            "hpa-missing-target",
            "triage-hpatarget",
            &[("MissingReference", "HorizontalPodAutoscaler/worker")],
            1,
        ),
        (
            "node-failed",
            "triage-nodefailed",
            &[("NodeProblem", "Node/node-2")],
            1,
        ),
        (
            "mount-failure",
            "triage-mount",
            &[("MissingReference", "Deployment/reports")],
            1,
        ),
        (
            "common-cause",
            "triage-commoncause",
            &[("CrashLoopBackOff", "Deployment/checkout")],
            1,
        ),
    ];
    for (folder, ns, expected, exit) in CASES {
        scenario(folder, ns, expected, *exit);
    }
}

#[test]
fn rollout_evidence_names_the_change_and_the_undo() {
    let doc = scenario(
        "deployment-unavailable",
        "triage-rollout",
        &[("DeploymentUnavailable", "Deployment/api")],
        1,
    );
    let f = finding(&doc, "DeploymentUnavailable");
    let ev = evidence(f);
    assert!(ev.contains("revision 4 → 5"), "{ev}");
    assert!(
        ev.contains("image: registry.example.com/api:1.8.0 → registry.example.com/api:1.9.0"),
        "{ev}"
    );
    assert!(ev.contains("exceeded quota"), "{ev}");
    assert!(
        f["remediation"]
            .to_string()
            .contains("kubectl rollout undo deployment/api -n triage-rollout --to-revision=4"),
        "{f:#}"
    );
}

#[test]
fn fail_on_warning_trips_on_warnings() {
    let sb = sandbox("triage/pvc-pending");
    let out = triage(
        &sb,
        &["-n", "triage-pvc", "--fail-on", "warning", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let ev = evidence(finding(&json(&out), "PVCPending"));
    assert!(ev.contains("fast-ssd"), "{ev}");
}

#[test]
fn silent_server_times_out_within_request_timeout() {
    // A listener that accepts TCP (kernel backlog) but never answers TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: mute\nclusters:\n- name: mute\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: mute\n  context: {{cluster: mute, user: u}}\nusers:\n- name: u\n  user: {{token: abc}}\n"),
    )
    .expect("write kubeconfig");
    let started = Instant::now();
    let out = Command::cargo_bin("kubectl-triage")
        .expect("binary")
        .args([
            "--kubeconfig",
            &kc.to_string_lossy(),
            "-n",
            "x",
            "--request-timeout",
            "2s",
        ])
        .env_remove("KUBECONFIG")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    drop(listener);
}

#[test]
fn webhook_that_fails_closed_with_no_ready_backend_is_critical() {
    let doc = scenario(
        "admission-webhook-down",
        "triage-webhook",
        &[(
            "AdmissionWebhookDown",
            "ValidatingWebhookConfiguration/policy-guard",
        )],
        1,
    );
    let f = finding(&doc, "AdmissionWebhookDown");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["object"]["namespace"], "");
    let ev = evidence(f);
    assert!(
        ev.contains("Service policy/guard (port 443) has no ready endpoints (0/1)"),
        "{ev}"
    );
    assert!(ev.contains("namespace(s): triage-webhook"), "{ev}");
    // The fail-open injector and the webhook for team=payments namespaces are not reported.
    assert!(!doc.to_string().contains("sidecar-injector"), "{doc:#}");
    assert!(!doc.to_string().contains("payments-guard"), "{doc:#}");
    let rem = f["remediation"].to_string();
    assert!(rem.contains("/webhooks/0/failurePolicy"), "{rem}");
}

#[test]
fn pvc_near_full_from_the_kubelet_stats_and_skipped_without_nodes_proxy() {
    let sb = sandbox("triage/pvc-near-full");
    let out = kubectl_triage(&sb, &["-n", "triage-pvcfull", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(
        findings(&doc),
        vec![
            (
                "PVCNearFull".to_string(),
                "PersistentVolumeClaim/cache-data".to_string()
            ),
            (
                "PVCNearFull".to_string(),
                "PersistentVolumeClaim/data-db-0".to_string()
            ),
        ],
        "{doc:#}"
    );
    assert_eq!(out.status.code(), Some(1), "97% full is critical");
    let items = doc["findings"].as_array().expect("findings");
    assert_eq!(items[0]["severity"], "critical");
    assert_eq!(items[1]["severity"], "warning");
    let db = &items[1];
    assert!(
        db["message"].as_str().unwrap_or("").starts_with("92% full"),
        "{db:#}"
    );
    assert!(
        db["remediation"]
            .to_string()
            .contains(r#"kubectl patch pvc data-db-0 -n triage-pvcfull -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}'"#),
        "{db:#}"
    );
    assert!(
        evidence(&items[0]).contains("does not allow volume expansion"),
        "{:#}",
        items[0]
    );

    // Without nodes/proxy: a skipped entry, nothing claimed, the run is partial.
    let out = triage(
        &sb,
        &[
            "--context",
            "no-proxy",
            "-n",
            "triage-pvcfull",
            "-o",
            "json",
        ],
    );
    let doc = json(&out);
    assert_eq!(findings(&doc), vec![], "{doc:#}");
    let skipped = doc["skipped"].to_string();
    assert!(
        skipped.contains("PVCNearFull") && skipped.contains("forbidden"),
        "{skipped}"
    );
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn failing_pods_are_compared_with_the_healthy_ones() {
    let doc = scenario(
        "common-cause",
        "triage-commoncause",
        &[("CrashLoopBackOff", "Deployment/checkout")],
        1,
    );
    let ev = evidence(finding(&doc, "CrashLoopBackOff"));
    assert!(
        ev.contains("the only crashing pod is from revision 8 (ReplicaSet checkout-7f8a9b0c1) with image registry.example.com/checkout:5.2.0; the 2 pods from revision 7 (ReplicaSet checkout-6e7f8a9b0) are Ready"),
        "{ev}"
    );
}

#[test]
fn demo_names_the_new_node_the_crashing_pod_runs_on() {
    let sb = sandbox("demo");
    let out = kubectl_triage(&sb, &["-n", "hypersdk"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(
            "the only crashing pod runs on node-c, which joined 60m ago; the 2 pods on node-a and node-b are Ready"
        ),
        "{table}"
    );
    assert!(table.contains("→ kubectl describe node node-c"), "{table}");
}

#[test]
fn node_failure_owns_the_pods_it_made_not_ready() {
    let doc = scenario(
        "node-failed",
        "triage-nodefailed",
        &[("NodeProblem", "Node/node-2")],
        1,
    );
    let f = finding(&doc, "NodeProblem");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["affected"].as_array().map(Vec::len), Some(2), "{f:#}");
    assert!(
        evidence(f).contains("deployment/triage-nodefailed/api: 2 pods"),
        "{f:#}"
    );
}

/// Secrets in a termination message, a kubelet message, an event and a previous
/// log never reach stdout or stderr, in any format, at any verbosity.
#[test]
fn secrets_never_reach_any_output() {
    const SECRETS: &[&str] = &[
        "Tr0ub4dor-redaction-test",
        "rEdAcTiOnBeArErToKeN0123456789",
        "eyJhbGciOiJSUzI1NiIsImtpZCI6InJlZGFjdGlvbi10ZXN0In0",
        "UmVkYWN0aW9uVGVzdFNpZ25hdHVyZTAxMjM0NTY3ODk",
        "MIIEowIBAAKCAQEAredactionTestBodyLineOne",
        "RedactionTestBodyLineTwo",
        "RedactionTestBodyLineThree",
    ];
    let sb = sandbox("triage/redaction");
    for format in ["table", "wide", "json", "yaml", "name"] {
        for verbosity in [&[][..], &["-v", "-v"][..]] {
            let mut args = vec!["-n", "triage-redaction", "-o", format, "--stats"];
            args.extend(verbosity);
            let out = kubectl_triage(&sb, &args);
            assert_eq!(out.status.code(), Some(1), "{format}");
            let (stdout, stderr) = suite_tests::text(&out);
            for secret in SECRETS {
                assert!(
                    !stdout.contains(secret) && !stderr.contains(secret),
                    "{secret} leaked with -o {format} {verbosity:?}:\n{stdout}\n{stderr}"
                );
            }
            if format == "json" {
                // The evidence is still there, masked.
                let ev = evidence(finding(&json(&out), "CrashLoopBackOff"));
                assert!(
                    ev.contains("termination message: login to vault failed: password=***"),
                    "{ev}"
                );
                assert!(ev.contains("-----BEGIN RSA PRIVATE KEY-----***"), "{ev}");
            }
        }
    }
}

/// A kubeconfig with one context per sandbox (`alpha`, `bravo`, ...).
fn kubeconfig_of(sandboxes: &[(&str, &Sandbox)], dest: &std::path::Path) {
    let mut merged = kube::config::Kubeconfig::default();
    for (name, sb) in sandboxes {
        let one = kube::config::Kubeconfig::read_from(sb.kubeconfig()).expect("sandbox kubeconfig");
        let mut cluster = one.clusters[0].clone();
        cluster.name = name.to_string();
        let mut user = one.auth_infos[0].clone();
        user.name = name.to_string();
        let mut context = one.contexts[0].clone();
        context.name = name.to_string();
        if let Some(c) = context.context.as_mut() {
            c.cluster = name.to_string();
            c.user = Some(name.to_string());
        }
        merged.clusters.push(cluster);
        merged.auth_infos.push(user);
        merged.contexts.push(context);
    }
    merged.current_context = Some(sandboxes[0].0.to_string());
    std::fs::write(
        dest,
        serde_json::to_string(&merged).expect("kubeconfig json"),
    )
    .expect("write");
}

#[test]
fn several_contexts_at_once_with_one_down() {
    let alpha = sandbox("triage/crash-loop-back-off");
    let bravo = sandbox("triage/healthy");
    let down = sandbox("triage/healthy");
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("kubeconfig");
    kubeconfig_of(
        &[("alpha", &alpha), ("bravo", &bravo), ("charlie", &down)],
        &kc,
    );
    drop(down); // charlie's API server is gone: connection refused
    let kc = kc.to_string_lossy().to_string();
    let run = |args: &[&str]| {
        // `kubectl triage` as a user runs it, with the merged kubeconfig.
        let mut cmd = if suite_tests::kubectl_available() {
            let mut c = suite_tests::kubectl();
            c.arg("triage");
            c
        } else {
            std::process::Command::new(suite_tests::plugin_bin("triage"))
        };
        cmd.args(["--kubeconfig", kc.as_str(), "--request-timeout", "5s"])
            .args(args)
            .env_remove("KUBECONFIG")
            .env("NO_COLOR", "1");
        suite_tests::run(&mut cmd)
    };
    let out = run(&[
        "--context",
        "alpha,charlie,bravo",
        "-n",
        "triage-crashloop",
        "-o",
        "json",
    ]);
    let doc = json(&out);
    assert_eq!(doc["kind"], "TriageReportList", "{doc:#}");
    assert_eq!(doc["apiVersion"], "triage.kubectl-plugins.dev/v1");
    let items = doc["items"].as_array().expect("items");
    let contexts: Vec<&str> = items
        .iter()
        .map(|i| i["scope"]["context"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(contexts, ["alpha", "charlie", "bravo"]);
    assert_eq!(
        findings(&items[0]),
        vec![("CrashLoopBackOff".to_string(), "Deployment/api".to_string())]
    );
    assert_eq!(items[0]["kind"], "TriageReport");
    let err = &items[1]["error"];
    assert_eq!(err["exitCode"], 3, "{doc:#}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("cannot reach the Kubernetes API server"),
        "{err:#}"
    );
    assert!(
        err["hint"]
            .as_str()
            .unwrap_or("")
            .contains("context charlie"),
        "{err:#}"
    );
    // bravo has no triage-crashloop namespace: its own error (bad input there), the others still ran.
    assert_eq!(items[2]["error"]["exitCode"], 2, "{doc:#}");
    assert_eq!(doc["summary"]["contexts"], 3);
    assert_eq!(doc["summary"]["failed"], 2);
    assert_eq!(doc["summary"]["critical"], 1);
    // The worst of all: unreachable (3) over bad input (2) over findings (1).
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without the unreachable one, findings decide; the table groups by context.
    let out = run(&["--context", "alpha,bravo", "-A"]);
    let (table, _) = suite_tests::text(&out);
    assert!(
        table.starts_with("CONTEXT alpha\nCRITICAL  CrashLoopBackOff"),
        "{table}"
    );
    assert!(
        table.contains("CONTEXT bravo\nno problems found"),
        "{table}"
    );
    assert!(
        table
            .trim_end()
            .ends_with("2 contexts: 2 triaged, 0 failed; 1 finding (1 critical)"),
        "{table}"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["--context", "alpha,bravo", "-A", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "alpha deployment/triage-crashloop/api\n",
        "name lines carry the context"
    );

    // --all-contexts: every context of the kubeconfig.
    let out = run(&["--all-contexts", "-A", "-o", "yaml"]);
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("kind: TriageReportList"), "{yaml}");
    assert_eq!(out.status.code(), Some(3));

    // An unknown context is bad input before anything runs.
    let out = run(&["--context", "alpha,nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
