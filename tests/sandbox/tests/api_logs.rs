//! pods/log from PodLogs fixtures.

mod api_support;
use api_support::*;

const LOG: &str = "/api/v1/namespaces/shop/pods/web-7d9f-a/log";

#[tokio::test]
async fn logs_current_previous_and_tail() {
    let sb = start();
    let c = client(&sb).await;
    let r = get(&c, &format!("{LOG}?container=app")).await;
    assert_eq!((r.code, r.content_type.as_str()), (200, "text/plain"));
    assert_eq!(r.text, "starting\nlistening on :80\nGET / 200\n");
    let r = get(&c, &format!("{LOG}?container=app&tailLines=1")).await;
    assert_eq!(r.text, "GET / 200\n");
    let r = get(&c, &format!("{LOG}?container=app&previous=true")).await;
    assert_eq!(r.text, "starting\npanic: config missing\n");
    let r = get(&c, &format!("{LOG}?container=sidecar&previous=true")).await;
    assert_eq!(r.code, 400);
    assert_eq!(
        r.json()["message"],
        "previous terminated container \"sidecar\" in pod \"web-7d9f-a\" not found"
    );
    let r = get(&c, LOG).await;
    assert_eq!(r.code, 400);
    assert_eq!(
        r.json()["message"],
        "a container name must be specified for pod web-7d9f-a, choose one of: [app sidecar]"
    );
    let r = get(&c, "/api/v1/namespaces/shop/pods/nope/log").await;
    assert_eq!(
        (r.code, r.json()["message"].clone()),
        (404, serde_json::json!("pods \"nope\" not found"))
    );
    // A single-container pod needs no container name; no PodLogs means empty logs.
    let r = get(&c, "/api/v1/namespaces/default/pods/solo/log").await;
    assert_eq!((r.code, r.text.as_str()), (200, ""));
}
