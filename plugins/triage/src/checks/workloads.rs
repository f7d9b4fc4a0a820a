//! Workload availability (Deployment, StatefulSet, DaemonSet) and what the
//! last rollout changed, with the `kubectl rollout undo` that reverts it.

use serde_json::Value;

use super::{Context, ago, capped, pods::classify};
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, controller_of, event_time, items, name, ns, uid};

/// What a rollout inside `--since` changed, and how to undo it.
#[derive(Debug, Clone)]
pub struct Rollout {
    pub evidence: Vec<String>,
    pub undo: String,
}

fn revision(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    meta.annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")?
        .parse()
        .ok()
}

/// A pod template as JSON, without the fields every revision differs in.
fn template_value<T: serde::Serialize>(t: &T) -> Value {
    common::normalize::pod_template(&serde_json::to_value(t).unwrap_or(Value::Null))
}

/// "path: old → new" lines (redacted), list items matched by name.
fn changed_lines(old: &Value, new: &Value) -> Vec<String> {
    common::diff::diff(old, new)
        .iter()
        .map(common::diff::FieldChange::line)
        .collect()
}

/// The Deployment's last rollout, when it happened inside `--since`.
pub fn recent_rollout(snap: &Snapshot, ctx: &Context, dep: &ObjectRef) -> Option<Rollout> {
    let d = items(&snap.deployments)
        .iter()
        .find(|d| ns(&d.metadata) == dep.namespace && name(&d.metadata) == dep.name)?;
    let mut sets: Vec<_> = items(&snap.replicasets)
        .iter()
        .filter(|rs| ns(&rs.metadata) == dep.namespace)
        .filter(|rs| {
            controller_of(&rs.metadata).is_some_and(|o| {
                o.kind == "Deployment" && (o.uid == uid(&d.metadata) || o.name == dep.name)
            })
        })
        .filter_map(|rs| revision(&rs.metadata).map(|r| (r, rs)))
        .collect();
    sets.sort_by_key(|(r, _)| *r);
    let (cur_rev, cur) = sets.pop()?;
    let (prev_rev, prev) = sets.pop()?;
    let created = cur.metadata.creation_timestamp.as_ref()?.0;
    if !ctx.recent(created) {
        return None;
    }
    let old = prev
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .map(template_value)
        .unwrap_or(Value::Null);
    let new = cur
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .map(template_value)
        .unwrap_or(Value::Null);
    let changes = changed_lines(&old, &new);
    let mut evidence = vec![format!(
        "rollout {}: revision {prev_rev} → {cur_rev} (ReplicaSet {} → {})",
        ago(ctx, created),
        name(&prev.metadata),
        name(&cur.metadata)
    )];
    evidence.extend(capped(
        changes
            .into_iter()
            .map(|c| format!("  changed {c}"))
            .collect(),
        8,
    ));
    Some(Rollout {
        evidence,
        undo: format!(
            "kubectl rollout undo deployment/{} -n {} --to-revision={prev_rev}",
            dep.name, dep.namespace
        ),
    })
}

/// StatefulSet/DaemonSet rollouts: diff the ControllerRevisions named by
/// current/update revision (listed only when a set is mid-rollout).
fn revision_rollout(
    snap: &Snapshot,
    ctx: &Context,
    key: &ObjectRef,
    owner_uid: &str,
    current: Option<&str>,
) -> Option<Rollout> {
    let mut revs: Vec<_> = items(&snap.controller_revisions)
        .iter()
        .filter(|r| ns(&r.metadata) == key.namespace)
        .filter(|r| {
            controller_of(&r.metadata).is_some_and(|o| o.uid == owner_uid || o.name == key.name)
        })
        .collect();
    revs.sort_by_key(|r| r.revision);
    let newest = revs.pop()?;
    let previous = match current {
        Some(c) if c != name(&newest.metadata) => {
            revs.iter().find(|r| name(&r.metadata) == c).copied()
        }
        _ => revs.pop(),
    }?;
    let created = newest.metadata.creation_timestamp.as_ref()?.0;
    if !ctx.recent(created) {
        return None;
    }
    let data = |r: &k8s_openapi::api::apps::v1::ControllerRevision| {
        r.data
            .as_ref()
            .and_then(|d| d.0.pointer("/spec/template").cloned())
            .map(|v| template_value(&v))
            .unwrap_or(Value::Null)
    };
    let changes = changed_lines(&data(previous), &data(newest));
    let mut evidence = vec![format!(
        "rollout {}: revision {} → {}",
        ago(ctx, created),
        previous.revision,
        newest.revision
    )];
    evidence.extend(capped(
        changes
            .into_iter()
            .map(|c| format!("  changed {c}"))
            .collect(),
        8,
    ));
    Some(Rollout {
        evidence,
        undo: format!(
            "kubectl rollout undo {}/{} -n {} --to-revision={}",
            key.kind.to_lowercase(),
            key.name,
            key.namespace,
            previous.revision
        ),
    })
}

/// Whether pod-level findings already explain the workload being down, so
/// the workload is not reported twice (pod findings carry rollout evidence).
fn explained_by_pods(snap: &Snapshot, ctx: &Context, key: &ObjectRef) -> bool {
    snap.pods_of(key).any(|p| {
        !classify(snap, ctx, p).is_empty()
            || p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
                .any(|r| r.starts_with("CreateContainer"))
    })
}

