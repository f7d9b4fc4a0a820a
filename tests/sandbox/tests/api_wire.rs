//! What the bytes look like: key order (Go struct order for built-in kinds,
//! sorted maps for custom resources), a newline after every JSON body, and
//! `metadata.generation` only on kinds whose registry keeps it.

mod api_support;
use api_support::*;
use serde_json::{Value, json};

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn built_in_objects_start_with_kind_api_version_metadata() {
    let sb = start();
    let c = client(&sb).await;
    let cm = get(&c, "/api/v1/namespaces/shop/configmaps/settings").await;
    assert!(
        cm.text
            .starts_with(r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"settings","namespace":"shop","uid":"#),
        "{}",
        cm.text
    );
    assert_eq!(keys(&cm.json()), ["kind", "apiVersion", "metadata", "data"]);
    let d = get(&c, "/apis/apps/v1/namespaces/shop/deployments/web")
        .await
        .json();
    assert_eq!(
        keys(&d),
        ["kind", "apiVersion", "metadata", "spec", "status"]
    );
    let meta = keys(&d["metadata"]);
    let pos = |k: &str| meta.iter().position(|m| m == k).expect(k);
    assert!(pos("name") < pos("namespace") && pos("uid") < pos("resourceVersion"));
    assert!(pos("creationTimestamp") < pos("labels"), "{meta:?}");

    // A created object and a list item are written the same way.
    let created = send(
        &c,
        "POST",
        "/api/v1/namespaces/shop/configmaps",
        Some("application/json"),
        Some(json!({"data": {"a": "b"}, "metadata": {"name": "fresh"}, "apiVersion": "v1", "kind": "ConfigMap"})),
    )
    .await;
    assert!(
        created
            .text
            .starts_with(r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"fresh","#),
        "{}",
        created.text
    );
    let list = get(&c, "/api/v1/namespaces/shop/configmaps").await.json();
    assert_eq!(keys(&list), ["kind", "apiVersion", "metadata", "items"]);
    assert_eq!(
        keys(&list["items"][0])[..3],
        ["kind", "apiVersion", "metadata"]
    );

    // kube-rs reports decode positions: a Service read as a Pod fails on the
    // kind at column 17, as against a real server.
    let svc = get(&c, "/api/v1/namespaces/default/services/kubernetes").await;
    let err = serde_json::from_str::<k8s_openapi::api::core::v1::Pod>(&svc.text)
        .expect_err("a Service is not a Pod");
    assert_eq!(
        err.to_string(),
        "invalid value: string \"Service\", expected Pod at line 1 column 17"
    );
}

#[tokio::test]
async fn custom_resources_are_written_with_sorted_keys() {
    let sb = start();
    let c = client(&sb).await;
    let list = get(&c, "/apis/example.com/v1/namespaces/shop/widgets").await;
    let list = list.json();
    assert_eq!(keys(&list), ["apiVersion", "items", "kind", "metadata"]);
    let w = &list["items"][0];
    assert_eq!(keys(w)[..3], ["apiVersion", "kind", "metadata"]);
    let mut sorted = keys(&w["metadata"]);
    sorted.sort();
    assert_eq!(keys(&w["metadata"]), sorted);
}

#[tokio::test]
async fn every_json_body_ends_with_a_newline() {
    let sb = start();
    let c = client(&sb).await;
    for path in [
        "/api",
        "/apis",
        "/api/v1",
        "/apis/apps",
        "/apis/apps/v1",
        "/api/v1/namespaces/shop/configmaps/settings",
        "/api/v1/namespaces/shop/configmaps",
        "/api/v1/namespaces/shop/configmaps/missing",
        "/api/v1/nope",
    ] {
        let r = get(&c, path).await;
        assert!(r.text.ends_with("}\n"), "{path}: {:?}", r.text);
        assert!(!r.text.ends_with("\n\n"), "{path}");
    }
    let table = get_accept(
        &c,
        "/api/v1/namespaces/shop/pods",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    .await;
    assert!(table.text.starts_with(r#"{"kind":"Table""#) && table.text.ends_with("}\n"));
    let aggregated = get_accept(
        &c,
        "/apis",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    )
    .await;
    assert!(aggregated.text.ends_with("}\n"));
    let mut cfg = config(&sb, None).await;
    cfg.auth_info.token = None;
    let anonymous = kube::Client::try_from(cfg).expect("client");
    let r = get(&anonymous, "/api/v1/pods").await;
    assert_eq!(r.code, 401);
    assert!(r.text.ends_with("}\n"), "{:?}", r.text);
}

#[tokio::test]
async fn generation_only_on_kinds_that_keep_one() {
    let sb = start();
    let c = client(&sb).await;
    let generation = |v: &Value| v["metadata"].get("generation").cloned();
    for path in [
        "/api/v1/namespaces/shop/configmaps/settings",
        "/api/v1/namespaces/shop",
        "/api/v1/nodes/node-1",
        "/api/v1/namespaces/shop/events/web-7d9f-a.1",
    ] {
        assert_eq!(generation(&get(&c, path).await.json()), None, "{path}");
    }
    let d = get(&c, "/apis/apps/v1/namespaces/shop/deployments/web").await;
    assert_eq!(generation(&d.json()), Some(json!(1)));
    let pod = get(&c, "/api/v1/namespaces/default/pods/solo").await;
    assert_eq!(
        generation(&pod.json()),
        Some(json!(1)),
        "pods keep one since 1.33"
    );

    let created = send(
        &c,
        "POST",
        "/api/v1/namespaces/shop/secrets",
        Some("application/json"),
        Some(json!({"metadata": {"name": "s", "generation": 7}, "stringData": {"a": "b"}})),
    )
    .await
    .json();
    assert_eq!(generation(&created), None);
    let updated = send(
        &c,
        "PATCH",
        "/api/v1/namespaces/shop/secrets/s",
        Some("application/merge-patch+json"),
        Some(json!({"data": {"c": "ZA=="}})),
    )
    .await
    .json();
    assert_eq!(generation(&updated), None);
    let cr = send(
        &c,
        "PATCH",
        "/apis/example.com/v1/namespaces/shop/widgets/w1",
        Some("application/merge-patch+json"),
        Some(json!({"spec": {"size": 9}})),
    )
    .await
    .json();
    assert_eq!(generation(&cr), Some(json!(2)), "{cr}");
}
