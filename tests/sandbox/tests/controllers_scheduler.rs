//! The scheduler through the API, on `tests/fixtures/scheduler` (five nodes,
//! each rejecting for its own reason): bare pods are scheduled and started,
//! other schedulers' pods are left alone, every filter gives the default
//! scheduler's words, and the resource boundary is exact to the byte.

mod controllers_support;

use controllers_support::*;
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};

const PODS: &str = "/api/v1/namespaces/sched/pods";

fn start_scheduler() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("scheduler")],
        ..Default::default()
    })
    .expect("sandbox starts on the scheduler fixtures")
}

fn bare_pod(name: &str, cpu: &str, memory: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0",
            "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}})
}

async fn create(c: &kube::Client, pod: Value) {
    let r = post(c, PODS, pod).await;
    assert_eq!(r.code, 201, "{}", r.text);
}

fn scheduled_condition(p: &Value) -> Value {
    p["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled").cloned())
        .unwrap_or(Value::Null)
}

/// Waits until the scheduler has decided about the pod (bound or not).
async fn decided(c: &kube::Client, name: &str) -> Value {
    wait_for(c, &format!("{PODS}/{name}"), |p| {
        !scheduled_condition(p).is_null() || ready(p)
    })
    .await
}

fn message(p: &Value) -> String {
    scheduled_condition(p)["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn bare_pod_is_scheduled_and_started() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    create(&c, bare_pod("solo", "100m", "64Mi")).await;
    let p = wait_for(&c, &format!("{PODS}/solo"), ready).await;
    assert_eq!(p["status"]["phase"], "Running");
    let node = p["spec"]["nodeName"].as_str().expect("bound");
    // Never the cordoned or the tainted node.
    assert!(["node-1", "node-4", "node-5"].contains(&node), "{node}");
    assert_eq!(scheduled_condition(&p)["status"], "True");
    assert!(p["status"]["podIP"].is_string());
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
}

#[tokio::test]
async fn pods_with_a_node_or_another_scheduler_are_left_alone() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    let mut other = bare_pod("volcano-job", "100m", "64Mi");
    other["spec"]["schedulerName"] = json!("volcano");
    create(&c, other).await;
    let mut pinned = bare_pod("pinned", "100m", "64Mi");
    // The cordoned node: a pod that names its node bypasses the scheduler.
    pinned["spec"]["nodeName"] = json!("node-2");
    create(&c, pinned).await;
    let p = wait_for(&c, &format!("{PODS}/pinned"), ready).await;
    assert_eq!(p["spec"]["nodeName"], "node-2");
    // Created before `pinned`, so the controllers have seen it by now.
    let v = get_json(&c, &format!("{PODS}/volcano-job")).await;
    assert!(v["spec"]["nodeName"].is_null(), "{v:#}");
    assert_eq!(v["status"]["phase"], "Pending");
    assert!(scheduled_condition(&v).is_null(), "{v:#}");
}

#[tokio::test]
async fn each_filter_is_named_like_the_default_scheduler() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    let mut p = bare_pod("big-old", "3", "1Gi");
    p["spec"]["nodeSelector"] = json!({"pool": "old"});
    create(&c, p).await;
    let p = decided(&c, "big-old").await;
    assert!(p["spec"]["nodeName"].is_null());
    assert_eq!(scheduled_condition(&p)["reason"], "Unschedulable");
    assert_eq!(
        message(&p),
        "0/5 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling."
    );
    // kubectl describe shows it as a FailedScheduling event.
    let events = items(&get_json(&c, "/api/v1/namespaces/sched/events").await);
    assert!(events.iter().any(|e| e["reason"] == "FailedScheduling"
        && e["involvedObject"]["name"] == "big-old"
        && e["message"].as_str() == Some(&message(&p))));

    // Required node affinity with Gt/In: only node-5 (cores=4, disk=ssd).
    let mut p = bare_pod("numeric", "100m", "64Mi");
    p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "cores", "operator": "Gt", "values": ["2"]},
            {"key": "disk", "operator": "In", "values": ["ssd"]}]}]}}});
    create(&c, p).await;
    let p = wait_for(&c, &format!("{PODS}/numeric"), ready).await;
    assert_eq!(
        p["spec"]["nodeName"], "node-5",
        "PreferNoSchedule only scores"
    );
}

