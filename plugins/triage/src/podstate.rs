//! The pod-state layer below the checks: each Pod is summarised as its page
//! arrives (only what triage reads), then classified once per run.
//!
//! [`PodSummary::from_pod`] keeps identity, owner, node, readiness, container
//! states, resources, probes and the objects the spec names; the typed Pod is
//! dropped with its page, so memory stays flat on big clusters.
//! [`classify`] turns a summary into [`PodIssue`]s (crash loops, OOM kills,
//! image pulls, scheduling, probes, restarts, errors, missing references);
//! the snapshot stores the result in [`PodState`] and every check reads it.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, KeyToPath, Pod, PodSpec,
};

use crate::context::Context;
use crate::report::Reason;
use crate::snapshot::{ObjectRef, Snapshot};
use crate::text::{exit_code_text, probe_text};

/// Restarts inside `--since` at or above this count are a HighRestarts issue.
pub const RESTART_THRESHOLD: i32 = 3;

/// The annotation that silences reasons on an object (and its pods).
pub const IGNORE_ANNOTATION: &str = "triage.kubectl-plugins.dev/ignore";

/// The controller of an object (`ownerReferences[controller=true]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Controller {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// How a container ended (current or last state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    pub reason: Option<String>,
    pub exit_code: i32,
    pub message: Option<String>,
    pub finished: Option<jiff::Timestamp>,
}

/// Why a container is waiting (`CrashLoopBackOff`, `ImagePullBackOff`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: Option<String>,
}

/// The spec side of a container: the same for every pod of a template, so
/// pods share one copy (see [`Interner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ContainerSpec {
    pub name: String,
    pub init: bool,
    pub image: String,
    pub memory_limit: Option<String>,
    pub cpu_limit: Option<String>,
    /// `resources.requests` as written (`memory=48Gi`).
    pub requests: Vec<(String, String)>,
    pub readiness: Option<String>,
    pub liveness: Option<String>,
}

/// One container: its (shared) spec and its status. The rare parts (waiting,
/// terminated) are boxed so a healthy container costs a few bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSummary {
    pub spec: Arc<ContainerSpec>,
    /// False until the kubelet reported a status for the container.
    pub has_status: bool,
    pub ready: bool,
    pub running: bool,
    pub restart_count: i32,
    pub waiting: Option<Box<Waiting>>,
    pub terminated: Option<Box<Terminated>>,
    pub last: Option<Box<Terminated>>,
}

impl ContainerSummary {
    pub fn name(&self) -> &str {
        &self.spec.name
    }
    /// The waiting reason, `""` when not waiting.
    pub fn waiting_reason(&self) -> &str {
        self.waiting
            .as_ref()
            .map(|w| w.reason.as_str())
            .unwrap_or("")
    }
}

/// Shares what the pods of one template have in common (container specs,
/// labels, owner, references) while a pod list is summarised page by page:
/// 30,000 pods of 3,000 ReplicaSets hold 3,000 copies, not 30,000.
#[derive(Debug, Default)]
pub struct Interner {
    specs: HashSet<Arc<ContainerSpec>>,
    labels: HashSet<Arc<BTreeMap<String, String>>>,
    controllers: HashSet<Arc<Controller>>,
    refs: HashSet<Arc<[ConfigRef]>>,
}

fn intern<T: ?Sized + Eq + Hash>(set: &mut HashSet<Arc<T>>, value: Arc<T>) -> Arc<T> {
    match set.get(&value) {
        Some(shared) => shared.clone(),
        None => {
            set.insert(value.clone());
            value
        }
    }
}

/// What kind of object a pod spec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    ServiceAccount,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
            RefKind::PersistentVolumeClaim => "PersistentVolumeClaim",
            RefKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// One object a pod spec names, where, and whether it may be absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigRef {
    pub kind: RefKind,
    pub name: String,
    /// The key, for a reference to one key of a ConfigMap/Secret.
    pub key: Option<String>,
    pub optional: bool,
    /// "volume data", "env A of container api", "envFrom of container api".
    pub used_by: String,
}

