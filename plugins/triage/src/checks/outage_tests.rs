//! Unit tests of the part-2 checks (webhooks, ingress, gateway, network
//! policies, volumes, failed nodes, mounts, contrasts) on snapshots built in code.

use std::collections::BTreeSet;

use super::testutil::{ctx, snapshot, unsettled};
use super::*;
use crate::report::Severity;

fn run(yaml: &str) -> Vec<Finding> {
    analyse(&snapshot(yaml), &ctx(), &BTreeSet::new())
}

fn reasons(f: &[Finding]) -> Vec<(Reason, String)> {
    let mut v: Vec<(Reason, String)> = f
        .iter()
        .map(|f| (f.reason, format!("{}/{}", f.object.kind, f.object.name)))
        .collect();
    v.sort();
    v
}

fn pod(name: &str, ns: &str, labels: &str, node: &str, ready: bool) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}, uid: uid-{ns}-{name}, labels: {{{labels}}}}}
spec: {{nodeName: {node}, containers: [{{name: c, image: "img:1"}}]}}
status:
  phase: Running
  startTime: now-2h
  conditions: [{{type: Ready, status: "{}"}}]
  containerStatuses: [{{name: c, image: "img:1", imageID: "", ready: {ready}, restartCount: 0, state: {{running: {{startedAt: now-2h}}}}}}]
---
"#,
        if ready { "True" } else { "False" }
    )
}

const WEBHOOK: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: guard, uid: w1}
webhooks:
- name: v.guard.example.com
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig: {service: {namespace: sec, name: guard}}
  namespaceSelector: {matchLabels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
"#;

#[test]
fn webhook_failure_policy_defaults_to_fail_and_selectors_are_honoured() {
    // No failurePolicy (v1 default Fail), Service missing: blocks namespace shop only.
    let f = run(WEBHOOK);
    assert_eq!(
        reasons(&f),
        vec![(
            Reason::AdmissionWebhookDown,
            "ValidatingWebhookConfiguration/guard".into()
        )]
    );
    let ev = f[0].evidence_lines().join("\n");
    assert!(ev.contains("Service sec/guard does not exist"), "{ev}");
    assert!(
        ev.contains("namespace(s): shop (namespaceSelector team=shop)"),
        "{ev}"
    );
    assert!(!ev.contains("other"), "{ev}");
    // Fails open: nothing.
    let open = WEBHOOK.replace(
        "sideEffects: None",
        "sideEffects: None\n  failurePolicy: Ignore",
    );
    assert!(run(&open).is_empty());
    // A ready backend: nothing.
    let up = format!(
        "{WEBHOOK}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: guard, namespace: sec}}\nspec: {{ports: [{{port: 443}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: guard-1, namespace: sec, labels: {{kubernetes.io/service-name: guard}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.0.0.1]}}]\n"
    );
    assert!(run(&up).is_empty(), "{:?}", reasons(&run(&up)));
    // Outside the scope, what collect looked up decides.
    let mut s = unsettled(WEBHOOK);
    s.scope_namespace = Some("shop".into());
    s.webhook_services.insert(
        ("sec".into(), "guard".into()),
        crate::snapshot::ServiceHealth::Endpoints { ready: 2, total: 2 },
    );
    s.settle(&ctx());
    assert!(analyse(&s, &ctx(), &BTreeSet::new()).is_empty());
}

#[test]
fn ingress_port_by_name_and_number() {
    let base = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ns}
spec:
  defaultBackend: {service: {name: web, port: {name: http}}}
"#;
    assert!(run(base).is_empty());
    let f = run(&base.replace("port: {name: http}", "port: {number: 8080}"));
    assert_eq!(
        reasons(&f),
        vec![(Reason::MissingReference, "Ingress/web".into())]
    );
    assert!(
        f[0].evidence_lines()[0].contains("Service web has no port 8080 (used by default backend)"),
        "{:?}",
        f[0].evidence_lines()
    );
    let f = run(&base.replace("port: {name: http}", "port: {name: grpc}"));
    assert!(f[0].evidence_lines()[0].contains("no port named grpc"));
}

#[test]
fn a_list_filtered_by_selector_proves_no_absence() {
    // With -l, Services, PVCs and Deployments are listed with the selector: one
    // missing from the list may exist, so nothing is claimed missing.
    let y = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ns}
spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: ns}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, maxReplicas: 3}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: ns, uid: p1}
spec: {containers: [{name: c, image: i}], volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;
    assert_eq!(
        reasons(&run(y)),
        vec![
            (
                Reason::MissingReference,
                "HorizontalPodAutoscaler/api".into()
            ),
            (Reason::MissingReference, "Ingress/web".into()),
            (Reason::MissingReference, "Pod/db".into()),
        ]
    );
    let mut s = unsettled(y);
    s.complete = false;
    s.settle(&ctx());
    assert!(analyse(&s, &ctx(), &BTreeSet::new()).is_empty());
}

