//! What a workload's last rollout changed, when it happened inside `--since`,
//! and the `kubectl rollout undo` that reverts it (read by pod and workload checks).

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::context::Context;
use crate::snapshot::{ObjectRef, Snapshot, controller_of, items, name, ns, uid};
use crate::text::capped;

/// What a rollout inside `--since` changed, and how to undo it.
#[derive(Debug, Clone)]
pub struct Rollout {
    pub evidence: Vec<String>,
    pub undo: String,
}

fn revision(meta: &ObjectMeta) -> Option<i64> {
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

/// "rollout 20m ago: revision 3 → 4 ..." then "  changed path: old → new" lines.
fn evidence(head: String, old: &Value, new: &Value) -> Vec<String> {
    let changes: Vec<String> = common::diff::diff(old, new)
        .iter()
        .map(|c| format!("  changed {}", c.line()))
        .collect();
    let mut out = vec![head];
    out.extend(capped(changes, 8));
    out
}

/// The Deployment's last rollout, when it happened inside `--since`.
pub fn deployment(snap: &Snapshot, ctx: &Context, dep: &ObjectRef) -> Option<Rollout> {
    let d = items(&snap.deployments)
        .iter()
        .find(|d| ns(&d.metadata) == dep.namespace && name(&d.metadata) == dep.name)?;
    let mut sets: Vec<_> = items(&snap.replicasets)
        .iter()
        .filter(|rs| ns(&rs.metadata) == dep.namespace)
        .filter(|rs| {
            controller_of(&rs.metadata)
                .is_some_and(|o| o.kind == "Deployment" && o.uid == uid(&d.metadata))
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
    let template = |rs: &k8s_openapi::api::apps::v1::ReplicaSet| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .map(template_value)
            .unwrap_or(Value::Null)
    };
    let head = format!(
        "rollout {}: revision {prev_rev} → {cur_rev} (ReplicaSet {} → {})",
        ctx.ago(created),
        name(&prev.metadata),
        name(&cur.metadata)
    );
    Some(Rollout {
        evidence: evidence(head, &template(prev), &template(cur)),
        undo: format!(
            "kubectl rollout undo deployment/{} -n {} --to-revision={prev_rev}",
            dep.name, dep.namespace
        ),
    })
}

/// StatefulSet/DaemonSet rollouts: diff the ControllerRevisions named by
/// current/update revision (listed only when a set is short of pods).
pub fn revisions(
    snap: &Snapshot,
    ctx: &Context,
    key: &ObjectRef,
    owner_uid: &str,
    current: Option<&str>,
) -> Option<Rollout> {
    let mut revs: Vec<_> = items(&snap.controller_revisions)
        .iter()
        .filter(|r| ns(&r.metadata) == key.namespace)
        .filter(|r| controller_of(&r.metadata).is_some_and(|o| o.uid == owner_uid))
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
    let data = |r: &ControllerRevision| {
        r.data
            .as_ref()
            .and_then(|d| d.0.pointer("/spec/template").cloned())
            .map(|v| template_value(&v))
            .unwrap_or(Value::Null)
    };
    let head = format!(
        "rollout {}: revision {} → {}",
        ctx.ago(created),
        previous.revision,
        newest.revision
    );
    Some(Rollout {
        evidence: evidence(head, &data(previous), &data(newest)),
        undo: format!(
            "kubectl rollout undo {}/{} -n {} --to-revision={}",
            key.kind.to_lowercase(),
            key.name,
            key.namespace,
            previous.revision
        ),
    })
}
