//! Owner-reference garbage collection and namespace deletion.

mod api_support;
use api_support::*;
use serde_json::json;

#[tokio::test]
async fn deleting_an_owner_deletes_dependents_recursively() {
    let sb = start();
    let c = client(&sb).await;
    let r = send(
        &c,
        "DELETE",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        None,
        None,
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.text);
    assert_eq!(
        get(&c, "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f")
            .await
            .code,
        404
    );
    assert_eq!(
        get(&c, "/api/v1/namespaces/shop/pods/web-7d9f-a")
            .await
            .code,
        404
    );
    assert_eq!(
        get(&c, "/api/v1/namespaces/shop/pods/web-7d9f-b")
            .await
            .code,
        404
    );
    // Unrelated objects stay.
    assert_eq!(
        get(&c, "/api/v1/namespaces/shop/configmaps/settings")
            .await
            .code,
        200
    );
}

#[tokio::test]
async fn orphan_keeps_dependents_without_the_owner_reference() {
    let sb = start();
    let c = client(&sb).await;
    let r = send(
        &c,
        "DELETE",
        "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f",
        Some("application/json"),
        Some(json!({"propagationPolicy": "Orphan"})),
    )
    .await;
    assert_eq!(r.code, 200);
    let pod = get(&c, "/api/v1/namespaces/shop/pods/web-7d9f-a")
        .await
        .json();
    assert_eq!(pod["metadata"]["ownerReferences"], json!([]));
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_contents() {
    let sb = start();
    let c = client(&sb).await;
    assert_eq!(
        send(&c, "DELETE", "/api/v1/namespaces/shop", None, None)
            .await
            .code,
        200
    );
    assert_eq!(get(&c, "/api/v1/namespaces/shop").await.code, 404);
    let pods = get(&c, "/api/v1/pods").await.json();
    assert!(
        pods["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|p| p["metadata"]["namespace"] != "shop")
    );
    assert_eq!(
        get(&c, "/apis/example.com/v1/namespaces/shop/widgets/w1")
            .await
            .code,
        404
    );
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let sb = start();
    let c = client(&sb).await;
    let path = "/api/v1/namespaces/shop/configmaps";
    send(
        &c,
        "POST",
        path,
        Some("application/json"),
        Some(json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})),
    )
    .await;
    let r = send(&c, "DELETE", &format!("{path}/held"), None, None)
        .await
        .json();
    assert!(r["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(get(&c, &format!("{path}/held")).await.code, 200);
    send(
        &c,
        "PATCH",
        &format!("{path}/held"),
        Some("application/merge-patch+json"),
        Some(json!({"metadata": {"finalizers": null}})),
    )
    .await;
    assert_eq!(get(&c, &format!("{path}/held")).await.code, 404);
}

#[tokio::test]
async fn delete_collection_with_selector() {
    let sb = start();
    let c = client(&sb).await;
    let r = send(
        &c,
        "DELETE",
        "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb",
        None,
        None,
    )
    .await;
    let deleted: Vec<String> = r.json()["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(deleted.len(), 2);
    // The ReplicaSet controller replaces them, as in a real cluster.
    let left = get(&c, "/api/v1/namespaces/shop/pods").await.json();
    for p in left["items"].as_array().into_iter().flatten() {
        let name = p["metadata"]["name"].as_str().unwrap_or("");
        assert!(!deleted.iter().any(|d| d == name), "{name} still there");
        assert!(name.starts_with("web-7d9f-"), "{name}");
    }
}
