//! Simulated controllers through the API: Deployments roll out ReplicaSets
//! and Ready pods, scale, roll forward and back; the kubelet waits for
//! missing Secrets; the scheduler explains what does not fit; fixtures stay frozen.

mod controllers_support;
mod fidelity_support;

use controllers_support::*;
use serde_json::{Value, json};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/shop/deployments";
const RSES: &str = "/apis/apps/v1/namespaces/shop/replicasets";
const PODS: &str = "/api/v1/namespaces/shop/pods";

fn revision(v: &Value) -> &str {
    v["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or("")
}

fn complete(d: &Value, replicas: i64) -> bool {
    d["status"]["observedGeneration"] == d["metadata"]["generation"]
        && d["status"]["updatedReplicas"] == json!(replicas)
        && d["status"]["availableReplicas"] == json!(replicas)
        && d["status"]["replicas"] == json!(replicas)
}

#[tokio::test]
async fn deployment_rolls_out_a_replicaset_with_ready_pods() {
    let sb = start();
    let c = client(&sb).await;
    let r = post(&c, DEPLOYS, deployment("api", "nginx:1.27", 3)).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let d = wait_for(&c, &format!("{DEPLOYS}/api"), |d| complete(d, 3)).await;
    assert_eq!(revision(&d), "1");
    assert_eq!(d["status"]["readyReplicas"], 3);
    let conds = d["status"]["conditions"].as_array().expect("conditions");
    let progressing = conds
        .iter()
        .find(|c| c["type"] == "Progressing")
        .expect("Progressing");
    assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
    assert!(
        conds
            .iter()
            .any(|c| c["type"] == "Available" && c["status"] == "True")
    );

    let rses = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Dapi")).await);
    assert_eq!(rses.len(), 1);
    let rs = &rses[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .expect("hash label");
    assert_eq!(name(rs), format!("api-{hash}"));
    assert_eq!(revision(rs), "1");
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
    for k in [
        "replicas",
        "readyReplicas",
        "availableReplicas",
        "fullyLabeledReplicas",
    ] {
        assert_eq!(rs["status"][k], 3, "{k}: {rs:#}");
    }
    assert_eq!(
        rs["status"]["observedGeneration"],
        rs["metadata"]["generation"]
    );

    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Dapi")).await);
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let suffix = name(p)
            .strip_prefix(&format!("api-{hash}-"))
            .expect("pod named after its ReplicaSet");
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(p["metadata"]["ownerReferences"][0]["name"], name(rs));
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], hash);
        assert_eq!(p["status"]["phase"], "Running");
        assert!(ready(p));
        assert!(
            p["status"]["podIP"]
                .as_str()
                .is_some_and(|ip| ip.starts_with("10.244."))
        );
        assert!(
            p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| n.starts_with("node-"))
        );
        let cs = &p["status"]["containerStatuses"][0];
        assert_eq!(cs["ready"], true);
        assert_eq!(cs["restartCount"], 0);
        assert!(cs["state"]["running"]["startedAt"].is_string());
        assert!(
            cs["imageID"]
                .as_str()
                .is_some_and(|i| i.contains("@sha256:"))
        );
    }
}

#[tokio::test]
async fn scale_up_and_down() {
    let sb = start();
    let c = client(&sb).await;
    post(&c, DEPLOYS, deployment("scaled", "nginx:1.27", 2)).await;
    wait_for(&c, &format!("{DEPLOYS}/scaled"), |d| complete(d, 2)).await;
    let path = format!("{DEPLOYS}/scaled");
    merge_patch(&c, &path, json!({"spec": {"replicas": 5}})).await;
    wait_for(&c, &path, |d| complete(d, 5)).await;
    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Dscaled")).await);
    assert_eq!(pods.len(), 5);
    merge_patch(&c, &path, json!({"spec": {"replicas": 1}})).await;
    wait_for(&c, &path, |d| complete(d, 1)).await;
    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Dscaled")).await);
    assert_eq!(pods.len(), 1);
    // One ReplicaSet throughout: scaling is not a new revision.
    let rses = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Dscaled")).await);
    assert_eq!(rses.len(), 1);
}

