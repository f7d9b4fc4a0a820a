//! API defaulting, the same for fixtures and writes: workload strategies,
//! pod-spec defaults on pods and templates, Service addresses and status.

mod api_support;
use api_support::*;
use serde_json::{Value, json};

fn with_defaults() -> kube_sandbox::Sandbox {
    start_with(&["basic", "defaults"], &[])
}

#[tokio::test]
async fn fixture_workloads_are_stored_with_their_defaults() {
    let sb = with_defaults();
    let c = client(&sb).await;
    let sts = get(&c, "/apis/apps/v1/namespaces/shop/statefulsets/db")
        .await
        .json();
    let spec = &sts["spec"];
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(
        spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["securityContext"], json!({}));
    let c0 = &pod["containers"][0];
    assert_eq!(c0["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c0["ports"][0]["protocol"], "TCP");
    assert_eq!(c0["terminationMessagePath"], "/dev/termination-log");

    let d = get(&c, "/apis/apps/v1/namespaces/shop/deployments/web")
        .await
        .json();
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    // A fixture pod gets the pod-only defaults too.
    let solo = get(&c, "/api/v1/namespaces/default/pods/solo").await.json();
    assert_eq!(solo["spec"]["enableServiceLinks"], true);
    assert_eq!(
        solo["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
}

#[tokio::test]
async fn created_pods_get_pod_spec_defaults() {
    let sb = start();
    let c = client(&sb).await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}],
             "resources": {"limits": {"memory": "64Mi"}}},
            {"name": "b", "image": "nginx:1.27"}]}});
    let r = send(
        &c,
        "POST",
        "/api/v1/namespaces/shop/pods",
        Some("application/json"),
        Some(pod),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    let p = r.json();
    assert_eq!(p["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert_eq!(
        p["spec"]["containers"][1]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(
        p["spec"]["containers"][0]["resources"]["requests"],
        json!({"memory": "64Mi"})
    );
    assert_eq!(
        p["spec"]["containers"][0]["terminationMessagePolicy"],
        "File"
    );
    assert_eq!(p["spec"]["enableServiceLinks"], true);
    assert_eq!(p["status"]["qosClass"], "Burstable");

    // A merge patch dropping a defaulted field gets it back, as decoding
    // defaults every write.
    let r = send(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        Some("application/merge-patch+json"),
        Some(json!({"spec": {"revisionHistoryLimit": null}})),
    )
    .await
    .json();
    assert_eq!(r["spec"]["revisionHistoryLimit"], 10);
}

fn spec_of(v: &Value) -> &Value {
    &v["spec"]
}

#[tokio::test]
async fn services_get_addresses_defaults_and_status() {
    let sb = with_defaults();
    let c = client(&sb).await;
    let fixture = get(&c, "/api/v1/namespaces/shop/services/db").await.json();
    let ip = spec_of(&fixture)["clusterIP"]
        .as_str()
        .expect("allocated")
        .to_string();
    assert!(ip.starts_with("10.") && ip != "10.96.0.1", "{ip}");
    assert_eq!(spec_of(&fixture)["clusterIPs"], json!([ip]));
    assert_eq!(fixture["status"], json!({"loadBalancer": {}}));
    let headless = get(&c, "/api/v1/namespaces/shop/services/db-headless")
        .await
        .json();
    assert_eq!(spec_of(&headless)["clusterIPs"], json!(["None"]));

    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 80}]}});
    let r = send(
        &c,
        "POST",
        "/api/v1/namespaces/shop/services",
        Some("application/json"),
        Some(svc.clone()),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    let created = r.json();
    let s = spec_of(&created);
    assert_eq!(s["type"], "ClusterIP");
    assert_eq!(s["sessionAffinity"], "None");
    assert_eq!(s["ipFamilies"], json!(["IPv4"]));
    assert_eq!(s["ipFamilyPolicy"], "SingleStack");
    assert_eq!(s["internalTrafficPolicy"], "Cluster");
    assert_eq!(
        s["ports"][0],
        json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_ne!(s["clusterIP"], spec_of(&fixture)["clusterIP"]);
    assert_eq!(created["status"], json!({"loadBalancer": {}}));

    // `kubectl replace` of the manifest without clusterIP keeps the address.
    let mut again = svc;
    again["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let r = send(
        &c,
        "PUT",
        "/api/v1/namespaces/shop/services/api",
        Some("application/json"),
        Some(again),
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.text);
    assert_eq!(spec_of(&r.json())["clusterIP"], s["clusterIP"]);
}