/// Everything triage reads of one Pod.
#[derive(Debug, Clone, Default)]
pub struct PodSummary {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: Arc<BTreeMap<String, String>>,
    /// The value of the ignore annotation, when set.
    pub ignore: Option<String>,
    pub controller: Option<Arc<Controller>>,
    pub deleting: bool,
    pub node: Option<String>,
    pub phase: String,
    /// `status.reason` / `status.message` (Evicted).
    pub status_reason: Option<String>,
    pub status_message: Option<String>,
    /// The scheduler's message when `PodScheduled` is False.
    pub unschedulable: Option<String>,
    pub ready: bool,
    pub started: Option<jiff::Timestamp>,
    /// Init containers first, then containers, in spec order.
    pub containers: Vec<ContainerSummary>,
    /// Objects the spec names; shared between the pods of one template.
    pub refs: Arc<[ConfigRef]>,
    pub pull_secrets: Vec<String>,
}

fn terminated(s: Option<&ContainerState>) -> Option<Box<Terminated>> {
    let t = s?.terminated.as_ref()?;
    Some(Box::new(Terminated {
        reason: t.reason.clone(),
        exit_code: t.exit_code,
        message: t.message.clone().filter(|m| !m.trim().is_empty()),
        finished: t.finished_at.as_ref().map(|f| f.0),
    }))
}

fn container_spec(c: Container, init: bool) -> ContainerSpec {
    let resources = c.resources.unwrap_or_default();
    let limits = resources.limits.unwrap_or_default();
    ContainerSpec {
        image: c.image.unwrap_or_default(),
        memory_limit: limits.get("memory").map(|q| q.0.clone()),
        cpu_limit: limits.get("cpu").map(|q| q.0.clone()),
        requests: resources
            .requests
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect(),
        readiness: c.readiness_probe.as_ref().map(probe_text),
        liveness: c.liveness_probe.as_ref().map(probe_text),
        name: c.name,
        init,
    }
}

fn container(spec: Arc<ContainerSpec>, status: Option<&ContainerStatus>) -> ContainerSummary {
    let mut out = ContainerSummary {
        spec,
        ..ContainerSummary::default()
    };
    if let Some(s) = status {
        out.has_status = true;
        out.ready = s.ready;
        out.restart_count = s.restart_count;
        let state = s.state.as_ref();
        out.waiting = state.and_then(|st| st.waiting.as_ref()).map(|w| {
            Box::new(Waiting {
                reason: w.reason.clone().unwrap_or_default(),
                message: w.message.clone(),
            })
        });
        out.running = state.is_some_and(|st| st.running.is_some());
        out.terminated = terminated(state);
        out.last = terminated(s.last_state.as_ref());
    }
    out
}

impl PodSummary {
    /// Reduce a Pod to what triage reads (the Pod is consumed), sharing what
    /// pods of one template have in common through `shared`.
    pub fn from_pod(pod: Pod, shared: &mut Interner) -> PodSummary {
        let meta = pod.metadata;
        let status = pod.status.unwrap_or_default();
        let spec = pod.spec.unwrap_or_default();
        let refs = intern(&mut shared.refs, spec_refs(&spec).into());
        let init_statuses = status.init_container_statuses.unwrap_or_default();
        let statuses = status.container_statuses.unwrap_or_default();
        let mut containers = Vec::new();
        let all = spec
            .init_containers
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c, true))
            .chain(spec.containers.into_iter().map(|c| (c, false)));
        for (c, init) in all {
            let list = if init { &init_statuses } else { &statuses };
            let s = list.iter().find(|s| s.name == c.name);
            let spec = intern(&mut shared.specs, Arc::new(container_spec(c, init)));
            containers.push(container(spec, s));
        }
        containers.shrink_to_fit();
        let conditions = status.conditions.unwrap_or_default();
        let condition = |t: &str| conditions.iter().find(|c| c.type_ == t);
        let mut pull_secrets: Vec<String> = spec
            .image_pull_secrets
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.name)
            .collect();
        pull_secrets.dedup();
        PodSummary {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
            ignore: meta
                .annotations
                .and_then(|mut a| a.remove(IGNORE_ANNOTATION)),
            controller: meta.owner_references.and_then(|refs| {
                refs.into_iter()
                    .find(|r| r.controller == Some(true))
                    .map(|r| {
                        let c = Controller {
                            kind: r.kind,
                            name: r.name,
                            uid: r.uid,
                        };
                        intern(&mut shared.controllers, Arc::new(c))
                    })
            }),
            labels: intern(
                &mut shared.labels,
                Arc::new(meta.labels.unwrap_or_default()),
            ),
            deleting: meta.deletion_timestamp.is_some(),
            node: spec.node_name.filter(|n| !n.is_empty()),
            phase: status.phase.unwrap_or_else(|| "Pending".into()),
            status_reason: status.reason,
            status_message: status.message,
            unschedulable: condition("PodScheduled")
                .filter(|c| c.status == "False")
                .map(|c| c.message.clone().unwrap_or_default()),
            ready: condition("Ready").is_some_and(|c| c.status == "True"),
            started: status.start_time.map(|t| t.0),
            containers,
            refs,
            pull_secrets,
        }
    }

    pub fn container(&self, name: &str) -> Option<&ContainerSummary> {
        self.containers.iter().find(|c| c.spec.name == name)
    }

    /// Containers the kubelet reported on, init containers first.
    pub fn statuses(&self) -> impl Iterator<Item = &ContainerSummary> {
        self.containers.iter().filter(|c| c.has_status)
    }

    /// Claim names of the PVCs the pod mounts.
    pub fn claims(&self) -> impl Iterator<Item = &str> {
        self.refs
            .iter()
            .filter(|r| r.kind == RefKind::PersistentVolumeClaim)
            .map(|r| r.name.as_str())
    }

    pub fn key(&self) -> ObjectRef {
        ObjectRef::new("Pod", &self.namespace, &self.name)
    }
}