fn recent_warnings(
    snap: &Snapshot,
    ctx: &Context,
    kind: &str,
    namespace: &str,
    obj: &str,
) -> Vec<String> {
    snap.events_for(kind, namespace, obj)
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter(|e| event_time(e).is_some_and(|t| ctx.recent(t)))
        .map(|e| {
            format!(
                "event {} on {kind} {obj}: {}",
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("").trim()
            )
        })
        .collect()
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for d in items(&snap.deployments) {
        let key = ObjectRef::new("Deployment", ns(&d.metadata), name(&d.metadata));
        let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = d.status.clone().unwrap_or_default();
        let available = st.available_replicas.unwrap_or(0);
        let deadline = st.conditions.iter().flatten().find(|c| {
            c.type_ == "Progressing"
                && c.status == "False"
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        });
        if (available >= desired && deadline.is_none()) || explained_by_pods(snap, ctx, &key) {
            continue;
        }
        let why = if deadline.is_some() {
            "rollout exceeded its progress deadline"
        } else {
            "fewer pods available than desired"
        };
        let mut f = Finding::new(
            Reason::DeploymentUnavailable,
            &key,
            format!("{available}/{desired} replicas available; {why}"),
        )
        .evidence(format!(
            "replicas: desired {desired}, updated {}, ready {}, available {available}, unavailable {}",
            st.updated_replicas.unwrap_or(0),
            st.ready_replicas.unwrap_or(0),
            st.unavailable_replicas.unwrap_or(0)
        ));
        for c in st
            .conditions
            .iter()
            .flatten()
            .filter(|c| c.status != "True" || c.type_ == "ReplicaFailure")
        {
            f = f.evidence(format!(
                "condition {}={} {}: {}",
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
        }
        f.evidence.extend(recent_warnings(
            snap,
            ctx,
            "Deployment",
            &key.namespace,
            &key.name,
        ));
        f.explains.insert(uid(&d.metadata).to_string());
        for rs in items(&snap.replicasets).iter().filter(|rs| {
            ns(&rs.metadata) == key.namespace
                && controller_of(&rs.metadata).is_some_and(|o| o.uid == uid(&d.metadata))
        }) {
            f.explains.insert(uid(&rs.metadata).to_string());
            f.evidence.extend(recent_warnings(
                snap,
                ctx,
                "ReplicaSet",
                &key.namespace,
                name(&rs.metadata),
            ));
        }
        if let Some(r) = recent_rollout(snap, ctx, &key) {
            f.evidence.extend(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
    for s in items(&snap.statefulsets) {
        let key = ObjectRef::new("StatefulSet", ns(&s.metadata), name(&s.metadata));
        let desired = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = s.status.clone().unwrap_or_default();
        let ready = st.ready_replicas.unwrap_or(0);
        if ready >= desired || explained_by_pods(snap, ctx, &key) {
            continue;
        }
        let mut f = Finding::new(
            Reason::StatefulSetUnavailable,
            &key,
            format!("{ready}/{desired} replicas ready"),
        )
        .evidence(format!(
            "replicas: desired {desired}, current {}, updated {}, ready {ready}, available {}",
            st.current_replicas.unwrap_or(0),
            st.updated_replicas.unwrap_or(0),
            st.available_replicas.unwrap_or(0)
        ));
        if st.current_revision != st.update_revision {
            f = f.evidence(format!(
                "rollout in progress: {} → {}",
                st.current_revision.as_deref().unwrap_or("?"),
                st.update_revision.as_deref().unwrap_or("?")
            ));
        }
        f.evidence.extend(recent_warnings(
            snap,
            ctx,
            "StatefulSet",
            &key.namespace,
            &key.name,
        ));
        f.explains.insert(uid(&s.metadata).to_string());
        if let Some(r) = revision_rollout(
            snap,
            ctx,
            &key,
            uid(&s.metadata),
            st.current_revision.as_deref(),
        ) {
            f.evidence.extend(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
    for d in items(&snap.daemonsets) {
        let key = ObjectRef::new("DaemonSet", ns(&d.metadata), name(&d.metadata));
        let st = d.status.clone().unwrap_or_default();
        let desired = st.desired_number_scheduled;
        let available = st.number_available.unwrap_or(0);
        if available >= desired || explained_by_pods(snap, ctx, &key) {
            continue;
        }
        let mut f = Finding::new(
            Reason::DaemonSetUnavailable,
            &key,
            format!("{available}/{desired} scheduled pods available"),
        )
        .evidence(format!(
            "pods: desired {desired}, current {}, ready {}, updated {}, available {available}, misscheduled {}",
            st.current_number_scheduled,
            st.number_ready,
            st.updated_number_scheduled.unwrap_or(0),
            st.number_misscheduled
        ));
        f.evidence.extend(recent_warnings(
            snap,
            ctx,
            "DaemonSet",
            &key.namespace,
            &key.name,
        ));
        f.explains.insert(uid(&d.metadata).to_string());
        if let Some(r) = revision_rollout(snap, ctx, &key, uid(&d.metadata), None) {
            f.evidence.extend(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
    out
}

/// The commands that follow any unavailable workload: watch the rollout,
/// then look closer.
fn follow_up(f: Finding, key: &ObjectRef) -> Finding {
    let kind = key.kind.to_lowercase();
    f.remedy(format!(
        "kubectl rollout status {kind}/{} -n {}",
        key.name, key.namespace
    ))
    .remedy(format!(
        "kubectl describe {kind} {} -n {}",
        key.name, key.namespace
    ))
}

/// Whether ControllerRevisions are worth listing: only when a StatefulSet
/// or DaemonSet is short of ready pods.
pub fn needs_revisions(snap: &Snapshot) -> bool {
    items(&snap.statefulsets).iter().any(|s| {
        let st = s.status.clone().unwrap_or_default();
        st.ready_replicas.unwrap_or(0) < s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }) || items(&snap.daemonsets).iter().any(|d| {
        let st = d.status.clone().unwrap_or_default();
        st.number_available.unwrap_or(0) < st.desired_number_scheduled
    })
}
