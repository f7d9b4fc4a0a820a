//! Eviction through the API: PodDisruptionBudgets are honoured (429 with
//! the real message, 500 for two budgets, dry runs), evicted controller pods
//! are recreated on other nodes, and `kubectl drain` completes or retries.

mod controllers_support;
mod fidelity_support;

use controllers_support::*;
use serde_json::{Value, json};

const WEB_POD: &str = "web-7c9d8f6b5-k2x9p";
const LEDGER_POD: &str = "ledger-5b8c7d9f4-q8w2z";

fn eviction(ns: &str, pod: &str, api_version: &str) -> Value {
    json!({"apiVersion": api_version, "kind": "Eviction",
        "metadata": {"name": pod, "namespace": ns}})
}

async fn evict(c: &kube::Client, ns: &str, pod: &str, body: Value) -> Reply {
    post(
        c,
        &format!("/api/v1/namespaces/{ns}/pods/{pod}/eviction"),
        body,
    )
    .await
}

#[test]
fn budget_without_disruptions_answers_429() {
    let sb = start_plain();
    let (code, head, body) = raw_post(
        &sb,
        &format!("/api/v1/namespaces/bank/pods/{LEDGER_POD}/eviction"),
        &eviction("bank", LEDGER_POD, "policy/v1"),
    );
    assert_eq!(code, 429, "{body}");
    // Like the real server: no Retry-After for a budget violation.
    assert!(!head.to_ascii_lowercase().contains("retry-after"), "{head}");
    let s: Value = serde_json::from_str(&body).expect("Status JSON");
    assert_eq!(s["kind"], "Status");
    assert_eq!(s["reason"], "TooManyRequests");
    assert_eq!(
        s["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(s["details"]["causes"][0]["reason"], "DisruptionBudget");
    assert_eq!(
        s["details"]["causes"][0]["message"],
        "The disruption budget ledger needs 2 healthy pods and has 2 currently"
    );
    // The pod is still there.
    let (code, _, _) = raw_http(
        &sb,
        "GET",
        &format!("/api/v1/namespaces/bank/pods/{LEDGER_POD}"),
    )
    .expect("an answer");
    assert_eq!(code, 200);
}

#[tokio::test]
async fn allowed_eviction_charges_the_budget_and_the_pod_is_replaced() {
    let sb = start();
    let c = client(&sb).await;
    // Cordon node-a as drain would: the replacement must land elsewhere.
    merge_patch(
        &c,
        "/api/v1/nodes/node-a",
        json!({"spec": {"unschedulable": true}}),
    )
    .await;
    let r = evict(
        &c,
        "shop",
        WEB_POD,
        eviction("shop", WEB_POD, "policy/v1beta1"),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "Success");
    let gone = send(
        &c,
        "GET",
        &format!("/api/v1/namespaces/shop/pods/{WEB_POD}"),
        None,
        None,
    )
    .await;
    assert_eq!(gone.code, 404);
    let pods = wait_for(
        &c,
        "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb",
        |l| items(l).len() == 2 && items(l).iter().all(ready),
    )
    .await;
    let replacement = items(&pods)
        .into_iter()
        .find(|p| name(p) != "web-7c9d8f6b5-m4t7q")
        .expect("replacement pod");
    assert!(name(&replacement).starts_with("web-7c9d8f6b5-"));
    assert_ne!(replacement["spec"]["nodeName"], "node-a");
    // The budget is recomputed from the pods once the replacement is Ready.
    let pdb = wait_for(
        &c,
        "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web",
        |p| p["status"]["disruptionsAllowed"] == 1 && p["status"]["currentHealthy"] == 2,
    )
    .await;
    assert!(pdb["status"]["disruptedPods"].is_null(), "{pdb:#}");
}

#[tokio::test]
async fn budget_arithmetic_follows_the_pods() {
    let sb = start();
    let c = client(&sb).await;
    let path = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets";
    let r = post(
        &c,
        path,
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "api"},
            "spec": {"maxUnavailable": "30%", "selector": {"matchLabels": {"app": "api"}}}}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    post(
        &c,
        "/apis/apps/v1/namespaces/shop/deployments",
        deployment("api", "nginx:1.27", 5),
    )
    .await;
    // 30% of 5 rounds up to 2 unavailable: 3 must stay healthy.
    let pdb = wait_for(&c, &format!("{path}/api"), |p| {
        p["status"]["currentHealthy"] == 5
    })
    .await;
    assert_eq!(pdb["status"]["expectedPods"], 5);
    assert_eq!(pdb["status"]["desiredHealthy"], 3);
    assert_eq!(pdb["status"]["disruptionsAllowed"], 2);
    let cond = &pdb["status"]["conditions"][0];
    assert_eq!(cond["type"], "DisruptionAllowed");
    assert_eq!(cond["status"], "True");
    assert_eq!(cond["reason"], "SufficientPods");
}

#[tokio::test]
async fn two_budgets_answer_500_and_dry_run_changes_nothing() {
    let sb = start();
    let c = client(&sb).await;
    let mut dry = eviction("shop", WEB_POD, "policy/v1");
    dry["deleteOptions"] = json!({"dryRun": ["All"]});
    let r = evict(&c, "shop", WEB_POD, dry).await;
    assert_eq!(r.code, 201, "{}", r.text);
    get_json(&c, &format!("/api/v1/namespaces/shop/pods/{WEB_POD}")).await;
    let pdb = get_json(
        &c,
        "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web",
    )
    .await;
    assert_eq!(pdb["status"]["disruptionsAllowed"], 1);

    post(
        &c,
        "/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-too"},
            "spec": {"minAvailable": 0, "selector": {"matchLabels": {"app": "web"}}}}),
    )
    .await;
    let r = evict(&c, "shop", WEB_POD, eviction("shop", WEB_POD, "policy/v1")).await;
    assert_eq!(r.code, 500, "{}", r.text);
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than one PodDisruptionBudget")),
        "{}",
        r.text
    );
}

#[test]
fn drain_reschedules_onto_other_nodes() {
    let Some(bin) = fidelity_support::kubectl_or_skip() else {
        return;
    };
    let sb = start();
    let k = fidelity_support::Kubectl::new(&bin, &sb);
    let out = k
        .run(&[
            "drain",
            "node-a",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=60s",
        ])
        .ok();
    assert!(
        out.stdout.contains("node/node-a drained"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("evicting pod shop/web-7c9d8f6b5-k2x9p"),
        "{all}"
    );
    let pods = k
        .run(&["get", "pods", "-n", "shop", "-l", "app=web", "-o", "json"])
        .ok()
        .json();
    let pods = items(&pods);
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_ne!(p["spec"]["nodeName"], "node-a", "{p:#}");
        assert!(ready(p));
    }
    // The DaemonSet pod stays (ignored by drain).
    let ds = k
        .run(&[
            "get",
            "pods",
            "-n",
            "kube-system",
            "--field-selector",
            "spec.nodeName=node-a",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(ds.stdout.trim(), "pod/log-agent-x7k2p");
}

#[test]
fn drain_blocked_by_a_budget_keeps_retrying() {
    let Some(bin) = fidelity_support::kubectl_or_skip() else {
        return;
    };
    let sb = start();
    let k = fidelity_support::Kubectl::new(&bin, &sb);
    let out = k
        .run(&[
            "drain",
            "node-b",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=5s",
        ])
        .failed();
    assert!(
        out.stderr
            .contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("global timeout reached: 5s"),
        "{}",
        out.stderr
    );
    let pods = k.run(&["get", "pods", "-n", "bank", "-o", "name"]).ok();
    assert_eq!(pods.stdout.lines().count(), 2);
}
