//! Making the `DrainPlan`: the pod rules, then budgets over all target nodes together, then
//! room outside the drain, then waves and the room left after each; and its fingerprint.
//!
//! Pure: a function of the snapshot and the request, so `--execute --plan` can make the plan
//! again on the live cluster and compare.

use std::collections::{BTreeMap, HashMap};

use common::{Error, Result};
use sha2::{Digest, Sha256};

use crate::fit::{self, Fit};
use crate::pdb::{self, Charge};
use crate::report::{
    Action, Amount, Capacity, DrainPlan, KIND_PLAN, NodeRoom, Permanence, PlanMetadata, PlanNode,
    PlanPdb, PlanPod, PlanSpec, Reason, Room, Summary, Verdict, Wave, api_version,
};
use crate::resources::Requests;
use crate::rules::{self, Flags, Ruling};
use crate::snapshot::{NodeView, PodView, Snapshot};
use crate::waves::{self, Demand};

/// Where the plan is made: for its metadata.
#[derive(Debug, Clone)]
pub struct Origin {
    pub context: String,
    pub server: String,
    pub now: jiff::Timestamp,
}

impl PlanSpec {
    pub fn flags(&self) -> Flags {
        Flags {
            force: self.force,
            delete_emptydir_data: self.delete_emptydir_data,
            ignore_daemonsets: self.ignore_daemonsets,
        }
    }
}

/// One pod's plan while it is being worked out.
struct Item<'a> {
    pod: &'a PodView,
    action: Action,
    reason: Reason,
    blocking: bool,
    message: Vec<String>,
    warnings: Vec<String>,
    /// The budget (index into `Snapshot::pdbs`) this pod's eviction is charged to.
    charge: Option<usize>,
    /// Budgets refusing it, with permanence (PDBBlocked).
    refused_by: Vec<String>,
    permanence: Option<Permanence>,
    destination: Option<String>,
    wave: Option<u32>,
}

