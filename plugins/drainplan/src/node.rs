//! Cordoning and uncordoning nodes, remembering our own cordons: a cordon by drainplan sets
//! `spec.unschedulable` and an annotation; `uncordon` undoes only cordons carrying it.
//!
//! Both are guarded merge patches (uid and resourceVersion of a fresh read), so a node
//! cordoned by someone else between our read and our write is never claimed as ours.

use common::write::{Guard, PatchBody, Target, Writer};
use common::{Error, Result};
use k8s_openapi::api::core::v1::Node;
use serde_json::{Value, json};

/// On a node drainplan cordoned: when (RFC 3339).
pub const CORDONED_ANNOTATION: &str = "drainplan.kubectl-plugins.dev/cordoned";

/// How often a guarded node patch is retried after a conflict (the node changed between
/// our read and our write, e.g. a kubelet status update).
const CONFLICT_RETRIES: usize = 4;

/// What a cordon did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cordon {
    /// We cordoned it (or, under --dry-run, would).
    Cordoned,
    /// It was cordoned already (by someone else, or by an earlier run of ours).
    AlreadyCordoned { ours: bool },
}

/// What an uncordon did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncordon {
    /// It carried our cordon: schedulable again.
    Uncordoned,
    /// Cordoned by someone else: left as it was.
    LeftCordoned,
    /// Not cordoned; a leftover annotation of ours (someone uncordoned it) is removed.
    NotCordoned,
}

/// The merge patch that cordons and marks the cordon as ours.
pub fn cordon_patch(at: &str) -> Value {
    json!({"spec": {"unschedulable": true}, "metadata": {"annotations": {CORDONED_ANNOTATION: at}}})
}

/// The merge patch that removes our mark and, when `cordoned`, the cordon.
pub fn uncordon_patch(cordoned: bool) -> Value {
    if cordoned {
        json!({"spec": {"unschedulable": null}, "metadata": {"annotations": {CORDONED_ANNOTATION: null}}})
    } else {
        json!({"metadata": {"annotations": {CORDONED_ANNOTATION: null}}})
    }
}

fn is_cordoned(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

fn ours(node: &Node) -> bool {
    node.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(CORDONED_ANNOTATION))
}

/// Read `name` and apply `decide`'s patch, guarded; on a conflict read again and decide again.
async fn guarded<T>(
    writer: &Writer,
    target: &Target<Node>,
    name: &str,
    how: &str,
    decide: impl Fn(&Node) -> (T, Option<Value>),
) -> Result<T> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let node = target.api().get(name).await.map_err(|e| match e {
            kube::Error::Api(s) if s.code == 404 => {
                Error::usage(format!("node \"{name}\" not found"))
            }
            other => Error::from(other),
        })?;
        let (outcome, patch) = decide(&node);
        let Some(patch) = patch else {
            return Ok(outcome);
        };
        match writer
            .patch(target, name, PatchBody::Merge(patch), Guard::of(&node), how)
            .await
        {
            Ok(_) => return Ok(outcome),
            Err(e) if common::write::is_conflict_error(&e) && attempt <= CONFLICT_RETRIES => {
                tracing::debug!(%name, attempt, "node changed under us; reading it again");
            }
            Err(e) => return Err(e),
        }
    }
}

/// Cordon `name` unless it is cordoned already, marking the cordon as ours.
pub async fn cordon(writer: &Writer, target: &Target<Node>, name: &str) -> Result<Cordon> {
    let at = jiff::Timestamp::now().to_string();
    guarded(writer, target, name, "cordon (drainplan)", |node| {
        if is_cordoned(node) {
            (Cordon::AlreadyCordoned { ours: ours(node) }, None)
        } else {
            (Cordon::Cordoned, Some(cordon_patch(&at)))
        }
    })
    .await
}

/// Undo our cordon of `name`; leave anyone else's.
pub async fn uncordon(writer: &Writer, target: &Target<Node>, name: &str) -> Result<Uncordon> {
    guarded(writer, target, name, "uncordon (drainplan)", |node| match (
        ours(node),
        is_cordoned(node),
    ) {
        (true, true) => (Uncordon::Uncordoned, Some(uncordon_patch(true))),
        (true, false) => (Uncordon::NotCordoned, Some(uncordon_patch(false))),
        (false, true) => (Uncordon::LeftCordoned, None),
        (false, false) => (Uncordon::NotCordoned, None),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_mark_and_unmark() {
        let c = cordon_patch("2025-01-01T00:00:00Z");
        assert_eq!(c["spec"]["unschedulable"], true);
        assert_eq!(
            c["metadata"]["annotations"][CORDONED_ANNOTATION],
            "2025-01-01T00:00:00Z"
        );
        let u = uncordon_patch(true);
        assert!(u["spec"]["unschedulable"].is_null());
        assert!(u["metadata"]["annotations"][CORDONED_ANNOTATION].is_null());
        assert!(uncordon_patch(false).get("spec").is_none(), "only the mark");
    }
}
