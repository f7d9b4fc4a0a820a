//! Helpers of the rotate CLI tests: run the plugin, read and write the sandbox through a
//! plain kube client (so assertions do not depend on the plugin's own code), and compare
//! resourceVersions to prove that nothing changed.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::Output;

use kube_sandbox::Sandbox;
use serde_json::Value;

/// `kubectl-rotate --kubeconfig SB ARGS`, run directly.
pub fn rotate(sb: &Sandbox, args: &[&str]) -> Output {
    suite_tests::run(&mut suite_tests::plugin("rotate", sb, args))
}

/// `kubectl rotate ARGS` through the real kubectl plugin mechanism.
pub fn kubectl_rotate(sb: &Sandbox, args: &[&str]) -> Output {
    suite_tests::run(&mut suite_tests::kubectl_plugin("rotate", sb, args))
}

/// The exit code, with both streams in the message when it is not `want`.
pub fn assert_exit(out: &Output, want: i32) {
    assert_eq!(
        out.status.code(),
        Some(want),
        "exit code; stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A kube client on the sandbox with its own small runtime.
pub struct Cluster {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
}

impl Cluster {
    pub fn new(sb: &Sandbox) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let client = rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(sb.kubeconfig())
                .unwrap_or_else(|e| panic!("{e}"));
            let cfg = kube::Config::from_custom_kubeconfig(
                kc,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            kube::Client::try_from(cfg).unwrap_or_else(|e| panic!("{e}"))
        });
        Cluster { rt, client }
    }

    fn send(&self, req: http::Request<Vec<u8>>) -> Value {
        self.rt
            .block_on(self.client.request::<Value>(req))
            .unwrap_or_else(|e| panic!("request failed: {e}"))
    }

    /// GET an API path (`/apis/apps/v1/namespaces/x/deployments/y`).
    pub fn get(&self, path: &str) -> Value {
        self.send(
            http::Request::get(path)
                .body(Vec::new())
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    /// GET, `None` on 404.
    pub fn try_get(&self, path: &str) -> Option<Value> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
        match self.rt.block_on(self.client.request::<Value>(req)) {
            Ok(v) => Some(v),
            Err(kube::Error::Api(s)) if s.code == 404 => None,
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// A merge patch.
    pub fn merge_patch(&self, path: &str, body: &Value) -> Value {
        let req = http::Request::patch(path)
            .header("Content-Type", "application/merge-patch+json")
            .body(serde_json::to_vec(body).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        self.send(req)
    }

    /// `kind/name` → resourceVersion of every object of these list paths.
    pub fn resource_versions(&self, lists: &[&str]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for path in lists {
            let list = self.get(path);
            for item in list["items"].as_array().cloned().unwrap_or_default() {
                let key = format!("{path}/{}", item["metadata"]["name"].as_str().unwrap_or(""));
                out.insert(
                    key,
                    item["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                );
            }
        }
        out
    }
}

/// The list paths of a namespace that a rotation could touch.
pub fn touchable(ns: &str) -> Vec<String> {
    vec![
        format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        format!("/apis/apps/v1/namespaces/{ns}/statefulsets"),
        format!("/apis/apps/v1/namespaces/{ns}/daemonsets"),
        format!("/apis/apps/v1/namespaces/{ns}/replicasets"),
        format!("/apis/batch/v1/namespaces/{ns}/cronjobs"),
        format!("/api/v1/namespaces/{ns}/secrets"),
        format!("/api/v1/namespaces/{ns}/pods"),
        format!("/api/v1/namespaces/{ns}/serviceaccounts"),
    ]
}

/// A JSON pointer's string value.
pub fn at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Poll `check` on `path` for up to 20 s.
pub fn eventually(c: &Cluster, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = c.get(path);
        if check(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting on {path}: {v:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// stdout + stderr as one string (for "never printed" checks).
pub fn all_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
