//! Pod-level problems (crash loops, OOM, image pulls, scheduling, probes,
//! restarts, errors), grouped under the owning workload: one finding per
//! (workload, reason) listing the pods, not one per pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, Probe};

use super::{Context, ago, capped, exit_code_text};
use crate::report::{Affected, Finding, Reason};
use crate::snapshot::{
    LogKey, ObjectRef, Snapshot, event_count, event_time, items, name, ns, quantity, uid,
};

/// Restarts inside `--since` at or above this count are a HighRestarts finding.
pub const RESTART_THRESHOLD: i32 = 3;

/// One problem of one pod, before grouping.
#[derive(Debug, Clone)]
pub struct PodIssue {
    pub reason: Reason,
    pub container: Option<String>,
    /// Short text for the finding message, e.g. "OOMKilled, limit 256Mi".
    pub detail: String,
    /// Headline state shown in the message, e.g. "CrashLoopBackOff".
    pub state: String,
    pub evidence: Vec<String>,
}

fn container_spec<'a>(pod: &'a Pod, c: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|x| x.name == c)
}

pub fn memory_limit(pod: &Pod, c: &str) -> Option<String> {
    container_spec(pod, c)?
        .resources
        .as_ref()?
        .limits
        .as_ref()?
        .get("memory")
        .map(|q| q.0.clone())
}

fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let st = pod.status.as_ref();
    st.and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .chain(
            st.and_then(|s| s.container_statuses.as_deref())
                .unwrap_or(&[])
                .iter(),
        )
}

fn condition<'a>(pod: &'a Pod, t: &str) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)
}

pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Whether a pod's failures are covered by its Job (the JobFailed check).
fn owned_by_job(pod: &Pod) -> bool {
    crate::snapshot::controller_of(&pod.metadata).is_some_and(|o| o.kind == "Job")
}

/// Restarts that happened inside `--since`: the lifetime restartCount when
/// the pod started inside the window, else what lastState and BackOff
/// events show (never the lifetime count of an old pod).
pub fn restarts_in_window(snap: &Snapshot, ctx: &Context, pod: &Pod, cs: &ContainerStatus) -> i32 {
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0);
    if started.is_some_and(|t| ctx.recent(t)) {
        return cs.restart_count;
    }
    let last_in_window = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .is_some_and(|t| ctx.recent(t.0));
    let from_events: i32 = snap
        .events_for("Pod", ns(&pod.metadata), name(&pod.metadata))
        .filter(|e| e.reason.as_deref() == Some("BackOff"))
        .filter(|e| {
            e.message.as_deref().is_some_and(|m| {
                m.contains(&format!("container {}", cs.name)) || !m.contains("container ")
            })
        })
        .filter(|e| event_time(e).is_some_and(|t| ctx.recent(t)))
        .map(|e| {
            // A series that began inside the window counts whole; one that
            // began earlier is clipped to the restartCount bound below.
            event_count(e)
        })
        .sum();
    from_events
        .max(i32::from(last_in_window))
        .min(cs.restart_count)
}