/// A ConfigMap/Secret a volume maps: kind, name, the keys it maps, `optional`.
type KeyedVolume<'a> = (RefKind, &'a str, Option<&'a Vec<KeyToPath>>, Option<bool>);

/// Every object a pod spec (or a workload's pod template) names.
pub fn spec_refs(spec: &PodSpec) -> Vec<ConfigRef> {
    let mut out = Vec::new();
    fn add(
        out: &mut Vec<ConfigRef>,
        kind: RefKind,
        name: &str,
        key: Option<&str>,
        optional: bool,
        used_by: &str,
    ) {
        out.push(ConfigRef {
            kind,
            name: name.to_string(),
            key: key.map(str::to_string),
            optional,
            used_by: used_by.to_string(),
        });
    }
    // A ConfigMap/Secret volume (or projected source): the object, then each key it maps.
    fn volume(
        out: &mut Vec<ConfigRef>,
        kind: RefKind,
        name: &str,
        items: Option<&Vec<KeyToPath>>,
        optional: Option<bool>,
        used_by: &str,
    ) {
        let opt = optional.unwrap_or(false);
        add(out, kind, name, None, opt, used_by);
        for i in items.into_iter().flatten() {
            add(out, kind, name, Some(&i.key), opt, used_by);
        }
    }
    for v in spec.volumes.iter().flatten() {
        let used_by = format!("volume {}", v.name);
        let mut keyed: Vec<KeyedVolume> = Vec::new();
        if let Some(cm) = &v.config_map {
            keyed.push((RefKind::ConfigMap, &cm.name, cm.items.as_ref(), cm.optional));
        }
        if let Some(s) = &v.secret {
            let n = s.secret_name.as_deref().unwrap_or_default();
            keyed.push((RefKind::Secret, n, s.items.as_ref(), s.optional));
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &src.config_map {
                keyed.push((RefKind::ConfigMap, &cm.name, cm.items.as_ref(), cm.optional));
            }
            if let Some(s) = &src.secret {
                keyed.push((RefKind::Secret, &s.name, s.items.as_ref(), s.optional));
            }
        }
        for (kind, name, items, optional) in keyed {
            volume(&mut out, kind, name, items, optional, &used_by);
        }
        if let Some(c) = &v.persistent_volume_claim {
            let claim = &c.claim_name;
            add(
                &mut out,
                RefKind::PersistentVolumeClaim,
                claim,
                None,
                false,
                &used_by,
            );
        }
    }
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
    {
        for e in c.env.iter().flatten() {
            let Some(from) = &e.value_from else { continue };
            let used_by = format!("env {} of container {}", e.name, c.name);
            if let Some(r) = &from.config_map_key_ref {
                let opt = r.optional.unwrap_or(false);
                add(
                    &mut out,
                    RefKind::ConfigMap,
                    &r.name,
                    Some(&r.key),
                    opt,
                    &used_by,
                );
            }
            if let Some(r) = &from.secret_key_ref {
                let opt = r.optional.unwrap_or(false);
                add(
                    &mut out,
                    RefKind::Secret,
                    &r.name,
                    Some(&r.key),
                    opt,
                    &used_by,
                );
            }
        }
        for e in c.env_from.iter().flatten() {
            let used_by = format!("envFrom of container {}", c.name);
            if let Some(r) = &e.config_map_ref {
                let opt = r.optional.unwrap_or(false);
                add(&mut out, RefKind::ConfigMap, &r.name, None, opt, &used_by);
            }
            if let Some(r) = &e.secret_ref {
                let opt = r.optional.unwrap_or(false);
                add(&mut out, RefKind::Secret, &r.name, None, opt, &used_by);
            }
        }
    }
    // "default" is created by the cluster in every namespace.
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "default")
    {
        add(
            &mut out,
            RefKind::ServiceAccount,
            sa,
            None,
            false,
            "serviceAccountName",
        );
    }
    out
}

