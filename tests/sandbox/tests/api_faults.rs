//! Injected faults and the request counter. Raw HTTP/1.1 requests are used
//! where the exact answer matters, since kube-rs and kubectl retry 429/503.

mod api_support;
use api_support::*;

#[test]
fn fault_429_for_count_then_success() {
    let sb = start_plain(&["verb=list,resource=pods,status=429,retry-after=2,count=2"]);
    for _ in 0..2 {
        let (code, head, body) =
            raw_http(&sb, "GET", "/api/v1/namespaces/shop/pods").expect("answer");
        assert_eq!(code, 429);
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 2"),
            "{head}"
        );
        assert!(body.contains("\"reason\":\"TooManyRequests\""), "{body}");
    }
    // Other verbs/resources are untouched; after `count` the list succeeds.
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/namespaces/shop/pods/web-7d9f-a").map(|r| r.0),
        Some(200)
    );
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/namespaces/shop/configmaps").map(|r| r.0),
        Some(200)
    );
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/namespaces/shop/pods").map(|r| r.0),
        Some(200)
    );
}

#[tokio::test]
async fn kube_client_retries_through_429() {
    let sb = start_with(
        &["basic"],
        &["verb=list,resource=pods,status=429,retry-after=1,count=1"],
    );
    let c = client(&sb).await;
    sb.reset_request_count();
    let r = get(&c, "/api/v1/namespaces/shop/pods").await;
    if r.code == 200 {
        // kube-rs retried after Retry-After: two requests reached the server.
        assert_eq!(sb.request_count(), 2);
    } else {
        assert_eq!(r.code, 429);
    }
}

#[test]
fn fault_fraction_delay_and_drop() {
    let sb = start_plain(&[
        "resource=nodes,status=503,fraction=0.5",
        "verb=get,resource=configmaps,action=drop,count=1",
        "verb=get,resource=pods/log,delay-ms=300",
    ]);
    let codes: Vec<u16> = (0..4)
        .filter_map(|_| raw_http(&sb, "GET", "/api/v1/nodes"))
        .map(|r| r.0)
        .collect();
    assert_eq!(codes, [200, 503, 200, 503]);
    assert!(
        raw_http(&sb, "GET", "/api/v1/namespaces/shop/configmaps/settings").is_none(),
        "dropped"
    );
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/namespaces/shop/configmaps/settings").map(|r| r.0),
        Some(200)
    );
    let t = std::time::Instant::now();
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/namespaces/default/pods/solo/log").map(|r| r.0),
        Some(200)
    );
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn fault_fixture_kind() {
    let dir = std::env::temp_dir().join(format!("sandbox-fault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("f.yaml"), "apiVersion: sandbox.test/v1\nkind: Fault\nmetadata: {name: f}\nspec: {verb: list, resource: nodes, status: 500, count: 1}\n").expect("write");
    let sb = kube_sandbox::Sandbox::start(kube_sandbox::SandboxOptions {
        fixtures: vec![
            kube_sandbox::fixture_dir("sandbox-api").join("basic"),
            dir.clone(),
        ],
        plain_http: true,
        ..Default::default()
    })
    .expect("start");
    let (code, _, body) = raw_http(&sb, "GET", "/api/v1/nodes").expect("answer");
    assert_eq!(code, 500);
    assert!(body.contains("InternalError"));
    assert_eq!(
        raw_http(&sb, "GET", "/api/v1/nodes").map(|r| r.0),
        Some(200)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn request_counter_counts_and_resets() {
    let sb = start();
    let c = client(&sb).await;
    sb.reset_request_count();
    get(&c, "/api").await;
    get(&c, "/api/v1/pods").await;
    get(&c, "/api/v1/namespaces/shop/pods/nope").await;
    assert_eq!(sb.request_count(), 3);
    sb.reset_request_count();
    assert_eq!(sb.request_count(), 0);
}

#[test]
fn latency_delays_responses_and_health_needs_no_token() {
    let sb = kube_sandbox::Sandbox::start(kube_sandbox::SandboxOptions {
        fixtures: vec![kube_sandbox::fixture_dir("sandbox-api").join("basic")],
        latency_ms: 200,
        plain_http: true,
        ..Default::default()
    })
    .expect("start");
    assert!(sb.url().starts_with("http://"));
    let addr = sb.url().trim_start_matches("http://").to_string();
    let t = std::time::Instant::now();
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    assert!(
        out.starts_with("HTTP/1.1 200") && out.ends_with("ok"),
        "{out}"
    );
    assert!(t.elapsed() >= std::time::Duration::from_millis(200));
}
