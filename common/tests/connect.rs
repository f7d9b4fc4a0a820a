//! Integration tests of `common` against kube-sandbox: kubeconfig → client, paged lists,
//! request counting, read retries, and how transport failures map to exit codes.

use std::path::Path;
use std::time::Duration;

use common::cli::{Connection, ConnectionArgs};
use common::list::{ListOutcome, list_all, list_all_with_version, list_optional};
use common::transport::RetryPolicy;
use common::{Error, Exit};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret};
use kube::api::{ListParams, PostParams};
use kube_sandbox::{Sandbox, SandboxOptions};

const PODS: usize = 12;

/// A namespace `t` with `PODS` pods, written to a temp dir as one fixture file.
fn fixtures(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t\n---\n\
         apiVersion: sandbox.test/v1\nkind: User\nmetadata:\n  name: viewer\ntoken: viewer-token\n\
         deny:\n- verbs: [list, get]\n  resources: [secrets]\n",
    );
    for i in 0..PODS {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{i:02}\n  namespace: t\n  labels: {{app: web}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        ));
    }
    let path = dir.join("objects.yaml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing fixtures: {e}"));
    path
}

fn start(faults: &[&str]) -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = SandboxOptions {
        fixtures: vec![fixtures(dir.path())],
        faults: faults.iter().map(|s| s.to_string()).collect(),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(opts).unwrap_or_else(|e| panic!("sandbox: {e:#}"));
    (dir, sandbox)
}

fn args(kubeconfig: &Path) -> ConnectionArgs {
    ConnectionArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        namespace: Some("t".into()),
        ..ConnectionArgs::default()
    }
}

/// Retry quickly in tests; Retry-After is capped by `max_delay`.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

/// The sandbox runs its own runtime on a thread, so tests drive theirs by hand.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .block_on(f)
}

async fn connect(a: &ConnectionArgs) -> Connection {
    a.connect_with(fast())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

#[test]
fn lists_pods_page_by_page_and_counts_requests() {
    let (_d, sandbox) = start(&[]);
    block_on(async {
        let conn = connect(&args(sandbox.kubeconfig())).await;
        assert_eq!(conn.namespace, "t");
        assert_eq!(conn.server, sandbox.url());
        let pods = conn.namespaced_api::<Pod>(false);
        let lp = ListParams::default().limit(5);
        let listed = list_all_with_version(&pods, &lp)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed.items.len(), PODS);
        assert!(listed.resource_version.is_some());
        // 12 pods at 5 per page: exactly 3 requests.
        assert_eq!(conn.requests.get(), 3);

        // Default page size (500) takes one request.
        let all = list_all(&pods, &ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), PODS);
        assert_eq!(conn.requests.get(), 4);
        assert_eq!(conn.stats_line(), "api requests: 4");
    });
}

#[test]
fn reads_are_retried_on_429_and_503_writes_are_not() {
    let (_d, sandbox) = start(&[
        "verb=list,resource=pods,status=429,retry-after=1,count=2",
        "verb=create,resource=configmaps,status=503,count=1",
    ]);
    block_on(async {
        let conn = connect(&args(sandbox.kubeconfig())).await;
        let pods = conn.namespaced_api::<Pod>(false);
        let all = list_all(&pods, &ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), PODS);
        assert_eq!(conn.requests.get(), 3, "two 429s, then success");

        let cms = conn.namespaced_api::<ConfigMap>(false);
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("x".into());
        let err = cms
            .create(&PostParams::default(), &cm)
            .await
            .err()
            .map(Error::from);
        let err = err.unwrap_or_else(|| panic!("create should fail once"));
        assert_eq!(err.exit(), Exit::Cluster);
        assert_eq!(conn.requests.get(), 4, "a write is sent exactly once");
    });
}

#[test]
fn dropped_connection_on_get_is_retried() {
    let (_d, sandbox) = start(&["verb=get,resource=namespaces,action=drop,count=1"]);
    block_on(async {
        let conn = connect(&args(sandbox.kubeconfig())).await;
        let ns = conn.cluster_api::<Namespace>();
        let got = ns.get("t").await.map_err(Error::from);
        assert!(got.is_ok(), "{:?}", got.err().map(|e| e.to_string()));
        assert_eq!(conn.requests.get(), 2);
    });
}

