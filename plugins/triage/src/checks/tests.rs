//! Unit tests of the checks on Snapshots built in code (no server).

use std::collections::BTreeSet;

use super::testutil::{ctx, fixture, snapshot};
use super::*;
use crate::report::Severity;

fn reasons(f: &[Finding]) -> Vec<(Reason, String)> {
    f.iter()
        .map(|f| (f.reason, format!("{}/{}", f.object.kind, f.object.name)))
        .collect()
}

fn run(s: &Snapshot) -> Vec<Finding> {
    analyse(s, &ctx(), &BTreeSet::new())
}

const CRASHING_POD: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-5f7b9c8d4, namespace: ns, uid: rs1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}]}
spec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: api:1}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-5f7b9c8d4-aaaaa, namespace: ns, uid: p1, labels: {app: api}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5f7b9c8d4, uid: rs1, controller: true}]}
spec:
  nodeName: node-1
  containers: [{name: api, image: api:1, resources: {limits: {memory: 256Mi}}}]
status:
  phase: Running
  startTime: now-2d
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: api
    image: api:1
    imageID: ""
    ready: false
    restartCount: 30
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: now-1m}}
    state: {waiting: {reason: CrashLoopBackOff}}
"#;

#[test]
fn oom_wins_over_crash_loop_and_groups_under_deployment() {
    let f = run(&snapshot(CRASHING_POD));
    assert_eq!(
        reasons(&f),
        vec![(Reason::OOMKilled, "Deployment/api".into())]
    );
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(
        f[0].message()
            .contains("1/1 pods CrashLoopBackOff (OOMKilled, limit 256Mi)"),
        "{}",
        f[0].message()
    );
    assert!(
        f[0].evidence_lines()
            .iter()
            .any(|e| e.contains("137 (SIGKILL)"))
    );
    assert!(
        f[0].remediation()
            .iter()
            .any(|r| r.contains("--limits=memory=512Mi"))
    );
}

#[test]
fn plain_crash_loop_is_crash_loop_back_off() {
    let y = CRASHING_POD.replace(
        "exitCode: 137, reason: OOMKilled",
        "exitCode: 1, reason: Error",
    );
    let f = run(&snapshot(&y));
    assert_eq!(
        reasons(&f),
        vec![(Reason::CrashLoopBackOff, "Deployment/api".into())]
    );
    assert!(f[0].message().contains("exit code 1"));
}

#[test]
fn ignore_flag_and_annotations_silence_findings() {
    let s = snapshot(CRASHING_POD);
    let ignore: BTreeSet<Reason> = [Reason::OOMKilled].into_iter().collect();
    assert!(analyse(&s, &ctx(), &ignore).is_empty());
    // The annotation on the pod's owner chain (here the pod itself).
    let y = CRASHING_POD.replace(
        "metadata: {name: api-5f7b9c8d4-aaaaa, namespace: ns, uid: p1,",
        "metadata: {name: api-5f7b9c8d4-aaaaa, namespace: ns, uid: p1, annotations: {triage.kubectl-plugins.dev/ignore: \"OOMKilled\"},",
    );
    assert!(run(&snapshot(&y)).is_empty());
}

#[test]
fn ignore_annotation_on_the_deployment_covers_its_pods() {
    let y = format!(
        "{CRASHING_POD}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: ns, uid: d1, annotations: {{triage.kubectl-plugins.dev/ignore: \"OOMKilled, DeploymentUnavailable\"}}}}\nspec: {{replicas: 1, selector: {{matchLabels: {{app: api}}}}, template: {{metadata: {{labels: {{app: api}}}}, spec: {{containers: [{{name: api, image: api:1}}]}}}}}}\nstatus: {{replicas: 1}}\n"
    );
    assert!(run(&snapshot(&y)).is_empty());
}

#[test]
fn high_restarts_counts_only_the_window() {
    // 30 lifetime restarts on a 2-day-old pod, last one 1m ago, Running and Ready.
    let healthy_now = CRASHING_POD
        .replace(
            "state: {waiting: {reason: CrashLoopBackOff}}",
            "state: {running: {startedAt: now-1m}}",
        )
        .replace("ready: false", "ready: true")
        .replace(
            "{type: Ready, status: \"False\"}",
            "{type: Ready, status: \"True\"}",
        )
        .replace(
            "exitCode: 137, reason: OOMKilled",
            "exitCode: 1, reason: Error",
        );
    // Only lastState is in the window: 1 restart, below the threshold.
    assert!(run(&snapshot(&healthy_now)).is_empty());
    let with_events = format!(
        "{healthy_now}\n---\napiVersion: v1\nkind: Event\nmetadata: {{name: e1, namespace: ns}}\ninvolvedObject: {{kind: Pod, name: api-5f7b9c8d4-aaaaa, namespace: ns, uid: p1}}\nreason: BackOff\nmessage: Back-off restarting failed container api in pod x\ntype: Warning\ncount: 5\nlastTimestamp: now-2m\n"
    );
    let f = run(&snapshot(&with_events));
    assert_eq!(
        reasons(&f),
        vec![(Reason::HighRestarts, "Deployment/api".into())]
    );
    assert!(
        f[0].message().contains("5 restarts in the last 1h"),
        "{}",
        f[0].message()
    );
}