/// One problem of one pod, before grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIssue {
    pub reason: Reason,
    pub container: Option<String>,
    /// Short text for the finding message, e.g. "OOMKilled, limit 256Mi".
    pub detail: String,
    /// Headline state shown in the message, e.g. "CrashLoopBackOff".
    pub state: String,
    /// Raw text from the cluster (redacted when it becomes a Finding).
    pub evidence: Vec<String>,
}

/// A pod with its owner and its problems, classified once per run.
#[derive(Debug, Clone)]
pub struct PodState {
    pub pod: PodSummary,
    /// The workload it belongs to (Pod → ReplicaSet → Deployment, ...), or itself.
    pub owner: ObjectRef,
    pub issues: Vec<PodIssue>,
    /// The pod's node is NotReady/Unknown: its statuses are stale and the
    /// node's finding owns it (issues are left empty).
    pub on_failed_node: bool,
}

impl PodState {
    pub fn new(pod: PodSummary) -> Self {
        PodState {
            owner: pod.key(),
            pod,
            issues: Vec::new(),
            on_failed_node: false,
        }
    }

    /// Running, Ready and without problems: a pod to compare failing ones against.
    pub fn healthy(&self) -> bool {
        self.issues.is_empty() && self.pod.ready && !self.pod.deleting && !self.on_failed_node
    }

    /// Whether a finding (this pod's, or its node's) already explains the pod being down.
    pub fn explained(&self) -> bool {
        !self.issues.is_empty() || self.on_failed_node
    }
}

/// Restarts that happened inside `--since`: the lifetime restartCount when
/// the pod started inside the window, else what lastState and BackOff
/// events show (never the lifetime count of an old pod).
fn restarts_in_window(
    snap: &Snapshot,
    ctx: &Context,
    pod: &PodSummary,
    c: &ContainerSummary,
) -> i32 {
    if pod.started.is_some_and(|t| ctx.recent(t)) {
        return c.restart_count;
    }
    let last_in_window = c
        .last
        .as_ref()
        .and_then(|t| t.finished)
        .is_some_and(|t| ctx.recent(t));
    let container = format!("container {}", c.spec.name);
    let from_events: i32 = snap
        .events_for("Pod", &pod.namespace, &pod.name)
        .filter(|e| e.reason == "BackOff")
        .filter(|e| e.message.contains(&container) || !e.message.contains("container "))
        .filter(|e| e.time.is_some_and(|t| ctx.recent(t)))
        .map(|e| e.count)
        .sum();
    from_events
        .max(i32::from(last_in_window))
        .min(c.restart_count)
}

fn limit_text(c: &ContainerSummary) -> String {
    c.spec
        .memory_limit
        .as_deref()
        .map(|l| format!("limit {l}"))
        .unwrap_or_else(|| "no memory limit".into())
}

fn crash_loop(ctx: &Context, c: &ContainerSummary) -> PodIssue {
    let last = c.last.as_ref();
    let oom = last.and_then(|t| t.reason.as_deref()) == Some("OOMKilled");
    let mut ev = Vec::new();
    if let Some(t) = last {
        let when = t
            .finished
            .map(|f| format!(", finished {}", ctx.ago(f)))
            .unwrap_or_default();
        ev.push(format!(
            "container {}: last terminated {}, exit code {}{when}; {} restarts",
            c.spec.name,
            t.reason.as_deref().unwrap_or("(no reason)"),
            exit_code_text(t.exit_code),
            c.restart_count
        ));
        if let Some(m) = &t.message {
            ev.push(format!("termination message: {}", m.trim()));
        }
    } else {
        ev.push(format!(
            "container {}: {} restarts",
            c.spec.name, c.restart_count
        ));
    }
    let (reason, detail) = if oom {
        ev.push(format!(
            "container {}: memory {}",
            c.spec.name,
            limit_text(c)
        ));
        (Reason::OOMKilled, format!("OOMKilled, {}", limit_text(c)))
    } else {
        let d = last
            .map(|t| {
                format!(
                    "{}, exit code {}",
                    t.reason.as_deref().unwrap_or("terminated"),
                    exit_code_text(t.exit_code)
                )
            })
            .unwrap_or_else(|| "back-off restarting".into());
        (Reason::CrashLoopBackOff, d)
    };
    PodIssue {
        reason,
        container: Some(c.spec.name.clone()),
        detail,
        state: "CrashLoopBackOff".into(),
        evidence: ev,
    }
}

