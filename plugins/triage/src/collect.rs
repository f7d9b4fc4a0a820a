//! Every API read triage makes: one paginated list per resource type, all
//! in parallel, then previous logs of crashing containers (bounded).

use std::collections::BTreeSet;
use std::fmt::Debug;

use common::cli::Connection;
use common::error::{Error, Result, is_forbidden};
use common::list::{ListOutcome, list_all, list_optional, list_optional_map};
use common::model::SkipCause;
use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use kube::api::{ApiResource, DynamicObject, ListParams, LogParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use crate::checks::{Context, pods, workloads};
use crate::snapshot::{
    AccountRef, KeyedObject, Listed, LogKey, PodMetrics, Skip, Snapshot, name, ns,
};

/// Previous logs are fetched for at most this many containers per run.
pub const MAX_LOG_CONTAINERS: usize = 20;
/// How many log requests run at once.
pub const LOG_CONCURRENCY: usize = 8;

pub struct Scope<'a> {
    pub conn: &'a Connection,
    pub all_namespaces: bool,
    pub selector: Option<&'a str>,
}

impl Scope<'_> {
    fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        self.conn.namespaced_api(self.all_namespaces)
    }
    fn params(&self, filtered: bool) -> ListParams {
        let mut lp = ListParams::default();
        if filtered && let Some(s) = self.selector {
            lp = lp.labels(s);
        }
        lp
    }
}

/// A list whose failure (403/404) skips the named checks instead of failing the run.
async fn optional<K>(
    api: Api<K>,
    lp: ListParams,
    resource: &'static str,
    checks: &'static [&'static str],
) -> Result<(Listed<K>, Vec<Skip>)>
where
    K: Clone + DeserializeOwned + Debug,
{
    match list_optional(&api, &lp).await? {
        ListOutcome::Listed(l) => Ok((Some(l.items), Vec::new())),
        ListOutcome::Skipped { cause, message } => {
            Ok((None, skips(resource, checks, &message, cause)))
        }
    }
}

fn skips(resource: &str, checks: &[&str], message: &str, cause: SkipCause) -> Vec<Skip> {
    let why = common::model::Skipped::new(resource, cause, message).reason();
    checks
        .iter()
        .map(|c| Skip {
            check: c.to_string(),
            reason: format!("cannot list {resource}: {why}"),
            cause,
        })
        .collect()
}

/// ConfigMaps and Secrets reduced to key names page by page, so values
/// (secret data in particular) never accumulate in memory.
async fn keyed<K, F>(
    api: Api<K>,
    resource: &'static str,
    keys: F,
) -> Result<(Listed<KeyedObject>, Vec<Skip>)>
where
    K: Clone + DeserializeOwned + Debug + Resource,
    F: Fn(K) -> KeyedObject,
{
    match list_optional_map(&api, &ListParams::default(), keys).await? {
        ListOutcome::Listed(l) => Ok((Some(l.items), Vec::new())),
        ListOutcome::Skipped { cause, message } => Ok((
            None,
            skips(resource, &["MissingReference"], &message, cause),
        )),
    }
}

fn secret_keys(s: Secret) -> KeyedObject {
    let mut keys: BTreeSet<String> = s.data.map(|d| d.into_keys().collect()).unwrap_or_default();
    keys.extend(s.string_data.into_iter().flat_map(|d| d.into_keys()));
    KeyedObject {
        namespace: ns(&s.metadata).to_string(),
        name: name(&s.metadata).to_string(),
        keys,
    }
}

fn configmap_keys(c: ConfigMap) -> KeyedObject {
    let mut keys: BTreeSet<String> = c.data.map(|d| d.into_keys().collect()).unwrap_or_default();
    keys.extend(c.binary_data.into_iter().flat_map(|d| d.into_keys()));
    KeyedObject {
        namespace: ns(&c.metadata).to_string(),
        name: name(&c.metadata).to_string(),
        keys,
    }
}

