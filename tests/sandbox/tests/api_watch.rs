//! Watch streams with kube-rs: initial ADDED, then MODIFIED and DELETED.

mod api_support;
use api_support::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn summary(e: &WatchEvent<ConfigMap>) -> String {
    match e {
        WatchEvent::Added(o) => format!("ADDED {}", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => {
            format!("MODIFIED {}", o.metadata.name.clone().unwrap_or_default())
        }
        WatchEvent::Deleted(o) => {
            format!("DELETED {}", o.metadata.name.clone().unwrap_or_default())
        }
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(e) => format!("ERROR {}", e.message),
    }
}

#[tokio::test]
async fn watch_sees_added_modified_deleted() {
    let sb = start();
    let api: Api<ConfigMap> = Api::namespaced(client(&sb).await, "shop");
    let stream = api
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .expect("watch");
    let mut stream = stream.boxed();
    assert_eq!(
        summary(&stream.try_next().await.expect("ok").expect("event")),
        "ADDED settings"
    );

    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "w"}, "data": {"a": "1"}})).expect("cm");
    api.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "2"}})),
    )
    .await
    .expect("patch");
    api.delete("w", &DeleteParams::default())
        .await
        .expect("delete");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(summary(
            &stream.try_next().await.expect("ok").expect("event"),
        ));
    }
    assert_eq!(got, ["ADDED w", "MODIFIED w", "DELETED w"]);
}

#[tokio::test]
async fn watch_from_resource_version_and_selector() {
    let sb = start();
    let c = client(&sb).await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "shop");
    let list = api.list(&Default::default()).await.expect("list");
    let rv = list.metadata.resource_version.expect("rv");
    // A write between list and watch is still delivered (history replay).
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "early", "labels": {"pick": "yes"}}}))
            .expect("cm");
    api.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let wp = WatchParams::default().labels("pick=yes").timeout(10);
    let mut stream = api.watch(&wp, &rv).await.expect("watch").boxed();
    assert_eq!(
        summary(&stream.try_next().await.expect("ok").expect("event")),
        "ADDED early"
    );
    // Dropping the label moves the object out of the selection: DELETED.
    api.patch(
        "early",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"pick": null}}})),
    )
    .await
    .expect("patch");
    assert_eq!(
        summary(&stream.try_next().await.expect("ok").expect("event")),
        "DELETED early"
    );
}

#[tokio::test]
async fn watch_times_out_and_sends_bookmarks() {
    let sb = start();
    let api: Api<ConfigMap> = Api::namespaced(client(&sb).await, "shop");
    let rv = api
        .list(&Default::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut wp = WatchParams::default().timeout(3);
    wp.bookmarks = true;
    let events: Vec<String> = api
        .watch(&wp, &rv)
        .await
        .expect("watch")
        .map(|e| summary(&e.expect("event")))
        .collect()
        .await;
    assert!(events.iter().any(|e| e == "BOOKMARK"), "{events:?}");
}

#[tokio::test]
async fn legacy_watch_path_for_one_object() {
    let sb = start();
    let c = client(&sb).await;
    let req = http::Request::builder()
        .uri("/api/v1/watch/namespaces/shop/pods/web-7d9f-a?timeoutSeconds=1")
        .body(kube::client::Body::from(Vec::new()))
        .expect("req");
    let resp = c.send(req).await.expect("watch");
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let lines: Vec<serde_json::Value> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("event"))
        .collect();
    assert_eq!(lines.len(), 1, "only the named object");
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "web-7d9f-a");
}

/// Like a compacted watch cache: a resume from before the kept history is
/// answered 200 with one ERROR event carrying a 410 Expired Status.
#[tokio::test]
async fn too_old_resource_version_is_an_error_event() {
    let sb = start();
    let c = client(&sb).await;
    let r = get(
        &c,
        "/api/v1/namespaces/shop/configmaps?watch=1&resourceVersion=1",
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.text);
    let lines: Vec<serde_json::Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.text);
    assert_eq!(lines[0]["type"], "ERROR");
    let status = &lines[0]["object"];
    assert_eq!(
        (&status["kind"], &status["reason"], &status["code"]),
        (&json!("Status"), &json!("Expired"), &json!(410))
    );
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("too old resource version: 1 (")),
        "{status}"
    );
}

/// kube-runtime's watcher answers the expiry event with a fresh list (an
/// HTTP 410 instead would make it retry the same resourceVersion forever).
#[tokio::test]
async fn kube_runtime_watcher_relists_after_expiry() {
    use kube::runtime::watcher::{self, Event};
    let sb = kube_sandbox::Sandbox::start(kube_sandbox::SandboxOptions {
        fixtures: vec![kube_sandbox::fixture_dir("sandbox-api").join("basic")],
        watch_history: Some(5),
        ..Default::default()
    })
    .expect("sandbox");
    let c = client(&sb).await;
    let shop: Api<ConfigMap> = Api::namespaced(c.clone(), "shop");
    let jobs: Api<ConfigMap> = Api::namespaced(c, "jobs");
    // Each watch ends after a second, before any bookmark could move the
    // watcher's resourceVersion on; the next one resumes from the list's.
    let config = watcher::Config::default().timeout(1);
    let mut events = watcher::watcher(shop, config).boxed();
    let mut inits = 0;
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(ev) = events.next().await {
            match ev {
                Ok(Event::InitDone) => {
                    inits += 1;
                    if inits == 2 {
                        return;
                    }
                    // Writes elsewhere push the list's resourceVersion out of
                    // the five-event history.
                    for i in 0..10 {
                        let cm: ConfigMap =
                            serde_json::from_value(json!({"metadata": {"name": format!("x{i}")}}))
                                .expect("cm");
                        jobs.create(&PostParams::default(), &cm)
                            .await
                            .expect("create");
                    }
                }
                Ok(_) => {}
                // The expiry event itself is reported, then the list redone.
                Err(watcher::Error::WatchError(status)) if status.code == 410 => {}
                Err(e) => panic!("watcher error instead of a relist: {e}"),
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "no second list after {inits} (watch never expired)"
    );
}
