//! The write side against kube-sandbox: every write kind under `--dry-run=client` (no
//! request sent), `--dry-run=server` (sent, nothing stored) and for real; preconditions
//! refused; conflicts retried only through `update_with`; evictions blocked by a PDB.

use std::path::{Path, PathBuf};

use common::cli::{Connection, ConnectionArgs};
use common::journal::{Action, Journal, Outcome};
use common::write::{DryRun, Eviction, Guard, PatchBody, Target, Writer, Written};
use common::{Error, ObjectRef};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::ObjectMeta;
use kube_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

const FIXTURES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: t}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: t}
data: {mode: blue}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: t}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
"#;

fn pod(name: &str, app: &str) -> String {
    format!(
        r#"---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: t, labels: {{app: {app}}}}}
spec:
  nodeName: node-1
  containers: [{{name: c, image: nginx:1.27}}]
status:
  phase: Running
  conditions: [{{type: Ready, status: "True"}}]
"#
    )
}

fn start(faults: &[&str]) -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut text = FIXTURES.to_string();
    for (name, app) in [("web-1", "web"), ("web-2", "web"), ("batch-1", "batch")] {
        text.push_str(&pod(name, app));
    }
    let path: PathBuf = dir.path().join("objects.yaml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let sandbox = Sandbox::start(SandboxOptions {
        fixtures: vec![path],
        faults: faults.iter().map(|s| s.to_string()).collect(),
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e:#}"));
    (dir, sandbox)
}

async fn connect(kubeconfig: &Path) -> Connection {
    ConnectionArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        namespace: Some("t".into()),
        ..ConnectionArgs::default()
    }
    .connect()
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn configmap(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("t".into()),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..ConfigMap::default()
    }
}

async fn get_cm(conn: &Connection, name: &str) -> Option<ConfigMap> {
    conn.namespaced_api::<ConfigMap>(false)
        .get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"))
}

/// Run `f` and return how many requests reached the sandbox meanwhile.
async fn requests_during<T>(sb: &Sandbox, f: impl std::future::Future<Output = T>) -> (T, u64) {
    let before = sb.request_count();
    let out = f.await;
    (out, sb.request_count() - before)
}

#[tokio::test]
async fn create_in_three_modes() {
    let (_d, sb) = start(&[]);
    let conn = connect(sb.kubeconfig()).await;
    let target = Target::<ConfigMap>::namespaced(&conn.client, "t");
    let journal = Journal::new();

    let client = Writer::new("test", DryRun::Client, journal.clone());
    let (r, sent) = requests_during(&sb, client.create(&target, &configmap("a"), "")).await;
    assert!(matches!(r, Ok(Written::Planned)));
    assert_eq!(sent, 0, "client dry run sends nothing");

    let server = Writer::new("test", DryRun::Server, journal.clone());
    let (r, sent) = requests_during(&sb, server.create(&target, &configmap("a"), "")).await;
    assert!(matches!(r, Ok(Written::Validated(_))), "{r:?}");
    assert_eq!(sent, 1);
    assert!(
        get_cm(&conn, "a").await.is_none(),
        "server dry run stores nothing"
    );

    let real = Writer::new("test", DryRun::None, journal.clone());
    let created = real.create(&target, &configmap("a"), "first").await;
    assert!(matches!(created, Ok(Written::Applied(_))));
    assert!(get_cm(&conn, "a").await.is_some());
    // Creating again is a 409 AlreadyExists, returned once (never retried).
    let (again, sent) = requests_during(&sb, real.create(&target, &configmap("a"), "")).await;
    assert!(
        matches!(again, Err(Error::Api { code: 409, .. })),
        "{again:?}"
    );
    assert_eq!(sent, 1);

    let outcomes: Vec<(Action, Outcome, DryRun)> = journal
        .entries()
        .iter()
        .map(|c| (c.action, c.outcome, c.dry_run))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Action::Create, Outcome::Planned, DryRun::Client),
            (Action::Create, Outcome::Validated, DryRun::Server),
            (Action::Create, Outcome::Applied, DryRun::None),
            (Action::Create, Outcome::Failed, DryRun::None),
        ]
    );
    assert_eq!(journal.applied(), 1);
    assert_eq!(
        journal.entries()[2].object,
        ObjectRef::new("ConfigMap", "t", "a")
    );
    assert_eq!(journal.entries()[2].how, "create: first");
}

