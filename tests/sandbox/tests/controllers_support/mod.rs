//! Shared harness of the controller suites: a sandbox on the `controllers`
//! fixtures, JSON requests through a kube client, and polling until the
//! simulated controllers have settled.
#![allow(dead_code)]

#[path = "../api_support/mod.rs"]
mod api_support;

pub use api_support::{Reply, client, send};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn start() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("controllers")],
        ..Default::default()
    })
    .expect("sandbox starts on the controllers fixtures")
}

pub async fn get_json(c: &kube::Client, path: &str) -> Value {
    let r = send(c, "GET", path, None, None).await;
    assert_eq!(r.code, 200, "GET {path}: {}", r.text);
    r.json()
}

pub async fn post(c: &kube::Client, path: &str, body: Value) -> Reply {
    send(c, "POST", path, Some("application/json"), Some(body)).await
}

pub async fn merge_patch(c: &kube::Client, path: &str, body: Value) -> Value {
    let r = send(
        c,
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        Some(body),
    )
    .await;
    assert_eq!(r.code, 200, "PATCH {path}: {}", r.text);
    r.json()
}

/// Polls `path` until `done` holds (the controllers run asynchronously
/// after each write), panicking with the last answer after 10 s.
pub async fn wait_for(c: &kube::Client, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let v = get_json(c, path).await;
        if done(&v) {
            return v;
        }
        if start.elapsed() > Duration::from_secs(10) {
            panic!("timed out waiting on {path}; last:\n{v:#}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

pub fn name(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or("")
}

pub fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image,
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}}})
}

pub fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}
