//! Every API read of the plugin: one paginated list per type, in parallel, and the few
//! Secrets whose values a command needs (the rotated family, certificates page by page).

use common::Error;
use common::cli::Connection;
use common::list::{ListOutcome, list_all, list_optional, list_optional_map};
use futures::Stream;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret};
use kube::Api;
use kube::api::ListParams;

use crate::snapshot::{LABEL_BASE, Workloads};

/// Where to look: the connection's namespace, or every namespace.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The connection (its namespace is the scope unless `all_namespaces`).
    pub conn: &'a Connection,
    /// `-A`.
    pub all_namespaces: bool,
}

/// Which optional lists a command needs besides the consumer kinds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Want {
    /// Pods (status, cleanup, bare-pod consumers).
    pub pods: bool,
    /// ReplicaSets and ControllerRevisions kept for rollback (cleanup).
    pub history: bool,
}

fn take<K>(
    what: &str,
    outcome: ListOutcome<K>,
    skipped: &mut Vec<common::model::Skipped>,
) -> Vec<K> {
    if let Some(s) = outcome.skipped(what) {
        skipped.push(s);
    }
    outcome.into_items().unwrap_or_default()
}

/// Pods without what no stage reads (managedFields), reduced as each page arrives.
fn lean_pod(mut pod: Pod) -> Pod {
    pod.metadata.managed_fields = None;
    pod
}

/// One list per kind, all at once. A 403/404 becomes a `skipped` entry; other errors fail.
pub async fn workloads(scope: Scope<'_>, want: Want) -> common::Result<Workloads> {
    let c = scope.conn;
    let all = scope.all_namespaces;
    let lp = ListParams::default();
    let (deploy_api, sts_api, ds_api) = (
        c.namespaced_api(all),
        c.namespaced_api(all),
        c.namespaced_api(all),
    );
    let (cron_api, job_api, sa_api) = (
        c.namespaced_api(all),
        c.namespaced_api(all),
        c.namespaced_api(all),
    );
    let ing_api = c.namespaced_api(all);
    let pods_api = c.namespaced_api::<Pod>(all);
    let rs_api = c.namespaced_api(all);
    let cr_api = c.namespaced_api(all);
    let (deploy, sts, ds, cron, jobs, sa, ing, pods, rs, cr) = tokio::join!(
        list_optional(&deploy_api, &lp),
        list_optional(&sts_api, &lp),
        list_optional(&ds_api, &lp),
        list_optional(&cron_api, &lp),
        list_optional(&job_api, &lp),
        list_optional(&sa_api, &lp),
        list_optional(&ing_api, &lp),
        async {
            if want.pods {
                Some(list_optional_map(&pods_api, &lp, lean_pod).await)
            } else {
                None
            }
        },
        async {
            if want.history {
                Some(list_optional(&rs_api, &lp).await)
            } else {
                None
            }
        },
        async {
            if want.history {
                Some(list_optional(&cr_api, &lp).await)
            } else {
                None
            }
        },
    );
    let mut skipped = Vec::new();
    let mut w = Workloads {
        deployments: take("deployments", deploy?, &mut skipped),
        statefulsets: take("statefulsets", sts?, &mut skipped),
        daemonsets: take("daemonsets", ds?, &mut skipped),
        cronjobs: take("cronjobs", cron?, &mut skipped),
        jobs: take("jobs", jobs?, &mut skipped),
        service_accounts: take("serviceaccounts", sa?, &mut skipped),
        ingresses: take("ingresses", ing?, &mut skipped),
        ..Workloads::default()
    };
    if let Some(pods) = pods {
        w.pods = take("pods", pods?, &mut skipped);
    }
    if let Some(rs) = rs {
        w.replicasets = take("replicasets", rs?, &mut skipped);
    }
    if let Some(cr) = cr {
        w.controller_revisions = take("controllerrevisions", cr?, &mut skipped);
    }
    w.skipped = skipped;
    Ok(w)
}

/// Refuse to act on an incomplete consumer search: a consumer hidden by RBAC would be
/// left on the old Secret (or lose its Secret) without anyone knowing.
pub fn require_complete(w: &Workloads, action: &str) -> common::Result<()> {
    if let Some(s) = w.skipped.iter().find(|s| s.cause.is_partial()) {
        return Err(Error::Forbidden {
            message: format!(
                "cannot {action}: listing {} failed ({}), so consumers could be missed",
                s.what,
                s.reason()
            ),
            hint: Some(
                "run with an identity that may list every workload kind in the namespace".into(),
            ),
        });
    }
    Ok(())
}

