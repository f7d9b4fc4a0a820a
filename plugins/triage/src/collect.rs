//! Every API read triage makes: one paginated list per resource type, all in
//! parallel, each reduced page by page to what the checks read; then the few
//! reads the first phase showed are needed (revisions, webhook backends,
//! kubelet volume stats, previous logs of crashing containers), bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use common::cli::Connection;
use common::error::{Error, Result, is_forbidden};
use common::list::{ListOutcome, list_optional, list_optional_map, page_stream};
use common::model::SkipCause;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Pod, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{ApiResource, DynamicObject, ListParams, LogParams};
use kube::{Api, Resource};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::podstate::{Interner, PodState, PodSummary, log_targets};
use crate::snapshot::{
    AccountRef, EventRecord, KeyedObject, Listed, PodMetrics, ServiceHealth, Skip, SliceSummary,
    Snapshot, VolumeUsage, Webhook, WebhookConfig, items, name, ns,
};

/// Previous logs are fetched for at most this many containers per run.
pub const MAX_LOG_CONTAINERS: usize = 20;
/// How many per-object requests (logs, stats, webhook backends) run at once.
pub const PER_OBJECT_CONCURRENCY: usize = 8;
/// Kubelet stats summaries are read from at most this many nodes per run,
/// this many at once.
pub const MAX_STATS_NODES: usize = 500;
pub const STATS_CONCURRENCY: usize = 16;
/// Webhook backends outside the scope are looked up for at most this many Services.
pub const MAX_WEBHOOK_SERVICES: usize = 10;

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
    fn dynamic(&self, ar: &ApiResource, cluster_wide: bool) -> Api<DynamicObject> {
        if self.all_namespaces || cluster_wide {
            Api::all_with(self.conn.client.clone(), ar)
        } else {
            Api::namespaced_with(self.conn.client.clone(), &self.conn.namespace, ar)
        }
    }
}

/// What a list that may be impossible gave: the items, or why not.
type Optional<T> = (Listed<T>, Vec<Skip>);

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

/// A list whose failure (403/404) skips the named checks instead of failing the
/// run; each item is reduced by `map` as its page arrives.
async fn optional_map<K, T, F>(
    api: Api<K>,
    lp: ListParams,
    resource: &'static str,
    checks: &'static [&'static str],
    map: F,
) -> Result<Optional<T>>
where
    K: Clone + DeserializeOwned + Debug,
    F: Fn(K) -> T,
{
    match list_optional_map(&api, &lp, map).await? {
        ListOutcome::Listed(l) => Ok((Some(l.items), Vec::new())),
        ListOutcome::Skipped { cause, message } => {
            Ok((None, skips(resource, checks, &message, cause)))
        }
    }
}

async fn optional<K>(
    api: Api<K>,
    lp: ListParams,
    resource: &'static str,
    checks: &'static [&'static str],
) -> Result<Optional<K>>
where
    K: Clone + DeserializeOwned + Debug,
{
    optional_map(api, lp, resource, checks, |k| k).await
}

/// A list of an API that is not part of every cluster (Gateway API, NetworkPolicy,
/// admission webhooks): not served means nothing to check, not a skip.
async fn when_served<K, T, F>(
    api: Api<K>,
    lp: ListParams,
    resource: &'static str,
    checks: &'static [&'static str],
    map: F,
) -> Result<Optional<T>>
where
    K: Clone + DeserializeOwned + Debug,
    F: Fn(K) -> T,
{
    let (items, skipped) = optional_map(api, lp, resource, checks, map).await?;
    Ok((
        items,
        skipped
            .into_iter()
            .filter(|s| s.cause != SkipCause::NotServed)
            .collect(),
    ))
}

/// Pods, summarised page by page: the typed pages are dropped as they are read.
/// Pods are required (no pods, nothing to triage): a 403 is an error (exit 3).
async fn pod_states(scope: &Scope<'_>) -> Result<Vec<PodState>> {
    let api: Api<Pod> = scope.api();
    let lp = scope.params(true);
    match summarise_pages(api.clone(), lp.clone()).await {
        // An expired continue token: start over once rather than mix two snapshots.
        Err(Error::Api { code: 410, .. }) => summarise_pages(api, lp).await,
        other => other,
    }
}

