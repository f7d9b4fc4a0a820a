//! Shared harness for the api_* behaviour tests: a sandbox over the
//! `sandbox-api` fixtures, kube clients for its kubeconfig contexts, and a
//! raw request helper that returns the status code and the decoded body.
#![allow(dead_code)]

use http_body_util::BodyExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::Value;

pub fn start_with(dirs: &[&str], faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: dirs
            .iter()
            .map(|d| fixture_dir("sandbox-api").join(d))
            .collect(),
        faults: faults.iter().map(|f| f.to_string()).collect(),
        ..Default::default()
    })
    .expect("sandbox starts")
}

pub fn start() -> Sandbox {
    start_with(&["basic"], &[])
}

pub async fn config(sb: &Sandbox, context: Option<&str>) -> kube::Config {
    let kc = Kubeconfig::read_from(sb.kubeconfig()).expect("kubeconfig");
    let opts = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config")
}

pub async fn client(sb: &Sandbox) -> kube::Client {
    kube::Client::try_from(config(sb, None).await).expect("client")
}

pub async fn client_as(sb: &Sandbox, context: &str) -> kube::Client {
    kube::Client::try_from(config(sb, Some(context)).await).expect("client")
}

/// The reply to one raw request: status code, content type and body.
pub struct Reply {
    pub code: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

pub async fn send(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let headers: Vec<(&str, &str)> = content_type
        .map(|ct| ("content-type", ct))
        .into_iter()
        .collect();
    request(client, method, path, &headers, body).await
}

/// A GET with an `Accept` header.
pub async fn get_accept(client: &kube::Client, path: &str, accept: &str) -> Reply {
    request(client, "GET", path, &[("accept", accept)], None).await
}

/// One request with the given headers; the reply as text.
pub async fn request(
    client: &kube::Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut b = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let bytes = body
        .map(|v| serde_json::to_vec(&v).expect("json"))
        .unwrap_or_default();
    let req = b.body(kube::client::Body::from(bytes)).expect("request");
    let resp = client.send(req).await.expect("response");
    let code = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Reply {
        code,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(client: &kube::Client, path: &str) -> Reply {
    send(client, "GET", path, None, None).await
}

/// The admin token from the sandbox's kubeconfig.
pub fn admin_token(sb: &Sandbox) -> String {
    let text = std::fs::read_to_string(sb.kubeconfig()).expect("kubeconfig");
    let after = text.split("- name: admin").nth(1).expect("admin user");
    let line = after
        .lines()
        .find(|l| l.trim_start().starts_with("token:"))
        .expect("token");
    line.trim_start()
        .trim_start_matches("token:")
        .trim()
        .trim_matches('"')
        .to_string()
}

/// One HTTP/1.1 request over a fresh connection to a `plain_http` sandbox,
/// without any client-side retries: (status, raw head, body) or None when the
/// server closed the connection without answering.
pub fn raw_http(sb: &Sandbox, method: &str, path: &str) -> Option<(u16, String, String)> {
    use std::io::{Read, Write};
    let addr = sb.url().trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        admin_token(sb)
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let (head, body) = out.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, head.to_string(), body.to_string()))
}

pub fn start_plain(faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("sandbox-api").join("basic")],
        faults: faults.iter().map(|f| f.to_string()).collect(),
        plain_http: true,
        ..Default::default()
    })
    .expect("sandbox starts")
}
