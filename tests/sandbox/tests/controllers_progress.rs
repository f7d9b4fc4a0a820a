//! Deployment progress deadlines as the real controller tracks them:
//! NewReplicaSetCreated → ReplicaSetUpdated while pods make progress →
//! ProgressDeadlineExceeded when they stop, and `kubectl rollout status`
//! (the real one) giving up with "exceeded its progress deadline".

mod controllers_support;
mod fidelity_support;

use controllers_support::*;
use fidelity_support::{Kubectl, kubectl_or_skip};
use serde_json::{Value, json};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/shop/deployments";

fn progressing(d: &Value) -> Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing").cloned())
        .unwrap_or(Value::Null)
}

/// A Deployment whose pods wait for a Secret that does not exist yet.
fn stuck(name: &str, deadline: i64) -> Value {
    let mut d = deployment(name, "registry.example.com/api:2.0", 2);
    d["spec"]["progressDeadlineSeconds"] = json!(deadline);
    d["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "TOKEN",
        "valueFrom": {"secretKeyRef": {"name": format!("{name}-token"), "key": "token"}}}]);
    d
}

#[tokio::test]
async fn a_stalled_rollout_exceeds_its_deadline_and_recovers() {
    let sb = start();
    let c = client(&sb).await;
    let r = post(&c, DEPLOYS, stuck("stalled", 2)).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let path = format!("{DEPLOYS}/stalled");
    // While pods are being created the rollout is progressing.
    let d = wait_for(&c, &path, |d| {
        progressing(d)["reason"] == "ReplicaSetUpdated"
    })
    .await;
    let p = progressing(&d);
    assert_eq!(p["status"], "True");
    assert!(
        p["message"].as_str().is_some_and(
            |m| m.starts_with("ReplicaSet \"stalled-") && m.ends_with("\" is progressing.")
        ),
        "{p:#}"
    );
    // Nothing becomes Ready: after the deadline the controller says so.
    let started = std::time::Instant::now();
    let d = wait_for(&c, &path, |d| {
        progressing(d)["reason"] == "ProgressDeadlineExceeded"
    })
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let p = progressing(&d);
    assert_eq!(p["status"], "False");
    assert!(
        p["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("\" has timed out progressing.")),
        "{p:#}"
    );
    let available = d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available").cloned())
        .expect("Available");
    assert_eq!(available["status"], "False");

    // The missing Secret appears: pods start, the rollout completes.
    let r = post(
        &c,
        "/api/v1/namespaces/shop/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stalled-token"},
            "stringData": {"token": "t0k3n"}}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    let d = wait_for(&c, &path, |d| {
        progressing(d)["reason"] == "NewReplicaSetAvailable"
    })
    .await;
    assert_eq!(progressing(&d)["status"], "True");
    assert_eq!(d["status"]["availableReplicas"], 2);
}

#[tokio::test]
async fn rollout_status_reports_the_exceeded_deadline() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start();
    let c = client(&sb).await;
    let r = post(&c, DEPLOYS, stuck("doomed", 1)).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let k = Kubectl::new(&bin, &sb);
    let run = tokio::task::spawn_blocking(move || {
        k.run(&[
            "-n",
            "shop",
            "rollout",
            "status",
            "deployment/doomed",
            "--timeout=20s",
        ])
    })
    .await
    .expect("kubectl ran");
    let run = run.failed();
    assert!(
        run.stderr
            .contains("error: deployment \"doomed\" exceeded its progress deadline"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}
