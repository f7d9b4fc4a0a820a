//! The output model, which is the JSON/YAML contract (`rotate.kubectl-plugins.dev/v1`):
//! RotationReport, CleanupReport, RotationStatus, RestartReport, CertificateReport.
//! Every field is documented in plugins/rotate/README.md.

use common::ObjectRef;
use common::journal::Change;
use common::model::Skipped;
use common::write::DryRun;
use serde::Serialize;

use crate::certs::{CertEntry, Summary, Unreadable};
use crate::cleanup::Decision;
use crate::consumers::Consumer;
use crate::execute::{Execution, HealthEntry, Outcome};
use crate::health::Verdict;
use crate::plan::Plan;
use crate::snapshot::Version;
use crate::status::UsageMap;
use crate::validate::Validation;

/// Request count and wall time of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// API requests made.
    pub requests: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

fn api_version() -> String {
    common::api_version("rotate")
}

/// `kubectl rotate secret`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    /// `rotate.kubectl-plugins.dev/v1`.
    pub api_version: String,
    /// `RotationReport`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Base name of the rotated Secret.
    pub base_name: String,
    /// `none`, `client` or `server`.
    pub dry_run: DryRun,
    /// How it ended.
    pub outcome: Outcome,
    /// What stopped it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The versions that existed before this run.
    pub versions: Vec<Version>,
    /// Every consumer of any version, with its references.
    pub consumers: Vec<Consumer>,
    /// The verdict on the new data.
    pub validation: Validation,
    /// The plan (absent when the new data was invalid before a plan could be made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Health checks after each change, in order.
    pub health: Vec<HealthEntry>,
    /// Consumers left on the new version after a failure.
    pub left_on_new_version: Vec<ObjectRef>,
    /// Every write (journal).
    pub changes: Vec<Change>,
    /// Requests and time.
    pub stats: Stats,
}

impl RotationReport {
    /// A report for a run that got as far as `plan` / `execution`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        namespace: String,
        base_name: String,
        dry_run: DryRun,
        versions: Vec<Version>,
        consumers: Vec<Consumer>,
        validation: Validation,
        plan: Option<Plan>,
        execution: Option<Execution>,
    ) -> Self {
        let (outcome, cause, health, left) = match execution {
            Some(e) => (e.outcome, e.cause, e.health, e.left_on_new_version),
            None => (Outcome::Invalid, None, Vec::new(), Vec::new()),
        };
        RotationReport {
            api_version: api_version(),
            kind: "RotationReport".into(),
            namespace,
            base_name,
            dry_run,
            outcome,
            cause,
            versions,
            consumers,
            validation,
            plan,
            health,
            left_on_new_version: left,
            changes: Vec::new(),
            stats: Stats::default(),
        }
    }
}

/// `kubectl rotate cleanup`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    /// `rotate.kubectl-plugins.dev/v1`.
    pub api_version: String,
    /// `CleanupReport`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Base name.
    pub base_name: String,
    /// `none`, `client` or `server`.
    pub dry_run: DryRun,
    /// `--older-than` in seconds, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older_than_seconds: Option<u64>,
    /// One decision per version, oldest first.
    pub versions: Vec<Decision>,
    /// Every write (journal).
    pub changes: Vec<Change>,
    /// Requests and time.
    pub stats: Stats,
}

impl CleanupReport {
    /// The document.
    pub fn new(
        namespace: String,
        base_name: String,
        dry_run: DryRun,
        older_than: Option<std::time::Duration>,
        versions: Vec<Decision>,
    ) -> Self {
        CleanupReport {
            api_version: api_version(),
            kind: "CleanupReport".into(),
            namespace,
            base_name,
            dry_run,
            older_than_seconds: older_than.map(|d| d.as_secs()),
            versions,
            changes: Vec::new(),
            stats: Stats::default(),
        }
    }
}

/// `kubectl rotate status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// `rotate.kubectl-plugins.dev/v1`.
    pub api_version: String,
    /// `RotationStatus`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Base name.
    pub base_name: String,
    /// Versions, consumers, pods.
    #[serde(flatten)]
    pub usage: UsageMap,
    /// Lists that could not be made.
    pub skipped: Vec<Skipped>,
    /// Requests and time.
    pub stats: Stats,
}

impl StatusReport {
    /// The document.
    pub fn new(
        namespace: String,
        base_name: String,
        usage: UsageMap,
        skipped: Vec<Skipped>,
    ) -> Self {
        StatusReport {
            api_version: api_version(),
            kind: "RotationStatus".into(),
            namespace,
            base_name,
            usage,
            skipped,
            stats: Stats::default(),
        }
    }
}

/// What `restart` did with one consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RestartAction {
    /// The `restartedAt` annotation was set.
    Restarted,
    /// Not a kind that can be restarted this way; `reason` says what to do.
    NotRestarted,
}

/// One consumer in a restart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartEntry {
    /// The consumer.
    pub object: ObjectRef,
    /// Restarted or not.
    pub action: RestartAction,
    /// Why not, or how it reads the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its health after the restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Verdict>,
}

/// `kubectl rotate restart`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartReport {
    /// `rotate.kubectl-plugins.dev/v1`.
    pub api_version: String,
    /// `RestartReport`.
    pub kind: String,
    /// The Secret or ConfigMap whose consumers were restarted.
    pub target: ObjectRef,
    /// `none`, `client` or `server`.
    pub dry_run: DryRun,
    /// The value written to `kubectl.kubernetes.io/restartedAt`.
    pub restarted_at: String,
    /// Every consumer.
    pub consumers: Vec<RestartEntry>,
    /// Restarted consumers that did not become healthy.
    pub unhealthy: Vec<ObjectRef>,
    /// True when Ctrl-C stopped the waits (the restarts stay: nothing to undo).
    pub interrupted: bool,
    /// Every write (journal).
    pub changes: Vec<Change>,
    /// Requests and time.
    pub stats: Stats,
}

impl RestartReport {
    /// The document.
    pub fn new(target: ObjectRef, dry_run: DryRun, restarted_at: String) -> Self {
        RestartReport {
            api_version: api_version(),
            kind: "RestartReport".into(),
            target,
            dry_run,
            restarted_at,
            consumers: Vec::new(),
            unhealthy: Vec::new(),
            interrupted: false,
            changes: Vec::new(),
            stats: Stats::default(),
        }
    }
}

/// `kubectl rotate certs`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateReport {
    /// `rotate.kubectl-plugins.dev/v1`.
    pub api_version: String,
    /// `CertificateReport`.
    pub kind: String,
    /// The namespace, empty with `-A`.
    pub namespace: String,
    /// `-A`.
    pub all_namespaces: bool,
    /// When the days were counted from.
    pub now: jiff::Timestamp,
    /// `--warn` in seconds.
    pub warn_seconds: u64,
    /// `--critical` in seconds.
    pub critical_seconds: u64,
    /// Counts.
    pub summary: Summary,
    /// Every certificate, by namespace, Secret, key and position.
    pub certificates: Vec<CertEntry>,
    /// Certificate blocks that did not parse.
    pub unreadable: Vec<Unreadable>,
    /// Consumer lists that could not be made.
    pub skipped: Vec<Skipped>,
    /// Requests and time.
    pub stats: Stats,
}