/// The Secret `name`, or `None` when it does not exist.
pub async fn secret(
    conn: &Connection,
    namespace: &str,
    name: &str,
) -> common::Result<Option<Secret>> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), namespace);
    Ok(api.get_opt(name).await?)
}

/// The ConfigMap `name`, or `None` when it does not exist.
pub async fn configmap(
    conn: &Connection,
    namespace: &str,
    name: &str,
) -> common::Result<Option<ConfigMap>> {
    let api: Api<ConfigMap> = Api::namespaced(conn.client.clone(), namespace);
    Ok(api.get_opt(name).await?)
}

/// Exit 2 when the namespace does not exist (an empty answer would look like "fine").
pub async fn require_namespace(conn: &Connection, namespace: &str) -> common::Result<()> {
    let api: Api<Namespace> = Api::all(conn.client.clone());
    match api.get_opt(namespace).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(Error::usage(format!("namespace \"{namespace}\" not found"))
            .with_hint("kubectl get namespaces")),
        // Without permission to read namespaces, go on: the lists will tell.
        Err(e) if common::error::is_forbidden(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A rotated Secret's family: its base name and every version (values included: these
/// few Secrets are the ones the command works on).
#[derive(Debug, Clone)]
pub struct Family {
    /// The base name (`vsphere-credentials`).
    pub base: String,
    /// The base Secret (if it still exists) and every Secret labelled with the base name.
    pub secrets: Vec<Secret>,
}

impl Family {
    /// The versions, without their values.
    pub fn versions(&self) -> Vec<crate::snapshot::Version> {
        self.secrets
            .iter()
            .map(crate::snapshot::Version::of)
            .collect()
    }
}

/// Resolve `name` (a base name or one of its versions) to its family: a GET of `name`, a
/// GET of the base when `name` is a version, and one list by the base-name label.
pub async fn family(conn: &Connection, namespace: &str, name: &str) -> common::Result<Family> {
    let named = secret(conn, namespace, name).await?;
    let base = named
        .as_ref()
        .and_then(|s| s.metadata.labels.as_ref())
        .and_then(|l| l.get(LABEL_BASE))
        .cloned()
        .unwrap_or_else(|| name.to_string());
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), namespace);
    let lp = ListParams::default().labels(&format!("{LABEL_BASE}={base}"));
    let (labelled, base_secret) = if base == name {
        (list_all(&api, &lp).await?, named)
    } else {
        let (l, b) = tokio::join!(list_all(&api, &lp), api.get_opt(&base));
        (l?, b?)
    };
    let mut secrets: Vec<Secret> = base_secret.into_iter().collect();
    for s in labelled {
        if s.metadata.name.as_deref() != Some(base.as_str()) {
            secrets.push(s);
        }
    }
    Ok(Family { base, secrets })
}

/// The family of `name` and the namespace's workloads, read together (interruptible by
/// Ctrl-C); a usage error (exit 2) when neither `name` nor any version of it exists.
pub async fn family_and_workloads(
    conn: &Connection,
    session: &common::run::Session,
    name: &str,
    want: Want,
) -> common::Result<(Family, Workloads)> {
    let ns = conn.namespace.as_str();
    let scope = Scope {
        conn,
        all_namespaces: false,
    };
    let (family, w) = session
        .interruptible(async {
            let (f, w) = tokio::join!(family(conn, ns, name), workloads(scope, want));
            Ok((f?, w?))
        })
        .await?;
    if family.secrets.is_empty() {
        return Err(
            Error::usage(format!("secret \"{name}\" not found in namespace \"{ns}\""))
                .with_hint(format!("kubectl get secrets -n {ns}")),
        );
    }
    Ok((family, w))
}

/// Secrets page by page (values included), so `certs -A` over thousands of Secrets keeps
/// only one page in memory.
pub fn secret_pages(
    scope: Scope<'_>,
) -> impl Stream<Item = common::Result<Vec<Secret>>> + Send + use<> {
    let api: Api<Secret> = scope.conn.namespaced_api(scope.all_namespaces);
    common::list::page_stream(api, ListParams::default())
}