/// Everything wrong with one pod, most specific first.
pub fn classify(snap: &Snapshot, ctx: &Context, pod: &Pod) -> Vec<PodIssue> {
    let mut out = Vec::new();
    if pod.metadata.deletion_timestamp.is_some() {
        return out;
    }
    let status = pod.status.as_ref();
    if status.and_then(|s| s.reason.as_deref()) == Some("Evicted") {
        let msg = status.and_then(|s| s.message.clone()).unwrap_or_default();
        out.push(PodIssue {
            reason: Reason::ContainerError,
            container: None,
            detail: "Evicted".into(),
            state: "Evicted".into(),
            evidence: vec![format!("evicted: {msg}")],
        });
        return out;
    }
    if phase(pod) == "Pending"
        && let Some(c) = condition(pod, "PodScheduled")
        && c.status == "False"
    {
        out.push(unschedulable(snap, pod, c.message.as_deref().unwrap_or("")));
        return out;
    }
    if phase(pod) == "Succeeded" {
        return out;
    }
    let mut crashing = false;
    for cs in statuses(pod) {
        let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
        let terminated = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
        let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        let waiting_reason = waiting.and_then(|w| w.reason.as_deref()).unwrap_or("");
        let limit = memory_limit(pod, &cs.name);
        let limit_text = limit
            .as_deref()
            .map(|l| format!("limit {l}"))
            .unwrap_or_else(|| "no memory limit".into());
        match waiting_reason {
            "CrashLoopBackOff" => {
                crashing = true;
                let oom = last.and_then(|t| t.reason.as_deref()) == Some("OOMKilled");
                let mut ev = Vec::new();
                if let Some(t) = last {
                    let when = t
                        .finished_at
                        .as_ref()
                        .map(|f| format!(", finished {}", ago(ctx, f.0)))
                        .unwrap_or_default();
                    ev.push(format!(
                        "container {}: last terminated {}, exit code {}{when}; {} restarts",
                        cs.name,
                        t.reason.as_deref().unwrap_or("(no reason)"),
                        exit_code_text(t.exit_code),
                        cs.restart_count
                    ));
                    if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
                        // The container writes it: it can carry a credential like a log.
                        ev.push(format!(
                            "termination message: {}",
                            common::redact::redact_text(m.trim())
                        ));
                    }
                } else {
                    ev.push(format!(
                        "container {}: {} restarts",
                        cs.name, cs.restart_count
                    ));
                }
                let (reason, detail) = if oom {
                    ev.push(format!("container {}: memory {limit_text}", cs.name));
                    (Reason::OOMKilled, format!("OOMKilled, {limit_text}"))
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
                out.push(PodIssue {
                    reason,
                    container: Some(cs.name.clone()),
                    detail,
                    state: "CrashLoopBackOff".into(),
                    evidence: ev,
                });
            }
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
                crashing = true;
                out.push(image_pull(
                    snap,
                    pod,
                    cs,
                    waiting_reason,
                    waiting.and_then(|w| w.message.as_deref()),
                ));
            }
            "CreateContainerConfigError" | "CreateContainerError" => {
                // Reported by the references check, which names the reference.
                crashing = true;
            }
            _ => {}
        }
        // Running again, but the last run ended in an OOM kill inside the
        // window: it will happen again under the same load.
        if waiting.is_none()
            && terminated.is_none()
            && let Some(t) = last
            && t.reason.as_deref() == Some("OOMKilled")
            && let Some(f) = t.finished_at.as_ref()
            && ctx.recent(f.0)
        {
            crashing = true;
            out.push(PodIssue {
                reason: Reason::OOMKilled,
                container: Some(cs.name.clone()),
                detail: format!("OOMKilled, {limit_text}"),
                state: "restarted after OOMKilled".into(),
                evidence: vec![format!(
                    "container {}: last terminated OOMKilled, exit code {}, finished {}; {} restarts; memory {limit_text}",
                    cs.name,
                    exit_code_text(t.exit_code),
                    ago(ctx, f.0),
                    cs.restart_count
                )],
            });
        }
        if waiting.is_none()
            && let Some(t) = terminated
        {
            if t.reason.as_deref() == Some("OOMKilled") {
                crashing = true;
                out.push(PodIssue {
                    reason: Reason::OOMKilled,
                    container: Some(cs.name.clone()),
                    detail: format!("OOMKilled, {limit_text}"),
                    state: "OOMKilled".into(),
                    evidence: vec![format!(
                        "container {}: terminated OOMKilled, exit code {}; memory {limit_text}",
                        cs.name,
                        exit_code_text(t.exit_code)
                    )],
                });
            } else if t.exit_code != 0 && !owned_by_job(pod) {
                crashing = true;
                let mut ev = vec![format!(
                    "container {}: terminated {}, exit code {}",
                    cs.name,
                    t.reason.as_deref().unwrap_or("(no reason)"),
                    exit_code_text(t.exit_code)
                )];
                if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
                    ev.push(format!("message: {}", m.trim()));
                }
                out.push(PodIssue {
                    reason: Reason::ContainerError,
                    container: Some(cs.name.clone()),
                    detail: format!(
                        "{}, exit code {}",
                        t.reason.as_deref().unwrap_or("terminated"),
                        exit_code_text(t.exit_code)
                    ),
                    state: "terminated".into(),
                    evidence: ev,
                });
            }
        }
    }
    if crashing {
        return out;
    }
    if let Some(issue) = probe_failing(snap, ctx, pod) {
        out.push(issue);
    }
    for cs in statuses(pod) {
        let n = restarts_in_window(snap, ctx, pod, cs);
        if n >= RESTART_THRESHOLD {
            out.push(PodIssue {
                reason: Reason::HighRestarts,
                container: Some(cs.name.clone()),
                detail: format!("{n} restarts in the last {}", since_text(ctx)),
                state: "restarting".into(),
                evidence: vec![format!(
                    "container {}: {n} restarts within {} ({} in its lifetime)",
                    cs.name,
                    since_text(ctx),
                    cs.restart_count
                )],
            });
        }
    }
    out
}

