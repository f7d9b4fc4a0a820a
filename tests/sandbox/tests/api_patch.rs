//! PATCH: JSON patch, merge patch, strategic merge (kubectl set image /
//! rollout restart shapes) and server-side apply.

mod api_support;
use api_support::*;
use serde_json::json;

const DEPLOY: &str = "/apis/apps/v1/namespaces/shop/deployments/web";

#[tokio::test]
async fn merge_json_and_strategic_patches() {
    let sb = start();
    let c = client(&sb).await;
    let r = send(
        &c,
        "PATCH",
        DEPLOY,
        Some("application/merge-patch+json"),
        Some(json!({"metadata": {"labels": {"team": "a"}}})),
    )
    .await;
    assert_eq!(
        r.json()["metadata"]["labels"],
        json!({"app": "web", "team": "a"})
    );

    let r = send(
        &c,
        "PATCH",
        DEPLOY,
        Some("application/json-patch+json"),
        Some(json!([{"op": "replace", "path": "/spec/replicas", "value": 4}])),
    )
    .await;
    assert_eq!(r.json()["spec"]["replicas"], 4);
    let r = send(
        &c,
        "PATCH",
        DEPLOY,
        Some("application/json-patch+json"),
        Some(json!([{"op": "test", "path": "/spec/replicas", "value": 9}])),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.text);

    // kubectl set image: containers merged by name, the other container kept.
    let r = send(&c, "PATCH", DEPLOY, Some("application/strategic-merge-patch+json"),
        Some(json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}}))).await.json();
    let cs = &r["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        (cs[0]["image"].as_str(), cs[1]["image"].as_str()),
        (Some("nginx:1.27"), Some("envoy:1.30"))
    );
    // The port keeps the protocol defaulting gave it (as on a real server).
    assert_eq!(
        cs[0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    // kubectl rollout restart: an annotation on the template.
    let r = send(&c, "PATCH", DEPLOY, Some("application/strategic-merge-patch+json"),
        Some(json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}}}}}))).await.json();
    assert_eq!(r["spec"]["template"]["metadata"]["labels"]["app"], "web");
    assert!(
        r["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
    // $patch: delete removes one container.
    let r = send(&c, "PATCH", DEPLOY, Some("application/strategic-merge-patch+json"),
        Some(json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}))).await.json();
    assert_eq!(
        r["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let r = send(&c, "PATCH", DEPLOY, Some("text/plain"), Some(json!({}))).await;
    assert_eq!(r.code, 415);
    let r = send(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/nope",
        Some("application/merge-patch+json"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.code, 404);
}

#[tokio::test]
async fn server_side_apply_creates_then_merges() {
    let sb = start();
    let c = client(&sb).await;
    let path = "/api/v1/namespaces/shop/configmaps/ssa?fieldManager=test&force=true";
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1"}});
    let r = send(
        &c,
        "PATCH",
        path,
        Some("application/apply-patch+yaml"),
        Some(body),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"b": "2"}});
    let r = send(
        &c,
        "PATCH",
        path,
        Some("application/apply-patch+yaml"),
        Some(body),
    )
    .await;
    assert_eq!(r.code, 200);
    let v = r.json();
    assert_eq!(v["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(v["metadata"]["managedFields"][0]["manager"], "test");
}