#[tokio::test]
async fn template_change_rolls_forward_and_undo_reuses_the_old_replicaset() {
    let sb = start();
    let c = client(&sb).await;
    let path = format!("{DEPLOYS}/roll");
    post(&c, DEPLOYS, deployment("roll", "nginx:1.27", 3)).await;
    wait_for(&c, &path, |d| complete(d, 3)).await;
    let first = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Droll")).await);
    let first_name = name(&first[0]).to_string();

    merge_patch(
        &c,
        &path,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}}}),
    )
    .await;
    let d = wait_for(&c, &path, |d| complete(d, 3) && revision(d) == "2").await;
    assert_eq!(d["status"]["updatedReplicas"], 3);
    let rses = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Droll")).await);
    assert_eq!(rses.len(), 2);
    let old = rses
        .iter()
        .find(|r| name(r) == first_name)
        .expect("old RS kept");
    assert_eq!(old["spec"]["replicas"], 0);
    assert_eq!(revision(old), "1");
    let new = rses.iter().find(|r| name(r) != first_name).expect("new RS");
    assert_eq!(revision(new), "2");
    assert_eq!(new["spec"]["replicas"], 3);
    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Droll")).await);
    assert_eq!(pods.len(), 3);
    assert!(
        pods.iter()
            .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.28")
    );

    let Some(bin) = fidelity_support::kubectl_or_skip() else {
        return;
    };
    let k = fidelity_support::Kubectl::new(&bin, &sb);
    k.run(&["-n", "shop", "rollout", "undo", "deployment/roll"])
        .ok();
    let status = k
        .run(&[
            "-n",
            "shop",
            "rollout",
            "status",
            "deployment/roll",
            "--timeout=20s",
        ])
        .ok();
    assert!(
        status.stdout.contains("successfully rolled out"),
        "{}",
        status.stdout
    );
    let d = wait_for(&c, &path, |d| complete(d, 3) && revision(d) == "3").await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let rses = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Droll")).await);
    assert_eq!(rses.len(), 2, "the rollback reuses the first ReplicaSet");
    let reused = rses.iter().find(|r| name(r) == first_name).expect("reused");
    assert_eq!(revision(reused), "3");
    assert_eq!(reused["spec"]["replicas"], 3);
    let history = k
        .run(&["-n", "shop", "rollout", "history", "deployment/roll"])
        .ok();
    let revisions: Vec<&str> = history
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.parse::<u32>().is_ok())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{}", history.stdout);

    // rollout restart: a new template annotation, so a new ReplicaSet.
    k.run(&["-n", "shop", "rollout", "restart", "deployment/roll"])
        .ok();
    wait_for(&c, &path, |d| complete(d, 3) && revision(d) == "4").await;
    let rses = items(&get_json(&c, &format!("{RSES}?labelSelector=app%3Droll")).await);
    assert_eq!(rses.len(), 3);
}

#[tokio::test]
async fn missing_secret_then_created_starts_the_pod() {
    let sb = start();
    let c = client(&sb).await;
    let mut d = deployment("needs-secret", "busybox:1.36", 1);
    d["spec"]["template"]["spec"]["containers"][0]["env"] = json!([
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}]);
    post(&c, DEPLOYS, d).await;
    let list = format!("{PODS}?labelSelector=app%3Dneeds-secret");
    let waiting = |reason_msg: &'static str| {
        move |l: &Value| {
            items(l).first().is_some_and(|p| {
                p["status"]["containerStatuses"][0]["state"]["waiting"]["message"] == reason_msg
            })
        }
    };
    let l = wait_for(&c, &list, waiting("secret \"creds\" not found")).await;
    let p = &items(&l)[0];
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CreateContainerConfigError"
    );
    assert_eq!(p["status"]["phase"], "Pending");
    assert!(!ready(p));
    let d = get_json(&c, &format!("{DEPLOYS}/needs-secret")).await;
    assert_eq!(d["status"]["unavailableReplicas"], 1);
    // The kubelet's Warning event, as `kubectl describe pod` shows it.
    let events = items(&get_json(&c, "/api/v1/namespaces/shop/events").await);
    let ev = events
        .iter()
        .find(|e| e["involvedObject"]["name"] == name(p))
        .expect("an event about the pod");
    assert_eq!(ev["type"], "Warning");
    assert_eq!(ev["reason"], "Failed");
    assert_eq!(ev["message"], "Error: secret \"creds\" not found");
    assert_eq!(ev["source"]["component"], "kubelet");

    // The Secret without the key: the kubelet's other message.
    post(
        &c,
        "/api/v1/namespaces/shop/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"user": "u"}}),
    )
    .await;
    wait_for(
        &c,
        &list,
        waiting("couldn't find key password in Secret shop/creds"),
    )
    .await;
    merge_patch(
        &c,
        "/api/v1/namespaces/shop/secrets/creds",
        json!({"data": {"password": "cHc="}}),
    )
    .await;
    let l = wait_for(&c, &list, |l| items(l).first().is_some_and(ready)).await;
    assert_eq!(items(&l)[0]["status"]["phase"], "Running");
    wait_for(&c, &format!("{DEPLOYS}/needs-secret"), |d| complete(d, 1)).await;
}