#[tokio::test]
async fn extended_resources_and_tolerations() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    let gpu_pod = |name: &str, gpus: i64, tolerate: bool| {
        let mut p = bare_pod(name, "100m", "64Mi");
        p["spec"]["containers"][0]["resources"]["limits"] = json!({"nvidia.com/gpu": gpus});
        if tolerate {
            p["spec"]["tolerations"] = json!([{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]);
        }
        p
    };
    create(&c, gpu_pod("trainer", 2, true)).await;
    let p = wait_for(&c, &format!("{PODS}/trainer"), ready).await;
    assert_eq!(p["spec"]["nodeName"], "node-3");
    // Both GPUs are taken now: the next GPU pod is short of them on node-3
    // (resolvable: evicting the trainer would help) and everywhere else.
    create(&c, gpu_pod("second", 1, true)).await;
    let p = decided(&c, "second").await;
    assert_eq!(
        message(&p),
        "0/5 nodes are available: 1 node(s) were unschedulable, 4 Insufficient nvidia.com/gpu. preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling."
    );
    // Without the toleration the taint rejects node-3 first.
    create(&c, gpu_pod("untolerated", 1, false)).await;
    let p = decided(&c, "untolerated").await;
    assert!(
        message(&p).contains("1 node(s) had untolerated taint {gpu: true}"),
        "{}",
        message(&p)
    );
    // Freeing the GPUs lets the waiting pod in.
    let r = send(&c, "DELETE", &format!("{PODS}/trainer"), None, None).await;
    assert_eq!(r.code, 200, "{}", r.text);
    let p = wait_for(&c, &format!("{PODS}/second"), ready).await;
    assert_eq!(p["spec"]["nodeName"], "node-3");
}

#[tokio::test]
async fn exactly_enough_room_fits_and_one_byte_less_does_not() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    let on_node_4 = |name: &str, cpu: &str, memory: &str| {
        let mut p = bare_pod(name, cpu, memory);
        p["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": "node-4"});
        p
    };
    // node-4 has 750m and 1536Mi (1610612736 bytes) left after `resident`.
    create(&c, on_node_4("byte-too-many", "750m", "1610612737")).await;
    let p = decided(&c, "byte-too-many").await;
    assert!(p["spec"]["nodeName"].is_null());
    assert_eq!(
        message(&p),
        "0/5 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling."
    );
    create(&c, on_node_4("milli-too-many", "751m", "1Mi")).await;
    let p = decided(&c, "milli-too-many").await;
    assert!(
        message(&p).contains("1 Insufficient cpu"),
        "{}",
        message(&p)
    );
    create(&c, on_node_4("exact", "750m", "1536Mi")).await;
    let p = wait_for(&c, &format!("{PODS}/exact"), ready).await;
    assert_eq!(p["spec"]["nodeName"], "node-4");
    // node-4 allows 3 pods: resident + exact + one more.
    create(&c, on_node_4("third", "0", "0")).await;
    wait_for(&c, &format!("{PODS}/third"), ready).await;
    create(&c, on_node_4("fourth", "0", "0")).await;
    let p = decided(&c, "fourth").await;
    assert!(message(&p).contains("1 Too many pods"), "{}", message(&p));
}

#[tokio::test]
async fn required_anti_affinity_spreads_over_hostnames() {
    let sb = start_scheduler();
    let c = client(&sb).await;
    let mut d = deployment("spread", "registry.example.com/spread:1.0", 3);
    d["spec"]["template"]["spec"]["nodeSelector"] = json!({"pool": "new"});
    d["spec"]["template"]["spec"]["affinity"] = json!({"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"app": "spread"}},
            "topologyKey": "kubernetes.io/hostname"}]}});
    let r = post(&c, "/apis/apps/v1/namespaces/sched/deployments", d).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let list = format!("{PODS}?labelSelector=app%3Dspread");
    let l = wait_for(&c, &list, |l| {
        items(l).len() == 3
            && items(l).iter().filter(|p| ready(p)).count() == 2
            && items(l)
                .iter()
                .any(|p| !scheduled_condition(p).is_null() && !ready(p))
    })
    .await;
    let mut nodes: Vec<String> = items(&l)
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["node-4", "node-5"]);
    let pending = items(&l)
        .into_iter()
        .find(|p| !ready(p))
        .expect("a pending pod");
    assert_eq!(
        message(&pending),
        "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling."
    );
    // A pod in another namespace is outside the term's namespaces ...
    let mut outsider = bare_pod("outsider", "10m", "1Mi");
    outsider["metadata"]["labels"] = json!({"app": "spread"});
    outsider["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": "node-5"});
    let r = post(&c, "/api/v1/namespaces/other/pods", outsider).await;
    assert_eq!(r.code, 201, "{}", r.text);
    wait_for(&c, "/api/v1/namespaces/other/pods/outsider", ready).await;
    // ... but the existing pods' anti-affinity binds a new sched pod that
    // matches their selector (the symmetric check).
    let mut joiner = bare_pod("joiner", "10m", "1Mi");
    joiner["metadata"]["labels"] = json!({"app": "spread"});
    joiner["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": "node-5"});
    create(&c, joiner).await;
    let p = decided(&c, "joiner").await;
    assert!(
        message(&p).contains("1 node(s) didn't satisfy existing pods anti-affinity rules"),
        "{}",
        message(&p)
    );
}