/// FailedMount events of a pod still creating its containers: a volume's
/// ConfigMap or Secret is missing (the kubelet retries, the pod never starts).
fn failed_mounts(snap: &Snapshot, ctx: &Context, pod: &PodSummary) -> Vec<String> {
    let creating = pod.phase == "Pending"
        && pod
            .statuses()
            .all(|c| matches!(c.waiting_reason(), "ContainerCreating" | "PodInitializing"));
    if !creating {
        return Vec::new();
    }
    snap.events_for("Pod", &pod.namespace, &pod.name)
        .filter(|e| e.reason == "FailedMount")
        .filter(|e| {
            let m = e.message.to_lowercase();
            m.contains("not found") && (m.contains("configmap") || m.contains("secret"))
        })
        .map(|e| {
            let when = e
                .time
                .map(|t| format!(", last {}", ctx.ago(t)))
                .unwrap_or_default();
            format!("FailedMount (x{}{when}): {}", e.count, e.message.trim())
        })
        .collect()
}

/// Everything wrong with one pod, most specific first.
pub fn classify(snap: &Snapshot, ctx: &Context, pod: &PodSummary) -> Vec<PodIssue> {
    let mut out = Vec::new();
    if pod.deleting {
        return out;
    }
    if pod.status_reason.as_deref() == Some("Evicted") {
        let msg = pod.status_message.clone().unwrap_or_default();
        out.push(PodIssue {
            reason: Reason::ContainerError,
            container: None,
            detail: "Evicted".into(),
            state: "Evicted".into(),
            evidence: vec![format!("evicted: {msg}")],
        });
        return out;
    }
    if pod.phase == "Pending"
        && let Some(message) = &pod.unschedulable
    {
        out.push(unschedulable(snap, pod, message));
        return out;
    }
    if pod.phase == "Succeeded" {
        return out;
    }
    let mounts = failed_mounts(snap, ctx, pod);
    if !mounts.is_empty() {
        // Reported by the references check, which names the reference.
        out.push(PodIssue {
            reason: Reason::MissingReference,
            container: None,
            detail: "FailedMount".into(),
            state: "ContainerCreating".into(),
            evidence: mounts,
        });
        return out;
    }
    let mut crashing = false;
    for c in pod.statuses() {
        let waiting_reason = c.waiting_reason();
        match waiting_reason {
            "CrashLoopBackOff" => {
                crashing = true;
                out.push(crash_loop(ctx, c));
            }
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
                crashing = true;
                out.push(image_pull(snap, pod, c, waiting_reason));
            }
            "CreateContainerConfigError" | "CreateContainerError" => {
                // Reported by the references check, which names the reference.
                crashing = true;
                let message = c
                    .waiting
                    .as_ref()
                    .and_then(|w| w.message.as_deref())
                    .unwrap_or("");
                out.push(PodIssue {
                    reason: Reason::MissingReference,
                    container: Some(c.spec.name.clone()),
                    detail: waiting_reason.to_string(),
                    state: waiting_reason.to_string(),
                    evidence: vec![format!(
                        "container {}: {waiting_reason}: {message}",
                        c.spec.name
                    )],
                });
            }
            _ => {}
        }
        // Running again, but the last run ended in an OOM kill inside the
        // window: it will happen again under the same load.
        if c.waiting.is_none()
            && c.terminated.is_none()
            && let Some(t) = &c.last
            && t.reason.as_deref() == Some("OOMKilled")
            && let Some(f) = t.finished
            && ctx.recent(f)
        {
            crashing = true;
            out.push(PodIssue {
                reason: Reason::OOMKilled,
                container: Some(c.spec.name.clone()),
                detail: format!("OOMKilled, {}", limit_text(c)),
                state: "restarted after OOMKilled".into(),
                evidence: vec![format!(
                    "container {}: OOMKilled {}, exit code {}; memory {}",
                    c.spec.name,
                    ctx.ago(f),
                    exit_code_text(t.exit_code),
                    limit_text(c)
                )],
            });
        }
        if let Some(t) = &c.terminated
            && t.exit_code != 0
            && !owned_by_job(pod)
        {
            crashing = true;
            let mut ev = vec![format!(
                "container {}: terminated {}, exit code {}",
                c.spec.name,
                t.reason.as_deref().unwrap_or("Error"),
                exit_code_text(t.exit_code)
            )];
            if let Some(m) = &t.message {
                ev.push(format!("termination message: {}", m.trim()));
            }
            out.push(PodIssue {
                reason: Reason::ContainerError,
                container: Some(c.spec.name.clone()),
                detail: format!(
                    "{}, exit code {}",
                    t.reason.as_deref().unwrap_or("Error"),
                    exit_code_text(t.exit_code)
                ),
                state: "terminated".into(),
                evidence: ev,
            });
        }
    }
    if !crashing && let Some(p) = probe_failing(snap, ctx, pod) {
        out.push(p);
    }
    // Restarts that are not (or no longer) a crash loop.
    if crashing {
        return out;
    }
    for c in pod.statuses() {
        let n = restarts_in_window(snap, ctx, pod, c);
        if n >= RESTART_THRESHOLD {
            out.push(PodIssue {
                reason: Reason::HighRestarts,
                container: Some(c.spec.name.clone()),
                detail: format!("{n} restarts in the last {}", ctx.since_text()),
                state: "restarting".into(),
                evidence: vec![format!(
                    "container {}: {n} restarts within {} ({} in its lifetime)",
                    c.spec.name,
                    ctx.since_text(),
                    c.restart_count
                )],
            });
        }
    }
    out
}

