//! The pod rules: what happens to each pod on a node being drained, before budgets and room
//! are looked at. A table of functions in kubectl drain's filter order, one reason code each.
//!
//! kubectl's order (k8s.io/kubectl/pkg/drain/filters.go) is DaemonSet, mirror, local storage,
//! unreplicated; finished pods pass every filter but the mirror one. The rules kubectl does
//! not have (hostPath/local volumes, do-not-disrupt annotations) come after its own.

use crate::report::{Action, Reason};
use crate::snapshot::{PodView, Snapshot};
use crate::wire::{DO_NOT_DISRUPT_ANNOTATION, MIRROR_ANNOTATION, SAFE_TO_EVICT_ANNOTATION};

/// The three kubectl drain flags that change which pods may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--force`: delete pods no controller would recreate.
    pub force: bool,
    /// `--delete-emptydir-data`: evict pods with emptyDir volumes (their data is lost).
    pub delete_emptydir_data: bool,
    /// `--ignore-daemonsets`: leave DaemonSet pods where they are instead of refusing.
    pub ignore_daemonsets: bool,
}

/// What a rule says about a pod.
///
/// `Stay` and `Blocked` settle the pod. `Evict` and `Delete` let it go on to the next rules
/// and to the budget and room checks, remembering why (a flag allowed it: data is lost, or
/// nothing recreates it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    pub action: Action,
    /// True when this verdict alone makes the plan `blocked`.
    pub blocking: bool,
    pub message: String,
}

impl Verdict {
    fn new(reason: Reason, action: Action, blocking: bool, message: String) -> Self {
        Verdict {
            reason,
            action,
            blocking,
            message,
        }
    }

    /// Does this verdict end the rule chain?
    pub fn settles(&self) -> bool {
        matches!(self.action, Action::Stay | Action::Blocked)
    }
}

/// A pod rule: `Some(verdict)` when it applies to the pod.
pub type Rule = fn(&PodView, &Snapshot, &Flags) -> Option<Verdict>;

/// The rules, in order, each under the reason it gives (a DaemonSet pod whose DaemonSet is
/// gone is `Unreplicated`, as kubectl treats it).
pub const RULES: &[(Reason, Rule)] = &[
    (Reason::DaemonSetPod, daemonset_pod),
    (Reason::MirrorPod, mirror_pod),
    (Reason::TerminalPod, terminal_pod),
    (Reason::LocalStorage, local_storage),
    (Reason::LocalPersistentVolume, local_persistent_volume),
    (Reason::Unreplicated, unreplicated),
    (Reason::DoNotDisrupt, do_not_disrupt),
];

/// The outcome of the rule chain for one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// Settled by a rule: stays or is blocked.
    Settled(Verdict),
    /// May go. `verdict` is the last rule that let it go with a note (Delete when nothing
    /// recreates it), `None` for a plain eviction; `notes` are the earlier such notes.
    Proceeds {
        verdict: Option<Verdict>,
        notes: Vec<String>,
    },
}

/// Run the rules over one pod.
pub fn judge(pod: &PodView, snap: &Snapshot, flags: &Flags) -> Ruling {
    let mut passed: Vec<Verdict> = Vec::new();
    for (_, rule) in RULES {
        if let Some(v) = rule(pod, snap, flags) {
            if v.settles() {
                return Ruling::Settled(v);
            }
            passed.push(v);
        }
    }
    // A Delete (nothing recreates the pod) outranks an Evict note for the pod's reason.
    let main = passed
        .iter()
        .rposition(|v| v.action == Action::Delete)
        .or_else(|| passed.len().checked_sub(1));
    let verdict = main.map(|i| passed.remove(i));
    Ruling::Proceeds {
        verdict,
        notes: passed
            .into_iter()
            .map(|v| format!("{}: {}", v.reason, v.message))
            .collect(),
    }
}