async fn summarise_pages(api: Api<Pod>, lp: ListParams) -> Result<Vec<PodState>> {
    let mut shared = Interner::default();
    let mut out = Vec::new();
    let mut pages = std::pin::pin!(page_stream(api, lp));
    while let Some(page) = pages.try_next().await? {
        out.reserve(page.len());
        for pod in page {
            out.push(PodState::new(PodSummary::from_pod(pod, &mut shared)));
        }
    }
    out.shrink_to_fit();
    Ok(out)
}

/// Warning events inside `--since`: all the checks read (restarts, probes,
/// mounts, PVC provisioning, the digest). The server drops the Normal ones
/// (`fieldSelector=type=Warning`, the bulk of a namespace's events); older
/// ones are dropped as their pages arrive.
async fn events(scope: &Scope<'_>, ctx: &Context) -> Result<Optional<EventRecord>> {
    let api: Api<Event> = scope.api();
    let lp = scope.params(false).fields("type=Warning");
    let (items, skipped) = optional_map(api, lp, "events", &["WarningEvents"], |e| {
        let r = EventRecord::from_event(e);
        (r.warning && r.time.is_some_and(|t| ctx.recent(t))).then_some(r)
    })
    .await?;
    Ok((items.map(|l| l.into_iter().flatten().collect()), skipped))
}

pub(crate) fn secret_keys(s: Secret) -> KeyedObject {
    let mut keys: BTreeSet<String> = s.data.map(|d| d.into_keys().collect()).unwrap_or_default();
    keys.extend(s.string_data.into_iter().flat_map(|d| d.into_keys()));
    KeyedObject::from_meta(&s.metadata, keys)
}

pub(crate) fn configmap_keys(c: ConfigMap) -> KeyedObject {
    let mut keys: BTreeSet<String> = c.data.map(|d| d.into_keys().collect()).unwrap_or_default();
    keys.extend(c.binary_data.into_iter().flat_map(|d| d.into_keys()));
    KeyedObject::from_meta(&c.metadata, keys)
}

fn account(a: ServiceAccount) -> AccountRef {
    AccountRef {
        namespace: ns(&a.metadata).to_string(),
        name: name(&a.metadata).to_string(),
    }
}

async fn pod_metrics(scope: &Scope<'_>) -> Result<Optional<PodMetrics>> {
    let ar = ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "PodMetrics".into(),
        plural: "pods".into(),
    };
    let to_metrics = |o: DynamicObject| PodMetrics {
        containers: o
            .data
            .get("containers")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        metadata: o.metadata,
    };
    let api = scope.dynamic(&ar, false);
    match optional_map(
        api,
        scope.params(true),
        "pods.metrics.k8s.io",
        &["HighResourceUsage"],
        to_metrics,
    )
    .await
    {
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
        other => other,
    }
}

/// Whether gateway.networking.k8s.io/v1 is served: one discovery request, so a
/// cluster without Gateway API costs one request, not three lists.
async fn gateway_api_served(scope: &Scope<'_>) -> Result<bool> {
    let req = http::Request::get("/apis/gateway.networking.k8s.io").body(Vec::new());
    let Ok(req) = req else { return Ok(false) };
    match scope
        .conn
        .client
        .request::<k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroup>(req)
        .await
    {
        Ok(group) => Ok(group.versions.iter().any(|v| v.version == "v1")),
        // 404: not installed. Anything else (unreachable) the required lists report.
        Err(e) => {
            tracing::debug!("gateway API discovery: {e}");
            Ok(false)
        }
    }
}

/// gateway.networking.k8s.io/v1 (a CRD): GatewayClasses and Gateways cluster-wide
/// (routes attach across namespaces), HTTPRoutes in scope.
async fn gateway_api(
    scope: &Scope<'_>,
    kind: &str,
    plural: &str,
    cluster_wide: bool,
) -> Result<Optional<DynamicObject>> {
    let ar = ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    let api = scope.dynamic(&ar, cluster_wide);
    let checks: &'static [&'static str] = &["GatewayNotReady", "RouteNotAccepted"];
    when_served(
        api,
        ListParams::default(),
        "gateway.networking.k8s.io",
        checks,
        |o| o,
    )
    .await
}

