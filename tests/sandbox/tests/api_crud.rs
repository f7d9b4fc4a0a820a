//! Create/get/update/delete semantics: conflicts, preconditions, generateName,
//! dryRun, the status split and Status error bodies.

mod api_support;
use api_support::*;
use serde_json::json;

const CMS: &str = "/api/v1/namespaces/shop/configmaps";

#[tokio::test]
async fn crud_with_conflicts_and_not_found() {
    let sb = start();
    let c = client(&sb).await;
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}, "data": {"k": "v"}});
    let r = send(&c, "POST", CMS, Some("application/json"), Some(cm.clone())).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let created = r.json();
    assert_eq!(created["metadata"]["namespace"], "shop");
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();

    let r = send(&c, "POST", CMS, Some("application/json"), Some(cm)).await;
    assert_eq!(
        (r.code, r.json()["reason"].clone()),
        (409, json!("AlreadyExists"))
    );
    assert_eq!(r.json()["message"], "configmaps \"c1\" already exists");

    // Update with the current rv works and bumps it; a stale rv is a 409 Conflict.
    let mut upd = created.clone();
    upd["data"]["k"] = json!("v2");
    let r = send(
        &c,
        "PUT",
        &format!("{CMS}/c1"),
        Some("application/json"),
        Some(upd.clone()),
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.text);
    let new_rv: u64 = r.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .parse()
        .expect("n");
    assert!(new_rv > rv.parse::<u64>().expect("n"));
    let r = send(
        &c,
        "PUT",
        &format!("{CMS}/c1"),
        Some("application/json"),
        Some(upd),
    )
    .await;
    assert_eq!(r.code, 409);
    let s = r.json();
    assert_eq!(s["reason"], "Conflict");
    assert_eq!(
        s["message"],
        "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // Delete with a wrong uid precondition is refused; then deleted; then 404.
    let r = send(
        &c,
        "DELETE",
        &format!("{CMS}/c1"),
        Some("application/json"),
        Some(json!({"preconditions": {"uid": "nope"}})),
    )
    .await;
    assert_eq!(r.code, 409, "{}", r.text);
    let r = send(&c, "DELETE", &format!("{CMS}/c1"), None, None).await;
    assert_eq!(r.code, 200);
    assert_eq!(r.json()["status"], "Success");
    let r = get(&c, &format!("{CMS}/c1")).await;
    assert_eq!(r.code, 404);
    let s = r.json();
    assert_eq!(
        (s["reason"].as_str(), s["message"].as_str()),
        (Some("NotFound"), Some("configmaps \"c1\" not found"))
    );
    let r = get(&c, "/apis/apps/v1/namespaces/shop/deployments/nope").await;
    assert_eq!(r.json()["message"], "deployments.apps \"nope\" not found");
}