#[tokio::test]
async fn unschedulable_pod_stays_pending_with_the_scheduler_message() {
    let sb = start();
    let c = client(&sb).await;
    merge_patch(
        &c,
        "/api/v1/nodes/node-c",
        json!({"spec": {"unschedulable": true}}),
    )
    .await;
    let mut d = deployment("huge", "busybox:1.36", 1);
    d["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"memory": "7Gi"}});
    post(&c, DEPLOYS, d).await;
    let list = format!("{PODS}?labelSelector=app%3Dhuge");
    let l = wait_for(&c, &list, |l| !items(l).is_empty()).await;
    let p = &items(&l)[0];
    assert_eq!(p["status"]["phase"], "Pending");
    assert!(p["spec"]["nodeName"].is_null());
    let cond = &p["status"]["conditions"][0];
    assert_eq!(cond["type"], "PodScheduled");
    assert_eq!(cond["reason"], "Unschedulable");
    assert_eq!(
        cond["message"],
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    );
    let events = items(&get_json(&c, "/api/v1/namespaces/shop/events").await);
    assert!(
        events
            .iter()
            .any(|e| e["reason"] == "FailedScheduling" && e["message"] == cond["message"]),
        "{events:#?}"
    );
    // A bigger node helps: the pending pod is retried when nodes change.
    post(
        &c,
        "/api/v1/nodes",
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-big"}}),
    )
    .await;
    // Create drops a node's status (a kubelet posts it afterwards).
    merge_patch(
        &c,
        "/api/v1/nodes/node-big/status",
        json!({"status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}}),
    )
    .await;
    let l = wait_for(&c, &list, |l| items(l).first().is_some_and(ready)).await;
    assert_eq!(items(&l)[0]["spec"]["nodeName"], "node-big");
}

#[tokio::test]
async fn fixtures_stay_frozen_until_written() {
    let sb = start();
    let c = client(&sb).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pods = items(&get_json(&c, PODS).await);
    let names: Vec<&str> = pods.iter().map(name).collect();
    assert_eq!(names, ["web-7c9d8f6b5-k2x9p", "web-7c9d8f6b5-m4t7q"]);
    let d = get_json(&c, &format!("{DEPLOYS}/web")).await;
    assert_eq!(
        d["metadata"]["resourceVersion"]
            .as_str()
            .map(|s| s.is_empty()),
        Some(false)
    );
    let rses = items(&get_json(&c, RSES).await);
    assert_eq!(rses.len(), 1);
    // PDBs without a fixture status get one computed at startup.
    let pdb = get_json(
        &c,
        "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web",
    )
    .await;
    assert_eq!(pdb["status"]["disruptionsAllowed"], 1);
    assert_eq!(pdb["status"]["currentHealthy"], 2);
    assert_eq!(pdb["status"]["desiredHealthy"], 1);
    assert_eq!(pdb["status"]["expectedPods"], 2);
}

#[tokio::test]
async fn statefulset_and_daemonset_roll_out() {
    let sb = start();
    let c = client(&sb).await;
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}]}});
    let r = post(&c, "/apis/apps/v1/namespaces/shop/statefulsets", sts).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let path = "/apis/apps/v1/namespaces/shop/statefulsets/db";
    let s = wait_for(&c, path, |s| s["status"]["readyReplicas"] == 3).await;
    let update = s["status"]["updateRevision"]
        .as_str()
        .expect("updateRevision")
        .to_string();
    assert_eq!(s["status"]["currentRevision"], update.as_str());
    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Ddb")).await);
    let names: Vec<&str> = pods.iter().map(name).collect();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["labels"]["controller-revision-hash"] == update.as_str())
    );
    let pvc = get_json(
        &c,
        "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-1",
    )
    .await;
    assert_eq!(pvc["status"]["phase"], "Bound");
    merge_patch(
        &c,
        path,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}}}),
    )
    .await;
    let s = wait_for(&c, path, |s| {
        s["status"]["updatedReplicas"] == 3 && s["status"]["updateRevision"] != update.as_str()
    })
    .await;
    assert_eq!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
    let revs = items(&get_json(&c, "/apis/apps/v1/namespaces/shop/controllerrevisions").await);
    let mut numbers: Vec<i64> = revs.iter().filter_map(|r| r["revision"].as_i64()).collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);

    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "exporter"},
        "spec": {"selector": {"matchLabels": {"app": "exporter"}},
            "template": {"metadata": {"labels": {"app": "exporter"}}, "spec": {"containers": [{"name": "e", "image": "prom/node-exporter:1.8"}]}}}});
    post(&c, "/apis/apps/v1/namespaces/kube-system/daemonsets", ds).await;
    let path = "/apis/apps/v1/namespaces/kube-system/daemonsets/exporter";
    let d = wait_for(&c, path, |d| d["status"]["numberReady"] == 3).await;
    assert_eq!(d["status"]["desiredNumberScheduled"], 3);
    assert_eq!(d["status"]["updatedNumberScheduled"], 3);
    let pods = items(
        &get_json(
            &c,
            "/api/v1/namespaces/kube-system/pods?labelSelector=app%3Dexporter",
        )
        .await,
    );
    let mut nodes: Vec<&str> = pods
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str())
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["node-a", "node-b", "node-c"]);

    let Some(bin) = fidelity_support::kubectl_or_skip() else {
        return;
    };
    let k = fidelity_support::Kubectl::new(&bin, &sb);
    let out = k
        .run(&[
            "-n",
            "shop",
            "rollout",
            "status",
            "statefulset/db",
            "--timeout=10s",
        ])
        .ok();
    assert!(out.stdout.contains("roll out complete"), "{}", out.stdout);
    let out = k
        .run(&[
            "-n",
            "kube-system",
            "set",
            "image",
            "daemonset/exporter",
            "e=prom/node-exporter:1.9",
        ])
        .ok();
    assert!(out.stdout.contains("image updated"), "{}", out.stdout);
    let out = k
        .run(&[
            "-n",
            "kube-system",
            "rollout",
            "status",
            "daemonset/exporter",
            "--timeout=10s",
        ])
        .ok();
    assert!(
        out.stdout.contains("successfully rolled out"),
        "{}",
        out.stdout
    );
    let out = k
        .run(&[
            "-n",
            "kube-system",
            "rollout",
            "history",
            "daemonset/exporter",
        ])
        .ok();
    assert!(out.stdout.contains("REVISION"), "{}", out.stdout);
    assert!(
        out.stdout.lines().any(|l| l.starts_with('2')),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn rolling_update_to_a_broken_template_stalls_with_old_pods_serving() {
    let sb = start();
    let c = client(&sb).await;
    let path = format!("{DEPLOYS}/stall");
    post(&c, DEPLOYS, deployment("stall", "nginx:1.27", 4)).await;
    wait_for(&c, &path, |d| complete(d, 4)).await;
    merge_patch(
        &c,
        &path,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28",
            "envFrom": [{"secretRef": {"name": "missing"}}]}]}}}}),
    )
    .await;
    // maxSurge 25% of 4 = 1 new pod, maxUnavailable 25% of 4 = 1 old pod
    // may go: then the rollout waits on the new pods forever.
    let d = wait_for(&c, &path, |d| {
        d["status"]["updatedReplicas"] == 2 && d["status"]["observedGeneration"] == 2
    })
    .await;
    assert_eq!(d["status"]["availableReplicas"], 3);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let pods = items(&get_json(&c, &format!("{PODS}?labelSelector=app%3Dstall")).await);
    let old_ready = pods
        .iter()
        .filter(|p| p["spec"]["containers"][0]["image"] == "nginx:1.27" && ready(p))
        .count();
    let new_waiting = pods
        .iter()
        .filter(|p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                == "CreateContainerConfigError"
        })
        .count();
    assert_eq!((old_ready, new_waiting), (3, 2), "{pods:#?}");
    let d = get_json(&c, &path).await;
    let progressing = d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing").cloned())
        .expect("Progressing");
    assert_eq!(progressing["reason"], "ReplicaSetUpdated");
}
