//! Workload availability (Deployment, StatefulSet, DaemonSet) not already
//! explained by their pods' or nodes' findings, with what the last rollout changed.

use super::Context;
use crate::report::{Finding, Reason};
use crate::rollout;
use crate::snapshot::{ObjectRef, Snapshot, controller_of, items, name, ns, uid};

/// Whether pod-level (or node-level) findings already explain the workload
/// being down, so it is not reported twice (pod findings carry rollout evidence).
fn explained_by_pods(snap: &Snapshot, key: &ObjectRef) -> bool {
    snap.pods_of(key).any(|p| p.explained())
}

fn recent_warnings(
    snap: &Snapshot,
    ctx: &Context,
    kind: &str,
    namespace: &str,
    obj: &str,
) -> Vec<String> {
    snap.events_for(kind, namespace, obj)
        .filter(|e| e.warning)
        .filter(|e| e.time.is_some_and(|t| ctx.recent(t)))
        .map(|e| format!("event {} on {kind} {obj}: {}", e.reason, e.message.trim()))
        .collect()
}

fn deployments(snap: &Snapshot, ctx: &Context, out: &mut Vec<Finding>) {
    for d in items(&snap.deployments) {
        let key = ObjectRef::of(d);
        let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = d.status.clone().unwrap_or_default();
        let available = st.available_replicas.unwrap_or(0);
        let deadline = st.conditions.iter().flatten().find(|c| {
            c.type_ == "Progressing"
                && c.status == "False"
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        });
        if (available >= desired && deadline.is_none()) || explained_by_pods(snap, &key) {
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
            f.add_evidence(format!(
                "condition {}={} {}: {}",
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
        }
        f.extend_evidence(recent_warnings(
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
            f.extend_evidence(recent_warnings(
                snap,
                ctx,
                "ReplicaSet",
                &key.namespace,
                name(&rs.metadata),
            ));
        }
        if let Some(r) = rollout::deployment(snap, ctx, &key) {
            f.extend_evidence(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
}

fn statefulsets(snap: &Snapshot, ctx: &Context, out: &mut Vec<Finding>) {
    for s in items(&snap.statefulsets) {
        let key = ObjectRef::of(s);
        let desired = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = s.status.clone().unwrap_or_default();
        let ready = st.ready_replicas.unwrap_or(0);
        if ready >= desired || explained_by_pods(snap, &key) {
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
            f.add_evidence(format!(
                "rollout in progress: {} → {}",
                st.current_revision.as_deref().unwrap_or("?"),
                st.update_revision.as_deref().unwrap_or("?")
            ));
        }
        f.extend_evidence(recent_warnings(
            snap,
            ctx,
            "StatefulSet",
            &key.namespace,
            &key.name,
        ));
        f.explains.insert(uid(&s.metadata).to_string());
        if let Some(r) = rollout::revisions(
            snap,
            ctx,
            &key,
            uid(&s.metadata),
            st.current_revision.as_deref(),
        ) {
            f.extend_evidence(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
}

fn daemonsets(snap: &Snapshot, ctx: &Context, out: &mut Vec<Finding>) {
    for d in items(&snap.daemonsets) {
        let key = ObjectRef::of(d);
        let st = d.status.clone().unwrap_or_default();
        let desired = st.desired_number_scheduled;
        let available = st.number_available.unwrap_or(0);
        if available >= desired || explained_by_pods(snap, &key) {
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
        f.extend_evidence(recent_warnings(
            snap,
            ctx,
            "DaemonSet",
            &key.namespace,
            &key.name,
        ));
        f.explains.insert(uid(&d.metadata).to_string());
        if let Some(r) = rollout::revisions(snap, ctx, &key, uid(&d.metadata), None) {
            f.extend_evidence(r.evidence);
            f = f.remedy(r.undo);
        }
        out.push(follow_up(f, &key));
    }
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    deployments(snap, ctx, &mut out);
    statefulsets(snap, ctx, &mut out);
    daemonsets(snap, ctx, &mut out);
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