/// The labels of the namespace in scope; `None` when it does not exist. A user
/// who may not read namespaces gets the benefit of the doubt (and the label the
/// API server sets on every namespace).
async fn namespace_labels(scope: &Scope<'_>) -> Result<Option<BTreeMap<String, String>>> {
    let namespace = &scope.conn.namespace;
    let default = BTreeMap::from([("kubernetes.io/metadata.name".to_string(), namespace.clone())]);
    if scope.all_namespaces {
        return Ok(Some(BTreeMap::new()));
    }
    let api: Api<Namespace> = scope.conn.cluster_api();
    match api.get_opt(namespace).await {
        Ok(Some(n)) => {
            let mut labels = n.metadata.labels.unwrap_or_default();
            labels.extend(default);
            Ok(Some(labels))
        }
        Ok(None) => Ok(None),
        Err(e) if is_forbidden(&e) => Ok(Some(default)),
        Err(e) => Err(scope.conn.error(e)),
    }
}

fn rule_text(r: &RuleWithOperations) -> String {
    let list = |v: &Option<Vec<String>>| v.as_deref().unwrap_or(&[]).join(",");
    let groups = r
        .api_groups
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(|g| !g.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    let groups = if groups.is_empty() {
        String::new()
    } else {
        format!(" (groups {groups})")
    };
    format!("{} {}{groups}", list(&r.operations), list(&r.resources))
}

fn webhook(
    name: String,
    failure_policy: Option<String>,
    service: Option<k8s_openapi::api::admissionregistration::v1::ServiceReference>,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    rules: Option<Vec<RuleWithOperations>>,
) -> Webhook {
    Webhook {
        name,
        // Fail is the admissionregistration.k8s.io/v1 default.
        failure_policy: failure_policy.unwrap_or_else(|| "Fail".into()),
        service: service.map(|s| (s.namespace, s.name, s.port.unwrap_or(443))),
        // An empty selector matches everything, like an absent one.
        namespace_selector: namespace_selector.filter(|s| *s != LabelSelector::default()),
        object_selector: object_selector.filter(|s| *s != LabelSelector::default()),
        rules: rules.iter().flatten().map(rule_text).collect(),
    }
}

/// Validating and Mutating configurations are two types with the same webhook
/// fields: one conversion for both.
macro_rules! webhook_config {
    ($fn:ident, $ty:ty, $kind:literal) => {
        pub(crate) fn $fn(c: $ty) -> WebhookConfig {
            WebhookConfig {
                kind: $kind.into(),
                name: name(&c.metadata).to_string(),
                uid: c.metadata.uid.clone().unwrap_or_default(),
                webhooks: c
                    .webhooks
                    .into_iter()
                    .flatten()
                    .map(|w| {
                        webhook(
                            w.name,
                            w.failure_policy,
                            w.client_config.service,
                            w.namespace_selector,
                            w.object_selector,
                            w.rules,
                        )
                    })
                    .collect(),
            }
        }
    };
}
webhook_config!(
    validating,
    ValidatingWebhookConfiguration,
    "ValidatingWebhookConfiguration"
);
webhook_config!(
    mutating,
    MutatingWebhookConfiguration,
    "MutatingWebhookConfiguration"
);

fn merge(a: Optional<WebhookConfig>, b: Optional<WebhookConfig>) -> Optional<WebhookConfig> {
    let mut skipped = a.1;
    skipped.extend(b.1);
    let items = match (a.0, b.0) {
        (None, None) => None,
        (x, y) => Some(x.into_iter().chain(y).flatten().collect()),
    };
    (items, skipped)
}

/// Read everything the checks need, then classify every pod once.
pub async fn collect(scope: &Scope<'_>, ctx: &Context) -> Result<Snapshot> {
    let conn = scope.conn;
    let f = scope.params(true);
    let all = scope.params(false);
    let none = ListParams::default();
    let (
        (pods, volumes),
        events,
        (deployments, replicasets, statefulsets, daemonsets),
        (services, slices, pvcs, hpas),
        (pdbs, jobs, cronjobs),
        (configmaps, secrets, accounts),
        (nodes, metrics, ingresses, policies, classes),
        (validating_hooks, mutating_hooks),
        gateway_served,
        namespace,
    ) = futures::try_join!(
        // Kubelet stats need only the pods: read them while the other lists run.
        async {
            let pods = pod_states(scope).await?;
            let volumes = volume_usage(scope, &pods).await?;
            Ok::<_, Error>((pods, volumes))
        },
        events(scope, ctx),
        async {
            futures::try_join!(
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
            )
        },
        async {
            futures::try_join!(
                optional::<Service>(
                    scope.api(),
                    f.clone(),
                    "services",
                    &["NoReadyEndpoints", "SelectorMatchesNoPods"],
                ),
                optional_map::<EndpointSlice, _, _>(
                    scope.api(),
                    all.clone(),
                    "endpointslices",
                    &["NoReadyEndpoints"],
                    SliceSummary::from_slice,
                ),
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
            )
        },
        async {
            futures::try_join!(
                optional(
                    scope.api(),
                    f.clone(),
                    "poddisruptionbudgets",
                    &["PDBBlocksDisruption"]
                ),
                optional(scope.api(), f.clone(), "jobs", &["JobFailed"]),
                optional(scope.api(), f.clone(), "cronjobs", &["JobFailed"]),
            )
        },
        async {
            futures::try_join!(
                optional_map::<ConfigMap, _, _>(
                    scope.api(),
                    none.clone(),
                    "configmaps",
                    &["MissingReference"],
                    configmap_keys,
                ),
                optional_map::<Secret, _, _>(
                    scope.api(),
                    none.clone(),
                    "secrets",
                    &["MissingReference"],
                    secret_keys,
                ),
                optional_map::<ServiceAccount, _, _>(
                    scope.api(),
                    all.clone(),
                    "serviceaccounts",
                    &["MissingReference"],
                    account,
                ),
            )
        },
        async {
            futures::try_join!(
                optional(conn.cluster_api(), all.clone(), "nodes", &["NodeProblem"]),
                pod_metrics(scope),
                when_served(
                    scope.api(),
                    f.clone(),
                    "ingresses",
                    &["MissingReference"],
                    |i| i
                ),
                when_served(
                    scope.api(),
                    all.clone(),
                    "networkpolicies",
                    &["NetworkPolicyMatchesNoPods", "NetworkPolicyBlocksService"],
                    |p| p,
                ),
                optional(
                    conn.cluster_api(),
                    none.clone(),
                    "storageclasses",
                    &["PVCPending", "PVCNearFull"],
                ),
            )
        },
        async {
            futures::try_join!(
                when_served(
                    conn.cluster_api(),
                    none.clone(),
                    "validatingwebhookconfigurations",
                    &["AdmissionWebhookDown"],
                    validating,
                ),
                when_served(
                    conn.cluster_api(),
                    none.clone(),
                    "mutatingwebhookconfigurations",
                    &["AdmissionWebhookDown"],
                    mutating,
                ),
            )
        },
        gateway_api_served(scope),
        namespace_labels(scope),
    )?;
    let Some(labels) = namespace else {
        // A typo must not read as "no problems found".
        return Err(
            Error::usage(format!("namespace \"{}\" not found", conn.namespace))
                .with_hint("list the namespaces with: kubectl get namespaces"),
        );
    };
    let mut snap = Snapshot::default();
    snap.now = ctx.now;
    snap.pods = pods;
    snap.complete = scope.selector.is_none();
    snap.scope_namespace = (!scope.all_namespaces).then(|| conn.namespace.clone());
    if !scope.all_namespaces {
        snap.namespace_labels.insert(conn.namespace.clone(), labels);
    }
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
    take!(endpoint_slices, slices);
    take!(pvcs, pvcs);
    take!(hpas, hpas);
    take!(pdbs, pdbs);
    take!(jobs, jobs);
    take!(cronjobs, cronjobs);
    take!(configmaps, configmaps);
    take!(secrets, secrets);
    take!(service_accounts, accounts);
    take!(nodes, nodes);
    take!(pod_metrics, metrics);
    take!(ingresses, ingresses);
    take!(network_policies, policies);
    take!(storage_classes, classes);
    take!(webhooks, merge(validating_hooks, mutating_hooks));
    if scope.selector.is_some() {
        restrict_events_to_listed(&mut snap);
    }

    // Every pod classified once, before anything that needs their states (logs).
    snap.settle(ctx);

    // Second phase, in parallel: only what the first phase showed is needed.
    let (revisions, ingress_classes, webhook_backends, gateway, logs) = futures::try_join!(
        async {
            if needs_revisions(&snap) {
                optional(
                    scope.api(),
                    all.clone(),
                    "controllerrevisions",
                    &["StatefulSetUnavailable", "DaemonSetUnavailable"],
                )
                .await
            } else {
                Ok((Some(Vec::new()), Vec::new()))
            }
        },
        ingress_classes(scope, &snap),
        webhook_backends(scope, &snap),
        async {
            if !gateway_served {
                return Ok(((None, Vec::new()), (None, Vec::new()), (None, Vec::new())));
            }
            futures::try_join!(
                gateway_api(scope, "GatewayClass", "gatewayclasses", true),
                gateway_api(scope, "Gateway", "gateways", true),
                gateway_api(scope, "HTTPRoute", "httproutes", false),
            )
        },
        async { Ok(fetch_logs(scope, ctx, &snap).await) },
    )?;
    let (classes, gateways, routes) = gateway;
    take!(gateway_classes, classes);
    take!(gateways, gateways);
    take!(http_routes, routes);
    take!(controller_revisions, revisions);
    take!(ingress_classes, ingress_classes);
    let (services, namespaces) = webhook_backends;
    snap.webhook_services = services;
    snap.namespace_labels.extend(namespaces);
    take!(volume_usage, volumes);
    snap.logs = logs;
    Ok(snap)
}

/// Whether ControllerRevisions are worth listing: only when a StatefulSet
/// or DaemonSet is short of ready pods.
fn needs_revisions(snap: &Snapshot) -> bool {
    items(&snap.statefulsets).iter().any(|s| {
        let ready = s
            .status
            .as_ref()
            .and_then(|st| st.ready_replicas)
            .unwrap_or(0);
        ready < s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }) || items(&snap.daemonsets).iter().any(|d| {
        d.status
            .as_ref()
            .is_some_and(|st| st.number_available.unwrap_or(0) < st.desired_number_scheduled)
    })
}

/// IngressClass names, listed only when an Ingress names a class.
async fn ingress_classes(scope: &Scope<'_>, snap: &Snapshot) -> Result<Optional<String>> {
    let named = items(&snap.ingresses).iter().any(|i| {
        i.spec
            .as_ref()
            .is_some_and(|s| s.ingress_class_name.is_some())
    });
    if !named {
        return Ok((None, Vec::new()));
    }
    let api: Api<IngressClass> = scope.conn.cluster_api();
    when_served(
        api,
        ListParams::default(),
        "ingressclasses",
        &["MissingReference"],
        |c| name(&c.metadata).to_string(),
    )
    .await
}

/// Health of the Services that failing-closed webhooks call, for those outside the
/// listed namespaces (one GET and one EndpointSlice list each, bounded), and the
/// labels of every namespace with `-A` when a webhook's namespaceSelector needs them.
async fn webhook_backends(
    scope: &Scope<'_>,
    snap: &Snapshot,
) -> Result<(
    BTreeMap<(String, String), ServiceHealth>,
    BTreeMap<String, BTreeMap<String, String>>,
)> {
    let closed: Vec<&Webhook> = items(&snap.webhooks)
        .iter()
        .flat_map(|c| c.webhooks.iter())
        .filter(|w| w.failure_policy == "Fail")
        .collect();
    let outside: BTreeSet<(String, String)> = closed
        .iter()
        .filter_map(|w| w.service.as_ref())
        // With -l the Service list is filtered: look every backend up.
        .filter(|(n, _, _)| !snap.in_scope(n) || !snap.complete)
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .take(MAX_WEBHOOK_SERVICES)
        .collect();
    let client = scope.conn.client.clone();
    let looked: Vec<Option<((String, String), ServiceHealth)>> = futures::stream::iter(outside)
        .map(|(namespace, svc)| {
            let client = client.clone();
            async move {
                let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
                let health = match services.get_opt(&svc).await {
                    Ok(None) => Some(ServiceHealth::Missing),
                    Ok(Some(_)) => {
                        let slices: Api<EndpointSlice> = Api::namespaced(client, &namespace);
                        let lp = ListParams::default()
                            .labels(&format!("kubernetes.io/service-name={svc}"));
                        match slices.list(&lp).await {
                            Ok(l) => {
                                let (ready, total) = l
                                    .items
                                    .into_iter()
                                    .map(SliceSummary::from_slice)
                                    .fold((0, 0), |(r, t), s| (r + s.ready, t + s.total));
                                Some(ServiceHealth::Endpoints { ready, total })
                            }
                            Err(e) => {
                                tracing::debug!("endpointslices of {namespace}/{svc}: {e}");
                                None
                            }
                        }
                    }
                    // Not allowed to look: make no claim about that webhook.
                    Err(e) => {
                        tracing::debug!("service {namespace}/{svc}: {e}");
                        None
                    }
                };
                health.map(|h| ((namespace, svc), h))
            }
        })
        .buffer_unordered(PER_OBJECT_CONCURRENCY)
        .collect()
        .await;
    let services: BTreeMap<_, _> = looked.into_iter().flatten().collect();
    // With -A a namespaceSelector is matched against every namespace's labels.
    let mut namespaces = BTreeMap::new();
    if scope.all_namespaces && !closed.is_empty() {
        let api: Api<Namespace> = scope.conn.cluster_api();
        match list_optional(&api, &ListParams::default()).await? {
            ListOutcome::Listed(l) => {
                for n in l.items {
                    let mut labels = n.metadata.labels.clone().unwrap_or_default();
                    labels.insert(
                        "kubernetes.io/metadata.name".into(),
                        name(&n.metadata).into(),
                    );
                    namespaces.insert(name(&n.metadata).to_string(), labels);
                }
            }
            ListOutcome::Skipped { .. } => {
                // Without the list, the namespaces the pods live in, with the label every namespace has.
                for p in &snap.pods {
                    let n = &p.pod.namespace;
                    namespaces.insert(
                        n.clone(),
                        BTreeMap::from([("kubernetes.io/metadata.name".into(), n.clone())]),
                    );
                }
            }
        }
    }
    Ok((services, namespaces))
}

/// The kubelet stats summary, only the parts triage reads.
#[derive(Debug, Default, Deserialize)]
struct StatsSummary {
    #[serde(default)]
    pods: Vec<PodStats>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStats {
    #[serde(default)]
    pod_ref: PodRef,
    #[serde(default)]
    volume: Vec<VolumeStats>,
}

#[derive(Debug, Default, Deserialize)]
struct PodRef {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeStats {
    pvc_ref: Option<PvcRef>,
    capacity_bytes: Option<u64>,
    used_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct PvcRef {
    name: String,
    namespace: Option<String>,
}

/// Usage of the PVCs the scope's pods mount, from the kubelet stats summary of each
/// node running such a pod (`nodes/NODE/proxy/stats/summary`, bounded).
async fn volume_usage(scope: &Scope<'_>, pods: &[PodState]) -> Result<Optional<VolumeUsage>> {
    let mut mounted: BTreeSet<(String, String)> = BTreeSet::new();
    let mut nodes: BTreeSet<String> = BTreeSet::new();
    for p in pods {
        let s = &p.pod;
        if s.deleting || s.phase != "Running" {
            continue;
        }
        let Some(node) = &s.node else { continue };
        for claim in s.claims() {
            mounted.insert((s.namespace.clone(), claim.to_string()));
            nodes.insert(node.clone());
        }
    }
    if nodes.is_empty() {
        return Ok((Some(Vec::new()), Vec::new()));
    }
    let mut skipped = Vec::new();
    if nodes.len() > MAX_STATS_NODES {
        skipped.push(Skip {
            check: "PVCNearFull".into(),
            reason: format!(
                "kubelet stats read from {MAX_STATS_NODES} of the {} nodes running pods with PVCs",
                nodes.len()
            ),
            cause: SkipCause::Failed,
        });
    }
    let client = scope.conn.client.clone();
    let results: Vec<(String, std::result::Result<StatsSummary, kube::Error>)> =
        futures::stream::iter(nodes.into_iter().take(MAX_STATS_NODES))
            .map(|node| {
                let client = client.clone();
                async move {
                    let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
                    let result = match http::Request::get(&path).body(Vec::new()) {
                        Ok(req) => client.request::<StatsSummary>(req).await,
                        Err(e) => Err(kube::Error::HttpError(e)),
                    };
                    (node, result)
                }
            })
            // Each node's kubelet answers its own: more in flight than for one API server.
            .buffer_unordered(STATS_CONCURRENCY)
            .collect()
            .await;
    let mut usage = Vec::new();
    let mut failed: Vec<(String, SkipCause, String)> = Vec::new();
    for (node, result) in results {
        let summary = match result {
            Ok(summary) => summary,
            Err(e) => {
                let cause = SkipCause::of(&e).unwrap_or(SkipCause::Failed);
                let message = match &e {
                    kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
                    other => other.to_string(),
                };
                let why = common::model::Skipped::new("nodes/proxy", cause, message).reason();
                failed.push((node, cause, why));
                continue;
            }
        };
        for pod in summary.pods {
            for v in pod.volume {
                let (Some(pvc), Some(capacity), Some(used)) =
                    (v.pvc_ref, v.capacity_bytes, v.used_bytes)
                else {
                    continue;
                };
                let namespace = pvc
                    .namespace
                    .unwrap_or_else(|| pod.pod_ref.namespace.clone());
                if !mounted.contains(&(namespace.clone(), pvc.name.clone())) {
                    continue;
                }
                usage.push(VolumeUsage {
                    namespace,
                    claim: pvc.name,
                    node: node.clone(),
                    pod: pod.pod_ref.name.clone(),
                    used_bytes: used,
                    capacity_bytes: capacity,
                });
            }
        }
    }
    // Several nodes failing the same way (no nodes/proxy access) are one line.
    let mut by_cause: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut causes: BTreeMap<String, SkipCause> = BTreeMap::new();
    for (node, cause, why) in failed {
        causes.insert(why.clone(), cause);
        by_cause.entry(why).or_default().push(node);
    }
    for (why, nodes) in by_cause {
        skipped.push(Skip {
            check: "PVCNearFull".into(),
            reason: format!(
                "cannot read the kubelet stats summary of node {}: {why}",
                nodes.join(", ")
            ),
            cause: causes.get(&why).copied().unwrap_or(SkipCause::Failed),
        });
    }
    Ok((Some(usage), skipped))
}

/// With `-l`, events about objects outside the selection are noise.
fn restrict_events_to_listed(snap: &mut Snapshot) {
    let mut known: BTreeSet<(String, String)> = snap
        .pods
        .iter()
        .map(|p| (p.pod.namespace.clone(), p.pod.name.clone()))
        .collect();
    let metas = items(&snap.deployments)
        .iter()
        .map(|d| &d.metadata)
        .chain(items(&snap.replicasets).iter().map(|d| &d.metadata))
        .chain(items(&snap.statefulsets).iter().map(|d| &d.metadata))
        .chain(items(&snap.daemonsets).iter().map(|d| &d.metadata))
        .chain(items(&snap.jobs).iter().map(|d| &d.metadata))
        .chain(items(&snap.services).iter().map(|d| &d.metadata))
        .chain(items(&snap.pvcs).iter().map(|d| &d.metadata));
    let more: Vec<(String, String)> = metas
        .map(|m| (ns(m).to_string(), name(m).to_string()))
        .collect();
    known.extend(more);
    if let Some(events) = snap.events.as_mut() {
        events.retain(|e| known.contains(&(e.namespace.clone(), e.name.clone())));
    }
}

/// Previous logs of crashing containers: the only per-pod calls. The text is
/// kept as read; it is redacted when it becomes a finding's evidence.
async fn fetch_logs(
    scope: &Scope<'_>,
    ctx: &Context,
    snap: &Snapshot,
) -> BTreeMap<crate::podstate::LogKey, String> {
    let targets = log_targets(snap, MAX_LOG_CONTAINERS);
    let client = scope.conn.client.clone();
    let lines = i64::try_from(ctx.log_lines).unwrap_or(20);
    futures::stream::iter(targets)
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
                    Ok(text) => Some((key, text)),
                    Err(e) => {
                        tracing::debug!("previous log of {}/{}: {e}", key.pod, key.container);
                        None
                    }
                }
            }
        })
        .buffer_unordered(PER_OBJECT_CONCURRENCY)
        .filter_map(|r| async move { r })
        .collect()
        .await
}
