//! The output model: these serde types are the JSON/YAML contract
//! (`triage.kubectl-plugins.dev/v1` `TriageReport`), documented in README.md.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::snapshot::ObjectRef;

pub const API_VERSION: &str = "triage.kubectl-plugins.dev/v1";
pub const KIND: &str = "TriageReport";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    // Declared most severe first so sorting puts critical on top.
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Stable reason codes; the string form is the contract.
macro_rules! reasons {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum Reason { $($name),* }
        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$name),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Reason::$name => stringify!($name)),* }
            }
        }
    };
}

reasons!(
    CrashLoopBackOff,
    OOMKilled,
    ImagePullBackOff,
    MissingReference,
    Unschedulable,
    ProbeFailing,
    HighRestarts,
    ContainerError,
    DeploymentUnavailable,
    StatefulSetUnavailable,
    DaemonSetUnavailable,
    NoReadyEndpoints,
    SelectorMatchesNoPods,
    PVCPending,
    HPAAtMax,
    PDBBlocksDisruption,
    NodeProblem,
    JobFailed,
    HighResourceUsage,
    WarningEvents,
);

impl Reason {
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Default severity: critical when the workload is down or degraded.
    pub fn severity(self) -> Severity {
        use Reason::*;
        match self {
            CrashLoopBackOff
            | OOMKilled
            | ImagePullBackOff
            | MissingReference
            | Unschedulable
            | DeploymentUnavailable
            | StatefulSetUnavailable
            | DaemonSetUnavailable
            | NoReadyEndpoints
            | SelectorMatchesNoPods => Severity::Critical,
            ProbeFailing | HighRestarts | ContainerError | PVCPending | HPAAtMax
            | PDBBlocksDisruption | NodeProblem | JobFailed | HighResourceUsage => {
                Severity::Warning
            }
            WarningEvents => Severity::Info,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    pub kind: String,
    pub name: String,
    /// Node the pod runs on, when known (shown by `-o wide`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub reason: Reason,
    pub severity: Severity,
    pub object: ObjectRef,
    pub affected: Vec<Affected>,
    pub message: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<String>,
    /// UIDs of objects whose Warning events this finding already explains,
    /// so the event digest does not repeat them. Not part of the contract.
    #[serde(skip)]
    pub explains: BTreeSet<String>,
}

impl Finding {
    pub fn new(reason: Reason, object: &ObjectRef, message: impl Into<String>) -> Self {
        Finding {
            reason,
            severity: reason.severity(),
            object: object.clone(),
            affected: Vec::new(),
            message: message.into(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            explains: BTreeSet::new(),
        }
    }
    pub fn evidence(mut self, e: impl Into<String>) -> Self {
        self.evidence.push(e.into());
        self
    }
    pub fn remedy(mut self, r: impl Into<String>) -> Self {
        let r = r.into();
        if !self.remediation.contains(&r) {
            self.remediation.push(r);
        }
        self
    }
    pub fn object_key(&self) -> ObjectRef {
        ObjectRef::new(&self.object.kind, &self.object.namespace, &self.object.name)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    pub context: String,
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    pub pods: usize,
    pub workloads: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub check: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub requests: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub scope: Scope,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
}

impl TriageReport {
    pub fn new(scope: Scope, mut findings: Vec<Finding>, skipped: Vec<Skipped>) -> Self {
        findings.sort_by(|a, b| {
            (a.severity, &a.object, a.reason).cmp(&(b.severity, &b.object, b.reason))
        });
        let mut summary = Summary::default();
        for f in &findings {
            match f.severity {
                Severity::Critical => summary.critical += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Info => summary.info += 1,
            }
        }
        TriageReport {
            api_version: API_VERSION,
            kind: KIND,
            scope,
            summary,
            findings,
            skipped,
            stats: Stats::default(),
        }
    }
}