#[test]
fn network_policies_add_up() {
    let pods = format!(
        "{}{}",
        pod("api-1", "ns", "app: api", "n1", true),
        pod("api-2", "ns", "app: api", "n1", true)
    );
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: ns}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n---\n";
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ns}\nspec: {podSelector: {}}\n---\n";
    // policyTypes absent means Ingress; no rules: all ingress to api denied.
    let f = run(&format!("{pods}{svc}{deny}"));
    assert_eq!(
        reasons(&f),
        vec![(
            Reason::NetworkPolicyBlocksService,
            "NetworkPolicy/deny".into()
        )]
    );
    assert_eq!(f[0].severity, Severity::Warning);
    // Another policy allowing some ingress to those pods clears it.
    let allow = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow, namespace: ns}\nspec: {podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}, ingress: [{}]}\n";
    assert!(run(&format!("{pods}{svc}{deny}{allow}")).is_empty());
    // An Egress-only policy does not restrict ingress.
    let egress = deny.replace("podSelector: {}", "podSelector: {}, policyTypes: [Egress]");
    assert!(run(&format!("{pods}{svc}{egress}")).is_empty());
    // A policy selecting nothing is info; with -l (pods incomplete) no claim.
    let none = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: old, namespace: ns}\nspec: {podSelector: {matchLabels: {app: gone}}, ingress: [{}]}\n";
    let f = run(&format!("{pods}{none}"));
    assert_eq!(
        reasons(&f),
        vec![(
            Reason::NetworkPolicyMatchesNoPods,
            "NetworkPolicy/old".into()
        )]
    );
    assert_eq!(f[0].severity, Severity::Info);
    let mut s = unsettled(&format!("{pods}{none}"));
    s.complete = false;
    s.settle(&ctx());
    assert!(analyse(&s, &ctx(), &BTreeSet::new()).is_empty());
}

#[test]
fn endpoint_slices_decide_readiness_and_nil_ready_counts_as_ready() {
    let y = format!(
        "{}apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: ns}}\nspec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: web-1, namespace: ns, labels: {{kubernetes.io/service-name: web}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.0.0.1], conditions: {{ready: false}}}}]\n",
        pod("web-1", "ns", "app: web", "n1", true)
    );
    let f = run(&y);
    assert_eq!(
        reasons(&f),
        vec![(Reason::NoReadyEndpoints, "Service/web".into())]
    );
    let nil = y.replace(", conditions: {ready: false}", "");
    assert!(run(&nil).is_empty());
}

#[test]
fn volumes_warn_at_85_and_page_at_95() {
    let stats = |used: f64| {
        format!(
            "apiVersion: sandbox.test/v1\nkind: NodeStats\nmetadata: {{name: n1}}\npods:\n- namespace: ns\n  name: db-0\n  volumes: [{{name: d, pvcRef: {{name: data}}, capacityBytes: 1000, usedBytes: {}}}]\n",
            (used * 1000.0) as u64
        )
    };
    assert!(run(&stats(0.84)).is_empty());
    let f = run(&stats(0.85));
    assert_eq!(
        reasons(&f),
        vec![(Reason::PVCNearFull, "PersistentVolumeClaim/data".into())]
    );
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(run(&stats(0.95))[0].severity, Severity::Critical);
}

#[test]
fn pods_on_a_failed_node_belong_to_the_node() {
    let node = |name: &str, ready: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nstatus: {{conditions: [{{type: Ready, status: \"{ready}\"}}]}}\n---\n"
        )
    };
    let y = format!(
        "{}{}{}{}",
        node("n1", "True"),
        node("n2", "Unknown"),
        pod("a", "ns", "app: a", "n1", true),
        pod("b", "ns", "app: a", "n2", false)
    );
    let f = run(&y);
    assert_eq!(reasons(&f), vec![(Reason::NodeProblem, "Node/n2".into())]);
    assert_eq!(f[0].severity, Severity::Critical);
    // The same pod on a Ready node is a probe problem.
    let y = y.replace("status: \"Unknown\"", "status: \"True\"");
    assert_eq!(
        reasons(&run(&y)),
        vec![(Reason::ProbeFailing, "Pod/b".into())]
    );
}

#[test]
fn ignore_annotation_hits_the_pod_of_its_own_namespace_only() {
    // Two bare pods named alike in two namespaces (-A); only one opted out.
    let crash = |ns: &str, annotated: bool| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: worker, namespace: {ns}, uid: u-{ns}{}}}
spec: {{containers: [{{name: c, image: i}}]}}
status:
  phase: Running
  containerStatuses: [{{name: c, image: i, imageID: "", ready: false, restartCount: 5, lastState: {{terminated: {{exitCode: 1, reason: Error, finishedAt: now-1m}}}}, state: {{waiting: {{reason: CrashLoopBackOff}}}}}}]
---"#,
            if annotated {
                ", annotations: {triage.kubectl-plugins.dev/ignore: CrashLoopBackOff}"
            } else {
                ""
            }
        )
    };
    let f = run(&format!("{}{}", crash("a", true), crash("b", false)));
    let objects: Vec<String> = f.iter().map(|f| f.object.to_string()).collect();
    assert_eq!(objects, vec!["pod/b/worker".to_string()]);
    let f = run(&format!("{}{}", crash("a", false), crash("b", true)));
    let objects: Vec<String> = f.iter().map(|f| f.object.to_string()).collect();
    assert_eq!(objects, vec!["pod/a/worker".to_string()]);
}

