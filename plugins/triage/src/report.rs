//! The output model: these serde types are the JSON/YAML contract
//! (`triage.kubectl-plugins.dev/v1` `TriageReport`, `TriageReportList`), documented in README.md.

use std::collections::BTreeSet;
use std::fmt;

use common::redact::redact_text;
use serde::Serialize;

use crate::snapshot::ObjectRef;

pub const API_VERSION: &str = "triage.kubectl-plugins.dev/v1";
pub const KIND: &str = "TriageReport";
pub const LIST_KIND: &str = "TriageReportList";

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

// Add at the end, never rename: scripts match these strings.
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
    AdmissionWebhookDown,
    GatewayNotReady,
    RouteNotAccepted,
    NetworkPolicyMatchesNoPods,
    NetworkPolicyBlocksService,
    PVCNearFull,
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
            | SelectorMatchesNoPods
            | AdmissionWebhookDown
            | GatewayNotReady
            | RouteNotAccepted => Severity::Critical,
            ProbeFailing
            | HighRestarts
            | ContainerError
            | PVCPending
            | HPAAtMax
            | PDBBlocksDisruption
            | NodeProblem
            | JobFailed
            | HighResourceUsage
            | NetworkPolicyBlocksService
            | PVCNearFull => Severity::Warning,
            WarningEvents | NetworkPolicyMatchesNoPods => Severity::Info,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An object a finding concerns besides its own (pods above all).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    pub kind: String,
    /// Namespace of the object (a node's finding lists pods of many namespaces).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
    /// Node the pod runs on, when known (shown by `-o wide`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// UID, for exact lookups (ignore annotations); not part of the contract.
    #[serde(skip)]
    pub uid: String,
}

/// One problem, with its evidence and the commands that fix it.
///
/// The boundary of redaction: `message` and `evidence` are private and every
/// way in ([`Finding::new`], [`Finding::evidence`], [`Finding::add_evidence`],
/// [`Finding::log_excerpt`]) runs `common::redact::redact_text`, so text from
/// the cluster (termination messages, kubelet and event messages, logs,
/// scheduler messages, diffs) cannot reach any output format unredacted.
/// Remediation lines are commands triage writes from object names and fixed
/// templates (placeholders such as `<value>` must survive), so they are not
/// redacted; they never quote cluster text.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub reason: Reason,
    pub severity: Severity,
    pub object: ObjectRef,
    pub affected: Vec<Affected>,
    message: String,
    evidence: Vec<String>,
    remediation: Vec<String>,
    /// UIDs (or `Kind/namespace/name`) of objects whose Warning events this
    /// finding already explains, so the event digest does not repeat them.
    /// Not part of the contract.
    #[serde(skip)]
    pub explains: BTreeSet<String>,
}

impl Finding {
    pub fn new(reason: Reason, object: &ObjectRef, message: impl AsRef<str>) -> Self {
        Finding {
            reason,
            severity: reason.severity(),
            object: object.clone(),
            affected: Vec::new(),
            message: one_line(&redact_text(message.as_ref())),
            evidence: Vec::new(),
            remediation: Vec::new(),
            explains: BTreeSet::new(),
        }
    }

    /// Builder form of [`Finding::add_evidence`].
    pub fn evidence(mut self, e: impl AsRef<str>) -> Self {
        self.add_evidence(e);
        self
    }

    /// One evidence item (it may span lines: a termination message), redacted whole.
    pub fn add_evidence(&mut self, e: impl AsRef<str>) {
        self.evidence.push(redact_text(e.as_ref()).into_owned());
    }

    pub fn extend_evidence<I, S>(&mut self, items: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for e in items {
            self.add_evidence(e);
        }
    }

    /// The last `lines` lines of a log under a header (given the number of
    /// lines shown), each prefixed `  | `. The whole text is redacted before it
    /// is cut into lines, so a PEM key whose body stands on lines of its own is
    /// masked from BEGIN to END.
    pub fn log_excerpt(&mut self, header: impl Fn(usize) -> String, text: &str, lines: usize) {
        let redacted = redact_text(text);
        let all: Vec<&str> = redacted.lines().collect();
        let start = all.len().saturating_sub(lines);
        self.add_evidence(header(all.len() - start));
        for l in &all[start..] {
            self.add_evidence(format!("  | {l}"));
        }
    }