/// Make the plan for `spec` on `snap`.
pub fn make(snap: &Snapshot, spec: &PlanSpec, origin: &Origin) -> Result<DrainPlan> {
    let flags = spec.flags();
    let mut targets: Vec<&NodeView> = Vec::new();
    for name in &spec.nodes {
        let node = snap.node(name).ok_or_else(|| {
            Error::usage(format!("node \"{name}\" not found"))
                .with_hint("kubectl get nodes lists the nodes")
        })?;
        if targets.iter().any(|t| t.name == node.name) {
            return Err(Error::usage(format!("node \"{name}\" is named twice")));
        }
        targets.push(node);
    }

    // 1. The pod rules.
    let mut items: Vec<Item<'_>> = Vec::new();
    for node in &targets {
        for pod in snap.pods_on(&node.name) {
            items.push(judge(pod, snap, &flags));
        }
    }

    // 2. Budgets, over every leaving pod of every target node together.
    for item in items.iter_mut().filter(|i| i.action.leaves()) {
        match pdb::charge(item.pod, snap) {
            Charge::Free(note) => item.message.extend(note),
            Charge::Charged(i) => {
                let b = &snap.pdbs[i];
                item.charge = Some(i);
                item.message.push(format!(
                    "counts against PDB {} (allows {} now)",
                    b.key(),
                    b.disruptions_allowed
                ));
            }
            Charge::Blocked {
                pdbs,
                permanence,
                message,
            } => {
                item.action = Action::Blocked;
                item.reason = Reason::PDBBlocked;
                item.blocking = true;
                item.message = vec![format!(
                    "{message} [{}]",
                    match permanence {
                        Permanence::Permanent => "permanent",
                        Permanence::Transient => "transient",
                    }
                )];
                item.refused_by = pdbs;
                item.permanence = Some(permanence);
            }
        }
    }

    // 3. Room outside the drain, pod after pod in node order.
    let mut fit = Fit::new(snap, spec.nodes.iter().cloned());
    for item in items.iter_mut().filter(|i| i.action == Action::Evict) {
        if !item.pod.default_scheduler {
            item.message
                .push("scheduled by another scheduler: room not checked".to_string());
            continue;
        }
        match fit.place(item.pod) {
            Ok(node) => {
                item.message
                    .push(format!("moves; {node} would take it (the scheduler picks)"));
                item.destination = Some(node);
            }
            Err(rejection) => {
                item.action = Action::Blocked;
                item.reason = Reason::NoCapacity;
                item.blocking = true;
                item.charge = None;
                item.message = vec![format!(
                    "fits on no node outside the drain: {}",
                    rejection.message
                )];
            }
        }
    }

    // 4. Waves, by what each node's leaving pods charge to each budget.
    let demands: Vec<Demand> = targets
        .iter()
        .map(|n| {
            let mut charges = BTreeMap::new();
            for item in items.iter().filter(|i| i.pod.node == n.name) {
                if let (true, Some(c)) = (item.action.leaves(), item.charge) {
                    *charges.entry(c).or_insert(0) += 1;
                }
            }
            Demand {
                node: n.name.clone(),
                charges,
            }
        })
        .collect();
    let grouped = waves::split(&demands, &|i| snap.pdbs[i].disruptions_allowed);
    let wave_of: HashMap<&str, u32> = grouped
        .iter()
        .enumerate()
        .flat_map(|(i, nodes)| {
            let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
            nodes.iter().map(move |node| (node.as_str(), n))
        })
        .collect();
    for item in items.iter_mut().filter(|i| i.action.leaves()) {
        item.wave = wave_of.get(item.pod.node.as_str()).copied();
    }

    // 5. Room before and after each wave.
    let destinations = fit.destinations();
    let mut usage = fit::usage(snap);
    let capacity_before = total_room(&destinations, &usage);
    let mut receiving: Vec<String> = Vec::new();
    let mut wave_docs = Vec::new();
    for (i, nodes) in grouped.iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let mut pods = Vec::new();
        for item in items.iter().filter(|it| it.wave == Some(number)) {
            pods.push(item.pod.key());
            if let Some(dest) = &item.destination {
                let e = usage.entry(dest.clone()).or_default();
                e.0.add(&item.pod.requests);
                e.1 += 1;
                if !receiving.contains(dest) {
                    receiving.push(dest.clone());
                }
            }
        }
        receiving.sort();
        let node_rooms = receiving
            .iter()
            .filter_map(|n| snap.node(n))
            .map(|n| {
                let r = room(n, &usage);
                NodeRoom {
                    node: n.name.clone(),
                    cpu_millis: r.cpu_millis,
                    memory_bytes: r.memory_bytes,
                    pods: r.pods,
                }
            })
            .collect();
        wave_docs.push(Wave {
            number,
            nodes: nodes.clone(),
            pods,
            capacity_after: Capacity {
                total: total_room(&destinations, &usage),
                nodes: node_rooms,
            },
        });
    }

    // 6. Budgets as the plan uses them.
    let pdbs = budget_entries(snap, &items);

    // 7. The document.
    let plan_nodes = targets
        .iter()
        .map(|n| PlanNode {
            name: n.name.clone(),
            uid: n.uid.clone(),
            resource_version: n.resource_version.clone(),
            wave: wave_of.get(n.name.as_str()).copied().unwrap_or(1),
            cordoned: n.unschedulable && n.cordoned_by_us.is_none(),
            cordoned_by_drainplan: n.unschedulable && n.cordoned_by_us.is_some(),
            ready: n.ready,
            pods: snap.pods_on(&n.name).count(),
        })
        .collect();
    let order: HashMap<&str, usize> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    items.sort_by_key(|i| {
        (
            !i.blocking,
            i.wave.unwrap_or(u32::MAX),
            order
                .get(i.pod.node.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            i.pod.namespace.clone(),
            i.pod.name.clone(),
        )
    });
    let pods: Vec<PlanPod> = items.iter().map(|i| pod_entry(snap, i)).collect();
    let summary = Summary {
        nodes: targets.len(),
        waves: wave_docs.len(),
        pods: pods.len(),
        evict: count(&pods, Action::Evict),
        delete: count(&pods, Action::Delete),
        stay: count(&pods, Action::Stay),
        blocked: count(&pods, Action::Blocked),
        blockers: pods.iter().filter(|p| p.blocking).count(),
    };
    let verdict = if summary.blockers > 0 {
        Verdict::Blocked
    } else {
        Verdict::Safe
    };
    let mut plan = DrainPlan {
        api_version: api_version(),
        kind: KIND_PLAN.to_string(),
        metadata: PlanMetadata {
            generated_at: origin.now.to_string(),
            context: origin.context.clone(),
            server: origin.server.clone(),
        },
        spec: spec.clone(),
        verdict,
        summary,
        nodes: plan_nodes,
        waves: wave_docs,
        pods,
        pdbs,
        capacity_before,
        skipped: snap.skipped.clone(),
        fingerprint: String::new(),
    };
    plan.fingerprint = fingerprint(&plan);
    Ok(plan)
}

