//! Shared harness of the controller suites: a sandbox on the `controllers`
//! fixtures, JSON requests through a kube client, and polling until the
//! simulated controllers have settled.
#![allow(dead_code)]

#[path = "../api_support/mod.rs"]
mod api_support;

#[allow(unused_imports)] // each suite uses a different subset
pub use api_support::{Reply, admin_token, client, raw_http, send};
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

/// Over plain HTTP, for raw requests without any client-side retries
/// (kube-rs retries 429s, which would hide the answer under test).
pub fn start_plain() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("controllers")],
        plain_http: true,
        ..Default::default()
    })
    .expect("sandbox starts on the controllers fixtures")
}

/// One JSON POST over a fresh connection to a `start_plain` sandbox:
/// (status, raw head, body).
pub fn raw_post(sb: &Sandbox, path: &str, body: &Value) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = sb.url().trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let body = body.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        admin_token(sb),
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let (head, body) = out.split_once("\r\n\r\n").expect("a response");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (code, head.to_string(), body.to_string())
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
