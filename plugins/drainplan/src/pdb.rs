//! PodDisruptionBudgets, counted across every target node together: which leaving pods the
//! Eviction API lets go freely, which it charges to a budget, which it refuses, and whether
//! a refusal is permanent or transient.
//!
//! Follows `pkg/registry/core/pod/storage/eviction.go`: Pending, finished and terminating
//! pods are deleted without a budget check; a pod under several budgets is refused; a pod
//! that is not Ready may go while its budget holds (IfHealthyBudget) or always (AlwaysAllow);
//! a Ready pod needs `disruptionsAllowed > 0` and takes one.

use crate::report::Permanence;
use crate::snapshot::{PdbView, PodView, Snapshot};

/// What a budget says about one leaving pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    /// No budget is consulted or charged.
    Free(Option<String>),
    /// Charged to the budget at this index of `Snapshot::pdbs`.
    Charged(usize),
    /// Refused.
    Blocked {
        /// The budget(s) refusing, `namespace/name`.
        pdbs: Vec<String>,
        permanence: Permanence,
        message: String,
    },
}

/// The budget verdict for a pod that the rules let go.
pub fn charge(pod: &PodView, snap: &Snapshot) -> Charge {
    if pod.is_terminal() || pod.phase == "Pending" || pod.terminating {
        return Charge::Free(None);
    }
    let covering: Vec<(usize, &PdbView)> = snap
        .pdbs
        .iter()
        .enumerate()
        .filter(|(_, b)| b.covers(pod))
        .collect();
    let (index, pdb) = match covering.as_slice() {
        [] => return Charge::Free(None),
        [one] => *one,
        many => {
            let names: Vec<String> = many.iter().map(|(_, b)| b.key()).collect();
            return Charge::Blocked {
                message: format!(
                    "covered by {} PodDisruptionBudgets ({}); the Eviction API refuses pods with more than one",
                    names.len(),
                    names.join(", ")
                ),
                pdbs: names,
                permanence: Permanence::Permanent,
            };
        }
    };
    if pdb.observed_generation.is_some_and(|o| o < pdb.generation) {
        return Charge::Blocked {
            pdbs: vec![pdb.key()],
            permanence: Permanence::Transient,
            message: format!(
                "PDB {} changed and the disruption controller has not caught up yet",
                pdb.key()
            ),
        };
    }
    if !pod.ready {
        if pdb.always_allow_unhealthy {
            return Charge::Free(Some(format!(
                "not Ready: PDB {} allows evicting unhealthy pods (AlwaysAllow)",
                pdb.key()
            )));
        }
        if pdb.current_healthy >= pdb.desired_healthy {
            return Charge::Free(Some(format!(
                "not Ready: may go while PDB {} holds ({} healthy, {} needed)",
                pdb.key(),
                pdb.current_healthy,
                pdb.desired_healthy
            )));
        }
        return blocked(pdb, snap);
    }
    if pdb.disruptions_allowed <= 0 {
        return blocked(pdb, snap);
    }
    Charge::Charged(index)
}

/// A refusal by `pdb`, with why and whether waiting helps.
fn blocked(pdb: &PdbView, snap: &Snapshot) -> Charge {
    let (permanence, why) = permanence(pdb, snap);
    Charge::Blocked {
        pdbs: vec![pdb.key()],
        permanence,
        message: format!(
            "PDB {} needs {} healthy, has {} (allows {} disruptions): {why}",
            pdb.key(),
            pdb.desired_healthy,
            pdb.current_healthy,
            pdb.disruptions_allowed.max(0)
        ),
    }
}