#[test]
fn forbidden_optional_list_is_skipped() {
    let (_d, sandbox) = start(&["verb=list,resource=secrets,status=403"]);
    block_on(async {
        let conn = connect(&args(sandbox.kubeconfig())).await;
        let secrets = conn.namespaced_api::<Secret>(false);
        let outcome = list_optional(&secrets, &ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(outcome, ListOutcome::Skipped { .. }));
        assert!(
            outcome
                .skipped_reason()
                .is_some_and(|r| r.starts_with("forbidden"))
        );
        // Required lists fail with exit 3 instead.
        let err = list_all(&secrets, &ListParams::default()).await.err();
        assert!(err.is_some_and(|e| e.exit() == Exit::Cluster));
    });
}

#[test]
fn request_timeout_maps_to_exit_3() {
    let (_d, sandbox) = start(&["verb=list,resource=pods,delay-ms=3000"]);
    block_on(async {
        let mut a = args(sandbox.kubeconfig());
        a.request_timeout = Some(Duration::from_millis(300));
        let conn = connect(&a).await;
        let err = list_all(&conn.namespaced_api::<Pod>(false), &ListParams::default())
            .await
            .err();
        let err = err.unwrap_or_else(|| panic!("expected a timeout"));
        assert_eq!(err.exit(), Exit::Cluster);
        assert!(err.to_string().contains("timed out"), "{err}");
    });
}

#[test]
fn impersonation_applies_rbac_of_the_impersonated_user() {
    let (_d, sandbox) = start(&[]);
    block_on(async {
        let mut a = args(sandbox.kubeconfig());
        a.as_user = Some("viewer".into());
        let conn = connect(&a).await;
        let pods = list_all(&conn.namespaced_api::<Pod>(false), &ListParams::default()).await;
        assert_eq!(pods.map(|p| p.len()).ok(), Some(PODS));
        let secrets = conn.namespaced_api::<Secret>(false);
        let err = list_all(&secrets, &ListParams::default()).await.err();
        let err = err.unwrap_or_else(|| panic!("viewer must not list secrets"));
        assert_eq!(err.exit(), Exit::Cluster);
        assert!(matches!(err, Error::Forbidden { .. }), "{err}");
        let skipped = list_optional(&secrets, &ListParams::default()).await;
        assert!(skipped.is_ok_and(|o| o.skipped_reason().is_some()));
    });
}

#[test]
fn rejected_token_is_exit_3_credentials_hint() {
    let (dir, sandbox) = start(&[]);
    let text = std::fs::read_to_string(sandbox.kubeconfig()).unwrap_or_else(|e| panic!("{e}"));
    let mut doc: serde_json::Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    if let Some(users) = doc["users"].as_array_mut() {
        for u in users {
            u["user"]["token"] = serde_json::Value::String("wrong".into());
        }
    }
    let bad = dir.path().join("bad-kubeconfig");
    std::fs::write(&bad, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    block_on(async {
        let conn = connect(&args(&bad)).await;
        let err = list_all(&conn.namespaced_api::<Pod>(false), &ListParams::default())
            .await
            .err();
        let err = err.unwrap_or_else(|| panic!("expected 401"));
        assert_eq!(err.exit(), Exit::Cluster);
        assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
        assert!(
            err.hint()
                .is_some_and(|h| h.starts_with("credentials rejected"))
        );
    });
}

#[test]
fn dynamic_and_many_lists() {
    let (_d, sandbox) = start(&[]);
    block_on(async {
        let conn = connect(&args(sandbox.kubeconfig())).await;
        let resource = kube::api::ApiResource::erase::<Pod>(&());
        let lp = ListParams::default().limit(4);
        let listed = common::list::list_dynamic(&conn.client, &resource, Some("t"), &lp)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed.items.len(), PODS);
        assert_eq!(conn.requests.get(), 3);

        let apis = ["t", "default"].map(|ns| kube::Api::<Pod>::namespaced(conn.client.clone(), ns));
        let lists = common::list::list_each(apis, &ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let counts: Vec<usize> = lists.iter().map(|l| l.items.len()).collect();
        assert_eq!(counts, [PODS, 0]);
        assert_eq!(conn.requests.get(), 5);
    });
}
