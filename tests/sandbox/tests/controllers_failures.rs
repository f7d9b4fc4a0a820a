//! `PodFailure` rules through the API (`tests/fixtures/failures` on top of
//! `tests/fixtures/controllers`): a Deployment pointed at a wrong password
//! crash-loops with the rule's exit code, termination message and previous
//! log, stalls past its deadline and recovers when pointed back; readiness
//! failures and unpullable images; a missing Secret key still gives
//! CreateContainerConfigError.

mod controllers_support;
mod fidelity_support;

use controllers_support::*;
use fidelity_support::{Kubectl, kubectl_or_skip};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/shop/deployments";
const PODS: &str = "/api/v1/namespaces/shop/pods";

fn start_with_rules() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("controllers"), fixture_dir("failures")],
        ..Default::default()
    })
    .expect("sandbox starts with the failure rules")
}

fn with_password_from(name: &str, secret: &str) -> Value {
    let mut d = deployment(name, "registry.example.com/api:3.1", 2);
    d["spec"]["progressDeadlineSeconds"] = json!(2);
    d["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}]);
    d
}

fn progressing_reason(d: &Value) -> String {
    d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"))
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_string()
}

fn waiting_reason(p: &Value) -> &str {
    p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn wrong_password_crash_loops_then_recovers_when_pointed_back() {
    let sb = start_with_rules();
    let c = client(&sb).await;
    let r = post(&c, DEPLOYS, with_password_from("api", "db-v2")).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let list = format!("{PODS}?labelSelector=app%3Dapi");
    let l = wait_for(&c, &list, |l| {
        !items(l).is_empty()
            && items(l)
                .iter()
                .all(|p| waiting_reason(p) == "CrashLoopBackOff")
    })
    .await;
    let p = &items(&l)[0];
    assert_eq!(p["status"]["phase"], "Running");
    assert!(!ready(p));
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["restartCount"], 3);
    assert_eq!(cs["ready"], false);
    let waiting = cs["state"]["waiting"]["message"].as_str().unwrap_or("");
    assert!(
        waiting.starts_with("back-off 40s restarting failed container=app pod=api-"),
        "{waiting}"
    );
    let last = &cs["lastState"]["terminated"];
    assert_eq!(last["exitCode"], 2);
    assert_eq!(last["reason"], "Error");
    assert_eq!(
        last["message"],
        "FATAL: password authentication failed for user \"app\""
    );
    // The failed run's log, as `kubectl logs --previous` fetches it.
    let pod_name = name(p).to_string();
    let r = send(
        &c,
        "GET",
        &format!("{PODS}/{pod_name}/log?previous=true&tailLines=1"),
        None,
        None,
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.text);
    assert_eq!(
        r.text,
        "2025-06-01T10:00:01Z FATAL: password authentication failed for user \"app\"\n"
    );
    let events = items(&get_json(&c, "/api/v1/namespaces/shop/events").await);
    assert!(
        events.iter().any(|e| e["reason"] == "BackOff"
            && e["type"] == "Warning"
            && e["involvedObject"]["name"] == pod_name.as_str()
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Back-off restarting failed container app in pod"))),
        "{events:#?}"
    );
    // No pod becomes Ready: the rollout runs into its deadline.
    let path = format!("{DEPLOYS}/api");
    wait_for(&c, &path, |d| {
        progressing_reason(d) == "ProgressDeadlineExceeded"
    })
    .await;

    // Pointed back at the right password: the new pods run, the rollout completes.
    merge_patch(
        &c,
        &path,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-v1", "key": "password"}}}]}]}}}}),
    )
    .await;
    let d = wait_for(&c, &path, |d| {
        progressing_reason(d) == "NewReplicaSetAvailable" && d["status"]["availableReplicas"] == 2
    })
    .await;
    assert_eq!(d["status"]["updatedReplicas"], 2);
    let l = wait_for(&c, &list, |l| {
        items(l).len() == 2 && items(l).iter().all(ready)
    })
    .await;
    for p in items(&l) {
        assert_eq!(p["status"]["containerStatuses"][0]["restartCount"], 0);
    }
}

#[tokio::test]
async fn readiness_failure_and_unpullable_image() {
    let sb = start_with_rules();
    let c = client(&sb).await;
    let flaky = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "flaky", "labels": {"tier": "flaky"}},
        "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:2.1.0"}]}});
    let r = post(&c, PODS, flaky).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let p = wait_for(&c, &format!("{PODS}/flaky"), |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["started"], true);
    assert_eq!(cs["ready"], false);
    assert!(cs["state"]["running"]["startedAt"].is_string());
    assert!(!ready(&p));
    let events = items(&get_json(&c, "/api/v1/namespaces/shop/events").await);
    assert!(events.iter().any(|e| e["reason"] == "Unhealthy"
        && e["involvedObject"]["name"] == "flaky"
        && e["message"]
            == "Readiness probe failed: Get \"http://10.244.1.9:8080/ready\": context deadline exceeded"));

    let ghost = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ghost"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/does-not-exist:1.0"}]}});
    let r = post(&c, PODS, ghost).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let p = wait_for(&c, &format!("{PODS}/ghost"), |p| {
        waiting_reason(p) == "ImagePullBackOff"
    })
    .await;
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "Back-off pulling image \"registry.example.com/does-not-exist:1.0\""
    );
    let events = items(&get_json(&c, "/api/v1/namespaces/shop/events").await);
    assert!(events.iter().any(|e| e["reason"] == "BackOff"
        && e["involvedObject"]["name"] == "ghost"
        && e["message"] == "Back-off pulling image \"registry.example.com/does-not-exist:1.0\""));
}

#[tokio::test]
async fn missing_key_is_a_config_error_not_a_rule_match() {
    let sb = start_with_rules();
    let c = client(&sb).await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "no-key"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/api:3.1",
            "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "db-v2", "key": "username"}}}]}]}});
    let r = post(&c, PODS, pod).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let p = wait_for(&c, &format!("{PODS}/no-key"), |p| {
        waiting_reason(p) == "CreateContainerConfigError"
    })
    .await;
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "couldn't find key username in Secret shop/db-v2"
    );
    assert_eq!(p["status"]["phase"], "Pending");
}

#[tokio::test]
async fn kubectl_logs_previous_shows_the_crash() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start_with_rules();
    let c = client(&sb).await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crasher"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/api:3.1",
            "envFrom": [{"secretRef": {"name": "db-v2"}}]}]}});
    let r = post(&c, PODS, pod).await;
    assert_eq!(r.code, 201, "{}", r.text);
    wait_for(&c, &format!("{PODS}/crasher"), |p| {
        waiting_reason(p) == "CrashLoopBackOff"
    })
    .await;
    let k = Kubectl::new(&bin, &sb);
    let run = tokio::task::spawn_blocking(move || {
        let logs = k.run(&["-n", "shop", "logs", "crasher", "--previous"]);
        let table = k.run(&["-n", "shop", "get", "pod", "crasher"]);
        (logs, table)
    })
    .await
    .expect("kubectl ran");
    let logs = run.0.ok();
    assert!(
        logs.stdout
            .ends_with("FATAL: password authentication failed for user \"app\"\n"),
        "{}",
        logs.stdout
    );
    let table = run.1.ok();
    let row = table.row("crasher");
    assert_eq!(row[1], "0/1");
    assert_eq!(row[2], "CrashLoopBackOff");
    assert!(row[3].starts_with('3'), "{row:?}");
}