/// A Deployment `api` whose pods are given as (suffix, node, crashing, template hash, started).
fn deployment_with(pods: &[(&str, &str, bool, &str, &str)], nodes: &str) -> String {
    let mut y = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: ns, uid: d1}\nspec: {replicas: 3, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}\nstatus: {replicas: 3, availableReplicas: 2}\n---\n",
    );
    y.push_str(nodes);
    let mut hashes: Vec<&str> = pods.iter().map(|p| p.3).collect();
    hashes.dedup();
    for h in hashes {
        y.push_str(&format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: api-{h}, namespace: ns, uid: rs-{h}, annotations: {{deployment.kubernetes.io/revision: \"1\"}}, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}}]}}\n---\n"));
    }
    for (suffix, node, crashing, hash, started) in pods {
        let state = if *crashing {
            "ready: false, restartCount: 4, lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: now-1m}}, state: {waiting: {reason: CrashLoopBackOff}}"
        } else {
            "ready: true, restartCount: 0, state: {running: {startedAt: now-2h}}"
        };
        y.push_str(&format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: api-{hash}-{suffix}, namespace: ns, uid: p-{suffix}, labels: {{app: api, pod-template-hash: "{hash}"}}, ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-{hash}, uid: rs-{hash}, controller: true}}]}}
spec: {{nodeName: {node}, containers: [{{name: c, image: i}}]}}
status:
  phase: Running
  startTime: {started}
  conditions: [{{type: Ready, status: "{}"}}]
  containerStatuses: [{{name: c, image: i, imageID: "", {state}}}]
---
"#,
            if *crashing { "False" } else { "True" }
        ));
    }
    y
}

fn first_evidence(y: &str) -> String {
    let f = run(y);
    assert_eq!(
        reasons(&f),
        vec![(Reason::CrashLoopBackOff, "Deployment/api".into())]
    );
    f[0].evidence_lines()[0].clone()
}

#[test]
fn contrast_by_zone_and_config_change() {
    let zone = |n: &str, z: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {n}, creationTimestamp: now-30d, labels: {{topology.kubernetes.io/zone: {z}}}}}\nstatus: {{conditions: [{{type: Ready, status: \"True\"}}]}}\n---\n"
        )
    };
    let nodes = format!(
        "{}{}{}",
        zone("n1", "z1"),
        zone("n2", "z2"),
        zone("n3", "z2")
    );
    // Crashing pods on two nodes of zone z1? One node in z1 here; z2 hosts the healthy ones.
    let y = deployment_with(
        &[
            ("a", "n1", true, "h1", "now-2h"),
            ("b", "n2", false, "h1", "now-2h"),
            ("c", "n3", false, "h1", "now-2h"),
        ],
        &nodes,
    );
    // One failing node: the node (an old one, so no "joined") is named first.
    assert_eq!(
        first_evidence(&y),
        "the only crashing pod runs on n1; the 2 pods on n2 and n3 are Ready"
    );
    // Failing pods on two nodes of one zone.
    let nodes = format!(
        "{}{}{}{}",
        zone("n1", "z1"),
        zone("n4", "z1"),
        zone("n2", "z2"),
        zone("n3", "z2")
    );
    let y = deployment_with(
        &[
            ("a", "n1", true, "h1", "now-2h"),
            ("d", "n4", true, "h1", "now-2h"),
            ("b", "n2", false, "h1", "now-2h"),
            ("c", "n3", false, "h1", "now-2h"),
        ],
        &nodes,
    );
    assert_eq!(
        first_evidence(&y),
        "the 2 crashing pods are in zone z1; the 2 pods in zone z2 are Ready"
    );
    // Same nodes, zones and revision, but a ConfigMap changed between the starts.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ns, creationTimestamp: now-40d, managedFields: [{manager: kubectl, operation: Update, time: now-30m}]}\ndata: {a: b}\n---\n";
    let y = deployment_with(
        &[
            ("a", "n1", true, "h1", "now-10m"),
            ("b", "n1", false, "h1", "now-2h"),
        ],
        &format!("{}{cm}", zone("n1", "z1")),
    )
    .replace(
        "containers: [{name: c, image: i}]}\nstatus:\n  phase: Running\n  startTime: now-10m",
        "containers: [{name: c, image: i, envFrom: [{configMapRef: {name: settings}}]}]}\nstatus:\n  phase: Running\n  startTime: now-10m",
    );
    assert_eq!(
        first_evidence(&y),
        "the only crashing pod started after ConfigMap settings changed 30m ago; the pod started before it is Ready"
    );
    // Nothing sets them apart: no sentence.
    let y = deployment_with(
        &[
            ("a", "n1", true, "h1", "now-2h"),
            ("b", "n1", false, "h1", "now-2h"),
        ],
        &zone("n1", "z1"),
    );
    assert!(first_evidence(&y).starts_with("container c: last terminated Error"));
}

#[test]
fn blocked_on_a_missing_volume_is_one_missing_reference() {
    let y = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ns, uid: d1}
spec: {replicas: 1, selector: {matchLabels: {app: app}}, template: {metadata: {labels: {app: app}}, spec: {containers: [{name: c, image: i}], volumes: [{name: v, secret: {secretName: creds}}]}}}
status: {replicas: 1, unavailableReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: app-1, namespace: ns, uid: p1, labels: {app: app}, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: app, uid: d1, controller: true}]}
spec: {nodeName: n1, containers: [{name: c, image: i}], volumes: [{name: v, secret: {secretName: creds}}]}
status:
  phase: Pending
  containerStatuses: [{name: c, image: i, imageID: "", ready: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}]