/// Whether a pod's failures are covered by its Job (the JobFailed check).
fn owned_by_job(pod: &PodSummary) -> bool {
    pod.controller.as_ref().is_some_and(|o| o.kind == "Job")
}

fn unschedulable(snap: &Snapshot, pod: &PodSummary, message: &str) -> PodIssue {
    let mut ev = vec![format!("scheduler: {message}")];
    let lower = message.to_lowercase();
    // Name the cause the scheduler only hints at.
    for claim in pod.claims() {
        match snap.pvc(&pod.namespace, claim) {
            Some(p) => {
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .unwrap_or("Pending");
                if phase != "Bound" {
                    ev.push(format!("cause: PVC {claim} is {phase}"));
                }
            }
            None if snap.pvcs.is_some() && snap.complete => {
                ev.push(format!("cause: PVC {claim} does not exist"));
            }
            None => {}
        }
    }
    if lower.contains("insufficient") {
        let req: Vec<String> = pod
            .containers
            .iter()
            .filter(|c| !c.spec.init && !c.spec.requests.is_empty())
            .map(|c| {
                let text: Vec<String> = c
                    .spec
                    .requests
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("{}: {}", c.spec.name, text.join(","))
            })
            .collect();
        ev.push(format!(
            "cause: resources; pod requests {}",
            if req.is_empty() {
                "nothing explicit".into()
            } else {
                req.join("; ")
            }
        ));
    }
    if lower.contains("taint") {
        let taints: Vec<String> = crate::snapshot::items(&snap.nodes)
            .iter()
            .flat_map(|n| {
                let node = n.metadata.name.as_deref().unwrap_or("");
                n.spec
                    .iter()
                    .flat_map(|s| s.taints.iter().flatten())
                    .map(move |t| {
                        format!(
                            "{node}: {}={}:{}",
                            t.key,
                            t.value.as_deref().unwrap_or(""),
                            t.effect
                        )
                    })
            })
            .collect();
        if taints.is_empty() {
            ev.push("cause: node taints the pod does not tolerate".into());
        } else {
            ev.push(format!("cause: untolerated taints ({})", taints.join(", ")));
        }
    }
    PodIssue {
        reason: Reason::Unschedulable,
        container: None,
        detail: message
            .split(". ")
            .next()
            .unwrap_or(message)
            .trim_end_matches('.')
            .to_string(),
        state: "Pending".into(),
        evidence: ev,
    }
}