#[tokio::test]
async fn every_patch_type_in_three_modes_with_guards() {
    let (_d, sb) = start(&[]);
    let conn = connect(sb.kubeconfig()).await;
    let target = Target::<ConfigMap>::namespaced(&conn.client, "t");
    let bodies = |v: &str| {
        vec![
            PatchBody::Merge(json!({"data": {"mode": v}})),
            PatchBody::Strategic(json!({"data": {"mode": v}})),
            PatchBody::Json(vec![
                json!({"op": "replace", "path": "/data/mode", "value": v}),
            ]),
            PatchBody::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": v}}),
            ),
        ]
    };
    for (i, body) in bodies("green").into_iter().enumerate() {
        let kind = body.type_name();
        let before = get_cm(&conn, "settings").await.unwrap_or_default();
        let rv = before.metadata.resource_version.clone();

        let client = Writer::new("test", DryRun::Client, Journal::new());
        let (r, sent) = requests_during(
            &sb,
            client.patch(&target, "settings", body.clone(), Guard::none(), ""),
        )
        .await;
        assert!(matches!(r, Ok(Written::Planned)), "{kind}");
        assert_eq!(sent, 0, "{kind}: client dry run sends nothing");

        let server = Writer::new("test", DryRun::Server, Journal::new());
        let r = server
            .patch(&target, "settings", body.clone(), Guard::of(&before), "")
            .await;
        let seen = r.unwrap_or_else(|e| panic!("{kind}: {e}"));
        let seen_mode = seen
            .object()
            .and_then(|c| c.data.as_ref())
            .and_then(|d| d.get("mode"))
            .cloned();
        assert_eq!(
            seen_mode.as_deref(),
            Some("green"),
            "{kind}: server shows the result"
        );
        let after = get_cm(&conn, "settings").await.unwrap_or_default();
        assert_eq!(
            after.metadata.resource_version, rv,
            "{kind}: nothing stored"
        );

        // A stale resourceVersion is refused and changes nothing.
        let stale = Guard {
            uid: None,
            resource_version: Some("1".into()),
        };
        let real = Writer::new("test", DryRun::None, Journal::new());
        let r = real
            .patch(&target, "settings", bodies("stale").remove(i), stale, "")
            .await;
        assert!(
            matches!(r, Err(Error::Api { code: 409, .. })),
            "{kind}: {r:?}"
        );
        let after = get_cm(&conn, "settings").await.unwrap_or_default();
        assert_eq!(after.metadata.resource_version, rv, "{kind}: refused");
        assert_eq!(real.journal().failed(), 1);
        // So is another object's UID (deleted and recreated under the same name).
        let r = real
            .patch(
                &target,
                "settings",
                bodies("stale").remove(i),
                Guard::uid("someone-else"),
                "",
            )
            .await;
        assert!(
            matches!(r, Err(Error::Api { code: 409, .. })),
            "{kind} uid: {r:?}"
        );
        let after = get_cm(&conn, "settings").await.unwrap_or_default();
        assert_eq!(
            after.metadata.resource_version, rv,
            "{kind}: refused by uid"
        );

        // With the right guard it applies.
        let r = real
            .patch(&target, "settings", body, Guard::of(&before), "recolour")
            .await;
        assert!(matches!(r, Ok(Written::Applied(_))), "{kind}: {r:?}");
        let after = get_cm(&conn, "settings").await.unwrap_or_default();
        assert_eq!(
            after
                .data
                .as_ref()
                .and_then(|d| d.get("mode"))
                .map(String::as_str),
            Some("green"),
            "{kind}"
        );
        assert_ne!(after.metadata.resource_version, rv, "{kind}: stored");
        // Reset for the next patch type.
        let reset = Writer::new("test", DryRun::None, Journal::new());
        reset
            .patch(
                &target,
                "settings",
                PatchBody::Merge(json!({"data": {"mode": "blue"}})),
                Guard::none(),
                "",
            )
            .await
            .unwrap_or_else(|e| panic!("reset: {e}"));
    }
}

#[tokio::test]
async fn replace_is_guarded_and_update_with_retries_conflicts() {
    // The first PUT answers 409 as if someone wrote in between.
    let (_d, sb) = start(&["verb=update,resource=configmaps,status=409,count=1"]);
    let conn = connect(sb.kubeconfig()).await;
    let target = Target::<ConfigMap>::namespaced(&conn.client, "t");
    let real = Writer::new("test", DryRun::None, Journal::new());

    // update_with re-reads and re-applies after the conflict.
    let (r, sent) = requests_during(
        &sb,
        real.update_with(&target, "settings", "set mode", |cm: &mut ConfigMap| {
            cm.data
                .get_or_insert_default()
                .insert("mode".into(), "red".into());
            Ok(true)
        }),
    )
    .await;
    assert!(matches!(r, Ok(Some(Written::Applied(_)))), "{r:?}");
    assert_eq!(sent, 4, "GET, PUT (409), GET, PUT");
    let now = get_cm(&conn, "settings").await.unwrap_or_default();
    assert_eq!(
        now.data.and_then(|d| d.get("mode").cloned()).as_deref(),
        Some("red")
    );

    // A plain replace with a stale resourceVersion is refused, never retried.
    let mut stale = get_cm(&conn, "settings").await.unwrap_or_default();
    stale.metadata.resource_version = Some("1".into());
    let (r, sent) = requests_during(&sb, real.replace(&target, "settings", &stale, "")).await;
    assert!(matches!(r, Err(Error::Api { code: 409, .. })), "{r:?}");
    assert_eq!(sent, 1);

    // Nothing to change: nothing written.
    let r = real
        .update_with(&target, "settings", "", |_: &mut ConfigMap| Ok(false))
        .await;
    assert!(matches!(r, Ok(None)));

    // A client dry run of replace sends nothing.
    let client = Writer::new("test", DryRun::Client, Journal::new());
    let cm = get_cm(&conn, "settings").await.unwrap_or_default();
    let (r, sent) = requests_during(&sb, client.replace(&target, "settings", &cm, "")).await;
    assert!(matches!(r, Ok(Written::Planned)));
    assert_eq!(sent, 0);
}