    pub fn remedy(mut self, r: impl Into<String>) -> Self {
        let r = r.into();
        if !self.remediation.contains(&r) {
            self.remediation.push(r);
        }
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Append text to the message (e.g. "; on node-c"), redacted.
    pub fn append_message(&mut self, more: &str) {
        self.message.push_str(&one_line(&redact_text(more)));
    }

    pub fn evidence_lines(&self) -> &[String] {
        &self.evidence
    }

    pub fn remediation(&self) -> &[String] {
        &self.remediation
    }

    /// An affected pod, and the events about it count as explained.
    pub fn affect_pod(&mut self, namespace: &str, name: &str, uid: &str, node: Option<&str>) {
        if self
            .affected
            .iter()
            .any(|a| a.kind == "Pod" && a.namespace == namespace && a.name == name)
        {
            return;
        }
        self.explains.insert(uid.to_string());
        self.affected.push(Affected {
            kind: "Pod".into(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            node: node.map(str::to_string),
            uid: uid.to_string(),
        });
    }
}

/// The message is one line for people: line breaks in cluster text become spaces.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
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

/// Why a context of a multi-context run could not be triaged.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextError {
    /// The one-line error, as a single-context run prints after `error: `.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The exit code a single-context run would have ended with.
    pub exit_code: u8,
}

impl ContextError {
    pub fn new(message: &str, hint: Option<&str>, exit_code: u8) -> Self {
        ContextError {
            message: redact_text(message).into_owned(),
            hint: hint.map(|h| redact_text(h).into_owned()),
            exit_code,
        }
    }
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
    /// Only in a `TriageReportList`: the context could not be triaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ContextError>,
    /// A check was skipped in a way that makes the answer incomplete (exit 4).
    #[serde(skip)]
    pub partial: bool,
}

impl TriageReport {
    pub fn new(scope: Scope, mut findings: Vec<Finding>, skipped: Vec<Skipped>) -> Self {
        findings.sort_by(|a, b| {
            (a.severity, &a.object, a.reason).cmp(&(b.severity, &b.object, b.reason))
        });
        let summary = summarise(&findings);
        TriageReport {
            api_version: API_VERSION,
            kind: KIND,
            scope,
            summary,
            findings,
            skipped,
            stats: Stats::default(),
            error: None,
            partial: false,
        }
    }

    /// The entry of a context that could not be triaged.
    pub fn failed(scope: Scope, error: ContextError) -> Self {
        let mut r = TriageReport::new(scope, Vec::new(), Vec::new());
        r.error = Some(error);
        r
    }
}

fn summarise(findings: &[Finding]) -> Summary {
    let mut summary = Summary::default();
    for f in findings {
        match f.severity {
            Severity::Critical => summary.critical += 1,
            Severity::Warning => summary.warning += 1,
            Severity::Info => summary.info += 1,
        }
    }
    summary
}

/// Totals of a multi-context run.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSummary {
    /// Contexts asked for.
    pub contexts: usize,
    /// Contexts that could not be triaged (their item has `error`).
    pub failed: usize,
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

/// `-o json|yaml` of `--context a,b` / `--all-contexts`: one report per context.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageReportList {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub summary: ListSummary,
    pub items: Vec<TriageReport>,
}

impl TriageReportList {
    pub fn new(items: Vec<TriageReport>) -> Self {
        let mut summary = ListSummary {
            contexts: items.len(),
            ..ListSummary::default()
        };
        for r in &items {
            summary.failed += usize::from(r.error.is_some());
            summary.critical += r.summary.critical;
            summary.warning += r.summary.warning;
            summary.info += r.summary.info;
        }
        TriageReportList {
            api_version: API_VERSION,
            kind: LIST_KIND,
            summary,
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7bQ3kZx0lMhp2v9\nQ2VjcmV0Qm9keUxpbmVUd29BQUFBQUFB\n-----END RSA PRIVATE KEY-----";

    #[test]
    fn every_way_into_a_finding_is_redacted() {
        let o = ObjectRef::new("Pod", "ns", "p");
        let mut f = Finding::new(Reason::ContainerError, &o, "failed: password=hunter2")
            .evidence(format!("termination message: {PEM}"));
        f.add_evidence("Authorization: Bearer abcdef0123456789");
        f.extend_evidence(["token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlMTIz"]);
        f.log_excerpt(
            |n| format!("log ({n} lines):"),
            &format!("start\n{PEM}\nend"),
            3,
        );
        f.append_message(" api_key=zzz123");
        let json = serde_json::to_string(&f).expect("json");
        for secret in [
            "hunter2",
            "MIIEowIBAAKCAQEAx7bQ3kZx0lMhp2v9",
            "Q2VjcmV0Qm9keUxpbmVUd29BQUFBQUFB",
            "abcdef0123456789",
            "eyJzdWIiOiIxMjM0NSJ9",
            "zzz123",
        ] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        // The excerpt cut inside the key: its last 3 lines are masked too.
        assert!(f.evidence_lines().iter().any(|l| l.starts_with("  | ")));
    }

    #[test]
    fn list_totals() {
        let scope = Scope {
            context: "a".into(),
            namespaces: vec![],
            all_namespaces: true,
            pods: 0,
            workloads: 0,
        };
        let o = ObjectRef::new("Pod", "ns", "p");
        let ok = TriageReport::new(
            scope.clone(),
            vec![Finding::new(Reason::OOMKilled, &o, "x")],
            vec![],
        );
        let bad = TriageReport::failed(scope, ContextError::new("cannot reach", None, 3));
        let list = TriageReportList::new(vec![ok, bad]);
        assert_eq!(list.summary.contexts, 2);
        assert_eq!(list.summary.failed, 1);
        assert_eq!(list.summary.critical, 1);
        assert_eq!(list.kind, "TriageReportList");
    }
}