async fn pod_metrics(scope: &Scope<'_>) -> Result<(Listed<PodMetrics>, Vec<Skip>)> {
    let ar = ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "PodMetrics".into(),
        plural: "pods".into(),
    };
    let api: Api<DynamicObject> = if scope.all_namespaces {
        Api::all_with(scope.conn.client.clone(), &ar)
    } else {
        Api::namespaced_with(scope.conn.client.clone(), &scope.conn.namespace, &ar)
    };
    match list_optional(&api, &scope.params(true)).await {
        Ok(ListOutcome::Listed(l)) => {
            let items = l
                .items
                .into_iter()
                .map(|o| PodMetrics {
                    metadata: o.metadata,
                    containers: o
                        .data
                        .get("containers")
                        .cloned()
                        .and_then(|v| serde_json::from_value(v).ok())
                        .unwrap_or_default(),
                })
                .collect();
            Ok((Some(items), Vec::new()))
        }
        // Not installed (404) is normal and does not make the run partial (SkipCause).
        Ok(ListOutcome::Skipped { cause, message }) => Ok((
            None,
            skips(
                "pods.metrics.k8s.io",
                &["HighResourceUsage"],
                &message,
                cause,
            ),
        )),
        // Aggregated APIs that are registered but down answer 503; treat as absent.
        Err(Error::Api { code: 503, .. }) => Ok((
            None,
            skips(
                "pods.metrics.k8s.io",
                &["HighResourceUsage"],
                "metrics API unavailable (503)",
                SkipCause::NotServed,
            ),
        )),
        Err(e) => Err(e),
    }
}

/// False only when the API server says the namespace does not exist; a
/// user who may not read namespaces (403) gets the benefit of the doubt.
async fn namespace_exists(scope: &Scope<'_>) -> Result<bool> {
    if scope.all_namespaces {
        return Ok(true);
    }
    let api: Api<Namespace> = scope.conn.cluster_api();
    match api.get_opt(&scope.conn.namespace).await {
        Ok(found) => Ok(found.is_some()),
        Err(e) if is_forbidden(&e) => Ok(true),
        Err(e) => Err(scope.conn.error(e)),
    }
}