/// DaemonSet pods stay: their DaemonSet would put them straight back. kubectl refuses to
/// drain without `--ignore-daemonsets`; a pod whose DaemonSet is gone is an orphan that
/// only `--force` deletes.
fn daemonset_pod(pod: &PodView, snap: &Snapshot, flags: &Flags) -> Option<Verdict> {
    let owner = pod.controller.as_ref().filter(|c| c.kind == "DaemonSet")?;
    if pod.is_terminal() {
        return None;
    }
    if snap.daemonset_exists(&pod.namespace, &owner.name) == Some(false) {
        let gone = format!(
            "its DaemonSet {}/{} no longer exists, so nothing recreates it",
            pod.namespace, owner.name
        );
        return Some(if flags.force {
            Verdict::new(
                Reason::Unreplicated,
                Action::Delete,
                false,
                format!("{gone}: deleted for good (--force)"),
            )
        } else {
            Verdict::new(
                Reason::Unreplicated,
                Action::Blocked,
                true,
                format!("{gone}; --force would delete it for good"),
            )
        });
    }
    Some(if flags.ignore_daemonsets {
        Verdict::new(
            Reason::DaemonSetPod,
            Action::Stay,
            false,
            format!("managed by DaemonSet {}; stays on the node", owner.name),
        )
    } else {
        Verdict::new(
            Reason::DaemonSetPod,
            Action::Stay,
            true,
            format!(
                "managed by DaemonSet {}; stays on the node, but kubectl drain refuses without --ignore-daemonsets",
                owner.name
            ),
        )
    })
}

/// Static pods: the kubelet runs them from a file on the node; the API copy cannot move.
fn mirror_pod(pod: &PodView, _: &Snapshot, _: &Flags) -> Option<Verdict> {
    pod.annotation(MIRROR_ANNOTATION)?;
    Some(Verdict::new(
        Reason::MirrorPod,
        Action::Stay,
        false,
        "static pod (mirror of a kubelet manifest); stays on the node".to_string(),
    ))
}

/// Finished pods go without a budget check and need no room.
fn terminal_pod(pod: &PodView, _: &Snapshot, _: &Flags) -> Option<Verdict> {
    pod.is_terminal().then(|| {
        Verdict::new(
            Reason::TerminalPod,
            Action::Delete,
            false,
            format!("{}: removed, nothing needs to run again", pod.phase),
        )
    })
}

/// emptyDir data lives on the node and is lost with the pod.
fn local_storage(pod: &PodView, _: &Snapshot, flags: &Flags) -> Option<Verdict> {
    if pod.empty_dirs.is_empty() || pod.is_terminal() {
        return None;
    }
    let volumes = pod.empty_dirs.join(", ");
    Some(if flags.delete_emptydir_data {
        Verdict::new(
            Reason::LocalStorage,
            Action::Evict,
            false,
            format!("emptyDir data ({volumes}) is lost (--delete-emptydir-data)"),
        )
    } else {
        Verdict::new(
            Reason::LocalStorage,
            Action::Blocked,
            true,
            format!(
                "emptyDir volumes ({volumes}) lose their data; --delete-emptydir-data accepts that"
            ),
        )
    })
}