#[tokio::test]
async fn delete_in_three_modes_with_preconditions() {
    let (_d, sb) = start(&[]);
    let conn = connect(sb.kubeconfig()).await;
    let target = Target::<ConfigMap>::namespaced(&conn.client, "t");
    let live = get_cm(&conn, "settings").await.unwrap_or_default();

    let client = Writer::new("test", DryRun::Client, Journal::new());
    let (r, sent) = requests_during(
        &sb,
        client.delete(&target, "settings", Guard::none(), None, ""),
    )
    .await;
    assert!(matches!(r, Ok(Written::Planned)));
    assert_eq!(sent, 0);

    let server = Writer::new("test", DryRun::Server, Journal::new());
    let r = server
        .delete(&target, "settings", Guard::of(&live), None, "")
        .await;
    assert!(matches!(r, Ok(Written::Validated(()))), "{r:?}");
    assert!(
        get_cm(&conn, "settings").await.is_some(),
        "server dry run keeps it"
    );

    let real = Writer::new("test", DryRun::None, Journal::new());
    let r = real
        .delete(&target, "settings", Guard::uid("not-the-uid"), None, "")
        .await;
    assert!(matches!(r, Err(Error::Api { code: 409, .. })), "{r:?}");
    assert!(
        get_cm(&conn, "settings").await.is_some(),
        "precondition refused"
    );

    let r = real
        .delete(&target, "settings", Guard::of(&live), None, "cleanup")
        .await;
    assert!(matches!(r, Ok(Written::Applied(()))), "{r:?}");
    assert!(get_cm(&conn, "settings").await.is_none());
    let gone = real
        .delete(&target, "settings", Guard::none(), None, "")
        .await;
    assert!(
        gone.as_ref().is_err_and(common::write::is_not_found_error),
        "{gone:?}"
    );
}

#[tokio::test]
async fn evictions_honour_budgets_and_modes() {
    let (_d, sb) = start(&[]);
    let conn = connect(sb.kubeconfig()).await;
    let pods = Target::<Pod>::namespaced(&conn.client, "t");
    let journal = Journal::new();
    let real = Writer::new("test", DryRun::None, journal.clone());

    // minAvailable 2 of 2 healthy: blocked, with the server's reason, and not journaled.
    let r = real.evict(&pods, "web-1", None, "drain node-1").await;
    match r {
        Ok(Eviction::Blocked { message, .. }) => {
            assert!(message.contains("disruption budget"), "{message}");
        }
        other => panic!("expected a blocked eviction, got {other:?}"),
    }
    assert!(journal.is_empty());

    let client = Writer::new("test", DryRun::Client, Journal::new());
    let (r, sent) = requests_during(&sb, client.evict(&pods, "batch-1", None, "")).await;
    assert!(matches!(r, Ok(Eviction::Planned)));
    assert_eq!(sent, 0);

    let server = Writer::new("test", DryRun::Server, Journal::new());
    let r = server.evict(&pods, "batch-1", None, "").await;
    assert!(matches!(r, Ok(Eviction::Validated)), "{r:?}");
    let api = conn.namespaced_api::<Pod>(false);
    assert!(api.get_opt("batch-1").await.ok().flatten().is_some());

    // A UID precondition that does not match is refused.
    let r = real.evict(&pods, "batch-1", Some("another-pod"), "").await;
    assert!(matches!(r, Err(Error::Api { code: 409, .. })), "{r:?}");

    let uid = api
        .get("batch-1")
        .await
        .ok()
        .and_then(|p| p.metadata.uid)
        .unwrap_or_default();
    let r = real.evict(&pods, "batch-1", Some(&uid), "drain").await;
    assert!(matches!(r, Ok(Eviction::Evicted)), "{r:?}");
    let still = api.get_opt("batch-1").await.ok().flatten();
    assert!(
        still.is_none() || still.is_some_and(|p| p.metadata.deletion_timestamp.is_some()),
        "evicted"
    );
    let entries = journal.entries();
    assert_eq!(entries.last().map(|c| c.outcome), Some(Outcome::Applied));
    assert_eq!(entries.last().map(|c| c.action), Some(Action::Evict));
}