/// Read everything the checks need.
pub async fn collect(scope: &Scope<'_>, ctx: &Context) -> Result<Snapshot> {
    let conn = scope.conn;
    let f = scope.params(true);
    let all = scope.params(false);
    let pods_api: Api<Pod> = scope.api();
    let (
        pods,
        events,
        deployments,
        replicasets,
        statefulsets,
        daemonsets,
        services,
        endpoints,
        pvcs,
        hpas,
        pdbs,
        jobs,
        cronjobs,
        configmaps,
        secrets,
        accounts,
        nodes,
        metrics,
        namespace_found,
    ) = futures::try_join!(
        // Pods are required: without them there is nothing to triage (exit 3 on 403).
        async { list_all(&pods_api, &f).await },
        optional(scope.api(), all.clone(), "events", &["WarningEvents"]),
        optional(
            scope.api(),
            f.clone(),
            "deployments",
            &["DeploymentUnavailable"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "replicasets",
            &["DeploymentUnavailable"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "statefulsets",
            &["StatefulSetUnavailable"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "daemonsets",
            &["DaemonSetUnavailable"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "services",
            &["NoReadyEndpoints", "SelectorMatchesNoPods"]
        ),
        optional(scope.api(), all.clone(), "endpoints", &["NoReadyEndpoints"]),
        optional(
            scope.api(),
            f.clone(),
            "persistentvolumeclaims",
            &["PVCPending"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "horizontalpodautoscalers",
            &["HPAAtMax"]
        ),
        optional(
            scope.api(),
            f.clone(),
            "poddisruptionbudgets",
            &["PDBBlocksDisruption"]
        ),
        optional(scope.api(), f.clone(), "jobs", &["JobFailed"]),
        optional(scope.api(), f.clone(), "cronjobs", &["JobFailed"]),
        keyed::<ConfigMap, _>(scope.api(), "configmaps", configmap_keys),
        keyed::<Secret, _>(scope.api(), "secrets", secret_keys),
        optional::<ServiceAccount>(
            scope.api(),
            all.clone(),
            "serviceaccounts",
            &["MissingReference"]
        ),
        optional(conn.cluster_api(), all.clone(), "nodes", &["NodeProblem"]),
        pod_metrics(scope),
        namespace_exists(scope),
    )?;
    if !namespace_found {
        // A typo must not read as "no problems found".
        return Err(
            Error::usage(format!("namespace \"{}\" not found", conn.namespace))
                .with_hint("list the namespaces with: kubectl get namespaces"),
        );
    }
    let mut snap = Snapshot {
        now: ctx.now,
        pods,
        ..Snapshot::default()
    };
    macro_rules! take {
        ($field:ident, $value:expr) => {{
            let (items, skipped) = $value;
            snap.$field = items;
            snap.skipped.extend(skipped);
        }};
    }
    take!(events, events);
    take!(deployments, deployments);
    take!(replicasets, replicasets);
    take!(statefulsets, statefulsets);
    take!(daemonsets, daemonsets);
    take!(services, services);
    take!(endpoints, endpoints);
    take!(pvcs, pvcs);
    take!(hpas, hpas);
    take!(pdbs, pdbs);
    take!(jobs, jobs);
    take!(cronjobs, cronjobs);
    take!(configmaps, configmaps);
    take!(secrets, secrets);
    let (sa, sa_skips) = accounts;
    snap.service_accounts = sa.map(|l| {
        l.into_iter()
            .map(|a| AccountRef {
                namespace: ns(&a.metadata).to_string(),
                name: name(&a.metadata).to_string(),
            })
            .collect()
    });
    snap.skipped.extend(sa_skips);
    take!(nodes, nodes);
    take!(pod_metrics, metrics);
    if scope.selector.is_some() {
        restrict_events_to_listed(&mut snap);
    }

    // Second phase: only what the first phase showed is needed.
    if workloads::needs_revisions(&snap) {
        let (revs, skipped) = optional(
            scope.api(),
            all.clone(),
            "controllerrevisions",
            &["StatefulSetUnavailable", "DaemonSetUnavailable"],
        )
        .await?;
        snap.controller_revisions = revs;
        snap.skipped.extend(skipped);
    }
    fetch_logs(scope, ctx, &mut snap).await;
    Ok(snap)
}

/// With `-l`, events about objects outside the selection are noise.
fn restrict_events_to_listed(snap: &mut Snapshot) {
    let mut known: BTreeSet<String> = snap
        .pods
        .iter()
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    known.extend(snap.pods.iter().map(|p| name(&p.metadata).to_string()));
    for list in [
        snap.deployments
            .iter()
            .flatten()
            .map(|d| &d.metadata)
            .collect::<Vec<_>>(),
        snap.replicasets
            .iter()
            .flatten()
            .map(|d| &d.metadata)
            .collect(),
        snap.statefulsets
            .iter()
            .flatten()
            .map(|d| &d.metadata)
            .collect(),
        snap.daemonsets
            .iter()
            .flatten()
            .map(|d| &d.metadata)
            .collect(),
        snap.jobs.iter().flatten().map(|d| &d.metadata).collect(),
        snap.services
            .iter()
            .flatten()
            .map(|d| &d.metadata)
            .collect(),
        snap.pvcs.iter().flatten().map(|d| &d.metadata).collect(),
    ] {
        for m in list {
            known.insert(name(m).to_string());
        }
    }
    if let Some(events) = snap.events.as_mut() {
        events.retain(|e| {
            e.involved_object
                .name
                .as_ref()
                .is_some_and(|n| known.contains(n))
        });
    }
}

/// Previous logs of crashing containers: the only per-object calls.
async fn fetch_logs(scope: &Scope<'_>, ctx: &Context, snap: &mut Snapshot) {
    let targets = pods::log_targets(snap, ctx, MAX_LOG_CONTAINERS);
    let client = scope.conn.client.clone();
    let lines = i64::try_from(ctx.log_lines).unwrap_or(20);
    let results: Vec<(LogKey, Option<String>)> = futures::stream::iter(targets)
        .map(|key| {
            let api: Api<Pod> = Api::namespaced(client.clone(), &key.namespace);
            async move {
                let lp = LogParams {
                    container: Some(key.container.clone()),
                    previous: true,
                    tail_lines: Some(lines),
                    ..LogParams::default()
                };
                match api.logs(&key.pod, &lp).await {
                    Ok(text) => (key, Some(text)),
                    Err(e) => {
                        tracing::debug!("previous log of {}/{}: {e}", key.pod, key.container);
                        (key, None)
                    }
                }
            }
        })
        .buffer_unordered(LOG_CONCURRENCY)
        .collect()
        .await;
    for (key, text) in results {
        if let Some(text) = text {
            // Redact before the text is stored, so no later stage can leak it.
            let redacted: Vec<String> = text
                .lines()
                .map(|l| common::redact::redact_line(l).into_owned())
                .collect();
            snap.logs.insert(key, redacted.join("\n"));
        }
    }
}
