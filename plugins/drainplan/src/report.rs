//! The output model: these serde types are the JSON/YAML contract (`DrainPlan` and
//! `DrainReport`, `drainplan.kubectl-plugins.dev/v1`), every field documented in README.md.
//!
//! A `DrainPlan` is also an input (`--plan FILE`): it is read back strictly (unknown fields
//! are a schema mismatch) and must match the cluster's fingerprint.

use std::fmt;

use common::ObjectRef;
use common::journal::Change;
use common::model::Skipped;
use common::write::DryRun;
use serde::{Deserialize, Serialize};

pub const KIND_PLAN: &str = "DrainPlan";
pub const KIND_REPORT: &str = "DrainReport";

/// The `apiVersion` of both documents.
pub fn api_version() -> String {
    common::api_version("drainplan")
}

/// What happens to a pod, with a stable reason code (the string form is the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// Managed by a DaemonSet: stays (blocks without `--ignore-daemonsets`, as kubectl does).
    DaemonSetPod,
    /// A static pod's mirror: stays.
    MirrorPod,
    /// Succeeded or Failed: deleted, no budget, no room needed.
    TerminalPod,
    /// No controller: blocked, or deleted for good with `--force`.
    Unreplicated,
    /// emptyDir volumes: blocked, or evicted with `--delete-emptydir-data` (data lost).
    LocalStorage,
    /// hostPath or a local PersistentVolume: blocked always.
    LocalPersistentVolume,
    /// `safe-to-evict: "false"` / `do-not-disrupt: "true"`: blocked always.
    DoNotDisrupt,
    /// A PodDisruptionBudget does not allow it.
    PDBBlocked,
    /// No node outside the drain would take it.
    NoCapacity,
    /// Moves.
    Evict,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::DaemonSetPod,
        Reason::MirrorPod,
        Reason::TerminalPod,
        Reason::Unreplicated,
        Reason::LocalStorage,
        Reason::LocalPersistentVolume,
        Reason::DoNotDisrupt,
        Reason::PDBBlocked,
        Reason::NoCapacity,
        Reason::Evict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DaemonSetPod => "DaemonSetPod",
            Reason::MirrorPod => "MirrorPod",
            Reason::TerminalPod => "TerminalPod",
            Reason::Unreplicated => "Unreplicated",
            Reason::LocalStorage => "LocalStorage",
            Reason::LocalPersistentVolume => "LocalPersistentVolume",
            Reason::DoNotDisrupt => "DoNotDisrupt",
            Reason::PDBBlocked => "PDBBlocked",
            Reason::NoCapacity => "NoCapacity",
            Reason::Evict => "Evict",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the drain does with a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Evicted; its controller recreates it elsewhere.
    Evict,
    /// Evicted and not recreated (finished, or `--force` on a pod without a controller).
    Delete,
    /// Left on the node.
    Stay,
    /// Cannot go: the drain would stop here.
    Blocked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Evict => "evict",
            Action::Delete => "delete",
            Action::Stay => "stay",
            Action::Blocked => "blocked",
        }
    }

    /// The pod leaves the node (evict or delete).
    pub fn leaves(self) -> bool {
        matches!(self, Action::Evict | Action::Delete)
    }
}

/// The plan's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Safe,
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Blocked => "blocked",
        }
    }
}

/// A PDB block: would a wait help?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permanence {
    /// Never allowed as configured (maxUnavailable 0, minAvailable ≥ replicas, several PDBs).
    Permanent,
    /// Unhealthy pods use the budget now; allowed once they recover.
    Transient,
}

/// `kubectl drainplan ... -o json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrainPlan {
    pub api_version: String,
    pub kind: String,
    pub metadata: PlanMetadata,
    pub spec: PlanSpec,
    pub verdict: Verdict,
    pub summary: Summary,
    pub nodes: Vec<PlanNode>,
    pub waves: Vec<Wave>,
    /// Every pod on the target nodes, blockers first.
    pub pods: Vec<PlanPod>,
    /// Every budget covering a pod on the target nodes.
    pub pdbs: Vec<PlanPdb>,
    /// Free room on the nodes that can receive pods, before the drain (total only).
    pub capacity_before: Room,
    /// What could not be looked at (exit 4 when the plan is otherwise safe).
    pub skipped: Vec<Skipped>,
    /// `sha256:<hex>` over the cluster state and the decisions (see README).
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanMetadata {
    /// When the plan was made (RFC 3339).
    pub generated_at: String,
    /// The kubeconfig context.
    pub context: String,
    /// The API server URL.
    pub server: String,
}