const APP_WITH_REFS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ns, uid: d1}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      serviceAccountName: app-sa
      containers:
      - name: app
        image: app:1
        env:
        - {name: A, valueFrom: {secretKeyRef: {name: creds, key: password}}}
        - {name: B, valueFrom: {configMapKeyRef: {name: opt, key: x, optional: true}}}
        envFrom: [{configMapRef: {name: settings}}]
      volumes:
      - {name: d, persistentVolumeClaim: {claimName: data}}
status: {replicas: 1, availableReplicas: 1}
"#;

#[test]
fn missing_references_are_named_and_optional_is_honoured() {
    let f = run(&snapshot(APP_WITH_REFS));
    assert_eq!(
        reasons(&f),
        vec![(Reason::MissingReference, "Deployment/app".into())]
    );
    let ev = f[0].evidence_lines().join("\n");
    for want in [
        "Secret creds does not exist",
        "ConfigMap settings does not exist",
        "PersistentVolumeClaim data",
        "ServiceAccount app-sa",
    ] {
        assert!(ev.contains(want), "{want} in {ev}");
    }
    assert!(!ev.contains("opt"), "optional ref reported: {ev}");
}

#[test]
fn present_references_yield_nothing() {
    let y = format!(
        "{APP_WITH_REFS}\n---\nkind: Secret\nmetadata: {{name: creds, namespace: ns}}\ndata: {{password: eA==}}\n---\nkind: ConfigMap\nmetadata: {{name: settings, namespace: ns}}\n---\nkind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {{name: data, namespace: ns}}\nstatus: {{phase: Bound}}\n---\nkind: ServiceAccount\nmetadata: {{name: app-sa, namespace: ns}}\n"
    );
    assert!(run(&snapshot(&y)).is_empty());
}

#[test]
fn unlisted_secrets_are_never_claimed_missing() {
    let mut s = snapshot(APP_WITH_REFS);
    s.secrets = None;
    let f = run(&s);
    let ev = f[0].evidence_lines().join("\n");
    assert!(!ev.contains("Secret creds"), "{ev}");
    assert!(ev.contains("ConfigMap settings"));
}

#[test]
fn service_without_matching_pods_and_without_ready_endpoints() {
    let y = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns, uid: s1}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: webx, namespace: ns, uid: p1, labels: {app: web-v2}}
spec: {containers: [{name: c, image: i}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;
    let f = run(&snapshot(y));
    assert_eq!(
        reasons(&f),
        vec![(Reason::SelectorMatchesNoPods, "Service/web".into())]
    );
    assert!(
        f[0].evidence_lines()
            .iter()
            .any(|e| e.contains("app=web-v2"))
    );

    let y2 = y
        .replace("app: web-v2", "app: web")
        .replace("status: \"True\"", "status: \"False\"");
    let f = run(&snapshot(&y2));
    assert!(
        reasons(&f).contains(&(Reason::NoReadyEndpoints, "Service/web".into())),
        "{:?}",
        reasons(&f)
    );
    let y3 = y.replace("app: web-v2", "app: web");
    assert!(run(&snapshot(&y3)).is_empty());
}

#[test]
fn deployment_rollout_diff_and_undo() {
    let y = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ns, uid: d1}
spec: {replicas: 2, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: api:2}]}}}
status:
  replicas: 2
  availableReplicas: 0
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: "ReplicaSet api-2 has timed out progressing."}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-1, namespace: ns, uid: r1, creationTimestamp: now-10d, annotations: {deployment.kubernetes.io/revision: "3"}, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}]}
spec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api, pod-template-hash: "1"}}, spec: {containers: [{name: api, image: api:1}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-2, namespace: ns, uid: r2, creationTimestamp: now-20m, annotations: {deployment.kubernetes.io/revision: "4"}, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}]}
spec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api, pod-template-hash: "2"}}, spec: {containers: [{name: api, image: api:2}]}}}
"#;
    let f = run(&snapshot(y));
    assert_eq!(
        reasons(&f),
        vec![(Reason::DeploymentUnavailable, "Deployment/api".into())]
    );
    let ev = f[0].evidence_lines().join("\n");
    assert!(ev.contains("revision 3 → 4"), "{ev}");
    assert!(
        ev.contains("spec.containers[api].image: api:1 → api:2"),
        "{ev}"
    );
    assert!(!ev.contains("pod-template-hash"), "{ev}");
    assert!(
        f[0].remediation()
            .contains(&"kubectl rollout undo deployment/api -n ns --to-revision=3".to_string())
    );
}

