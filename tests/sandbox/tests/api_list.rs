//! Lists: limit/continue pagination, label and field selectors.

mod api_support;
use api_support::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn pagination_returns_every_object_once() {
    let sb = start();
    let c = client(&sb).await;
    for i in 0..23 {
        let ns = if i % 2 == 0 { "shop" } else { "jobs" };
        let r = send(
            &c,
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            Some("application/json"),
            Some(json!({"metadata": {"name": format!("page-{i:02}")}})),
        )
        .await;
        assert_eq!(r.code, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/configmaps?limit=5".to_string();
    let mut pages = 0;
    loop {
        let page = get(&c, &path).await.json();
        pages += 1;
        assert!(page["items"].as_array().map(Vec::len).unwrap_or(0) <= 5);
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) => {
                assert!(page["metadata"]["remainingItemCount"].as_u64().is_some());
                path = format!("/api/v1/configmaps?limit=5&continue={t}");
            }
            None => break,
        }
    }
    let total = seen.len();
    let unique: BTreeSet<_> = seen.into_iter().collect();
    assert_eq!(unique.len(), total, "no duplicates");
    assert_eq!(total, 24, "23 created + settings");
    assert_eq!(pages, 5);
    let r = get(&c, "/api/v1/configmaps?limit=5&continue=garbage").await;
    assert_eq!(r.code, 400);
}

#[tokio::test]
async fn label_and_field_selectors() {
    let sb = start();
    let c = client(&sb).await;
    let q = |s: &str| format!("/api/v1/pods?{s}");
    let l = get(&c, &q("labelSelector=app%20in%20(web,batch),tier"))
        .await
        .json();
    assert_eq!(names(&l), ["web-7d9f-a", "web-7d9f-b"]);
    let l = get(&c, &q("labelSelector=app!=web,!tier")).await.json();
    assert_eq!(names(&l), ["solo", "batch-1"]);
    let l = get(&c, &q("labelSelector=app%20notin%20(web)"))
        .await
        .json();
    assert_eq!(names(&l).len(), 2);
    let l = get(
        &c,
        &q("fieldSelector=spec.nodeName=node-1,status.phase=Running"),
    )
    .await
    .json();
    assert_eq!(names(&l), ["web-7d9f-a"]);
    let l = get(&c, &q("fieldSelector=status.phase!=Running"))
        .await
        .json();
    assert_eq!(names(&l), ["solo", "batch-1"]);
    let l = get(&c, &q("fieldSelector=metadata.namespace==jobs"))
        .await
        .json();
    assert_eq!(names(&l), ["batch-1"]);
    let l = get(&c, "/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse")
        .await
        .json();
    assert_eq!(names(&l), ["node-1"]);
    let l = get(
        &c,
        "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name=web-7d9f-a,type=Warning",
    )
    .await
    .json();
    assert_eq!(names(&l), ["web-7d9f-a.1"]);
    assert_eq!(get(&c, &q("labelSelector=a%20b%20c")).await.code, 400);
    // List resourceVersion is the global counter.
    let rv: u64 = get(&c, "/api/v1/pods").await.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .parse()
        .expect("n");
    assert!(rv > 10);
}

#[tokio::test]
async fn events_are_one_store_seen_through_two_apis() {
    let sb = start();
    let c = client(&sb).await;
    // A core/v1 fixture seen as events.k8s.io/v1.
    let e = get(
        &c,
        "/apis/events.k8s.io/v1/namespaces/shop/events/web-7d9f-a.1",
    )
    .await
    .json();
    assert_eq!(
        (
            e["apiVersion"].as_str(),
            e["regarding"]["name"].as_str(),
            e["note"].as_str()
        ),
        (
            Some("events.k8s.io/v1"),
            Some("web-7d9f-a"),
            Some("Back-off restarting failed container")
        )
    );
    // An events.k8s.io/v1 fixture seen as core/v1, with its object's uid linked.
    let e = get(&c, "/api/v1/namespaces/jobs/events/batch-1.2")
        .await
        .json();
    assert_eq!(
        (
            e["apiVersion"].as_str(),
            e["involvedObject"]["name"].as_str(),
            e["message"].as_str()
        ),
        (Some("v1"), Some("batch-1"), Some("Error: ImagePullBackOff"))
    );
    assert!(e["involvedObject"]["uid"].is_string());
    let l = get(
        &c,
        "/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dbatch-1",
    )
    .await
    .json();
    assert_eq!(names(&l), ["batch-1.2"]);
    let l = get(
        &c,
        "/api/v1/events?fieldSelector=involvedObject.name%3Dbatch-1",
    )
    .await
    .json();
    assert_eq!(names(&l), ["batch-1.2"]);
    // A write through one API is visible through the other.
    let r = send(
        &c,
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/jobs/events/batch-1.2",
        Some("application/merge-patch+json"),
        Some(json!({"note": "changed"})),
    )
    .await;
    assert_eq!(r.json()["note"], "changed");
    assert_eq!(
        get(&c, "/api/v1/namespaces/jobs/events/batch-1.2")
            .await
            .json()["message"],
        "changed"
    );
}