/// What was asked: the nodes (in order) and the kubectl drain flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanSpec {
    pub nodes: Vec<String>,
    /// The `-l` selector the nodes were chosen with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    pub force: bool,
    pub delete_emptydir_data: bool,
    pub ignore_daemonsets: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Summary {
    pub nodes: usize,
    pub waves: usize,
    pub pods: usize,
    pub evict: usize,
    pub delete: usize,
    pub stay: usize,
    pub blocked: usize,
    /// Pods that make the plan blocked (blocked pods and, without --ignore-daemonsets,
    /// DaemonSet pods).
    pub blockers: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanNode {
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    /// The wave that drains it (from 1).
    pub wave: u32,
    /// Cordoned before this plan (by someone else: it stays cordoned after `uncordon`).
    pub cordoned: bool,
    /// Cordoned by an earlier `kubectl drainplan --execute` (carries our annotation).
    pub cordoned_by_drainplan: bool,
    pub ready: bool,
    /// Pods bound to it (any phase).
    pub pods: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wave {
    pub number: u32,
    pub nodes: Vec<String>,
    /// `namespace/name` of the pods it evicts or deletes, in order.
    pub pods: Vec<String>,
    /// Free room after this wave's pods have moved: the total over the receiving nodes,
    /// and each node that received pods in this wave or an earlier one.
    pub capacity_after: Capacity,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Capacity {
    pub total: Room,
    pub nodes: Vec<NodeRoom>,
}

/// Allocatable, requested and free amounts of the three resources every pod uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Room {
    pub cpu_millis: Amount,
    pub memory_bytes: Amount,
    pub pods: Amount,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Amount {
    pub allocatable: i64,
    pub requested: i64,
    pub free: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRoom {
    pub node: String,
    pub cpu_millis: Amount,
    pub memory_bytes: Amount,
    pub pods: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanPod {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub node: String,
    /// The workload behind it (Deployment, StatefulSet, DaemonSet, Job, ...; the pod itself
    /// when it has no controller).
    pub owner: ObjectRef,
    pub action: Action,
    pub reason: Reason,
    /// True when this pod makes the plan blocked.
    pub blocking: bool,
    pub message: String,
    /// A node the scheduler would accept for its replacement (a hint: the scheduler picks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The wave that evicts it (pods that leave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    /// `namespace/name` of the budgets covering it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pdbs: Vec<String>,
    /// What a flag accepted on the way (data loss, deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanPdb {
    pub namespace: String,
    pub name: String,
    /// `status.disruptionsAllowed`.
    pub allowed: i64,
    /// `status.desiredHealthy`: pods that must stay healthy.
    pub needed: i64,
    /// `status.currentHealthy`.
    pub healthy: i64,
    /// `status.expectedPods`.
    pub expected: i64,
    /// `metadata.generation` and `status.observedGeneration` (behind: the status is stale).
    pub generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Evictions of the plan this budget is charged for, in all waves.
    pub evictions: usize,
    /// `namespace/name` of the plan's pods it blocks.
    pub blocks: Vec<String>,
    /// Set when it blocks: permanent or transient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Permanence>,
    pub message: String,
}

/// `kubectl drainplan --execute ... -o json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainReport {
    pub api_version: String,
    pub kind: String,
    pub metadata: ReportMetadata,
    pub dry_run: DryRun,
    pub outcome: Outcome,
    /// One line saying how it ended.
    pub message: String,
    /// The plan that was executed.
    pub plan: DrainPlan,
    pub waves: Vec<WaveReport>,
    /// Target nodes cordoned at the end, and by whom.
    pub cordoned: Vec<CordonedNode>,
    /// `namespace/name` of pods the plan meant to move that this run did not evict (empty
    /// for dry runs).
    pub remaining: Vec<String>,
    /// Every write, in order (the suite's change journal).
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportMetadata {
    pub started_at: String,
    pub finished_at: String,
    pub context: String,
    pub server: String,
    pub requests: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every wave done (or, under --dry-run, shown).
    Drained,
    /// The plan is blocked: nothing was changed.
    Blocked,
    /// `--timeout` or `--pod-timeout` passed: stopped.
    TimedOut,
    /// Ctrl-C / SIGTERM: stopped.
    Interrupted,
    /// An eviction or cordon failed: stopped.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    pub number: u32,
    pub nodes: Vec<String>,
    pub status: WaveStatus,
    /// Nodes this wave cordoned (not those cordoned before).
    pub cordoned: Vec<String>,
    /// `namespace/name` of pods evicted (deleted for good included).
    pub evicted: Vec<String>,
    /// How long the wave took, in milliseconds.
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WaveStatus {
    Done,
    Stopped,
    NotStarted,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CordonedNode {
    pub node: String,
    /// True when drainplan cordoned it (`uncordon` undoes it); false when it was cordoned before.
    pub by_drainplan: bool,
}

/// `kubectl drainplan uncordon ... -o json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UncordonReport {
    pub api_version: String,
    pub kind: String,
    pub dry_run: DryRun,
    pub nodes: Vec<UncordonedNode>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UncordonedNode {
    pub node: String,
    pub result: UncordonResult,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UncordonResult {
    /// drainplan had cordoned it: now schedulable again.
    Uncordoned,
    /// Cordoned by someone else: left as it was.
    LeftCordoned,
    /// Not cordoned: nothing to do (a stale annotation of ours is removed).
    NotCordoned,
}

pub const KIND_UNCORDON: &str = "UncordonReport";