#[test]
fn warning_events_are_deduplicated_and_explained_ones_dropped() {
    let y = r#"
kind: Event
apiVersion: v1
metadata: {name: e1, namespace: ns}
involvedObject: {kind: Pod, name: p, namespace: ns, uid: u1}
reason: FailedMount
message: "MountVolume.SetUp failed"
type: Warning
count: 3
lastTimestamp: now-5m
---
kind: Event
apiVersion: v1
metadata: {name: e2, namespace: ns}
involvedObject: {kind: Pod, name: p, namespace: ns, uid: u1}
reason: FailedMount
message: "MountVolume.SetUp failed again"
type: Warning
count: 2
lastTimestamp: now-1m
---
kind: Event
apiVersion: v1
metadata: {name: e3, namespace: ns}
involvedObject: {kind: Pod, name: q, namespace: ns, uid: u2}
reason: FailedMount
message: old
type: Warning
lastTimestamp: now-3h
"#;
    let s = snapshot(y);
    let f = run(&s);
    assert_eq!(reasons(&f), vec![(Reason::WarningEvents, "Pod/p".into())]);
    assert!(
        f[0].message()
            .starts_with("FailedMount x5, last seen 60s ago: MountVolume.SetUp failed again"),
        "{}",
        f[0].message()
    );
    assert_eq!(f[0].severity, Severity::Info);
    let explained: BTreeSet<String> = ["u1".to_string()].into_iter().collect();
    assert!(events::digest(&s, &ctx(), &explained).is_empty());
}