/// Why a budget allows nothing now, and whether that can change without editing it.
pub fn permanence(pdb: &PdbView, snap: &Snapshot) -> (Permanence, String) {
    if pdb.max_unavailable.as_ref().is_some_and(|m| m.is_zero()) {
        return (
            Permanence::Permanent,
            "maxUnavailable is 0, so no voluntary disruption is ever allowed".to_string(),
        );
    }
    if pdb.expected_pods > 0 && pdb.desired_healthy >= pdb.expected_pods {
        let min = pdb
            .min_available
            .as_ref()
            .map(|m| format!("minAvailable {}", m.text()))
            .unwrap_or_else(|| "its budget".to_string());
        return (
            Permanence::Permanent,
            format!(
                "{min} needs all {} of {} pods, so none may ever go",
                pdb.desired_healthy, pdb.expected_pods
            ),
        );
    }
    let unhealthy: Vec<String> = snap
        .pods
        .iter()
        .filter(|p| pdb.covers(p) && !p.is_terminal() && !p.ready)
        .map(|p| {
            if p.node.is_empty() {
                p.name.clone()
            } else {
                format!("{} on {}", p.name, p.node)
            }
        })
        .collect();
    let why = if unhealthy.is_empty() {
        format!(
            "{} of {} expected pods are healthy; it allows disruptions again when more are",
            pdb.current_healthy, pdb.expected_pods
        )
    } else {
        format!(
            "{} unhealthy pod(s) use the budget ({}); it allows disruptions again once they are Ready",
            unhealthy.len(),
            unhealthy.join(", ")
        )
    };
    (Permanence::Transient, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_support::{node, pdb, pod, snapshot};
    use serde_json::json;

    fn charge_of(objects: &[serde_json::Value], name: &str) -> Charge {
        let snap = snapshot(objects);
        let p = snap.pods.iter().find(|p| p.name == name).expect("pod");
        charge(p, &snap)
    }

    fn permanence_of(c: &Charge) -> Option<Permanence> {
        match c {
            Charge::Blocked { permanence, .. } => Some(*permanence),
            _ => None,
        }
    }

    #[test]
    fn ready_pods_are_charged_unhealthy_ones_go_while_the_budget_holds() {
        let mut sick = pod("x", "web-3", "t", "web", "1m", "1");
        sick["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        let mut pending = pod("x", "web-4", "t", "web", "1m", "1");
        pending["status"]["phase"] = json!("Pending");
        let objs = [
            node("t", "1", "1Gi", 10),
            pod("x", "web-1", "t", "web", "1m", "1"),
            sick.clone(),
            pending,
            pdb("x", "web", 2, 1, 3, 4),
        ];
        assert_eq!(charge_of(&objs, "web-1"), Charge::Charged(0));
        assert!(matches!(charge_of(&objs, "web-3"), Charge::Free(Some(_))));
        assert_eq!(charge_of(&objs, "web-4"), Charge::Free(None));
        // Budget not met: the unhealthy pod may not go either (transient).
        let objs = [sick, pdb("x", "web", 2, 0, 1, 3)];
        let c = charge_of(&objs, "web-3");
        assert_eq!(permanence_of(&c), Some(Permanence::Transient));
    }

    #[test]
    fn permanent_and_transient_blocks() {
        // minAvailable 3 of 3: never.
        let c = charge_of(
            &[
                pod("x", "a-1", "t", "a", "1m", "1"),
                pdb("x", "a", 3, 0, 3, 3),
            ],
            "a-1",
        );
        assert_eq!(permanence_of(&c), Some(Permanence::Permanent));
        // maxUnavailable 0: never.
        let mut zero = pdb("x", "a", 0, 0, 3, 3);
        zero["spec"] = json!({"maxUnavailable": 0, "selector": {"matchLabels": {"app": "a"}}});
        let c = charge_of(&[pod("x", "a-1", "t", "a", "1m", "1"), zero], "a-1");
        assert_eq!(permanence_of(&c), Some(Permanence::Permanent));
        // minAvailable 2 of 3 with one unhealthy pod: wait for it.
        let mut sick = pod("x", "a-2", "n2", "a", "1m", "1");
        sick["status"]["conditions"] = json!([]);
        let objs = [
            pod("x", "a-1", "t", "a", "1m", "1"),
            sick,
            pdb("x", "a", 2, 0, 2, 3),
        ];
        match charge_of(&objs, "a-1") {
            Charge::Blocked {
                permanence,
                message,
                pdbs,
            } => {
                assert_eq!(permanence, Permanence::Transient);
                assert_eq!(pdbs, ["x/a"]);
                assert!(message.starts_with("PDB x/a needs 2 healthy, has 2 (allows 0 disruptions): 1 unhealthy pod(s) use the budget (a-2 on n2)"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn several_budgets_are_refused_by_the_eviction_api() {
        let mut other = pdb("x", "b", 1, 1, 2, 2);
        other["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
        let objs = [
            pod("x", "a-1", "t", "a", "1m", "1"),
            pdb("x", "a", 1, 1, 2, 2),
            other,
        ];
        let c = charge_of(&objs, "a-1");
        assert_eq!(permanence_of(&c), Some(Permanence::Permanent));
    }

    #[test]
    fn a_budget_behind_its_spec_blocks_for_now() {
        let mut behind = pdb("x", "a", 1, 1, 2, 2);
        behind["metadata"]["generation"] = json!(2);
        let c = charge_of(&[pod("x", "a-1", "t", "a", "1m", "1"), behind], "a-1");
        assert_eq!(permanence_of(&c), Some(Permanence::Transient));
    }
}