fn image_pull(snap: &Snapshot, pod: &PodSummary, c: &ContainerSummary, why: &str) -> PodIssue {
    let image = &c.spec.image;
    let mut ev = vec![format!("container {}: image {image} ({why})", c.spec.name)];
    if let Some(m) = c.waiting.as_ref().and_then(|w| w.message.as_deref()) {
        ev.push(format!("kubelet: {m}"));
    }
    if pod.pull_secrets.is_empty() {
        ev.push("no imagePullSecrets on the pod".into());
    }
    for s in &pod.pull_secrets {
        match &snap.secrets {
            Some(list) => {
                let exists = list
                    .iter()
                    .any(|k| k.namespace == pod.namespace && &k.name == s);
                ev.push(format!(
                    "pull secret {s}: {}",
                    if exists { "exists" } else { "does not exist" }
                ));
            }
            None => ev.push(format!("pull secret {s}: unknown (secrets not readable)")),
        }
    }
    PodIssue {
        reason: Reason::ImagePullBackOff,
        container: Some(c.spec.name.clone()),
        detail: format!("{why}, image {image}"),
        state: why.to_string(),
        evidence: ev,
    }
}

fn probe_failing(snap: &Snapshot, ctx: &Context, pod: &PodSummary) -> Option<PodIssue> {
    let running_not_ready = pod.phase == "Running" && !pod.ready;
    let unhealthy: Vec<_> = snap
        .events_for("Pod", &pod.namespace, &pod.name)
        .filter(|e| e.reason == "Unhealthy")
        .filter(|e| e.time.is_some_and(|t| ctx.recent(t)))
        .collect();
    if !running_not_ready && unhealthy.is_empty() {
        return None;
    }
    let mut ev = Vec::new();
    let mut containers = Vec::new();
    for c in pod.statuses().filter(|c| !c.ready || !unhealthy.is_empty()) {
        if !c.ready {
            containers.push(c.spec.name.clone());
        }
        if let Some(p) = &c.spec.readiness {
            ev.push(format!("container {}: readiness {p}", c.spec.name));
        }
        if let Some(p) = &c.spec.liveness {
            ev.push(format!("container {}: liveness {p}", c.spec.name));
        }
    }
    for e in &unhealthy {
        ev.push(format!(
            "event Unhealthy (x{}, last {}): {}",
            e.count,
            e.time.map(|t| ctx.ago(t)).unwrap_or_default(),
            e.message.trim()
        ));
    }
    if running_not_ready && unhealthy.is_empty() {
        ev.push("no Unhealthy events in the window; containers are running but not ready".into());
    }
    let detail = if running_not_ready {
        format!("Running but not Ready ({})", containers.join(","))
    } else {
        "probe failures in events".into()
    };
    Some(PodIssue {
        reason: Reason::ProbeFailing,
        container: containers.first().cloned(),
        detail,
        state: if running_not_ready {
            "not Ready".into()
        } else {
            "probe failures".into()
        },
        evidence: ev,
    })
}

/// Key of a container whose previous log is fetched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// Containers whose previous log is worth fetching: the first crashing pod
/// of each workload (by name), each container once, at most `cap` overall.
pub fn log_targets(snap: &Snapshot, cap: usize) -> Vec<LogKey> {
    let mut seen: BTreeMap<(ObjectRef, String), LogKey> = BTreeMap::new();
    let mut pods: Vec<&PodState> = snap.pods.iter().filter(|p| !p.issues.is_empty()).collect();
    pods.sort_by(|a, b| (&a.pod.namespace, &a.pod.name).cmp(&(&b.pod.namespace, &b.pod.name)));
    for state in pods {
        for issue in &state.issues {
            if !matches!(
                issue.reason,
                Reason::CrashLoopBackOff
                    | Reason::OOMKilled
                    | Reason::ContainerError
                    | Reason::HighRestarts
            ) {
                continue;
            }
            let Some(c) = &issue.container else { continue };
            let restarted = state.pod.container(c).is_some_and(|s| s.restart_count > 0);
            if !restarted {
                continue;
            }
            seen.entry((state.owner.clone(), c.clone()))
                .or_insert(LogKey {
                    namespace: state.pod.namespace.clone(),
                    pod: state.pod.name.clone(),
                    container: c.clone(),
                });
        }
    }
    seen.into_values().take(cap).collect()
}