#[test]
fn every_fixture_scenario_yields_exactly_its_reason() {
    // The same folders the CLI tests serve, analysed without a server.
    let mut failures = Vec::new();
    for (folder, want) in crate::checks::tests::SCENARIOS {
        let f = run(&fixture(&format!("triage/{folder}")));
        let got: Vec<(Reason, String)> = reasons(&f);
        let want: Vec<(Reason, String)> = want
            .iter()
            .map(|(r, o)| (Reason::parse(r).expect("known reason"), o.to_string()))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        if got_sorted != want_sorted {
            failures.push(format!(
                "{folder}: got {got_sorted:?}, want {want_sorted:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenario_list_covers_every_reason() {
    for r in Reason::ALL {
        assert!(
            SCENARIOS
                .iter()
                .any(|(_, f)| f.iter().any(|(x, _)| *x == r.as_str())),
            "no fixture scenario for {r}"
        );
    }
}

/// Check modules never use one another (so they cannot form an import cycle), and
/// the layers below them (pod states, snapshot, rollouts, contrasts, wording)
/// never reach up into the checks.
#[test]
fn check_modules_form_no_import_cycle() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let checks: Vec<String> = std::fs::read_dir(src.join("checks"))
        .expect("checks dir")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(str::to_string)
        })
        .filter(|m| m != "mod" && !m.ends_with("tests") && m != "testutil")
        .collect();
    assert!(checks.len() >= 10, "{checks:?}");
    let mut edges = Vec::new();
    for m in &checks {
        let text =
            std::fs::read_to_string(src.join("checks").join(format!("{m}.rs"))).expect("source");
        for other in checks.iter().filter(|o| *o != m) {
            for pattern in [
                format!("super::{other}"),
                format!("checks::{other}"),
                format!("super::{{{other}"),
            ] {
                if text.contains(&pattern) {
                    edges.push(format!("{m} -> {other}"));
                }
            }
            if text.lines().any(|l| {
                l.trim_start().starts_with("use super::{") && l.contains(&format!(" {other},"))
            }) {
                edges.push(format!("{m} -> {other}"));
            }
        }
    }
    assert!(
        edges.is_empty(),
        "check modules import each other: {edges:?}"
    );
    for lower in [
        "podstate.rs",
        "snapshot.rs",
        "rollout.rs",
        "contrast.rs",
        "context.rs",
        "text.rs",
        "selectors.rs",
        "report.rs",
        "collect.rs",
    ] {
        let text = std::fs::read_to_string(src.join(lower)).expect("source");
        assert!(
            !text.contains("checks::"),
            "{lower} reaches up into the checks"
        );
    }
}

/// Scenario folder → expected (reason, Kind/name) findings.
pub const SCENARIOS: &[(&str, &[(&str, &str)])] = &[
    ("healthy", &[]),
    ("rbac", &[]),
    (
        "crash-loop-back-off",
        &[("CrashLoopBackOff", "Deployment/api")],
    ),
    ("oom-killed", &[("OOMKilled", "Deployment/worker")]),
    (
        "image-pull-back-off",
        &[("ImagePullBackOff", "Deployment/web")],
    ),
    (
        "missing-reference",
        &[("MissingReference", "Deployment/app")],
    ),
    ("unschedulable", &[("Unschedulable", "Deployment/batch")]),
    ("probe-failing", &[("ProbeFailing", "Deployment/api")]),
    ("high-restarts", &[("HighRestarts", "Deployment/cache")]),
    ("container-error", &[("ContainerError", "Pod/db-migrate")]),
    (
        "deployment-unavailable",
        &[("DeploymentUnavailable", "Deployment/api")],
    ),
    (
        "statefulset-unavailable",
        &[("StatefulSetUnavailable", "StatefulSet/db")],
    ),
    (
        "daemonset-unavailable",
        &[("DaemonSetUnavailable", "DaemonSet/agent")],
    ),
    (
        "no-ready-endpoints",
        &[
            ("NoReadyEndpoints", "Service/web"),
            ("ProbeFailing", "Deployment/web"),
        ],
    ),
    (
        "selector-matches-no-pods",
        &[("SelectorMatchesNoPods", "Service/frontend")],
    ),
    (
        "pvc-pending",
        &[("PVCPending", "PersistentVolumeClaim/reports")],
    ),
    (
        "hpa-at-max",
        &[("HPAAtMax", "HorizontalPodAutoscaler/checkout")],
    ),
    (
        "pdb-blocks-disruption",
        &[("PDBBlocksDisruption", "PodDisruptionBudget/ledger")],
    ),
    ("node-problem", &[("NodeProblem", "Node/node-2")]),
    (
        "job-failed",
        &[
            ("JobFailed", "Job/export-orders"),
            ("JobFailed", "CronJob/nightly-report"),
        ],
    ),
    (
        "high-resource-usage",
        &[("HighResourceUsage", "Deployment/indexer")],
    ),
    (
        "warning-events",
        &[("WarningEvents", "Pod/docs-6f5e4d3c2-x7k2p")],
    ),
    (
        "redaction",
        &[
            ("CrashLoopBackOff", "Deployment/vault-sync"),
            ("ImagePullBackOff", "Deployment/mirror"),
            ("WarningEvents", "Service/vault-proxy"),
        ],
    ),
    // Seen with -A, the webhook's own namespace shows why it is down too (the CLI
    // test runs -n triage-webhook and gets the AdmissionWebhookDown finding alone).
    (
        "admission-webhook-down",
        &[
            (
                "AdmissionWebhookDown",
                "ValidatingWebhookConfiguration/policy-guard",
            ),
            ("ProbeFailing", "Deployment/guard"),
            ("NoReadyEndpoints", "Service/guard"),
        ],
    ),
    (
        "ingress-references",
        &[
            ("MissingReference", "Ingress/docs"),
            ("MissingReference", "Ingress/shop"),
            ("NoReadyEndpoints", "Service/web"),
            ("ProbeFailing", "Deployment/web"),
        ],
    ),
    (
        "gateway-api",
        &[
            ("GatewayNotReady", "GatewayClass/internal"),
            ("GatewayNotReady", "Gateway/public"),
            ("MissingReference", "HTTPRoute/cart"),
            ("MissingReference", "HTTPRoute/search"),
            ("RouteNotAccepted", "HTTPRoute/checkout"),
        ],
    ),
    (
        "network-policy",
        &[
            ("NetworkPolicyBlocksService", "NetworkPolicy/default-deny"),
            ("NetworkPolicyMatchesNoPods", "NetworkPolicy/allow-legacy"),
        ],
    ),
    (
        "hpa-missing-target",
        &[("MissingReference", "HorizontalPodAutoscaler/worker")],
    ),
    ("node-failed", &[("NodeProblem", "Node/node-2")]),
    (
        "mount-failure",
        &[("MissingReference", "Deployment/reports")],
    ),
    (
        "pvc-near-full",
        &[
            ("PVCNearFull", "PersistentVolumeClaim/cache-data"),
            ("PVCNearFull", "PersistentVolumeClaim/data-db-0"),
        ],
    ),
    (
        "common-cause",
        &[("CrashLoopBackOff", "Deployment/checkout")],
    ),
];

#[test]
fn running_pod_oom_killed_inside_the_window_is_reported_outside_is_not() {
    let recent = CRASHING_POD
        .replace(
            "state: {waiting: {reason: CrashLoopBackOff}}",
            "state: {running: {startedAt: now-1m}}",
        )
        .replace("ready: false", "ready: true")
        .replace(
            "{type: Ready, status: \"False\"}",
            "{type: Ready, status: \"True\"}",
        );
    let f = run(&snapshot(&recent));
    assert_eq!(
        reasons(&f),
        vec![(Reason::OOMKilled, "Deployment/api".into())]
    );
    let old = recent.replace("finishedAt: now-1m", "finishedAt: now-3d");
    assert!(run(&snapshot(&old)).is_empty());
}
