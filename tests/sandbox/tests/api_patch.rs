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

/// A patch or update naming another object's UID is refused with 422 `metadata.uid: ...
/// field is immutable`, as the real server's metadata validation does (kubernetes#127625
/// shows the message); nothing is stored.
#[tokio::test]
async fn another_uid_is_refused() {
    let sb = start();
    let c = client(&sb).await;
    let before = send(&c, "GET", DEPLOY, None, None).await.json();
    for ct in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        let r = send(
            &c,
            "PATCH",
            DEPLOY,
            Some(ct),
            Some(json!({"metadata": {"uid": "someone-else"}, "spec": {"replicas": 7}})),
        )
        .await;
        assert_eq!(r.code, 422, "{ct}: {}", r.text);
        assert!(
            r.json()["message"]
                .as_str()
                .is_some_and(|m| m
                    .contains("metadata.uid: Invalid value: \"someone-else\": field is immutable")),
            "{}",
            r.text
        );
    }
    let mut put = before.clone();
    put["metadata"]["uid"] = json!("someone-else");
    let r = send(&c, "PUT", DEPLOY, Some("application/json"), Some(put)).await;
    assert_eq!(r.code, 422, "{}", r.text);
    let after = send(&c, "GET", DEPLOY, None, None).await.json();
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
}