---
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: ns}
involvedObject: {kind: Pod, name: app-1, namespace: ns, uid: p1}
reason: FailedMount
message: 'MountVolume.SetUp failed for volume "v" : secret "creds" not found'
type: Warning
count: 7
lastTimestamp: now-1m
"#;
    let f = run(y);
    assert_eq!(
        reasons(&f),
        vec![(Reason::MissingReference, "Deployment/app".into())]
    );
    let ev = f[0].evidence_lines().join("\n");
    assert!(
        ev.contains("Secret creds does not exist (used by volume v)"),
        "{ev}"
    );
    assert!(
        ev.contains("kubelet: FailedMount (x7, last 60s ago)"),
        "{ev}"
    );
    // Without list secrets, the kubelet's message alone still names it, once.
    let mut s = unsettled(y);
    s.secrets = None;
    s.settle(&ctx());
    let f = analyse(&s, &ctx(), &BTreeSet::new());
    assert_eq!(
        reasons(&f),
        vec![(Reason::MissingReference, "Deployment/app".into())]
    );
    assert_eq!(f[0].message(), "pods cannot start: FailedMount");
}

#[test]
fn pending_claims_by_design_are_told_by_their_storage_class() {
    let pvc = |class: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: ns}}\nspec: {{storageClassName: {class}, resources: {{requests: {{storage: 1Gi}}}}}}\nstatus: {{phase: Pending}}\n---\n"
        )
    };
    let classes = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: later}\nprovisioner: x\nvolumeBindingMode: WaitForFirstConsumer\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: now}\nprovisioner: x\nvolumeBindingMode: Immediate\n---\n";
    let warning = "apiVersion: v1\nkind: Event\nmetadata: {name: e1, namespace: ns}\ninvolvedObject: {kind: PersistentVolumeClaim, name: data, namespace: ns}\nreason: ProvisioningFailed\nmessage: no capacity\ntype: Warning\nlastTimestamp: now-2m\n";
    // WaitForFirstConsumer: Pending until a pod uses it, by design.
    assert!(run(&format!("{classes}{}", pvc("later"))).is_empty());
    // Immediate binding: Pending is a finding, even without events.
    let f = run(&format!("{classes}{}", pvc("now")));
    assert_eq!(
        reasons(&f),
        vec![(Reason::PVCPending, "PersistentVolumeClaim/data".into())]
    );
    // A class that does not exist says so.
    let f = run(&format!("{classes}{}", pvc("fast")));
    assert!(
        f[0].evidence_lines()
            .iter()
            .any(|e| e == "StorageClass fast does not exist"),
        "{:?}",
        f[0].evidence_lines()
    );
    // Without the StorageClasses, only a Warning event makes it a finding.
    let mut s = unsettled(&pvc("later"));
    s.storage_classes = None;
    s.settle(&ctx());
    assert!(analyse(&s, &ctx(), &BTreeSet::new()).is_empty());
    let mut s = unsettled(&format!("{}{warning}", pvc("later")));
    s.storage_classes = None;
    s.settle(&ctx());
    assert_eq!(
        reasons(&analyse(&s, &ctx(), &BTreeSet::new())),
        vec![(Reason::PVCPending, "PersistentVolumeClaim/data".into())]
    );
}
