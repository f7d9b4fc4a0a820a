//! An unreachable API server is discovered on the first request and maps to exit 3 with
//! a hint naming server and context. Own test binary: the hint uses per-process state.

use std::time::Duration;

use common::Exit;
use common::cli::ConnectionArgs;
use common::list::list_all;
use common::transport::RetryPolicy;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .block_on(f)
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

async fn connect(a: &ConnectionArgs) -> common::cli::Connection {
    a.connect_with(fast())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

#[test]
fn unreachable_server_maps_to_exit_3_with_hint() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config");
    // Port 1 on loopback: nothing listens, connection refused at once.
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\ncontexts:\n- name: gone\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: abc}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    block_on(async {
        let conn = connect(&ConnectionArgs {
            kubeconfig: Some(path.clone()),
            ..ConnectionArgs::default()
        })
        .await;
        let err = list_all(&conn.namespaced_api::<Pod>(false), &ListParams::default())
            .await
            .err();
        let err = err.unwrap_or_else(|| panic!("expected an error"));
        assert_eq!(err.exit(), Exit::Cluster, "{err}");
        // The call that failed is named (the retry layer's CallFailed), after the cause.
        let message = err.to_string();
        assert!(
            message.starts_with(
                "cannot reach the Kubernetes API server: connection refused (list pods in namespace default; 1 attempt in "
            ),
            "{message}"
        );
        assert_eq!(
            err.hint(),
            Some("check that the cluster is reachable (server http://127.0.0.1:1, context gone)")
        );
        assert_eq!(conn.requests.get(), 1, "connection refused is not retried");
    });
}