/// Run the rules over one pod.
fn judge<'a>(pod: &'a PodView, snap: &Snapshot, flags: &Flags) -> Item<'a> {
    let mut item = Item {
        pod,
        action: Action::Evict,
        reason: Reason::Evict,
        blocking: false,
        message: Vec::new(),
        warnings: Vec::new(),
        charge: None,
        refused_by: Vec::new(),
        permanence: None,
        destination: None,
        wave: None,
    };
    match rules::judge(pod, snap, flags) {
        Ruling::Settled(v) => {
            item.action = v.action;
            item.reason = v.reason;
            item.blocking = v.blocking;
            item.message.push(v.message);
        }
        Ruling::Proceeds { verdict, notes } => {
            if let Some(v) = verdict {
                item.action = v.action;
                item.reason = v.reason;
                item.message.push(v.message);
            }
            item.warnings = notes;
        }
    }
    item
}

fn pod_entry(snap: &Snapshot, i: &Item<'_>) -> PlanPod {
    let p = i.pod;
    PlanPod {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        uid: p.uid.clone(),
        resource_version: p.resource_version.clone(),
        node: p.node.clone(),
        owner: p.workload.clone(),
        action: i.action,
        reason: i.reason,
        blocking: i.blocking,
        message: i.message.join("; "),
        destination: i.destination.clone(),
        wave: i.wave,
        pdbs: snap.pdbs_for(p).iter().map(|b| b.key()).collect(),
        warnings: i.warnings.clone(),
    }
}

fn count(pods: &[PlanPod], action: Action) -> usize {
    pods.iter().filter(|p| p.action == action).count()
}

/// Every budget that covers a pod the rules let go (the ones the Eviction API consults).
fn budget_entries(snap: &Snapshot, items: &[Item<'_>]) -> Vec<PlanPdb> {
    let consulted = |i: &&Item<'_>| {
        i.action.leaves() || i.reason == Reason::PDBBlocked || i.reason == Reason::NoCapacity
    };
    let mut out = Vec::new();
    for (index, b) in snap.pdbs.iter().enumerate() {
        let covered: Vec<&Item<'_>> = items
            .iter()
            .filter(consulted)
            .filter(|i| b.covers(i.pod))
            .collect();
        if covered.is_empty() {
            continue;
        }
        let evictions = covered
            .iter()
            .filter(|i| i.charge == Some(index) && i.action.leaves())
            .count();
        let blocking: Vec<&&Item<'_>> = covered
            .iter()
            .filter(|i| i.reason == Reason::PDBBlocked && i.refused_by.contains(&b.key()))
            .collect();
        let blocked = blocking
            .iter()
            .filter_map(|i| i.permanence)
            .max_by_key(|p| *p == Permanence::Permanent);
        let message = match (blocked, blocking.first()) {
            (Some(_), Some(first)) => first.message.join("; "),
            _ if evictions == 0 => {
                "charged nothing: the pods it covers go without using the budget".to_string()
            }
            _ => {
                let waves: std::collections::BTreeSet<u32> = covered
                    .iter()
                    .filter(|i| i.charge == Some(index))
                    .filter_map(|i| i.wave)
                    .collect();
                format!(
                    "allows {} disruption(s) now; the plan evicts {evictions} pod(s) under it in {} wave(s)",
                    b.disruptions_allowed,
                    waves.len()
                )
            }
        };
        out.push(PlanPdb {
            namespace: b.namespace.clone(),
            name: b.name.clone(),
            allowed: b.disruptions_allowed,
            needed: b.desired_healthy,
            healthy: b.current_healthy,
            expected: b.expected_pods,
            generation: b.generation,
            observed_generation: b.observed_generation,
            evictions,
            blocks: blocking.iter().map(|i| i.pod.key()).collect(),
            blocked,
            message,
        });
    }
    out
}

