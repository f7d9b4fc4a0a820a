//! Fixture loading: metadata filled in, relative times, lists, CRDs first,
//! namespaces created, and one-line errors for bad files.

mod api_support;
use api_support::*;
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};

#[tokio::test]
async fn fixtures_load_with_metadata_and_relative_times() {
    let sb = start();
    let c = client(&sb).await;
    let pod = get(&c, "/api/v1/namespaces/shop/pods/web-7d9f-a")
        .await
        .json();
    let meta = &pod["metadata"];
    assert_eq!(meta["uid"].as_str().map(str::len), Some(36));
    assert!(meta["resourceVersion"].as_str().is_some());
    assert_eq!(meta["generation"], 1);
    // `now-2h` became a timestamp about two hours ago.
    let created: jiff::Timestamp = meta["creationTimestamp"]
        .as_str()
        .expect("ts")
        .parse()
        .expect("rfc3339");
    let age = jiff::Timestamp::now().as_second() - created.as_second();
    assert!((7190..7300).contains(&age), "age {age}");
    let started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
        .as_str()
        .expect("ts");
    assert!(started.ends_with('Z') && !started.starts_with("now"));

    // A pod without a namespace went to `default`; a List was expanded.
    assert_eq!(
        get(&c, "/api/v1/namespaces/default/pods/solo").await.code,
        200
    );
    assert_eq!(
        get(&c, "/api/v1/namespaces/shop/pods/web-7d9f-b")
            .await
            .code,
        200
    );
    // Referenced but undefined namespace exists and is Active; system ones too.
    let ns = get(&c, "/api/v1/namespaces/jobs").await.json();
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(get(&c, "/api/v1/namespaces/kube-system").await.code, 200);
    // The custom resource came before its CRD in the file and still loaded.
    let w = get(&c, "/apis/example.com/v1/namespaces/shop/widgets/w1").await;
    assert_eq!(w.code, 200, "{}", w.text);
    // The event was linked to its pod's uid (kubectl describe selects by it).
    let ev = get(&c, "/api/v1/namespaces/shop/events/web-7d9f-a.1")
        .await
        .json();
    assert_eq!(ev["involvedObject"]["uid"], meta["uid"]);
}

#[test]
fn malformed_file_names_file_and_line() {
    let err = Sandbox::start(SandboxOptions {
        fixtures: vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/malformed"),
        ],
        ..Default::default()
    })
    .err()
    .expect("startup fails");
    let msg = err.to_string();
    assert!(msg.contains("malformed/bad.yaml:11: "), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn unknown_kind_names_file() {
    let dir = std::env::temp_dir().join(format!("sandbox-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("x.yaml"),
        "apiVersion: nope.io/v1\nkind: Thing\nmetadata: {name: t}\n",
    )
    .expect("write");
    let err = Sandbox::start(SandboxOptions {
        fixtures: vec![dir.clone()],
        ..Default::default()
    })
    .err()
    .expect("startup fails");
    let msg = err.to_string();
    assert!(
        msg.contains("x.yaml") && msg.contains("nope.io/v1"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn kubeconfig_has_admin_and_user_contexts() {
    let sb = start();
    let text = std::fs::read_to_string(sb.kubeconfig()).expect("kubeconfig");
    assert!(text.contains("current-context: sandbox"));
    assert!(text.contains("certificate-authority-data"));
    assert!(sb.url().starts_with("https://127.0.0.1:"));
    let c = client_as(&sb, "alice").await;
    assert_eq!(get(&c, "/api/v1/namespaces/shop/pods").await.code, 200);
}

#[test]
fn the_whole_fixture_tree_loads_at_once() {
    // `kube-sandbox --fixtures tests/fixtures` (the README's and the issue's
    // command) serves every scenario together: no file in the tree may be
    // malformed, and Users defined in several scenarios appear once each.
    let sb = Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("")],
        ..Default::default()
    })
    .expect("every fixture under tests/fixtures loads");
    let kubeconfig = std::fs::read_to_string(sb.kubeconfig()).expect("kubeconfig");
    let doc: serde_json::Value = serde_saphyr::from_str(&kubeconfig).expect("kubeconfig is YAML");
    let mut users: Vec<&str> = doc["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    let listed = users.len();
    users.sort_unstable();
    users.dedup();
    assert_eq!(users.len(), listed, "duplicate users in {kubeconfig}");
    assert!(
        users.contains(&"admin") && users.contains(&"viewer"),
        "{users:?}"
    );
}
