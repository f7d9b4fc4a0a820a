//! Fidelity suite, server behaviour kubectl relies on: the kinds a fresh
//! cluster serves, defaults on fixtures (`rollout status` of a StatefulSet
//! written without `updateStrategy`), ServiceAccount tokens with RBAC,
//! CSR approval and ephemeral containers.

mod fidelity_support;

use fidelity_support::{Kubectl, kubectl_or_skip};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use std::sync::OnceLock;

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::start(SandboxOptions {
            fixtures: vec![
                fixture_dir("sandbox-api").join("basic"),
                fixture_dir("sandbox-api").join("defaults"),
            ],
            ..Default::default()
        })
        .expect("sandbox starts")
    })
}

fn kubectl() -> Option<Kubectl> {
    let bin = kubectl_or_skip()?;
    Some(Kubectl::new(&bin, sandbox()))
}

#[test]
fn get_apiservices_csr_componentstatuses() {
    let Some(k) = kubectl() else { return };
    let out = k.run(&["get", "apiservices,csr,componentstatuses"]).ok();
    assert!(
        out.stderr
            .contains("Warning: v1 ComponentStatus is deprecated in v1.19+"),
        "{}",
        out.stderr
    );
    let apps = out
        .stdout
        .lines()
        .find(|l| l.starts_with("apiservice.apiregistration.k8s.io/v1.apps "))
        .unwrap_or_else(|| panic!("no v1.apps in:\n{}", out.stdout));
    assert_eq!(
        fidelity_support::split_columns(apps)[1..3],
        ["Local", "True"]
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("componentstatus/etcd-0") && l.contains("Healthy")),
        "{}",
        out.stdout
    );
    let api = k
        .run(&["api-resources", "--api-group=certificates.k8s.io"])
        .ok();
    assert!(
        api.stdout.contains("certificatesigningrequests"),
        "{}",
        api.stdout
    );
}

#[test]
fn rollout_status_of_a_fixture_statefulset_without_update_strategy() {
    let Some(k) = kubectl() else { return };
    let out = k
        .run(&[
            "-n",
            "shop",
            "rollout",
            "status",
            "statefulset/db",
            "--timeout=10s",
        ])
        .ok();
    assert_eq!(
        out.stdout.trim(),
        "partitioned roll out complete: 2 new pods have been updated..."
    );
}

#[test]
fn service_account_token_with_rbac() {
    let Some(k) = kubectl() else { return };
    k.run(&["-n", "jobs", "create", "serviceaccount", "reporter"])
        .ok();
    k.run(&[
        "-n",
        "jobs",
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
    ])
    .ok();
    k.run(&[
        "-n",
        "jobs",
        "create",
        "rolebinding",
        "reporter-reads",
        "--role=pod-reader",
        "--serviceaccount=jobs:reporter",
    ])
    .ok();
    let token = k.run(&["-n", "jobs", "create", "token", "reporter"]).ok();
    let token = format!("--token={}", token.stdout.trim());
    let pods = k
        .run(&[&token, "-n", "jobs", "get", "pods", "-o", "name"])
        .ok();
    assert_eq!(pods.stdout.trim(), "pod/batch-1");
    let denied = k.run(&[&token, "-n", "shop", "get", "pods"]).failed();
    assert_eq!(
        denied.stderr.trim(),
        "Error from server (Forbidden): pods is forbidden: User \"system:serviceaccount:jobs:reporter\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\""
    );
    let can = k
        .run(&[&token, "-n", "jobs", "auth", "can-i", "delete", "pods"])
        .failed();
    assert_eq!(can.stdout.trim(), "no");
    let whoami = k.run(&[&token, "auth", "whoami", "-o", "json"]).ok();
    assert_eq!(
        whoami.json()["status"]["userInfo"]["username"],
        "system:serviceaccount:jobs:reporter"
    );
}

#[test]
fn certificate_approve() {
    let Some(k) = kubectl() else { return };
    let csr = "apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: alice-client}
spec:
  request: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
";
    k.run_with_stdin(&["apply", "-f", "-"], Some(csr)).ok();
    let before = k.run(&["get", "csr", "alice-client"]).ok();
    assert_eq!(
        before.header(),
        [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION"
        ]
    );
    let row = before.row("alice-client");
    assert_eq!(
        row[2..],
        [
            "kubernetes.io/kube-apiserver-client",
            "admin",
            "24h",
            "Pending"
        ]
    );
    let approve = k.run(&["certificate", "approve", "alice-client"]).ok();
    assert_eq!(
        approve.stdout.trim(),
        "certificatesigningrequest.certificates.k8s.io/alice-client approved"
    );
    let after = k.run(&["get", "csr", "alice-client"]).ok();
    assert_eq!(after.row("alice-client")[5], "Approved");
}

#[test]
fn debug_adds_an_ephemeral_container() {
    let Some(k) = kubectl() else { return };
    k.run(&[
        "-n",
        "shop",
        "debug",
        "web-7d9f-a",
        "--image=busybox:1.36",
        "--container=dbg",
        "--profile=general",
    ])
    .ok();
    let state = k
        .run(&[
            "-n",
            "shop",
            "get",
            "pod",
            "web-7d9f-a",
            "-o",
            "jsonpath={.status.ephemeralContainerStatuses[0].name} {.status.ephemeralContainerStatuses[0].state.running.startedAt}",
        ])
        .ok();
    let fields: Vec<&str> = state.stdout.split(' ').collect();
    assert_eq!(fields[0], "dbg");
    assert!(
        fields.get(1).is_some_and(|t| t.ends_with('Z')),
        "{}",
        state.stdout
    );
}