#[tokio::test]
async fn generate_name_dry_run_and_validation() {
    let sb = start();
    let c = client(&sb).await;
    let r = send(
        &c,
        "POST",
        CMS,
        Some("application/json"),
        Some(json!({"metadata": {"generateName": "gen-"}})),
    )
    .await;
    let name = r.json()["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let before = get(&c, CMS).await.json()["metadata"]["resourceVersion"].clone();
    let r = send(
        &c,
        "POST",
        &format!("{CMS}?dryRun=All"),
        Some("application/json"),
        Some(json!({"metadata": {"name": "dry"}})),
    )
    .await;
    assert_eq!(r.code, 201);
    assert_eq!(get(&c, &format!("{CMS}/dry")).await.code, 404);
    let r = send(
        &c,
        "PATCH",
        &format!("{CMS}/settings?dryRun=All"),
        Some("application/merge-patch+json"),
        Some(json!({"data": {"mode": "slow"}})),
    )
    .await;
    assert_eq!(r.json()["data"]["mode"], "slow");
    let r = send(
        &c,
        "DELETE",
        &format!("{CMS}/settings?dryRun=All"),
        None,
        None,
    )
    .await;
    assert_eq!(r.code, 200);
    let cm = get(&c, &format!("{CMS}/settings")).await.json();
    assert_eq!(cm["data"]["mode"], "fast");
    assert_eq!(
        get(&c, CMS).await.json()["metadata"]["resourceVersion"],
        before
    );

    let r = send(
        &c,
        "POST",
        CMS,
        Some("application/json"),
        Some(json!({"metadata": {"name": "Bad_Name"}})),
    )
    .await;
    assert_eq!(
        (r.code, r.json()["reason"].clone()),
        (422, json!("Invalid"))
    );
    let r = send(
        &c,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        Some("application/json"),
        Some(json!({"metadata": {"name": "x"}})),
    )
    .await;
    assert_eq!(r.json()["message"], "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let sb = start();
    let c = client(&sb).await;
    let path = "/apis/apps/v1/namespaces/shop/deployments/web";
    let d = get(&c, path).await.json();
    assert_eq!(d["metadata"]["generation"], 1);
    // Main resource: status changes ignored, spec change bumps generation.
    let r = send(
        &c,
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        Some(json!({"spec": {"replicas": 3}, "status": {"replicas": 99}})),
    )
    .await
    .json();
    assert_eq!(
        (
            r["spec"]["replicas"].as_i64(),
            r["status"]["replicas"].as_i64(),
            r["metadata"]["generation"].as_i64()
        ),
        (Some(3), Some(2), Some(2))
    );
    // Metadata-only change keeps generation.
    let r = send(
        &c,
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        Some(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .json();
    assert_eq!(r["metadata"]["generation"], 2);
    // Status subresource: only status changes.
    let r = send(
        &c,
        "PATCH",
        &format!("{path}/status"),
        Some("application/merge-patch+json"),
        Some(json!({"spec": {"replicas": 7}, "status": {"replicas": 3}})),
    )
    .await
    .json();
    assert_eq!(
        (
            r["spec"]["replicas"].as_i64(),
            r["status"]["replicas"].as_i64(),
            r["metadata"]["generation"].as_i64()
        ),
        (Some(3), Some(3), Some(2))
    );
}

#[tokio::test]
async fn content_negotiation() {
    let sb = start();
    let c = client(&sb).await;
    let req = |accept: &str| {
        http::Request::builder()
            .uri("/api/v1/namespaces/shop/pods")
            .header("accept", accept)
            .body(kube::client::Body::from(Vec::new()))
            .expect("req")
    };
    let r = c
        .send(req("application/vnd.kubernetes.protobuf"))
        .await
        .expect("resp");
    assert_eq!(r.status().as_u16(), 406);
    let r = c
        .send(req(
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        ))
        .await
        .expect("resp");
    let v: serde_json::Value = serde_json::from_slice(
        &http_body_util::BodyExt::collect(r.into_body())
            .await
            .expect("b")
            .to_bytes(),
    )
    .expect("json");
    assert_eq!(v["kind"], "PartialObjectMetadataList");
    assert!(v["items"][0]["spec"].is_null() && v["items"][0]["metadata"]["name"].is_string());
    let r = c
        .send(req(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        ))
        .await
        .expect("resp");
    let v: serde_json::Value = serde_json::from_slice(
        &http_body_util::BodyExt::collect(r.into_body())
            .await
            .expect("b")
            .to_bytes(),
    )
    .expect("json");
    assert_eq!(v["kind"], "Table");
}

#[tokio::test]
async fn no_op_writes_keep_resource_version_and_managers_are_recorded() {
    let sb = start();
    let c = client(&sb).await;
    let path = "/api/v1/namespaces/shop/configmaps/settings";
    let before = get(&c, path).await.json();
    let r = send(
        &c,
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        Some(json!({"data": {"mode": "fast"}})),
    )
    .await
    .json();
    assert_eq!(
        r["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    let r = send(
        &c,
        "PATCH",
        &format!("{path}?fieldManager=tester"),
        Some("application/merge-patch+json"),
        Some(json!({"data": {"mode": "slow"}})),
    )
    .await
    .json();
    assert_ne!(
        r["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    let mf = &r["metadata"]["managedFields"][0];
    assert_eq!(
        (mf["manager"].as_str(), mf["operation"].as_str()),
        (Some("tester"), Some("Update"))
    );
    assert!(mf["fieldsV1"]["f:data"]["f:mode"].is_object(), "{mf}");
}