fn room(node: &NodeView, usage: &HashMap<String, (Requests, i64)>) -> Room {
    let (used, pods) = usage.get(&node.name).cloned().unwrap_or_default();
    let amount = |alloc: i64, requested: i64| Amount {
        allocatable: alloc,
        requested,
        free: alloc - requested,
    };
    Room {
        cpu_millis: amount(node.allocatable.cpu, used.cpu),
        memory_bytes: amount(node.allocatable.memory, used.memory),
        pods: amount(node.allocatable_pods, pods),
    }
}

fn total_room(nodes: &[&NodeView], usage: &HashMap<String, (Requests, i64)>) -> Room {
    let mut total = Room::default();
    for n in nodes {
        let r = room(n, usage);
        for (t, x) in [
            (&mut total.cpu_millis, r.cpu_millis),
            (&mut total.memory_bytes, r.memory_bytes),
            (&mut total.pods, r.pods),
        ] {
            t.allocatable += x.allocatable;
            t.requested += x.requested;
            t.free += x.free;
        }
    }
    total
}

/// `sha256:<hex>` over what the execution acts on and the state it was decided on: the
/// request, each target node's uid and resourceVersion, each pod's uid, resourceVersion and
/// decision, each budget's status, the waves and the verdict. Free text (messages,
/// destinations, room) is not covered: it informs, the execution does not act on it.
pub fn fingerprint(plan: &DrainPlan) -> String {
    let mut lines: Vec<String> = vec![
        format!("{}/{}", plan.api_version, plan.kind),
        format!(
            "spec nodes={} force={} deleteEmptydirData={} ignoreDaemonsets={}",
            plan.spec.nodes.join(","),
            plan.spec.force,
            plan.spec.delete_emptydir_data,
            plan.spec.ignore_daemonsets
        ),
        format!("verdict {}", plan.verdict.as_str()),
    ];
    for n in &plan.nodes {
        lines.push(format!(
            "node {} {} {} wave={} cordoned={} ours={}",
            n.name, n.uid, n.resource_version, n.wave, n.cordoned, n.cordoned_by_drainplan
        ));
    }
    let mut pods: Vec<&crate::report::PlanPod> = plan.pods.iter().collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for p in pods {
        lines.push(format!(
            "pod {}/{} {} {} node={} {} {} blocking={} wave={}",
            p.namespace,
            p.name,
            p.uid,
            p.resource_version,
            p.node,
            p.action.as_str(),
            p.reason,
            p.blocking,
            p.wave.map(|w| w.to_string()).unwrap_or_default()
        ));
    }
    for b in &plan.pdbs {
        lines.push(format!(
            "pdb {}/{} allowed={} needed={} healthy={} expected={} generation={} observed={}",
            b.namespace,
            b.name,
            b.allowed,
            b.needed,
            b.healthy,
            b.expected,
            b.generation,
            b.observed_generation
                .map(|o| o.to_string())
                .unwrap_or_default()
        ));
    }
    for w in &plan.waves {
        lines.push(format!(
            "wave {} nodes={} pods={}",
            w.number,
            w.nodes.join(","),
            w.pods.join(",")
        ));
    }
    for s in &plan.skipped {
        lines.push(format!("skipped {} {:?}", s.what, s.cause));
    }
    let mut hasher = Sha256::new();
    for l in &lines {
        hasher.update(l.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
pub mod test_support {
    //! Plans of JSON-described clusters, for the unit tests of plan and planfile.
    use super::*;

    /// A request for `nodes` with `--ignore-daemonsets` only when `ignore_daemonsets`.
    pub fn spec(nodes: &[&str], ignore_daemonsets: bool) -> PlanSpec {
        PlanSpec {
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            selector: None,
            force: false,
            delete_emptydir_data: false,
            ignore_daemonsets,
        }
    }

    pub fn origin() -> Origin {
        Origin {
            context: "c".into(),
            server: "s".into(),
            now: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    /// The plan of draining `nodes` of the cluster `objects`.
    pub fn plan_of(
        objects: &[serde_json::Value],
        nodes: &[&str],
        ignore_daemonsets: bool,
    ) -> DrainPlan {
        let snap = crate::snapshot::test_support::snapshot(objects);
        make(&snap, &spec(nodes, ignore_daemonsets), &origin()).expect("plan")
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{origin, plan_of, spec};
    use super::*;
    use crate::snapshot::test_support::{node, pdb, pod, snapshot};

    fn make_plan(objects: &[serde_json::Value], nodes: &[&str]) -> DrainPlan {
        plan_of(objects, nodes, false)
    }

    fn cluster() -> Vec<serde_json::Value> {
        vec![
            node("d", "4", "8Gi", 110),
            node("t1", "4", "8Gi", 110),
            node("t2", "4", "8Gi", 110),
            pod("x", "web-1", "t1", "web", "1", "1Gi"),
            pod("x", "web-2", "t2", "web", "1", "1Gi"),
            pod("x", "web-3", "d", "web", "1", "1Gi"),
            pdb("x", "web", 2, 1, 3, 3),
        ]
    }

    #[test]
    fn budgets_split_waves_and_room_shrinks_after_each() {
        let plan = make_plan(&cluster(), &["t1", "t2"]);
        assert_eq!(plan.verdict, Verdict::Safe);
        let waves: Vec<&[String]> = plan.waves.iter().map(|w| w.nodes.as_slice()).collect();
        assert_eq!(waves, [["t1".to_string()], ["t2".to_string()]]);
        assert_eq!(plan.pdbs[0].evictions, 2);
        let free = |r: &Room| r.cpu_millis.free;
        assert_eq!(free(&plan.capacity_before), 3000);
        assert_eq!(free(&plan.waves[0].capacity_after.total), 2000);
        assert_eq!(free(&plan.waves[1].capacity_after.total), 1000);
        assert_eq!(plan.waves[1].capacity_after.nodes[0].node, "d");
        assert_eq!(
            plan.nodes.iter().map(|n| n.wave).collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn a_pod_without_room_charges_no_budget_and_blocks_first() {
        let mut objs = cluster();
        objs[0] = node("d", "2500m", "8Gi", 110); // web-3 leaves room for one mover
        let plan = make_plan(&objs, &["t1", "t2"]);
        assert_eq!(plan.verdict, Verdict::Blocked);
        assert_eq!(plan.pods[0].reason, Reason::NoCapacity, "blockers first");
        assert!(plan.pods[0].blocking);
        assert_eq!(plan.pdbs[0].evictions, 1, "the blocked pod is not charged");
        assert_eq!(
            plan.waves.len(),
            1,
            "one eviction fits the budget in one wave"
        );
        assert_eq!(plan.summary.blockers, 1);
    }

    #[test]
    fn the_fingerprint_covers_state_and_decisions_not_free_text() {
        let plan = make_plan(&cluster(), &["t1", "t2"]);
        assert_eq!(fingerprint(&plan), plan.fingerprint);
        let mut same = plan.clone();
        same.pods[0].message = "edited".into();
        same.pods[0].destination = None;
        same.metadata.generated_at = "later".into();
        assert_eq!(fingerprint(&same), plan.fingerprint);
        let mut moved = plan.clone();
        moved.nodes[0].resource_version = "99".into();
        assert_ne!(fingerprint(&moved), plan.fingerprint);
        let mut regrouped = plan.clone();
        regrouped.waves[0].nodes.push("t2".into());
        assert_ne!(fingerprint(&regrouped), plan.fingerprint);
        let mut budget = plan;
        budget.pdbs[0].healthy = 2;
        assert_ne!(fingerprint(&budget), budget.fingerprint);
    }

    #[test]
    fn unknown_and_repeated_nodes_are_usage_errors() {
        let snap = snapshot(&cluster());
        for nodes in [vec!["nope"], vec!["t1", "t1"]] {
            let e = make(&snap, &spec(&nodes, false), &origin()).expect_err("refused");
            assert_eq!(e.exit(), common::Exit::Usage);
        }
    }
}
