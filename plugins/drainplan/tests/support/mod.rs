//! Shared by the drainplan CLI tests: running the plugin and kubectl against a sandbox,
//! reading plans, and fingerprints of the cluster state ("nothing changed").
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Output, Stdio};

use kube_sandbox::Sandbox;
use serde_json::Value;

#[allow(unused_imports)]
pub use suite_tests::{json, run, sandbox, text};

/// `kubectl-drainplan ARGS` run directly.
pub fn drainplan(sb: &Sandbox, args: &[&str]) -> Output {
    run(&mut suite_tests::plugin("drainplan", sb, args))
}

/// `kubectl drainplan ARGS` through the real kubectl plugin mechanism.
pub fn kubectl_drainplan(sb: &Sandbox, args: &[&str]) -> Output {
    run(&mut suite_tests::kubectl_plugin("drainplan", sb, args))
}

/// `kubectl ARGS` against the sandbox.
pub fn kubectl_cmd(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = suite_tests::kubectl();
    cmd.arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(args)
        .env_remove("KUBECONFIG");
    cmd
}

pub fn kubectl(sb: &Sandbox, args: &[&str]) -> Output {
    run(&mut kubectl_cmd(sb, args))
}

/// `kubectl get ... -o json` parsed.
pub fn get_json(sb: &Sandbox, args: &[&str]) -> Value {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    let out = kubectl(sb, &a);
    assert!(out.status.success(), "kubectl {a:?}: {out:?}");
    json(&out)
}

/// Every node, pod and PDB by `kind/namespace/name` → resourceVersion: equal before and
/// after means nothing was written.
pub fn versions(sb: &Sandbox) -> BTreeMap<String, String> {
    let doc = get_json(sb, &["nodes,pods,pdb", "-A"]);
    doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                ),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

/// The plan's pods by name: (reason, action, blocking).
pub fn decisions(plan: &Value) -> BTreeMap<String, (String, String, bool)> {
    plan["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                (
                    p["reason"].as_str().unwrap_or("").to_string(),
                    p["action"].as_str().unwrap_or("").to_string(),
                    p["blocking"].as_bool().unwrap_or(false),
                ),
            )
        })
        .collect()
}

/// One pod of the plan by name.
pub fn pod<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["pods"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no pod {name} in {plan:#}"))
}

/// `kubectl get pdb NAME -w` printing `currentHealthy desiredHealthy` per change, started
/// and past its first line (the state before anything happens).
pub struct BudgetWatch {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl BudgetWatch {
    pub fn start(sb: &Sandbox, namespace: &str, name: &str) -> Option<BudgetWatch> {
        if !suite_tests::kubectl_available() {
            return None;
        }
        let mut child = kubectl_cmd(
            sb,
            &[
                "get",
                "pdb",
                name,
                "-n",
                namespace,
                "-w",
                "-o",
                "jsonpath={.status.currentHealthy} {.status.desiredHealthy}{\"\\n\"}",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl get -w");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the watch prints the current state");
        assert!(!first.trim().is_empty());
        let watch = BudgetWatch { child, lines: rx };
        Some(watch)
    }

    /// Stop and return every (currentHealthy, desiredHealthy) seen after the first.
    pub fn stop(mut self) -> Vec<(i64, i64)> {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.lines
            .try_iter()
            .filter_map(|l| {
                let mut it = l.split_whitespace().map(|x| x.parse::<i64>().ok());
                Some((it.next()??, it.next()??))
            })
            .collect()
    }
}