pub fn since_text(ctx: &Context) -> String {
    let s = ctx.since.as_secs();
    if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn unschedulable(snap: &Snapshot, pod: &Pod, message: &str) -> PodIssue {
    let mut ev = vec![format!("scheduler: {message}")];
    let namespace = ns(&pod.metadata);
    let lower = message.to_lowercase();
    // Name the cause the scheduler only hints at.
    for claim in pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
    {
        let pvc = items(&snap.pvcs)
            .iter()
            .find(|p| ns(&p.metadata) == namespace && name(&p.metadata) == claim.claim_name);
        match pvc {
            Some(p) => {
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .unwrap_or("Pending");
                if phase != "Bound" {
                    ev.push(format!("cause: PVC {} is {phase}", claim.claim_name));
                }
            }
            None if snap.pvcs.is_some() => {
                ev.push(format!("cause: PVC {} does not exist", claim.claim_name));
            }
            None => {}
        }
    }
    if lower.contains("insufficient") {
        let mut req = Vec::new();
        for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            if let Some(r) = c.resources.as_ref().and_then(|r| r.requests.as_ref()) {
                let text: Vec<String> = r.iter().map(|(k, v)| format!("{k}={}", v.0)).collect();
                req.push(format!("{}: {}", c.name, text.join(",")));
            }
        }
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
        let taints: Vec<String> = items(&snap.nodes)
            .iter()
            .flat_map(|n| {
                n.spec
                    .iter()
                    .flat_map(|s| s.taints.iter().flatten())
                    .map(move |t| {
                        format!(
                            "{}: {}={}:{}",
                            name(&n.metadata),
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

fn image_pull(
    snap: &Snapshot,
    pod: &Pod,
    cs: &ContainerStatus,
    why: &str,
    msg: Option<&str>,
) -> PodIssue {
    let image = container_spec(pod, &cs.name)
        .and_then(|c| c.image.clone())
        .unwrap_or_else(|| cs.image.clone());
    let mut ev = vec![format!("container {}: image {image} ({why})", cs.name)];
    if let Some(m) = msg {
        ev.push(format!("kubelet: {m}"));
    }
    let namespace = ns(&pod.metadata);
    let mut pull_secrets: Vec<String> = pod
        .spec
        .iter()
        .flat_map(|s| s.image_pull_secrets.iter().flatten())
        .map(|r| r.name.clone())
        .collect();
    pull_secrets.dedup();
    if pull_secrets.is_empty() {
        ev.push("no imagePullSecrets on the pod".into());
    }
    for s in pull_secrets {
        match &snap.secrets {
            Some(list) => {
                let exists = list.iter().any(|k| k.namespace == namespace && k.name == s);
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
        container: Some(cs.name.clone()),
        detail: format!("{why}, image {image}"),
        state: why.to_string(),
        evidence: ev,
    }
}

pub fn probe_text(p: &Probe) -> String {
    let how = if let Some(h) = &p.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("http-get :{port}{}", h.path.as_deref().unwrap_or("/"))
    } else if let Some(t) = &p.tcp_socket {
        let port = match &t.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("tcp-socket :{port}")
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.as_deref().unwrap_or(&[]).join(" "))
    } else if p.grpc.is_some() {
        "grpc".into()
    } else {
        "unknown".into()
    };
    format!(
        "{how} delay={}s timeout={}s period={}s #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

fn probe_failing(snap: &Snapshot, ctx: &Context, pod: &Pod) -> Option<PodIssue> {
    let running_not_ready = phase(pod) == "Running" && !is_ready(pod);
    let unhealthy: Vec<_> = snap
        .events_for("Pod", ns(&pod.metadata), name(&pod.metadata))
        .filter(|e| e.reason.as_deref() == Some("Unhealthy"))
        .filter(|e| event_time(e).is_some_and(|t| ctx.recent(t)))
        .collect();
    if !running_not_ready && unhealthy.is_empty() {
        return None;
    }
    let mut ev = Vec::new();
    let mut containers = Vec::new();
    for cs in statuses(pod).filter(|c| !c.ready || !unhealthy.is_empty()) {
        let Some(spec) = container_spec(pod, &cs.name) else {
            continue;
        };
        if !cs.ready {
            containers.push(cs.name.clone());
        }
        if let Some(p) = &spec.readiness_probe {
            ev.push(format!(
                "container {}: readiness {}",
                cs.name,
                probe_text(p)
            ));
        }
        if let Some(p) = &spec.liveness_probe {
            ev.push(format!("container {}: liveness {}", cs.name, probe_text(p)));
        }
    }
    for e in &unhealthy {
        ev.push(format!(
            "event Unhealthy (x{}, last {}): {}",
            event_count(e),
            event_time(e).map(|t| ago(ctx, t)).unwrap_or_default(),
            e.message.as_deref().unwrap_or("").trim()
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

/// Containers whose previous log is worth fetching: the first crashing pod
/// of each workload, each container once, at most `cap` overall.
pub fn log_targets(snap: &Snapshot, ctx: &Context, cap: usize) -> Vec<LogKey> {
    let mut seen: BTreeMap<(ObjectRef, String), LogKey> = BTreeMap::new();
    let mut pods: Vec<&Pod> = snap.pods.iter().collect();
    pods.sort_by(|a, b| name(&a.metadata).cmp(name(&b.metadata)));
    for pod in pods {
        for issue in classify(snap, ctx, pod) {
            if !matches!(
                issue.reason,
                Reason::CrashLoopBackOff
                    | Reason::OOMKilled
                    | Reason::ContainerError
                    | Reason::HighRestarts
            ) {
                continue;
            }
            let Some(c) = issue.container else { continue };
            let restarted = statuses(pod).any(|s| s.name == c && s.restart_count > 0);
            if !restarted {
                continue;
            }
            seen.entry((snap.owner_of_pod(pod), c.clone()))
                .or_insert(LogKey {
                    namespace: ns(&pod.metadata).to_string(),
                    pod: name(&pod.metadata).to_string(),
                    container: c,
                });
        }
    }
    seen.into_values().take(cap).collect()
}

/// Group pod issues into findings under their owners.
pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    type Group<'a> = Vec<(&'a Pod, PodIssue)>;
    let mut groups: BTreeMap<(ObjectRef, Reason), Group> = BTreeMap::new();
    let mut totals: BTreeMap<ObjectRef, usize> = BTreeMap::new();
    for pod in &snap.pods {
        let owner = snap.owner_of_pod(pod);
        *totals.entry(owner.clone()).or_default() += 1;
        let mut seen_reasons = Vec::new();
        for issue in classify(snap, ctx, pod) {
            // One entry per pod and reason; the first container is the headline.
            if seen_reasons.contains(&issue.reason) {
                if let Some(g) = groups.get_mut(&(owner.clone(), issue.reason))
                    && let Some((_, first)) = g.last_mut()
                {
                    first.evidence.extend(issue.evidence);
                }
                continue;
            }
            seen_reasons.push(issue.reason);
            groups
                .entry((owner.clone(), issue.reason))
                .or_default()
                .push((pod, issue));
        }
    }
    let mut out = Vec::new();
    for ((owner, reason), mut group) in groups {
        group.sort_by(|a, b| name(&a.0.metadata).cmp(name(&b.0.metadata)));
        let total = totals.get(&owner).copied().unwrap_or(group.len());
        let Some((first_pod, first)) = group.first() else {
            continue;
        };
        let mut details: Vec<String> = Vec::new();
        for (_, i) in &group {
            if !details.contains(&i.detail) {
                details.push(i.detail.clone());
            }
        }
        let message = if owner.kind == "Pod" {
            format!("pod {} ({})", first.state, details.join("; "))
        } else {
            format!(
                "{}/{} pods {} ({})",
                group.len(),
                total,
                first.state,
                details.join("; ")
            )
        };
        let mut f = Finding::new(reason, &owner, message);
        f.explains.insert(uid(&first_pod.metadata).to_string());
        for (pod, _) in &group {
            f.explains.insert(uid(&pod.metadata).to_string());
            f.affected.push(Affected {
                kind: "Pod".into(),
                name: name(&pod.metadata).to_string(),
                node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            });
        }
        // Owner UIDs too: BackOff/FailedCreate events on the workload are
        // the same story.
        if let Some(owner_uid) = owner_uid(snap, &owner) {
            f.explains.insert(owner_uid);
        }
        f.evidence.extend(first.evidence.iter().cloned());
        if group.len() > 1 {
            let others: Vec<String> = group[1..]
                .iter()
                .map(|(p, i)| {
                    format!(
                        "pod {}: {}",
                        name(&p.metadata),
                        i.evidence
                            .first()
                            .cloned()
                            .unwrap_or_else(|| i.detail.clone())
                    )
                })
                .collect();
            f.evidence.extend(capped(others, 4));
        }
        let namespace = &owner.namespace;
        let pod_name = name(&first_pod.metadata);
        // The previous log of the representative pod.
        if let Some(c) = &first.container
            && let Some(log) = log_for(snap, &owner, c)
        {
            f.evidence.push(format!(
                "previous log of {}/{c} (last {} lines):",
                log.0,
                log.1.lines().count().min(ctx.log_lines)
            ));
            let lines: Vec<&str> = log.1.lines().collect();
            let start = lines.len().saturating_sub(ctx.log_lines);
            for l in &lines[start..] {
                f.evidence.push(format!("  | {l}"));
            }
        }
        let cflag = first
            .container
            .as_ref()
            .map(|c| format!(" -c {c}"))
            .unwrap_or_default();
        match reason {
            Reason::CrashLoopBackOff | Reason::HighRestarts | Reason::ContainerError => {
                if reason != Reason::ContainerError || first.state != "Evicted" {
                    f = f.remedy(format!(
                        "kubectl logs {}{cflag} -n {namespace} --previous",
                        pod_name
                    ));
                }
                f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
            }
            Reason::OOMKilled => {
                let c = first.container.clone().unwrap_or_default();
                let new_limit = memory_limit(first_pod, &c)
                    .and_then(|l| quantity::parse(&l))
                    .map(|b| quantity::human_bytes(b * 2.0))
                    .unwrap_or_else(|| "512Mi".into());
                if let Some(usage) = crate::checks::usage::memory_usage(snap, first_pod, &c) {
                    f.evidence.push(format!(
                        "container {c}: memory usage now {}",
                        quantity::human_bytes(usage)
                    ));
                }
                if owner.kind != "Pod" {
                    f = f.remedy(format!(
                        "kubectl set resources {}/{} -n {namespace} -c {c} --limits=memory={new_limit}",
                        owner.kind.to_lowercase(),
                        owner.name
                    ));
                }
                f = f.remedy(format!(
                    "kubectl logs {}{cflag} -n {namespace} --previous",
                    pod_name
                ));
            }
            Reason::ImagePullBackOff => {
                f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
                for e in f.evidence.clone() {
                    if let Some(s) = e
                        .strip_prefix("pull secret ")
                        .and_then(|r| r.strip_suffix(": does not exist"))
                    {
                        f = f.remedy(format!(
                            "kubectl create secret docker-registry {s} -n {namespace} --docker-server=<registry> --docker-username=<user> --docker-password=<password>"
                        ));
                    }
                }
            }
            Reason::Unschedulable => {
                f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
                f = f.remedy("kubectl describe nodes".to_string());
            }
            Reason::ProbeFailing => {
                f = f.remedy(format!("kubectl describe pod {pod_name} -n {namespace}"));
                f = f.remedy(format!("kubectl logs {pod_name}{cflag} -n {namespace}"));
            }
            _ => {}
        }
        if owner.kind == "Deployment"
            && let Some(rollout) = crate::checks::workloads::recent_rollout(snap, ctx, &owner)
        {
            f.evidence.extend(rollout.evidence);
            f = f.remedy(rollout.undo);
        }
        out.push(f);
    }
    out
}

fn log_for<'a>(
    snap: &'a Snapshot,
    owner: &ObjectRef,
    container: &str,
) -> Option<(String, &'a String)> {
    snap.logs.iter().find_map(|(k, v)| {
        let pod = snap
            .pods
            .iter()
            .find(|p| ns(&p.metadata) == k.namespace && name(&p.metadata) == k.pod)?;
        (k.container == container && snap.owner_of_pod(pod) == *owner).then(|| (k.pod.clone(), v))
    })
}

pub fn owner_uid(snap: &Snapshot, owner: &ObjectRef) -> Option<String> {
    let find = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        ns(m) == owner.namespace && name(m) == owner.name
    };
    let meta = match owner.kind.as_str() {
        "Deployment" => items(&snap.deployments)
            .iter()
            .map(|o| &o.metadata)
            .find(|m| find(m)),
        "StatefulSet" => items(&snap.statefulsets)
            .iter()
            .map(|o| &o.metadata)
            .find(|m| find(m)),
        "DaemonSet" => items(&snap.daemonsets)
            .iter()
            .map(|o| &o.metadata)
            .find(|m| find(m)),
        "Job" => items(&snap.jobs)
            .iter()
            .map(|o| &o.metadata)
            .find(|m| find(m)),
        _ => None,
    }?;
    meta.uid.clone()
}