/// Data on the node itself (hostPath, local PersistentVolumes) cannot follow the pod.
fn local_persistent_volume(pod: &PodView, snap: &Snapshot, _: &Flags) -> Option<Verdict> {
    if pod.is_terminal() {
        return None;
    }
    let mut found: Vec<String> = pod
        .host_paths
        .iter()
        .map(|p| format!("hostPath {p}"))
        .collect();
    for claim in &pod.claims {
        if let Some(pv) = snap.volume_of(pod, claim) {
            if pv.local {
                found.push(format!("claim {claim} on local volume {}", pv.name));
            } else if let Some(path) = &pv.host_path {
                found.push(format!(
                    "claim {claim} on hostPath volume {} ({path})",
                    pv.name
                ));
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    Some(Verdict::new(
        Reason::LocalPersistentVolume,
        Action::Blocked,
        true,
        format!(
            "its data is on this node ({}); it cannot move with the pod",
            found.join(", ")
        ),
    ))
}

/// A pod without a controller is gone for good once deleted.
fn unreplicated(pod: &PodView, _: &Snapshot, flags: &Flags) -> Option<Verdict> {
    if pod.controller.is_some() || pod.is_terminal() {
        return None;
    }
    Some(if flags.force {
        Verdict::new(
            Reason::Unreplicated,
            Action::Delete,
            false,
            "no controller: deleted for good (--force)".to_string(),
        )
    } else {
        Verdict::new(
            Reason::Unreplicated,
            Action::Blocked,
            true,
            "no controller would recreate it; --force would delete it for good".to_string(),
        )
    })
}

/// The autoscalers' opt-outs: the owner said this pod must not be disrupted. No flag
/// overrides them (kubectl drain does not know them).
fn do_not_disrupt(pod: &PodView, _: &Snapshot, _: &Flags) -> Option<Verdict> {
    if pod.is_terminal() {
        return None;
    }
    let which = if pod.annotation(SAFE_TO_EVICT_ANNOTATION) == Some("false") {
        format!("{SAFE_TO_EVICT_ANNOTATION}: \"false\"")
    } else if pod.annotation(DO_NOT_DISRUPT_ANNOTATION) == Some("true") {
        format!("{DO_NOT_DISRUPT_ANNOTATION}: \"true\"")
    } else {
        return None;
    };
    Some(Verdict::new(
        Reason::DoNotDisrupt,
        Action::Blocked,
        true,
        format!("annotated {which}; its owner asked never to disrupt it"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_support::{pod, snapshot};
    use serde_json::{Value, json};

    fn bare(name: &str) -> Value {
        let mut p = pod("default", name, "t1", "x", "100m", "1Mi");
        p["metadata"]["ownerReferences"] = json!([]);
        p
    }

    fn ds_pod(name: &str, ds: &str) -> Value {
        let mut p = pod("default", name, "t1", "x", "100m", "1Mi");
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds, "uid": "u", "controller": true}]);
        p
    }

    fn rule_of(objects: &[Value], name: &str, flags: Flags) -> Ruling {
        let snap = snapshot(objects);
        let p = snap.pods.iter().find(|p| p.name == name).expect("pod");
        judge(p, &snap, &flags)
    }

    fn settled(r: &Ruling) -> Option<(Reason, Action, bool)> {
        match r {
            Ruling::Settled(v) => Some((v.reason, v.action, v.blocking)),
            Ruling::Proceeds { .. } => None,
        }
    }

    fn proceeds(r: &Ruling) -> Option<(Option<Reason>, Option<Action>, usize)> {
        match r {
            Ruling::Proceeds { verdict, notes } => Some((
                verdict.as_ref().map(|v| v.reason),
                verdict.as_ref().map(|v| v.action),
                notes.len(),
            )),
            Ruling::Settled(_) => None,
        }
    }

    const NONE: Flags = Flags {
        force: false,
        delete_emptydir_data: false,
        ignore_daemonsets: false,
    };
    const ALL: Flags = Flags {
        force: true,
        delete_emptydir_data: true,
        ignore_daemonsets: true,
    };

    #[test]
    fn daemonset_pods_stay_and_block_only_without_the_flag() {
        let ds =
            json!({"kind": "DaemonSet", "metadata": {"namespace": "default", "name": "agent"}});
        let objs = [ds, ds_pod("agent-x", "agent"), ds_pod("orphan", "gone")];
        assert_eq!(
            settled(&rule_of(&objs, "agent-x", NONE)),
            Some((Reason::DaemonSetPod, Action::Stay, true))
        );
        assert_eq!(
            settled(&rule_of(&objs, "agent-x", ALL)),
            Some((Reason::DaemonSetPod, Action::Stay, false))
        );
        // An orphan behaves like a pod without a controller (kubectl: "not found").
        assert_eq!(
            settled(&rule_of(&objs, "orphan", NONE)),
            Some((Reason::Unreplicated, Action::Blocked, true))
        );
        assert_eq!(
            proceeds(&rule_of(&objs, "orphan", ALL)),
            Some((Some(Reason::Unreplicated), Some(Action::Delete), 0))
        );
    }

    #[test]
    fn kubectl_order_local_storage_before_unreplicated() {
        let mut p = bare("bare-empty");
        p["spec"]["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
        let objs = [p];
        // kubectl reports it under "local storage" first ...
        assert_eq!(
            settled(&rule_of(&objs, "bare-empty", NONE)),
            Some((Reason::LocalStorage, Action::Blocked, true))
        );
        // ... then, with --delete-emptydir-data, under "no controller".
        let flags = Flags {
            delete_emptydir_data: true,
            ..NONE
        };
        assert_eq!(
            settled(&rule_of(&objs, "bare-empty", flags)),
            Some((Reason::Unreplicated, Action::Blocked, true))
        );
        // With both flags it is deleted; the data loss is kept as a note.
        assert_eq!(
            proceeds(&rule_of(&objs, "bare-empty", ALL)),
            Some((Some(Reason::Unreplicated), Some(Action::Delete), 1))
        );
    }

    #[test]
    fn mirror_terminal_and_plain_pods() {
        let mut mirror = bare("static");
        mirror["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc"});
        let mut done = bare("done");
        done["status"]["phase"] = json!("Succeeded");
        done["spec"]["volumes"] = json!([{"name": "s", "emptyDir": {}}]);
        let plain = pod("default", "web-1", "t1", "web", "1", "1Gi");
        let objs = [mirror, done, plain];
        assert_eq!(
            settled(&rule_of(&objs, "static", ALL)),
            Some((Reason::MirrorPod, Action::Stay, false))
        );
        assert_eq!(
            proceeds(&rule_of(&objs, "done", NONE)),
            Some((Some(Reason::TerminalPod), Some(Action::Delete), 0)),
            "finished pods pass every filter, local storage included"
        );
        assert_eq!(
            proceeds(&rule_of(&objs, "web-1", NONE)),
            Some((None, None, 0))
        );
    }

    #[test]
    fn host_paths_local_volumes_and_opt_outs_block_always() {
        let mut hp = pod("default", "logs", "t1", "x", "1m", "1");
        hp["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/var/log"}}]);
        let mut lpv = pod("default", "db", "t1", "x", "1m", "1");
        lpv["spec"]["volumes"] =
            json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]);
        let pvc = json!({"kind": "PersistentVolumeClaim", "metadata": {"namespace": "default", "name": "data"}, "spec": {"volumeName": "pv-1"}});
        let pv = json!({"kind": "PersistentVolume", "metadata": {"name": "pv-1"}, "spec": {"local": {"path": "/mnt/disk"}}});
        let mut ca = pod("default", "ca", "t1", "x", "1m", "1");
        ca["metadata"]["annotations"] =
            json!({"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"});
        let mut kp = pod("default", "kp", "t1", "x", "1m", "1");
        kp["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
        let mut fine = pod("default", "fine", "t1", "x", "1m", "1");
        fine["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "false"});
        let objs = [hp, lpv, pvc, pv, ca, kp, fine];
        for name in ["logs", "db"] {
            assert_eq!(
                settled(&rule_of(&objs, name, ALL)),
                Some((Reason::LocalPersistentVolume, Action::Blocked, true)),
                "{name}"
            );
        }
        for name in ["ca", "kp"] {
            assert_eq!(
                settled(&rule_of(&objs, name, ALL)),
                Some((Reason::DoNotDisrupt, Action::Blocked, true)),
                "{name}"
            );
        }
        assert_eq!(
            proceeds(&rule_of(&objs, "fine", NONE)),
            Some((None, None, 0))
        );
    }

    #[test]
    fn forced_deletion_still_respects_do_not_disrupt() {
        let mut p = bare("precious");
        p["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
        assert_eq!(
            settled(&rule_of(&[p], "precious", ALL)),
            Some((Reason::DoNotDisrupt, Action::Blocked, true))
        );
    }
}
