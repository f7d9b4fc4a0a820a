//! The kubelet's stats summary through `nodes/NODE/proxy/stats/summary`
//! (`tests/fixtures/node-stats`), RBAC on `nodes/proxy`, discovery of the
//! served subresources, and admissionregistration webhook configurations
//! stored and served (create/list/get/delete, `kubectl get` columns).

mod api_support;
mod fidelity_support;

use api_support::{client, client_as, get, send};
use fidelity_support::{Kubectl, kubectl_or_skip};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};

const SUMMARY_A: &str = "/api/v1/nodes/node-a/proxy/stats/summary";

fn start() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("node-stats")],
        ..Default::default()
    })
    .expect("sandbox starts on the node-stats fixtures")
}

#[tokio::test]
async fn stats_summary_from_the_fixture() {
    let sb = start();
    let c = client(&sb).await;
    let r = get(&c, SUMMARY_A).await;
    assert_eq!(r.code, 200, "{}", r.text);
    let s = r.json();
    assert_eq!(s["node"]["nodeName"], "node-a");
    assert_eq!(s["node"]["fs"]["capacityBytes"], 100i64 << 30);
    assert_eq!(s["node"]["fs"]["availableBytes"], 59i64 << 30);
    assert_eq!(s["node"]["fs"]["inodesFree"], 6_553_600 - 420_000);
    assert_eq!(s["node"]["runtime"]["imageFs"]["usedBytes"], 12i64 << 30);
    assert_eq!(s["node"]["cpu"]["usageNanoCores"], 1_250_000_000i64);
    assert_eq!(s["node"]["memory"]["workingSetBytes"], 3i64 << 30);
    let pods = s["pods"].as_array().expect("pods");
    assert_eq!(pods.len(), 1);
    let db = &pods[0];
    assert_eq!(
        db["podRef"],
        json!({"name": "db-0", "namespace": "shop", "uid": "3f0c0000-0000-4000-8000-00000000db00"})
    );
    assert_eq!(db["containers"][0]["name"], "db");
    let v = &db["volume"][0];
    assert_eq!(v["name"], "data");
    assert_eq!(
        v["pvcRef"],
        json!({"name": "data-db-0", "namespace": "shop"})
    );
    assert_eq!(v["capacityBytes"], 10i64 << 30);
    assert_eq!(v["usedBytes"], 9_878_424_780i64);
    assert_eq!(v["availableBytes"], (10i64 << 30) - 9_878_424_780);
    assert!(v["time"].is_string());

    // A node without a fixture: its pods, no volume stats, no fs figures.
    let s = get(&c, "/api/v1/nodes/node-b/proxy/stats/summary")
        .await
        .json();
    assert_eq!(s["pods"][0]["podRef"]["name"], "web-1");
    assert!(s["pods"][0].get("volume").is_none(), "{s:#}");
    assert!(s["node"].get("fs").is_none());

    let r = get(&c, "/api/v1/nodes/node-z/proxy/stats/summary").await;
    assert_eq!(r.code, 404, "{}", r.text);
    assert_eq!(r.json()["message"], "nodes \"node-z\" not found");
    // Other kubelet paths and methods answer as the kubelet does.
    let r = get(&c, "/api/v1/nodes/node-a/proxy/configz").await;
    assert_eq!(r.code, 404, "{}", r.text);
    let r = send(
        &c,
        "PUT",
        SUMMARY_A,
        Some("application/json"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.code, 405, "{}", r.text);
}

#[tokio::test]
async fn nodes_proxy_is_authorised_and_discovered() {
    let sb = start();
    let viewer = client_as(&sb, "viewer").await;
    let r = get(&viewer, SUMMARY_A).await;
    assert_eq!(r.code, 403, "{}", r.text);
    assert_eq!(
        r.json()["message"],
        "nodes \"node-a\" is forbidden: User \"viewer\" cannot get resource \"nodes/proxy\" in API group \"\" at the cluster scope"
    );
    let r = get(&viewer, "/api/v1/nodes/node-a").await;
    assert_eq!(r.code, 200, "plain node reads stay allowed");

    let c = client(&sb).await;
    let list = get(&c, "/api/v1").await.json();
    let find = |name: &str| -> Value {
        list["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name).cloned())
            .unwrap_or(Value::Null)
    };
    let proxy = find("nodes/proxy");
    assert_eq!(proxy["kind"], "NodeProxyOptions");
    assert_eq!(
        proxy["verbs"],
        json!(["create", "delete", "get", "patch", "update"])
    );
    let exec = find("pods/exec");
    assert_eq!(exec["kind"], "PodExecOptions");
    assert_eq!(exec["verbs"], json!(["create", "get"]));
}

#[tokio::test]
async fn kubectl_reads_the_summary_and_webhook_configurations() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start();
    let k = Kubectl::new(&bin, &sb);
    let manifest = r#"apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: sidecar-injector
webhooks:
- name: inject.sidecar.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig:
    service: {namespace: mesh, name: injector, path: /mutate}
  rules:
  - {apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}
- name: label.sidecar.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig:
    service: {namespace: mesh, name: injector, path: /label}
"#;
    let runs = tokio::task::spawn_blocking(move || {
        let raw = k.run(&["get", "--raw", SUMMARY_A]);
        let applied = k.run_with_stdin(&["apply", "-f", "-"], Some(manifest));
        let mutating = k.run(&["get", "mutatingwebhookconfigurations"]);
        let validating = k.run(&[
            "get",
            "validatingwebhookconfiguration",
            "policy-guard",
            "-o",
            "json",
        ]);
        let deleted = k.run(&["delete", "mutatingwebhookconfiguration", "sidecar-injector"]);
        let after = k.run(&["get", "mutatingwebhookconfigurations", "-o", "name"]);
        let can_i = k.run(&[
            "auth",
            "can-i",
            "get",
            "nodes",
            "--subresource=proxy",
            "--as",
            "viewer",
        ]);
        (raw, applied, mutating, validating, deleted, after, can_i)
    })
    .await
    .expect("kubectl ran");
    let raw = runs.0.ok().json();
    assert_eq!(raw["pods"][0]["volume"][0]["pvcRef"]["name"], "data-db-0");
    runs.1.ok();
    let mutating = runs.2.ok();
    assert_eq!(mutating.header(), ["NAME", "WEBHOOKS", "AGE"]);
    assert_eq!(mutating.row("sidecar-injector")[1], "2");
    let validating = runs.3.ok().json();
    assert_eq!(validating["webhooks"][0]["failurePolicy"], "Fail");
    assert_eq!(
        validating["webhooks"][0]["clientConfig"]["service"]["name"],
        "guard"
    );
    runs.4.ok();
    assert_eq!(runs.5.ok().stdout, "");
    let can_i = runs.6;
    assert_eq!(can_i.stdout.trim(), "no", "{can_i:?}");
}

#[tokio::test]
async fn kube_rs_lists_webhook_configurations() {
    use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
    use kube::api::{Api, DeleteParams, PostParams};
    let sb = start();
    let c = client(&sb).await;
    let api: Api<ValidatingWebhookConfiguration> = Api::all(c);
    let list = api.list(&Default::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    let mut copy = list.items[0].clone();
    copy.metadata = kube::api::ObjectMeta {
        name: Some("policy-guard-2".into()),
        ..Default::default()
    };
    let created = api
        .create(&PostParams::default(), &copy)
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    let got = api.get("policy-guard-2").await.expect("get");
    assert_eq!(got.webhooks.map(|w| w.len()), Some(1));
    api.delete("policy-guard-2", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(api.get_opt("policy-guard-2").await.expect("get").is_none());
}
