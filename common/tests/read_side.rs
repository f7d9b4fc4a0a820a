//! The read side added for writing plugins, against kube-sandbox: discovery of every served
//! resource, page-by-page streams, and waits (rollout complete, object gone, timeout,
//! cancellation) on the sandbox's simulated controllers.

use std::time::Duration;

use common::cli::{Connection, ConnectionArgs};
use common::progress::Progress;
use common::wait::{self, Waited};
use common::write::{DryRun, Guard, PatchBody, Target, Writer};
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::ListParams;
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::json;
use tokio_util::sync::CancellationToken;

async fn connect(sb: &Sandbox, ns: &str) -> Connection {
    ConnectionArgs {
        kubeconfig: Some(sb.kubeconfig().to_path_buf()),
        namespace: Some(ns.into()),
        ..ConnectionArgs::default()
    }
    .connect()
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn start(name: &str) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir(name)],
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e:#}"))
}

#[tokio::test]
async fn discovery_finds_builtin_and_custom_resources() {
    let sb = start("sandbox-api/basic");
    let conn = connect(&sb, "default").await;
    let before = sb.request_count();
    let found = common::discovery::discover(&conn.client)
        .await
        .unwrap_or_else(|e| panic!("discover: {e}"));
    assert!(
        sb.request_count() - before <= 2,
        "aggregated discovery: 2 requests"
    );
    let pods = found.by_kind("", "Pod").unwrap_or_else(|| panic!("pods"));
    assert!(pods.namespaced && pods.listable());
    assert_eq!(
        found
            .by_kind("apps", "Deployment")
            .map(|r| r.api.api_version.as_str()),
        Some("apps/v1")
    );
    let widgets = found
        .by_kind("example.com", "Widget")
        .unwrap_or_else(|| panic!("the CRD's kind is discovered"));
    assert_eq!(widgets.qualified_plural(), "widgets.example.com");
    assert!(!found.by_kind("", "Node").is_some_and(|n| n.namespaced));
    assert!(
        found.resources.iter().all(|r| !r.api.plural.contains('/')),
        "no subresources"
    );
}

#[tokio::test]
async fn page_stream_yields_pages_in_order() {
    let sb = start("controllers");
    let conn = connect(&sb, "shop").await;
    let api = conn.namespaced_api::<Pod>(true);
    let all = common::list::list_all(&api, &ListParams::default())
        .await
        .unwrap_or_default();
    assert!(all.len() >= 3, "fixture has pods");
    let pages: Vec<Vec<Pod>> = common::list::page_stream(api, ListParams::default().limit(2))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("pages: {e}"));
    assert_eq!(pages.len(), all.len().div_ceil(2));
    assert!(pages.iter().all(|p| p.len() <= 2));
    let names =
        |v: &[Pod]| -> Vec<Option<String>> { v.iter().map(|p| p.metadata.name.clone()).collect() };
    assert_eq!(names(&pages.concat()), names(&all));
}

#[tokio::test]
async fn waits_for_a_rollout_and_for_deletion() {
    let sb = start("controllers");
    let conn = connect(&sb, "shop").await;
    let deployments = Target::<Deployment>::namespaced(&conn.client, "shop");
    let writer = Writer::new("test", DryRun::None, common::journal::Journal::new());
    writer
        .patch(
            &deployments,
            "web",
            PatchBody::Strategic(json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-30T00:00:00Z"}}}}})),
            Guard::none(),
            "restart",
        )
        .await
        .unwrap_or_else(|e| panic!("patch: {e}"));
    let cancel = CancellationToken::new();
    let done = wait::until(
        deployments.api(),
        "web",
        Duration::from_secs(30),
        &cancel,
        &Progress::hidden(),
        common::rollout::deployment,
    )
    .await
    .unwrap_or_else(|e| panic!("wait: {e}"));
    assert!(done.is_done(), "{done:?}");

    // A ConfigMap deleted meanwhile satisfies `gone`.
    let cms = Target::<ConfigMap>::namespaced(&conn.client, "shop");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "soon-gone"}})).unwrap_or_default();
    let created = writer
        .create(&cms, &cm, "")
        .await
        .ok()
        .and_then(|w| w.into_object())
        .unwrap_or_default();
    let uid = created.metadata.uid.clone();
    let api = cms.api().clone();
    let deleter = tokio::spawn({
        let writer = writer.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            writer
                .delete(&cms, "soon-gone", Guard::none(), None, "")
                .await
                .ok();
        }
    });
    let gone = wait::until(
        &api,
        "soon-gone",
        Duration::from_secs(10),
        &cancel,
        &Progress::hidden(),
        wait::gone::<ConfigMap>(uid.as_deref()),
    )
    .await
    .unwrap_or_else(|e| panic!("wait: {e}"));
    assert!(gone.is_done(), "{gone:?}");
    deleter.await.ok();
}

#[tokio::test]
async fn waits_time_out_and_cancel() {
    let sb = start("controllers");
    let conn = connect(&sb, "shop").await;
    let api = conn.namespaced_api::<Deployment>(false);
    let never = |_: Option<&Deployment>| wait::Check::Waiting("never".into());
    let cancel = CancellationToken::new();
    let r = wait::until(
        &api,
        "web",
        Duration::from_millis(300),
        &cancel,
        &Progress::hidden(),
        never,
    )
    .await;
    assert!(
        matches!(r, Ok(Waited::TimedOut { ref message, .. }) if message == "never"),
        "{r:?}"
    );
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.cancel();
    });
    let r = wait::until(
        &api,
        "web",
        Duration::from_secs(30),
        &cancel,
        &Progress::hidden(),
        never,
    )
    .await;
    assert!(matches!(r, Ok(Waited::Cancelled { .. })), "{r:?}");
}
