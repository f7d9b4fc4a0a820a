//! The plan's fit against kube-sandbox's scheduler (the oracle; it shares no code with the
//! plugin): a drain into exactly enough room succeeds where the plan said so, and with one
//! byte or one rounded-up millicore too little the evicted pod's replacement goes Pending with
//! the message the plan predicted.

mod support;

use serde_json::Value;
use support::*;

/// Drain `node` for real with kubectl (no budgets in these fixtures) and return the
/// replacement pods of `app` (those not named `old`).
fn drain_and_replacements(
    sb: &kube_sandbox::Sandbox,
    node: &str,
    namespace: &str,
    app: &str,
    old: &str,
) -> Vec<Value> {
    let out = kubectl(
        sb,
        &[
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=30s",
        ],
    );
    assert!(out.status.success(), "kubectl drain: {out:?}");
    // The controller makes the replacement right after the eviction; give the scheduler a
    // moment to decide.
    for _ in 0..50 {
        let pods = get_json(sb, &["pods", "-n", namespace, "-l", &format!("app={app}")]);
        let fresh: Vec<Value> = pods["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|p| p["metadata"]["name"] != old)
            .filter(|p| {
                p["status"]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "PodScheduled"))
            })
            .cloned()
            .collect();
        if !fresh.is_empty() {
            return fresh;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no replacement for {app} appeared");
}

fn scheduled_message(pod: &Value) -> String {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled"))
        .and_then(|c| c["message"].as_str())
        .unwrap_or("")
        .to_string()
}

const NO_ROOM: &str = "fits on no node outside the drain: ";

/// The plan says NoCapacity with the scheduler's message; the real drain's replacement is
/// Pending with a message that starts with exactly that (the scheduler adds its preemption
/// sentence).
fn agrees_on_no_room(folders: &[&str], node: &str, ns: &str, app: &str, pod: &str, expected: &str) {
    let sb = sandbox(folders);
    let plan = json(&drainplan(&sb, &[node, "-o", "json"]));
    let entry = support::pod(&plan, pod);
    assert_eq!(entry["reason"], "NoCapacity", "{entry}");
    let ours = entry["message"].as_str().unwrap_or("").to_string();
    let ours = ours.strip_prefix(NO_ROOM).unwrap_or(&ours).to_string();
    assert_eq!(ours, expected);
    if !suite_tests::kubectl_available() {
        return;
    }
    let replacements = drain_and_replacements(&sb, node, ns, app, pod);
    for r in &replacements {
        assert_eq!(r["status"]["phase"], "Pending", "{r}");
        let theirs = scheduled_message(r);
        assert!(
            theirs.starts_with(&ours),
            "plan: {ours}\nscheduler: {theirs}"
        );
    }
}

#[test]
fn exactly_enough_room_fits_and_the_scheduler_agrees() {
    let sb = sandbox(&["drainplan/fit-exact"]);
    let out = kubectl_drainplan(&sb, &["t", "--execute", "--yes", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["outcome"], "drained");
    assert_eq!(
        support::pod(&report["plan"], "mover-7b8c9-hhhhh")["destination"],
        "d"
    );
    // The replacement is Running and Ready on d: the scheduler took the last byte.
    let pods = get_json(&sb, &["pods", "-n", "fit", "-l", "app=mover"]);
    let items = pods["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{pods:#}");
    assert_ne!(items[0]["metadata"]["name"], "mover-7b8c9-hhhhh");
    assert_eq!(items[0]["spec"]["nodeName"], "d");
    assert_eq!(items[0]["status"]["phase"], "Running");
}

#[test]
fn one_byte_too_little_is_no_capacity_for_both() {
    agrees_on_no_room(
        &["drainplan/fit-exact", "drainplan/fit-short-memory"],
        "t",
        "fit",
        "mover",
        "mover-7b8c9-hhhhh",
        "0/2 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable.",
    );
}

#[test]
fn a_millicore_rounded_up_is_no_capacity_for_both() {
    agrees_on_no_room(
        &["drainplan/fit-exact", "drainplan/fit-short-cpu"],
        "t",
        "fit",
        "mover",
        "mover-7b8c9-hhhhh",
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.",
    );
}

#[test]
fn each_constraint_is_named_as_the_scheduler_names_it() {
    let cases = [
        (
            "hungry",
            "hungry-2c3d4-bbbbb",
            "0/4 nodes are available: 1 Insufficient cpu, 1 Too many pods, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable.",
        ),
        (
            "trainer",
            "trainer-3d4e5-ccccc",
            "0/4 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, 3 Insufficient nvidia.com/gpu.",
        ),
        (
            "picky",
            "picky-4e5f6-ddddd",
            "0/4 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable.",
        ),
        (
            "lonely",
            "lonely-5f6a7-eeeee",
            "0/4 nodes are available: 1 Too many pods, 1 node(s) didn't match pod anti-affinity rules, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable.",
        ),
    ];
    let sb = sandbox(&["drainplan/nocapacity"]);
    let plan = json(&drainplan(&sb, &["t", "-o", "json"]));
    for (_, pod, expected) in cases {
        assert_eq!(
            support::pod(&plan, pod)["message"],
            format!("{NO_ROOM}{expected}")
        );
    }
    if !suite_tests::kubectl_available() {
        return;
    }
    // Drain for real: every replacement is Pending with the message the plan gave.
    for (app, pod, expected) in cases {
        let replacements = drain_and_replacements(&sb, "t", "nocap", app, pod);
        let theirs = scheduled_message(&replacements[0]);
        assert!(
            theirs.starts_with(expected),
            "{app}: plan: {expected}\nscheduler: {theirs}"
        );
    }
}
